from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from parsers.model import EventKind
from rules.claims import STEP_2_AFTER_DAYS, ClaimDecision, PastClaim, decide, decide_all
from rules.timeline import Shipment, Sighting, timelines
from tests.rules_helpers import ORDER, at, delivered, one, ordered, policy, recorded, sighting

DEC_2 = date(2026, 12, 2)
PROMISE_QUOTE = "Livraison estimée : mercredi 2 décembre"


def late(order: str = ORDER, authenticated: bool | None = True) -> Shipment:
    return one(ordered(DEC_2, order=order, evidence=PROMISE_QUOTE, authenticated=authenticated),
               delivered(at(2026, 12, 5, 10), order=order))


def overdue(order: str = ORDER, end: date = DEC_2, marketplace: str = "amazon.fr") -> Shipment:
    return one(ordered(end, order=order, marketplace=marketplace))


def orders(n: int) -> list[str]:
    return [f"171-{i:07d}-0000000" for i in range(n)]


def test_a_late_delivery_gets_one_goodwill_request_with_its_evidence() -> None:
    shipment = late()
    (decision,) = decide([shipment], at(2026, 12, 5, 12), policy(), [])
    assert (decision.order_id, decision.shipment, decision.track, decision.step) == (ORDER, "1", "A", 1)
    assert decision.held is None and decision.language == "fr"
    promise_email = decision.evidence["promise"]["email"]
    source = shipment.promise_source
    assert source is not None
    assert promise_email["sentence"] == PROMISE_QUOTE
    assert promise_email["message_id"] == source.message.message_id
    assert promise_email["subject"] == "Votre commande Amazon.fr"
    assert promise_email["date"] == "2026-11-28T09:00:00+00:00"
    assert decision.evidence["delivery"]["kind"] == "delivered"
    assert decision.evidence["delivered_on"] == "2026-12-05"
    assert decision.evidence["days_late"] == 3
    assert ORDER in decision.letter.body and "3 jours" in decision.letter.body


def test_the_goodwill_request_is_made_once_whatever_became_of_it() -> None:
    for status in ("queued", "drafted", "sent", "rejected"):
        history = [PastClaim(ORDER, "1", "A", 1, at(2026, 12, 5, 12), status)]
        assert decide([late()], at(2026, 12, 9), policy(), history) == []


def test_nothing_to_claim_when_on_time_pending_or_cancelled() -> None:
    on_time = one(ordered(DEC_2), delivered(at(2026, 12, 2, 10)))
    pending = one(ordered(date(2026, 12, 20)))
    cancelled = one(ordered(DEC_2), sighting(EventKind.CANCELLED, at(2026, 11, 30)))
    no_promise = one(sighting(EventKind.SHIPPED, at(2026, 11, 29)))
    assert decide([on_time, pending, cancelled, no_promise], at(2026, 12, 10), policy(), []) == []


def test_unauthenticated_mail_never_claims_unless_trusted() -> None:
    spoofed_promise = late(authenticated=False)
    spoofed_delivery = one(ordered(DEC_2), delivered(at(2026, 12, 5, 10), authenticated=None))
    never_verified = one(ordered(DEC_2, authenticated=None))
    now = at(2026, 12, 6)
    assert decide([spoofed_promise, spoofed_delivery, never_verified], now, policy(), []) == []
    trusted = decide([spoofed_promise], now, policy(trust_unauthenticated=True), [])
    assert [(d.track, d.step) for d in trusted] == [("A", 1)]
    assert [(d.track, d.step) for d in decide([never_verified], now, policy(trust_unauthenticated=True), [])] \
        == [("B", 1)]


def test_no_claim_without_the_promise_email_date_to_cite() -> None:
    undated = one(sighting(EventKind.ORDERED, None, promise=DEC_2))
    assert decide([undated], at(2026, 12, 10), policy(trust_unauthenticated=True), []) == []


def run_days(sightings: list[Sighting], start: datetime, days: int, **policy_kw: object
             ) -> list[tuple[date, str, int, ClaimDecision]]:
    """The daemon's loop, simulated: once a day, decide, and record what was decided as drafted."""
    rules = policy(**policy_kw)
    history: list[PastClaim] = []
    made = []
    for n in range(days):
        now = start + timedelta(days=n)
        shown = [s for s in sightings if s.message.sent_at is None or s.message.sent_at <= now]
        decisions = decide(timelines(shown), now, rules, history)
        history += recorded(decisions, now)
        made += [(now.date(), d.track, d.step, d) for d in decisions]
    return made


