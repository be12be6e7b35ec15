"""Incremental decisions: a pass decides again only the orders whose emails or claims changed since, and those
whose next step falls due (the state file's due-time index); the claims it records are exactly those a full
decision of every order records, day after day, caps and ladders included."""

from __future__ import annotations

import email
import email.policy
import itertools
from dataclasses import replace
from datetime import date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

import parsers
from daemon.config import ClaimsConfig, Config
from daemon.passes.evaluate import record_decisions
from daemon.state.store import Store
from parsers.model import Event, EventKind, MessageInfo, ParseResult, Status
from tests.timeline_mail import DE, EN, FR, amazon_mail

ZONE = ZoneInfo("Europe/Paris")
ITEMS = ("Lampe de bureau LED", "Electric Kettle 1.7 L", "Wasserkocher aus Edelstahl", "Ceramic Mug Set of 4")
# Per order: (day offset, hour, kind, promise offset or None). Day 0 is Monday 16 November 2026.
STORIES = {
    "on time": [(0, 9, "ordered", 3), (1, 8, "shipped", 3), (3, 15, "delivered", None)],
    "late": [(0, 9, "ordered", 3), (2, 8, "shipped", 3), (5, 15, "delivered", None)],
    "never": [(0, 9, "ordered", 3), (1, 8, "shipped", 3)],
    "delayed": [(0, 9, "ordered", 3), (1, 8, "shipped", 3), (3, 7, "delayed", 6)],
    "late after asking": [(0, 10, "ordered", 2), (1, 8, "shipped", 2), (6, 15, "delivered", None)],
    "at a locker": [(0, 9, "ordered", 2), (4, 11, "pickup_ready", None)],
    "no promise": [(1, 8, "delivered", None)],
}
LANGUAGES = (FR, EN, DE)


def mail() -> list[tuple[datetime, bytes]]:
    """Every email of 21 orders (each story in each language), when it arrives."""
    found = []
    serial = itertools.count(1)
    for story, language in itertools.product(STORIES.values(), LANGUAGES):
        n = next(serial)
        order = f"171-{4400000 + n:07d}-{5500000 + n:07d}"
        start = date(2026, 11, 16) + timedelta(days=n % 3)
        for day, hour, kind, promise in story:
            sent = datetime.combine(start + timedelta(days=day), datetime.min.time(), ZONE).replace(hour=hour)
            raw = amazon_mail(language, kind, order, sent, (ITEMS[n % len(ITEMS)],),
                              start + timedelta(days=promise) if promise is not None else None)
            found.append((sent, raw))
    return sorted(found, key=lambda pair: pair[0])


def snapshot(store: Store) -> list[tuple[object, ...]]:
    return [(c.order_id, c.shipment, c.track, c.step, c.status, c.held, c.subject, c.body, c.evidence)
            for c in store.claims()]


