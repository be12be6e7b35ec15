"""Delivered but not received: `lateclaim claims open ORDER --not-received` and the steps that follow."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, datetime, timedelta
from pathlib import Path

import pytest

from daemon.cli import main
from daemon.commands.not_received import open_not_received
from daemon.config import load
from daemon.errors import NotReceivedError
from daemon.state.store import Store
from rules.claims import PastClaim
from rules.not_received import Refused, find_parcel, last_step, next_step
from rules.timeline import Shipment, timelines
from tests.rules_helpers import ORDER, at, delivered, one, ordered, policy

DELIVERED, UNDELIVERED = "402-7461938-2058316", "203-8841957-6620374"  # the demo's amazon.fr kettle and UK headphones


def demo_state(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> str:
    assert main(["demo", "--keep", str(tmp_path)]) == 0
    capsys.readouterr()
    return str(tmp_path / "config.toml")


def test_a_delivered_parcel_never_received_gets_a_letter_asking_for_the_proof_of_delivery(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    config_path = demo_state(capsys, tmp_path)
    assert main(["claims", "open", DELIVERED, "--not-received", "--config", config_path]) == 0
    assert "track C, step 1, queued" in capsys.readouterr().out
    config = load(Path(config_path))
    with Store(config.state.path) as store:
        [claim] = [c for c in store.claims() if c.track == "C"]
        assert claim.step == 1 and claim.status == "queued" and claim.evidence["not_received"] is True
        assert "indiquée comme livrée le 11 novembre 2026" in claim.body and "L. 216-4" in claim.body
        assert "preuve de livraison" in claim.body

    assert main(["claims", "open", DELIVERED, "--not-received", "--config", config_path]) == 2
    assert f"claim {claim.id} (step 1) is queued" in capsys.readouterr().err

    with Store(config.state.path) as store:
        store.update_claim(claim.id, claim.created_at, status="drafted")
        # A draft is not a letter the seller received: the next step waits until it has gone out.
        with pytest.raises(NotReceivedError, match=r"step 1\) is drafted: step 2 follows once it has gone out"):
            open_not_received(store, config, DELIVERED, None, claim.created_at + timedelta(days=5))
        store.update_claim(claim.id, claim.created_at, status="sent", sent_at=claim.created_at)
        with pytest.raises(NotReceivedError, match="step 2 is due"):
            open_not_received(store, config, DELIVERED, None, claim.created_at + timedelta(days=1))
        notice = open_not_received(store, config, DELIVERED, None, claim.created_at + timedelta(days=4))
    assert notice.track == "C" and notice.step == 2 and notice.subject.startswith("Mise en demeure de livrer")
    assert "L. 216-6" in notice.body and "ma demande du" in notice.body and "L. 216-4" in notice.body


def test_only_a_parcel_marked_delivered_can_be_opened(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    config_path = demo_state(capsys, tmp_path)
    assert main(["claims", "open", UNDELIVERED, "--not-received", "--config", config_path]) == 2
    assert "is not marked as delivered" in capsys.readouterr().err
    assert main(["claims", "open", "999-0000000-0000000", "--not-received", "--config", config_path]) == 2
    assert "no order 999-0000000-0000000" in capsys.readouterr().err
    assert main(["claims", "open", DELIVERED, "--config", config_path]) == 2
    assert "--not-received" in capsys.readouterr().err


def test_an_order_of_several_parcels_needs_the_parcel_number() -> None:
    shipments = timelines([
        ordered(date(2026, 12, 8), shipment="1", items=("Lampe",)),
        ordered(date(2026, 12, 9), shipment="2", items=("Bouilloire",)),
        delivered(at(2026, 12, 9, 10), shipment="2"),
    ])
    with pytest.raises(Refused, match="has 2 parcels"):
        find_parcel(shipments, ORDER, None)
    assert find_parcel(shipments, ORDER, 2).items == ("Bouilloire",)
    with pytest.raises(Refused, match="no parcel 3"):
        find_parcel(shipments, ORDER, 3)
    with pytest.raises(Refused, match="expected an Amazon order number"):
        find_parcel(shipments, "171-1234567", None)


# -- the ladder, as rules (pure: the claims so far and `now` are given) ------------------------------------


def delivered_parcel(marketplace: str = "amazon.fr") -> Shipment:
    return one(ordered(date(2026, 12, 8), marketplace=marketplace), delivered(at(2026, 12, 8, 10),
                                                                              marketplace=marketplace))


def sent(step: int, on: datetime, deadline: date | None = None, claim_id: int = 1) -> PastClaim:
    return PastClaim(ORDER, "1", "C", step, on, "sent", on, id=claim_id, deadline=deadline)


def test_step_1_asks_for_the_proof_of_delivery_and_counts_toward_the_caps() -> None:
    now = at(2026, 12, 10, 9)
    first = next_step(delivered_parcel(), [], now, policy())
    assert first.step == 1 and first.letter.language == "fr" and "preuve de livraison" in first.letter.body
    assert first.evidence["not_received"] is True and first.evidence["written_at"] == now.isoformat()
    assert "deadline_given" not in first.evidence
    other_parcel = PastClaim("402-0000000-0000000", "1", "B", 1, now - timedelta(hours=1), "sent")
    with pytest.raises(Refused, match=r"daily cap reached \(1\)"):
        next_step(delivered_parcel(), [other_parcel], now, policy(max_per_day=1))


def test_the_notice_waits_for_step_1_to_go_out_then_for_its_answer() -> None:
    shipment, step_1_on = delivered_parcel(), at(2026, 12, 10, 9)
    queued = replace(sent(1, step_1_on), status="drafted", sent_at=None)
    with pytest.raises(Refused, match=r"claim 1 \(step 1\) is drafted: step 2 follows once it has gone out"):
        next_step(shipment, [queued], step_1_on + timedelta(days=30), policy())
    with pytest.raises(Refused, match="step 2 is due Sun 13 Dec 12:00"):
        next_step(shipment, [sent(1, step_1_on)], step_1_on + timedelta(days=2), policy())
    # A capped account still gets the rest of a ladder it started.
    notice = next_step(shipment, [sent(1, step_1_on)], at(2026, 12, 13, 12), policy(max_per_day=0))
    assert notice.step == 2 and notice.letter.subject.startswith("Mise en demeure de livrer")
    assert notice.evidence["deadline_given"] == (date(2026, 12, 13) + timedelta(days=policy().notice_days)).isoformat()


def test_termination_follows_the_notice_deadline_where_the_law_has_it_and_ends_the_ladder() -> None:
    shipment, deadline = delivered_parcel(), date(2026, 12, 28)
    ladder = [sent(1, at(2026, 12, 10, 9)), sent(2, at(2026, 12, 13, 12), deadline, claim_id=2)]
    assert last_step(shipment, policy()) == 3 and last_step(shipment, policy(consumer_country="US")) == 2
    with pytest.raises(Refused, match="step 3 is due Tue 29 Dec 12:00"):
        next_step(shipment, ladder, at(2026, 12, 28, 18), policy())
    assert next_step(shipment, ladder, at(2026, 12, 29, 12), policy()).step == 3
    with pytest.raises(Refused, match="are all written"):
        next_step(shipment, [*ladder, sent(3, at(2026, 12, 29, 12), claim_id=3)], at(2027, 1, 20), policy())


def test_without_a_termination_law_the_second_letter_is_the_last() -> None:
    shipment = delivered_parcel("amazon.com")
    assert last_step(shipment, policy()) == 2 and last_step(shipment, policy(consumer_country="BE")) == 3
    ladder = [sent(1, at(2026, 12, 10, 9)), sent(2, at(2026, 12, 13, 12), claim_id=2)]
    with pytest.raises(Refused, match="are all written"):
        next_step(shipment, ladder, at(2027, 1, 20), policy())


def test_a_parcel_not_marked_delivered_belongs_to_track_b() -> None:
    with pytest.raises(Refused, match="is not marked as delivered"):
        next_step(one(ordered(date(2026, 12, 8))), [], at(2026, 12, 10), policy())


def test_the_caps_hold_for_a_not_received_claim_too(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    config_path = demo_state(capsys, tmp_path)
    config = load(Path(config_path))
    with Store(config.state.path) as store:
        # Caps count parcels, and never what did not go out: the demo's withdrawn question does not count.
        counted = [c for c in store.claims() if c.status != "withdrawn"]
        last = max(counted, key=lambda c: c.created_at)
        same_day = sum(c.created_at.date() == last.created_at.date() for c in counted)
        capped = replace(config, claims=replace(config.claims, max_per_day=same_day))
        with pytest.raises(NotReceivedError, match="daily cap"):
            open_not_received(store, capped, DELIVERED, None, last.created_at)
        yearly = replace(config, claims=replace(config.claims, max_per_year=len(counted)))
        with pytest.raises(NotReceivedError, match="yearly cap"):
            open_not_received(store, yearly, DELIVERED, None, last.created_at + timedelta(days=1))
