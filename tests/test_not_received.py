"""Delivered but not received: `lateclaim claims open ORDER --not-received` and the steps that follow."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, timedelta
from pathlib import Path

import pytest

from daemon.cli import main
from daemon.commands.not_received import find_parcel, open_not_received
from daemon.config import load
from daemon.errors import NotReceivedError
from daemon.state.store import Store
from rules.timeline import timelines
from tests.rules_helpers import at, delivered, ordered

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
    assert "L. 216-6" in notice.body and "Malgré ma demande du" in notice.body


def test_only_a_parcel_marked_delivered_can_be_opened(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    config_path = demo_state(capsys, tmp_path)
    assert main(["claims", "open", UNDELIVERED, "--not-received", "--config", config_path]) == 2
    assert "is not marked as delivered" in capsys.readouterr().err
    assert main(["claims", "open", "999-0000000-0000000", "--not-received", "--config", config_path]) == 2
    assert "no order 999-0000000-0000000" in capsys.readouterr().err
    assert main(["claims", "open", DELIVERED, "--config", config_path]) == 2
    assert "--not-received" in capsys.readouterr().err


def test_an_order_of_several_parcels_needs_the_parcel_number() -> None:
    order = "171-1234567-1234567"
    shipments = timelines([
        ordered(date(2026, 12, 8), shipment="1", items=("Lampe",)),
        ordered(date(2026, 12, 9), shipment="2", items=("Bouilloire",)),
        delivered(at(2026, 12, 9, 10), shipment="2"),
    ])
    with pytest.raises(NotReceivedError, match="has 2 parcels"):
        find_parcel(shipments, order, None)
    assert find_parcel(shipments, order, 2).items == ("Bouilloire",)
    with pytest.raises(NotReceivedError, match="no parcel 3"):
        find_parcel(shipments, order, 3)


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
