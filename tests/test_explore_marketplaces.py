"""Six marketplaces lived day by day in the recommended setup (`folders = []`: All Mail holding Drafts and Sent):
on each, a parcel on time, one a day late, one never delivered and one that comes after its "where is my
parcel?". The user sends some drafts at once, some a day later, pastes one into Amazon's chat (and sends the
draft to themself, as its note says) and deletes one. After each day the JSON commands answer with the README's
keys, no claim is ever `answered`, and nothing is drafted twice; at the end, verdicts and ladders follow the
README's rules. And `sync --once` typed while `lateclaim run` is up answers without a traceback."""

from __future__ import annotations

import itertools
import signal
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from tests import lateclaim_setup as setup
from tests.servers.dovecot import Account, Dovecot
from tests.test_all_mail_flow import expunge, sent_to_myself
from tests.test_daemon import Daemon
from tests.test_living_timelines import Life, days
from tests.timeline_mail import DE, EN, ES, FR, IT, US, Language, amazon_mail

pytestmark = pytest.mark.timeout(900)

SENT = "[Gmail]/Sent Mail"
ORDER_KEYS = {"order_id", "shipment", "marketplace", "promised_start", "promised_end", "delivered_on", "verdict",
              "days_late", "authenticated", "items", "parcels_in_order", "expected_end", "arrival", "arrived_on",
              "paused", "ambiguous", "next_step", "due_at", "reason"}
CLAIM_KEYS = {"id", "order_id", "shipment", "track", "step", "status", "held", "language", "subject", "created_at",
              "sent_at", "outcome"}
FATES = {"on_time": date(2026, 11, 18), "late": date(2026, 11, 19), "never": None, "after_b1": date(2026, 11, 21)}
VERDICTS = {"on_time": "on_time", "late": "late", "never": "overdue", "after_b1": "late"}
CHAT, DELETED = "402-3222222-2222223", "406-3666666-6666663"  # amazon.de's and amazon.es's parcels that never come


def order_id(market: int, fate: int) -> str:
    return f"40{market}-{fate}{market}{market}{market}{market}{market}{market}-{str(market) * 6}{fate}"


def mailbox(life: Life) -> tuple[dict[str, tuple[str, str]], dict[date, list[bytes]]]:
    """Every parcel shipped on Monday 16 November for Wednesday 18; the delivery emails by the day they arrive."""
    orders: dict[str, tuple[str, str]] = {}
    later: dict[date, list[bytes]] = {}
    for market, language in enumerate((FR, DE, EN, US, IT, ES), start=1):
        for fate_number, (fate, came) in enumerate(FATES.items(), start=1):
            order = order_id(market, fate_number)
            orders[order] = (language.domain, fate)
            item = (f"Item {fate} {market}",)
            life.dovecot.deliver(life.user, amazon_mail(language, "shipped", order, life.moment(date(2026, 11, 16), 8),
                                                        item, date(2026, 11, 18)))
            if came is not None:
                later.setdefault(came, []).append(amazon_mail(language, "delivered", order, life.moment(came, 9), item))
    return orders, later


def what_the_user_sees(life: Life) -> list[dict[str, Any]]:
    rows = life.run("orders", "--json")
    assert rows and all(set(row) >= ORDER_KEYS for row in rows), rows
    claims = life.claims()
    assert all(set(c) >= CLAIM_KEYS for c in claims), claims
    assert "answered" not in {c["status"] for c in claims}, claims  # only our own letters and Amazon's mail came
    for claim in claims:
        shown = life.run("claims", "show", str(claim["id"]), "--json")
        assert set(shown) >= {"body", "evidence", "message_id", "where"}, shown
        assert set(shown["where"]) >= {"marketplace", "seller", "guidance", "postal_address",
                                       "postal_address_verified", "registered_post"}, shown["where"]
    # One draft per drafted claim (the deleted one stays `drafted` until it is found gone for good).
    in_drafts = [str(d["Message-ID"]) for d in life.drafts() if DELETED not in d.get_content()]
    drafted = [c for c in claims if c["status"] == "drafted" and c["order_id"] != DELETED]
    assert len(in_drafts) == len(set(in_drafts)) == len(drafted), (in_drafts, drafted)
    letters = [(c["order_id"], c["track"], c["step"]) for c in claims if c["status"] != "withdrawn"]
    assert len(letters) == len(set(letters)), claims
    return claims


