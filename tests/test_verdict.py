from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from parsers.model import DateWindow, EventKind
from rules.verdict import Verdict, VerdictKind, verdict
from tests.rules_helpers import at, delivered, one, ordered, policy, sighting

DEC_2 = date(2026, 12, 2)
UNDELIVERED = one(ordered(DEC_2))


def test_delivered_on_the_promised_day_is_on_time() -> None:
    shipment = one(ordered(DEC_2), delivered(at(2026, 12, 2, 15)))
    assert verdict(shipment, at(2026, 12, 20), policy()) == Verdict(VerdictKind.ON_TIME, 0, DEC_2)


def test_delivered_after_the_window_is_late_by_whole_days() -> None:
    shipment = one(ordered(DEC_2), delivered(at(2026, 12, 5, 10)))
    assert verdict(shipment, at(2026, 12, 20), policy()) == Verdict(VerdictKind.LATE, 3, DEC_2)


def test_a_window_is_kept_until_its_last_day() -> None:
    window = DateWindow(date(2026, 11, 30), DEC_2)
    shipment = one(sighting(EventKind.ORDERED, at(2026, 11, 25), promise=window), delivered(at(2026, 12, 2, 18)))
    assert verdict(shipment, at(2026, 12, 20), policy()).kind is VerdictKind.ON_TIME


def test_grace_days_move_the_deadline_but_not_the_days_counted() -> None:
    one_day = one(ordered(DEC_2), delivered(at(2026, 12, 3, 10)))
    two_days = one(ordered(DEC_2), delivered(at(2026, 12, 4, 10)))
    grace = policy(grace_days=1)
    assert verdict(one_day, at(2026, 12, 20), grace) == Verdict(VerdictKind.ON_TIME, 0, date(2026, 12, 3))
    assert verdict(two_days, at(2026, 12, 20), grace) == Verdict(VerdictKind.LATE, 2, date(2026, 12, 3))
    # Grace days are the goodwill request's alone: a parcel missing after its promised day is overdue.
    assert verdict(UNDELIVERED, at(2026, 12, 3, 12), grace) == Verdict(VerdictKind.OVERDUE, 1, date(2026, 12, 3))


def test_not_delivered_is_pending_until_the_promised_day_is_over_then_overdue() -> None:
    assert verdict(UNDELIVERED, at(2026, 12, 2, 20), policy()) == Verdict(VerdictKind.PENDING, None, DEC_2)
    assert verdict(UNDELIVERED, at(2026, 12, 3, 8), policy()) == Verdict(VerdictKind.OVERDUE, 1, DEC_2)
    assert verdict(UNDELIVERED, at(2026, 12, 12, 8), policy()).days_late == 10


def test_overdue_starts_at_midnight_in_the_marketplace_zone_not_in_utc() -> None:
    # 22:30 UTC is 23:30 in Paris: still the promised day. 23:30 UTC is already the next day there.
    assert verdict(UNDELIVERED, at(2026, 12, 2, 22, 30), policy()).kind is VerdictKind.PENDING
    assert verdict(UNDELIVERED, at(2026, 12, 2, 23, 30), policy()).kind is VerdictKind.OVERDUE
    # amazon.com's day ends eight hours later (Los Angeles), whatever the user's own zone.
    us = one(ordered(DEC_2, marketplace="amazon.com", language="en"))
    assert verdict(us, at(2026, 12, 3, 7, 30), policy()).kind is VerdictKind.PENDING
    assert verdict(us, at(2026, 12, 3, 8, 30), policy()).kind is VerdictKind.OVERDUE


def test_a_late_delivery_email_at_23_30_utc_counts_on_the_paris_day() -> None:
    on_time = one(ordered(DEC_2), delivered(at(2026, 12, 2, 22, 30)))
    late = one(ordered(DEC_2), delivered(at(2026, 12, 2, 23, 30)))
    assert verdict(on_time, at(2026, 12, 20), policy()).kind is VerdictKind.ON_TIME
    assert verdict(late, at(2026, 12, 20), policy()) == Verdict(VerdictKind.LATE, 1, DEC_2)


def test_no_promise_cancelled_or_unknown_delivery_date_say_so_and_an_arrived_parcel_is_never_pending() -> None:
    no_promise = one(sighting(EventKind.SHIPPED, at(2026, 11, 29)))
    delivered_without_promise = one(sighting(EventKind.SHIPPED, at(2026, 11, 29)), delivered(at(2026, 12, 1)))
    cancelled = one(ordered(DEC_2), sighting(EventKind.CANCELLED, at(2026, 11, 29)))
    undated = one(ordered(DEC_2), delivered(None))
    later = at(2027, 1, 15)
    assert verdict(no_promise, later, policy()) == Verdict(VerdictKind.PENDING)
    assert verdict(delivered_without_promise, later, policy()) == Verdict(VerdictKind.NO_PROMISE)
    assert verdict(cancelled, later, policy()) == Verdict(VerdictKind.CANCELLED)
    assert verdict(undated, later, policy()).kind is VerdictKind.DATE_UNKNOWN


def test_a_naive_now_is_refused_rather_than_read_in_the_machine_zone() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        verdict(UNDELIVERED, datetime(2026, 12, 3, 9), policy())


ORIGIN = datetime(2026, 11, 25, tzinfo=UTC)
RANK = {VerdictKind.PENDING: 0, VerdictKind.OVERDUE: 1}


@given(st.integers(0, 60 * 24 * 30), st.integers(0, 60 * 24 * 30), st.integers(0, 5))
def test_an_undelivered_verdict_never_goes_back_as_time_passes(a: int, b: int, grace: int) -> None:
    early, late = sorted((ORIGIN + timedelta(minutes=a), ORIGIN + timedelta(minutes=b)))
    rules = policy(grace_days=grace)
    first, second = verdict(UNDELIVERED, early, rules), verdict(UNDELIVERED, late, rules)
    assert RANK[first.kind] <= RANK[second.kind]
    assert (first.days_late or 0) <= (second.days_late or 0)


@given(st.integers(0, 60 * 24 * 60), st.integers(0, 10))
def test_a_delivered_verdict_does_not_depend_on_now(minutes: int, offset: int) -> None:
    shipment = one(ordered(DEC_2), delivered(at(2026, 11, 29) + timedelta(days=offset)))
    assert verdict(shipment, ORIGIN + timedelta(minutes=minutes), policy()) == verdict(
        shipment, at(2027, 6, 1), policy())
