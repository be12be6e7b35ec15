"""The timeline rules one by one, as plain function calls: parcels, which date counts, when track B starts,
arrivals of every kind, the user's word, letters dated the day they leave, caps that count parcels."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, datetime, timedelta

from parsers.model import DateWindow, EventKind, Parcel
from rules.calendar import next_working_day
from rules.claims import PastClaim, decide, decide_all, step_1_due
from rules.timeline import USER_PATTERN, Sighting, timelines
from rules.verdict import VerdictKind, verdict
from tests.rules_helpers import ORDER, PARIS, at, delivered, one, ordered, policy, sighting

SAT_21 = date(2026, 11, 21)


def shipped(promise: date, sent: datetime, items: tuple[str, ...] = (), **kw: object) -> Sighting:
    return sighting(EventKind.SHIPPED, sent, promise=promise, items=items, **kw)  # type: ignore[arg-type]


def kinds(decided: list[object]) -> list[tuple[str, str, int]]:
    return [(d.shipment, d.track, d.step) for d in decided]  # type: ignore[attr-defined]


def test_a_saturday_promise_is_asked_about_on_monday_at_midday_not_on_sunday_night() -> None:
    parcel = one(ordered(SAT_21))
    due, why = step_1_due(parcel) or (None, "")
    assert due == datetime(2026, 11, 23, 12, tzinfo=PARIS)
    assert why == "Sat promise, Sun not a working day"
    assert decide([parcel], datetime(2026, 11, 22, 0, 30, tzinfo=PARIS), policy(), []) == []
    assert decide([parcel], datetime(2026, 11, 23, 11, 59, tzinfo=PARIS), policy(), []) == []
    assert kinds(decide([parcel], datetime(2026, 11, 23, 12, 0, tzinfo=PARIS), policy(), [])) == [("1", "B", 1)]


def test_public_holidays_of_the_marketplace_country_are_no_working_days() -> None:
    assert next_working_day(date(2026, 11, 10), "FR") == (date(2026, 11, 12), ["Wed 11 Nov: Armistice Day"])
    assert next_working_day(date(2026, 12, 24), "DE")[0] == date(2026, 12, 28)  # Christmas, then a weekend
    assert next_working_day(date(2026, 11, 10), "US")[0] == date(2026, 11, 12)  # Veterans Day there too
    assert next_working_day(date(2026, 11, 10), "")[0] == date(2026, 11, 11)  # unknown country: weekends only


def test_an_announced_delay_moves_the_question_but_never_excuses_the_lateness() -> None:
    delay = sighting(EventKind.DELAYED, at(2026, 11, 16, 18), promise=date(2026, 11, 20),
                     evidence="Nouvelle date de livraison : vendredi 20 novembre")
    parcel = one(ordered(date(2026, 11, 17)), delay)
    assert parcel.promise == DateWindow.on(date(2026, 11, 17))
    assert parcel.expected == DateWindow.on(date(2026, 11, 20))
    on_wednesday = datetime(2026, 11, 18, 15, tzinfo=PARIS)
    assert verdict(parcel, on_wednesday, policy()).kind is VerdictKind.OVERDUE
    assert decide([parcel], on_wednesday, policy(), []) == []
    assert decide([parcel], datetime(2026, 11, 20, 15, tzinfo=PARIS), policy(), []) == []
    (question,) = decide([parcel], datetime(2026, 11, 23, 12, tzinfo=PARIS), policy(), [])
    assert question.evidence["expected_end"] == "2026-11-20"
    came = one(ordered(date(2026, 11, 17)), delay, delivered(at(2026, 11, 20, 10)))
    assert verdict(came, at(2026, 11, 21), policy()) .days_late == 3  # late by its first promise


def test_an_arriving_early_update_never_tightens_the_promise() -> None:
    early = sighting(EventKind.SHIPPED, at(2026, 11, 17, 7), promise=date(2026, 11, 18),
                     evidence="Arriving early: Wednesday 18 November")
    parcel = one(ordered(date(2026, 11, 20), evidence="Arriving Friday 20 November"), early,
                 delivered(at(2026, 11, 19, 14)))
    assert parcel.promise == DateWindow.on(date(2026, 11, 20)) and parcel.expected == parcel.promise
    assert verdict(parcel, at(2026, 11, 25), policy()).kind is VerdictKind.ON_TIME
    undelivered = one(ordered(date(2026, 11, 20), evidence="Arriving Friday 20 November"), early)
    (question,) = decide([undelivered], datetime(2026, 11, 23, 12, tzinfo=PARIS), policy(), [])
    assert "Arriving Friday 20 November" in question.letter.body and "early" not in question.letter.body


def test_a_pickup_point_or_a_delivery_attempt_ends_the_ladder_and_is_judged_by_that_day() -> None:
    for kind in (EventKind.PICKUP_READY, EventKind.ATTEMPTED):
        made_available = sighting(kind, at(2026, 11, 19, 10))
        made_available = Sighting(made_available.message, replace(made_available.event,
                                                                  available_on=date(2026, 11, 19)))
        parcel = one(ordered(date(2026, 11, 18)), made_available)
        assert parcel.arrived and parcel.arrival == kind.value and parcel.arrived_on == date(2026, 11, 19)
        assert verdict(parcel, at(2026, 12, 1), policy()).kind is VerdictKind.LATE
        step_1 = PastClaim(ORDER, "1", "B", 1, at(2026, 11, 19, 11), "drafted", id=7)
        decided = decide_all([parcel], at(2026, 11, 25), policy(), [step_1])
        assert kinds(decided.new) == [("1", "A", 1)] and [w.claim.id for w in decided.withdraw] == [7]


def test_a_delivered_parcel_without_a_promise_says_so_and_out_for_delivery_today_is_a_promise() -> None:
    shipped_only = sighting(EventKind.SHIPPED, at(2026, 11, 17))
    parcel = one(shipped_only, delivered(at(2026, 11, 19)))
    assert verdict(parcel, at(2026, 11, 25), policy()).kind is VerdictKind.NO_PROMISE
    today = sighting(EventKind.OUT_FOR_DELIVERY, at(2026, 11, 18, 7), promise=date(2026, 11, 18))
    parcel = one(shipped_only, today, delivered(at(2026, 11, 19)))
    assert parcel.promise == DateWindow.on(date(2026, 11, 18))
    assert verdict(parcel, at(2026, 11, 25), policy()).days_late == 1


def test_a_delivery_that_names_no_parcel_closes_none_until_the_user_or_a_later_email_says_which() -> None:
    first = shipped(date(2026, 11, 19), at(2026, 11, 17))
    second = shipped(date(2026, 11, 20), at(2026, 11, 18))
    vague = delivered(at(2026, 11, 19, 15))
    one_of_them, other = timelines([ordered(date(2026, 11, 19)), first, second, vague])
    assert one_of_them.ambiguous and other.ambiguous and not one_of_them.arrived and not other.arrived
    assert decide([one_of_them, other], datetime(2026, 11, 24, 12, tzinfo=PARIS), policy(), []) == []
    said = sighting(EventKind.DELIVERED, at(2026, 11, 24, 9), delivered_on=date(2026, 11, 20), shipment="2")
    said = Sighting(said.message, replace(said.event, pattern=USER_PATTERN))
    one_of_them, other = timelines([ordered(date(2026, 11, 19)), first, second, vague, said])
    # The user's word settles parcel 2; the vague email can then only be about parcel 1.
    assert (other.arrived_on, one_of_them.arrived_on) == (date(2026, 11, 20), date(2026, 11, 19))
    assert not one_of_them.ambiguous and not other.ambiguous


def test_as_many_vague_deliveries_as_parcels_still_close_none_of_them() -> None:
    """Two parcels promised the same day, two delivered emails naming nothing (Tue 17, Fri 20): which came late
    cannot be told, so neither is closed on a guess (the late one would pass for on time and lose its claim)."""
    parcels = [shipped(date(2026, 11, 17), at(2026, 11, 15)), shipped(date(2026, 11, 17), at(2026, 11, 15, 10))]
    first, second = timelines([*parcels, delivered(at(2026, 11, 17, 15)), delivered(at(2026, 11, 20, 9))])
    assert not first.arrived and not second.arrived
    assert first.ambiguous and second.ambiguous


def test_package_numbers_and_tracking_ids_tie_emails_to_their_parcel() -> None:
    def numbered(kind: EventKind, sent: datetime, n: int, **kw: object) -> Sighting:
        found = sighting(kind, sent, **kw)  # type: ignore[arg-type]
        return Sighting(found.message, replace(found.event, parcel=Parcel(n, 2, f"TRK{n}")))
    one_, two = timelines([numbered(EventKind.SHIPPED, at(2026, 11, 17), 1, promise=date(2026, 11, 19)),
                           numbered(EventKind.SHIPPED, at(2026, 11, 17, 10), 2, promise=date(2026, 11, 19)),
                           numbered(EventKind.DELIVERED, at(2026, 11, 19, 12), 2)])
    assert (one_.arrived, two.arrived) == (False, True)


def test_the_users_resolution_ends_the_case_and_withdraws_what_never_left() -> None:
    parcel = one(ordered(date(2026, 11, 17)))
    history = [PastClaim(ORDER, "1", "B", 1, at(2026, 11, 18, 12), "closed", at(2026, 11, 18, 12), id=1),
               PastClaim(ORDER, "1", "B", 2, at(2026, 11, 21, 12), "queued", id=2)]
    decided = decide_all([parcel], at(2026, 12, 20), policy(), history)
    assert decided.new == [] and [w.claim.id for w in decided.withdraw] == [2]
    assert "case resolved" in decided.outlooks[0].reason


def test_an_answer_pauses_the_ladder_until_the_user_asks_for_the_next_step() -> None:
    parcel = one(ordered(date(2026, 11, 17)))
    answered = PastClaim(ORDER, "1", "B", 1, at(2026, 11, 18, 12), "answered", at(2026, 11, 18, 12), id=1)
    assert decide([parcel], at(2026, 12, 1), policy(), [answered]) == []
    assert "claims next 1" in decide_all([parcel], at(2026, 12, 1), policy(), [answered]).outlooks[0].reason
    (notice,) = decide([parcel], at(2026, 12, 1), policy(), [replace(answered, next_requested=True)])
    assert (notice.track, notice.step) == ("B", 2)


def test_a_notice_drafted_on_an_earlier_day_is_written_again_with_dates_from_today() -> None:
    parcel = one(ordered(date(2026, 11, 17)))
    step_1 = PastClaim(ORDER, "1", "B", 1, at(2026, 11, 18, 12), "sent", at(2026, 11, 18, 12), id=1)
    notice = PastClaim(ORDER, "1", "B", 2, at(2026, 11, 21, 12), "drafted", id=2, written_at=at(2026, 11, 21, 12),
                       deadline=date(2026, 11, 28))
    same_day = decide_all([parcel], at(2026, 11, 21, 20), policy(), [step_1, notice])
    assert same_day.rewrite == []
    (rewrite,) = decide_all([parcel], at(2026, 11, 23, 9), policy(), [step_1, notice]).rewrite
    assert rewrite.claim.id == 2 and rewrite.evidence["deadline_given"] == "2026-11-30"
    assert "30 novembre 2026" in rewrite.letter.body


def test_the_termination_quotes_the_deadline_the_notice_stated() -> None:
    parcel = one(ordered(date(2026, 11, 17)))
    history = [PastClaim(ORDER, "1", "B", 1, at(2026, 11, 18, 12), "sent", at(2026, 11, 18, 12), id=1),
               PastClaim(ORDER, "1", "B", 2, at(2026, 11, 21, 12), "sent", at(2026, 11, 24, 12), id=2,
                         deadline=date(2026, 12, 1))]
    assert decide([parcel], datetime(2026, 12, 1, 23, tzinfo=PARIS), policy(), history) == []
    (termination,) = decide([parcel], datetime(2026, 12, 2, 12, tzinfo=PARIS), policy(), history)
    assert termination.step == 3 and "1er décembre 2026" in termination.letter.body


def test_caps_count_parcels_and_never_hold_a_ladder_that_has_started() -> None:
    lost = [f"171-{n:07d}-0000000" for n in range(4)]
    parcels = [one(ordered(date(2026, 11, 17), order=order)) for order in lost]
    history = [PastClaim(order, "1", "B", step, at(2026, 11, 10 + step), "sent", at(2026, 11, 10 + step))
               for order in lost for step in (1, 2)]
    for order in lost:
        history.append(replace(history[0], order_id=order, step=2, deadline=date(2026, 11, 19)))
    decided = decide(parcels, at(2026, 11, 25), policy(max_per_year=4, max_per_day=1), history)
    assert [(d.step, d.held) for d in decided] == [(3, None)] * 4  # four ladders count four, steps never held
    late = one(ordered(date(2026, 11, 17), order="171-9999999-0000000"), delivered(at(2026, 11, 20),
                                                                                   order="171-9999999-0000000"))
    (goodwill,) = decide([late], at(2026, 11, 25), policy(max_per_year=4), history)
    assert goodwill.held == "yearly cap reached (4 in the last 365 days)"


def test_a_ladder_step_before_the_last_is_never_cited_while_it_waits_in_drafts() -> None:
    parcel = one(ordered(date(2026, 11, 17)))
    drafted = PastClaim(ORDER, "1", "B", 1, at(2026, 11, 18, 12), "drafted", id=1)
    assert decide([parcel], at(2026, 12, 20), policy(), [drafted]) == []
    late_send = replace(drafted, status="sent", sent_at=at(2026, 12, 18, 12))
    assert decide([parcel], at(2026, 12, 20), policy(), [late_send]) == []  # three days from when it went out
    assert kinds(decide([parcel], at(2026, 12, 21, 12), policy(), [late_send])) == [("1", "B", 2)]


def test_orders_says_which_date_counts_and_what_is_due() -> None:
    parcel = one(ordered(SAT_21))
    (outlook,) = decide_all([parcel], datetime(2026, 11, 22, 10, tzinfo=PARIS), policy(), []).outlooks
    assert outlook.reason == "promised Sat 21 Nov; step 1 due Mon 23 Nov 12:00 (Sat promise, Sun not a working day)"
    assert (outlook.next_step, outlook.due_at) == ("B1", datetime(2026, 11, 23, 12, tzinfo=PARIS))
    assert timedelta(0) < outlook.due_at - datetime(2026, 11, 22, 10, tzinfo=PARIS)