def test_the_french_ladder_over_weeks_question_notice_then_termination() -> None:
    made = run_days([ordered(DEC_2)], at(2026, 11, 30, 12), 40, notice_days=8)
    assert [(day, track, step) for day, track, step, _ in made] == [
        (date(2026, 12, 3), "B", 1),  # the working day after the promised day, from midday
        (date(2026, 12, 3) + timedelta(days=STEP_2_AFTER_DAYS), "B", 2),
        (date(2026, 12, 6) + timedelta(days=9), "B", 3),  # the notice's eight days are over
    ]
    notice, termination = made[1][3], made[2][3]
    assert "14 décembre 2026" in notice.letter.body  # 6 December + 8 days: the date the notice sets
    assert "14 décembre 2026" in termination.letter.body  # ... which the termination recalls
    assert all(d.evidence["delivery"].startswith("absent at deadline") for *_, d in made)


def test_a_delivery_during_the_ladder_stops_it_and_the_goodwill_request_follows() -> None:
    sightings = [ordered(DEC_2), delivered(at(2026, 12, 8, 15))]  # after step 2 (6 December)
    made = run_days(sightings, at(2026, 11, 30, 16), 40)
    assert [(day, track, step) for day, track, step, _ in made] == [
        (date(2026, 12, 3), "B", 1),
        (date(2026, 12, 6), "B", 2),
        (date(2026, 12, 8), "A", 1),  # it came 6 days late: the goodwill request follows, in the same thread
    ]
    assert made[2][3].evidence["follows"]["track"] == "B"


def test_amazon_com_has_no_termination_law_so_the_ladder_ends_with_a_refund_request() -> None:
    made = run_days([ordered(DEC_2, marketplace="amazon.com", language="en")], at(2026, 11, 30, 20), 40)
    assert [(track, step) for _, track, step, _ in made] == [("B", 1), ("B", 2)]
    refund = made[1][3].letter
    assert "refund" in refund.subject.lower()
    assert "Directive" not in refund.body and "section" not in refund.body


def test_a_step_waits_while_the_previous_one_is_queued_and_a_rejection_ends_the_ladder() -> None:
    shipment = overdue()
    now = at(2026, 12, 20)
    for status in ("queued", "approved", "drafted", "some_future_status", "rejected", "discarded", "uncertain"):
        history = [PastClaim(ORDER, "1", "B", 1, at(2026, 12, 3), status)]
        assert decide([shipment], now, policy(), history) == []
    history = [PastClaim(ORDER, "1", "B", 1, at(2026, 12, 3), "sent")]
    assert [(d.track, d.step) for d in decide([shipment], now, policy(), history)] == [("B", 2)]


def test_step_two_is_not_due_before_midday_of_its_day_in_the_marketplaces_zone() -> None:
    history = [PastClaim(ORDER, "1", "B", 1, at(2026, 12, 3, 9), "sent", at(2026, 12, 3, 9))]
    assert decide([overdue()], at(2026, 12, 6, 10, 59), policy(), history) == []  # 11:59 on the 6th in Paris
    assert len(decide([overdue()], at(2026, 12, 6, 11), policy(), history)) == 1  # midday in Paris


def test_a_sent_step_1_is_followed_by_the_goodwill_request_and_an_unsent_one_is_withdrawn() -> None:
    sent = [PastClaim(ORDER, "1", "B", 1, at(2026, 12, 3), "sent", at(2026, 12, 3), id=1)]
    (follow_up,) = decide([late()], at(2026, 12, 6), policy(), sent)
    assert (follow_up.track, follow_up.step) == ("A", 1)
    assert follow_up.evidence["follows"] == {"track": "B", "step": 1, "sent_at": at(2026, 12, 3).isoformat()}
    for status in ("queued", "approved", "drafted"):
        unsent = [PastClaim(ORDER, "1", "B", 1, at(2026, 12, 3), status, id=1)]
        decided = decide_all([late()], at(2026, 12, 6), policy(), unsent)
        assert [(d.track, d.step) for d in decided.new] == [("A", 1)]
        assert "follows" not in decided.new[0].evidence  # nothing was sent: it stands alone
        assert [w.claim.id for w in decided.withdraw] == [1]


def test_the_daily_cap_holds_the_newest_claims_back_and_says_why() -> None:
    shipments = [overdue(order, end=DEC_2 - timedelta(days=i)) for i, order in enumerate(orders(5))]
    decisions = decide(shipments, at(2026, 12, 10), policy(max_per_day=3), [])
    assert len(decisions) == 5
    # Oldest broken promise first: orders 4, 3, 2 go out, orders 1 and 0 wait.
    assert [d.order_id for d in decisions if d.held is None] == orders(5)[:1:-1]
    assert [d.held for d in decisions if d.held] == ["daily cap reached (3)"] * 2