@pytest.mark.parametrize("caps", [(2, 12), (100, 1000)], ids=["capped", "uncapped"])
def test_incremental_decisions_record_what_full_decisions_record(tmp_path: Path, caps: tuple[int, int]) -> None:
    config = replace(Config(), claims=replace(ClaimsConfig(), max_per_day=caps[0], max_per_year=caps[1]))
    emails = mail()
    stores = {"incremental": Store(tmp_path / "incremental.db"), "full": Store(tmp_path / "full.db")}
    passes = []  # (moment, orders decided, orders with a claim a cap holds)
    moment = datetime(2026, 11, 16, 0, 30, tzinfo=ZONE)
    uid = 0
    while moment < datetime(2026, 12, 20, tzinfo=ZONE):
        while emails and emails[0][0] <= moment:
            _, raw = emails.pop(0)
            uid += 1
            for store in stores.values():
                store.ingest("INBOX", 1, uid, parsers.parse(raw), parsers.PARSER_VERSION, moment)
        for name, store in stores.items():
            evaluation = record_decisions(store, config, moment, full=name == "full")
            if name == "incremental":
                held = {c.order_id for c in store.claims(["queued"]) if c.held}
                passes.append((moment, evaluation.orders_decided, len(held)))
            for claim in store.claims(["queued"]):  # sent at once, as the SMTP mode sends them
                if not claim.held:
                    store.update_claim(claim.id, moment, status="sent", sent_at=moment)
        assert snapshot(stores["incremental"]) == snapshot(stores["full"]), moment
        moment += timedelta(hours=6)
    claims = stores["full"].claims()
    kinds = {(c.track, c.step, c.status) for c in claims}
    # Not vacuous: ladders climbed, goodwill requests written, caps held some back (or none).
    assert {("B", 1, "sent"), ("B", 2, "sent"), ("A", 1, "sent")} <= kinds, kinds
    notes = [note for c in claims for _, _, note in stores["full"].claim_history(c.id)]
    assert any("cap" in note for note in notes) == (caps[0] == 2)
    # And cheap: once the stories are over, a pass decides nothing, but for the first pass of a day: the orders
    # a cap holds a claim of (a new day's cap may release them).
    quiet = [(at.hour, decided, held) for at, decided, held in passes if at > datetime(2026, 12, 10, tzinfo=ZONE)]
    assert all(decided == (held if hour == 0 else 0) for hour, decided, held in quiet), quiet
    assert any(held for _, _, held in quiet) == (caps[0] == 2)
    last = moment - timedelta(hours=6)
    assert record_decisions(stores["incremental"], config, last + timedelta(minutes=5)).orders_decided == 0
    for store in stores.values():
        store.close()


def test_an_orders_emails_include_those_that_join_it_to_another(tmp_path: Path) -> None:
    """An email naming two order numbers joins them into one timeline: deciding either order reads both."""
    def shipped(message_id: str, *orders: str) -> ParseResult:
        event = Event(EventKind.SHIPPED, "amazon.fr", "fr", orders)
        return ParseResult(Status.PARSED, MessageInfo(message_id, sent_at=datetime(2026, 11, 16, tzinfo=ZONE)),
                           events=(event,))

    with Store(tmp_path / "state.db") as store:
        for uid, result in enumerate([shipped("a", "111"), shipped("ab", "222", "111"), shipped("b", "222"),
                                      shipped("c", "333")], start=1):
            store.ingest("INBOX", 1, uid, result, "1", datetime(2026, 11, 16, tzinfo=ZONE))
        assert store.orders_joined({"111"}) == {"111", "222"}
        assert {s.message.message_id for s in store.sightings({"222"})} == {"a", "ab", "b"}
        assert {s.message.message_id for s in store.sightings({"333"})} == {"c"}
        assert store.due_orders(datetime(2026, 11, 16, tzinfo=ZONE)).keys() == {"111", "222", "333"}


def test_parcels_judged_on_mail_that_is_not_authentic_are_still_found(tmp_path: Path) -> None:
    """The notices' check for such parcels reads only the orders named by mail without an authentic verdict:
    an overdue parcel promised by forged mail is told, one promised by Amazon's own is not looked at."""
    from daemon.passes.notices import spoofed_events

    sent = datetime(2026, 11, 16, 9, tzinfo=ZONE)
    genuine = amazon_mail(FR, "ordered", "171-0000001-0000001", sent, (ITEMS[0],), date(2026, 11, 18))
    message = email.message_from_bytes(amazon_mail(FR, "ordered", "171-0000002-0000002", sent, (ITEMS[1],),
                                                   date(2026, 11, 18)), policy=email.policy.SMTP)
    del message["Authentication-Results"]  # no verdict from the receiving server
    forged = message.as_bytes()
    with Store(tmp_path / "state.db") as store:
        for uid, raw in enumerate((genuine, forged), start=1):
            store.ingest("INBOX", 1, uid, parsers.parse(raw), parsers.PARSER_VERSION, sent)
        assert store.orders_with_unauthenticated_mail() == {"171-0000002-0000002"}
        found = spoofed_events(store, Config(), datetime(2026, 11, 25, 12, tzinfo=ZONE))
        assert [event.key for event in found] == ["spoofed:171-0000002-0000002:1"]