def the_user_acts(life: Life, day: date, seen: dict[str, date]) -> None:
    for draft in life.drafts():
        message_id, content = str(draft["Message-ID"]), draft.get_content()
        seen.setdefault(message_id, day)
        if DELETED in content:
            expunge(life.dovecot, life.user, message_id)
        elif CHAT in content:  # pasted into the chat, then the draft sent to myself, as its note says
            copy = sent_to_myself(draft, life.user, day)
            life.dovecot.deliver(life.user, copy, SENT)
            life.dovecot.deliver(life.user, copy)
            expunge(life.dovecot, life.user, message_id)
        elif day > seen[message_id] or "401-" in content:  # amazon.fr's sent at once, the others the next day
            life.dovecot.deliver(life.user, draft.as_bytes(), SENT)
            expunge(life.dovecot, life.user, message_id)


def ladder_follows_the_rules(life: Life, order: str, fate: str, claims: list[dict[str, Any]]) -> None:
    mine = sorted((c["track"], c["step"], c["status"]) for c in claims if c["order_id"] == order)
    if fate == "on_time":
        assert mine == [], (order, mine)
    elif fate == "late":  # came the morning of the day its step 1 would fall due
        assert mine == [("A", 1, "sent")], (order, mine)
    elif fate == "after_b1":  # a step 1 already sent stays sent, the goodwill request follows; one still in
        # Drafts is withdrawn (the UK's midday is 13:00 in Paris, so amazon.co.uk's came a day later)
        assert mine in ([("A", 1, "sent"), ("B", 1, "sent")], [("A", 1, "sent")]), (order, mine)
        assert order[:3] != "401" or len(mine) == 2, mine  # sent at once: it had gone before the parcel came
    elif order == DELETED:
        assert [status for _, _, status in mine] == ["discarded"], (order, mine)
    else:
        assert mine[0][:2] == ("B", 1) and len(mine) >= 2, (order, mine)
        ladder = sorted((c for c in claims if c["order_id"] == order), key=lambda c: c["step"])
        for before, after in itertools.pairwise(ladder):
            went = datetime.fromisoformat(before["sent_at"]).astimezone(life.zone).date()
            made = datetime.fromisoformat(after["created_at"]).astimezone(life.zone).date()
            assert made - went >= timedelta(days=3), ladder  # README: step 2 three days after step 1 went out


@pytest.mark.parametrize("home", [FR, US], ids=["paris", "los_angeles"])
def test_six_marketplaces_in_all_mail(dovecot: Dovecot, all_mail_account: Account, tmp_path: Path,
                                      home: Language) -> None:
    life = Life(dovecot, all_mail_account, tmp_path, home)
    life.config = str(setup.write_config(tmp_path, all_mail_account, mailbox={"folders": []},
                                         rules={"timezone": home.zone},
                                         claims={"from": f"{all_mail_account.username}@example.com",
                                                 "max_per_day": 30, "max_per_year": 100}))
    orders, later = mailbox(life)
    seen: dict[str, date] = {}
    for day in days(date(2026, 11, 18), date(2026, 12, 2)):
        for raw in later.pop(day, []):
            dovecot.deliver(life.user, raw)
        life.sync(day)
        what_the_user_sees(life)
        the_user_acts(life, day, seen)
    rows = {row["order_id"]: row for row in life.orders(date(2026, 12, 2))}
    for order, (marketplace, fate) in orders.items():
        assert (rows[order]["marketplace"], rows[order]["verdict"]) == (marketplace, VERDICTS[fate]), rows[order]
    claims = [c for c in what_the_user_sees(life) if c["status"] != "withdrawn"]
    assert len(dovecot.messages(life.user, SENT)) == len([c for c in claims if c["status"] == "sent"]), claims
    for order, (_, fate) in orders.items():
        ladder_follows_the_rules(life, order, fate, claims)


def test_commands_typed_while_run_is_up_in_all_mail(dovecot: Dovecot, all_mail_account: Account,
                                                    tmp_path: Path) -> None:
    setup.deliver_samples(dovecot, all_mail_account)
    config = setup.write_config(tmp_path, all_mail_account, mailbox={"folders": [], "poll_interval": 3600})
    running = Daemon(config, tmp_path / "daemon.log")
    try:
        setup.wait_for(lambda: running.logged('"event": "watching"'), 30, "the first sync and the IDLE watcher")
        for args in (("sync", "--once"), ("sync", "--once", "--as-of", "2026-11-24T12:00"), ("sync",),
                     ("orders", "--json"), ("claims", "list", "--json"), ("claims", "show", "1", "--json")):
            done = setup.lateclaim(*args, "--config", str(config))
            assert done.returncode == 0 and "Traceback" not in done.stderr, (args, done.stderr)
        assert "Traceback" not in running.log.read_text()
    finally:
        running.process.send_signal(signal.SIGTERM)
        running.process.wait(timeout=40)