def test_the_daily_cap_counts_todays_claims_in_the_users_zone() -> None:
    shipments = [overdue(order) for order in orders(3)]
    now = at(2026, 12, 10, 12)
    # 23:30 UTC on the 9th is already the 10th in Paris; 22:30 UTC on the 9th is still the 9th.
    today = [PastClaim("x", "1", "A", 1, at(2026, 12, 9, 23, 30), "sent"),
             PastClaim("y", "1", "A", 1, at(2026, 12, 10, 8), "drafted")]
    yesterday = [PastClaim("z", "1", "A", 1, at(2026, 12, 9, 22, 30), "sent")]
    rejected = [PastClaim("w", "1", "A", 1, at(2026, 12, 10, 9), "rejected")]
    decisions = decide(shipments, now, policy(max_per_day=3), today + yesterday + rejected)
    assert sum(d.held is None for d in decisions) == 1


def test_the_yearly_cap_counts_the_last_365_days() -> None:
    now = at(2026, 12, 10, 12)
    recent = [PastClaim(f"o{i}", "1", "A", 1, now - timedelta(days=20 * i + 1), "sent") for i in range(11)]
    old = [PastClaim("old", "1", "A", 1, now - timedelta(days=366), "sent")]
    rejected = [PastClaim("r", "1", "A", 1, now - timedelta(days=3), "rejected")]
    shipments = [overdue(order) for order in orders(3)]
    decisions = decide(shipments, now, policy(max_per_year=12, max_per_day=10), recent + old + rejected)
    assert sum(d.held is None for d in decisions) == 1
    assert [d.held for d in decisions if d.held] == ["yearly cap reached (12 in the last 365 days)"] * 2


def test_held_decisions_still_carry_a_full_letter() -> None:
    decisions = decide([overdue()], at(2026, 12, 10), policy(max_per_day=0), [])
    assert decisions[0].held == "daily cap reached (0)"
    assert ORDER in decisions[0].letter.body


def test_one_claim_a_step_and_one_step_a_shipment_per_call() -> None:
    shipment = overdue()
    history = [PastClaim(ORDER, "1", "B", 1, at(2026, 12, 3), "drafted"),
               PastClaim(ORDER, "1", "B", 2, at(2026, 12, 6), "rejected")]
    assert decide([shipment], at(2027, 1, 30), policy(), history) == []
    history[1] = PastClaim(ORDER, "1", "B", 2, at(2026, 12, 6), "sent")
    history.append(PastClaim(ORDER, "1", "B", 3, at(2026, 12, 15), "sent"))
    assert decide([shipment], at(2027, 1, 30), policy(), history) == []


def test_a_naive_now_is_refused() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        decide([], datetime(2026, 12, 10), policy(), [])


def test_each_parcel_of_an_order_has_its_own_ladder() -> None:
    sightings = [
        ordered(DEC_2, items=("Bouilloire", "Lampe")),
        sighting(EventKind.SHIPPED, at(2026, 11, 29), promise=DEC_2, items=("Bouilloire",)),
        sighting(EventKind.SHIPPED, at(2026, 11, 29, 10), promise=DEC_2, items=("Lampe",)),
        delivered(at(2026, 12, 2, 10), items=("Bouilloire",)),
    ]
    decisions = decide(timelines(sightings), datetime(2026, 12, 4, 12, tzinfo=UTC), policy(), [])
    assert [(d.shipment, d.track, d.step) for d in decisions] == [("2", "B", 1)]


def test_a_promise_broken_long_ago_starts_no_claim() -> None:
    # late(): promised 2 December, delivered 5 December 2026 (a history import finds it weeks later).
    assert decide([late()], at(2027, 1, 4, 12), policy(), []) != []  # 30 days after the delivery
    assert decide([late()], at(2027, 1, 5, 12), policy(), []) == []  # 31 days
    assert decide([late()], at(2027, 1, 5, 12), policy(max_age_days=60), []) != []
    undelivered = one(ordered(DEC_2))
    assert decide([undelivered], at(2027, 1, 1, 12), policy(), []) != []  # 30 days after the promise
    assert decide([undelivered], at(2027, 1, 2, 12), policy(), []) == []


def test_the_ladder_counts_its_wait_from_when_a_step_was_sent() -> None:
    undelivered = one(ordered(DEC_2))
    written_on_the_3rd = at(2026, 12, 3, 12)
    reviewed_and_sent_on_the_10th = at(2026, 12, 10, 12)
    history = [PastClaim(ORDER, "1", "B", 1, written_on_the_3rd, "sent", reviewed_and_sent_on_the_10th)]
    assert decide([undelivered], at(2026, 12, 12, 12), policy(), history) == []  # only 2 days after sending
    (notice,) = decide([undelivered], at(2026, 12, 13, 12), policy(), history)
    assert notice.step == 2
