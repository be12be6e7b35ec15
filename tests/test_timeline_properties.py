"""Random timelines of one parcel lived a day at a time through the rules, with a user who sends some letters
after a while, never sends others, and may settle the case: the promises the rules keep whatever happens."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime, time, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from parsers.model import EventKind
from rules.claims import ClaimDecision, PastClaim, decide_all
from rules.timeline import Sighting, timelines
from tests.rules_helpers import PARIS, ordered, policy, sighting

START = date(2026, 11, 2)
NOTICE_DAYS = 7


@st.composite
def stories(draw: st.DrawFn) -> dict[str, object]:
    promise = START + timedelta(days=draw(st.integers(3, 10)))
    delay = draw(st.none() | st.integers(-2, 6))  # a revision Amazon announces the day before the promise
    arrival = draw(st.none() | st.integers(-1, 30))  # days after the promise; None: never
    how = draw(st.sampled_from([EventKind.DELIVERED, EventKind.PICKUP_READY]))
    send_after = draw(st.none() | st.integers(0, 4))  # days the user takes to send a drafted letter; None: never
    resolve_on = draw(st.none() | st.integers(0, 40))  # the day after the promise the user settles the case
    hour = draw(st.integers(0, 23))
    return {"promise": promise, "delay": delay, "arrival": arrival, "how": how, "send_after": send_after,
            "resolve_on": resolve_on, "hour": hour}


def emails(story: dict[str, object]) -> list[Sighting]:
    promise: date = story["promise"]  # type: ignore[assignment]
    found = [ordered(promise, sent=datetime.combine(promise - timedelta(days=3), time(9), UTC))]
    if story["delay"] is not None:
        found.append(sighting(EventKind.DELAYED, datetime.combine(promise - timedelta(days=1), time(18), UTC),
                              promise=promise + timedelta(days=story["delay"])))  # type: ignore[operator]
    if story["arrival"] is not None:
        day = promise + timedelta(days=story["arrival"])  # type: ignore[operator]
        kind: EventKind = story["how"]  # type: ignore[assignment]
        arrived = sighting(kind, datetime.combine(day, time(15), PARIS), delivered_on=day
                           if kind is EventKind.DELIVERED else None)
        if kind is EventKind.PICKUP_READY:
            arrived = Sighting(arrived.message, replace(arrived.event, available_on=day))
        found.append(arrived)
    return found


def assert_may_be_written(d: ClaimDecision, claims: dict[tuple[str, int], PastClaim], today: date, promise: date,
                          arrival_day: date | None, arrived_by_now: bool) -> None:
    """A new letter is the parcel's first of its kind and step, and its track's conditions hold today."""
    key = (d.track, d.step)
    assert key not in claims, f"a second {key} claim for one parcel"
    if d.track == "B":
        assert not arrived_by_now, "a non-delivery letter about a parcel that arrived"
        assert today > promise, "a non-delivery letter before the promised day was over"
        assert d.step == 1 or claims["B", d.step - 1].status == "sent", "a step before the last went out"
    else:
        assert arrival_day is not None and today >= arrival_day > promise


def send_due_drafts(claims: dict[tuple[str, int], PastClaim], send_after: int | None, today: date,
                    now: datetime) -> None:
    """The user sends each draft `send_after` days after it was written; a notice still gives its full period."""
    for key, claim in list(claims.items()):
        if claim.status == "drafted" and send_after is not None \
                and (today - claim.created_at.date()).days >= send_after:
            if claim.deadline is not None:
                assert (claim.deadline - today).days >= NOTICE_DAYS, "a notice shorter than its period"
            claims[key] = replace(claim, status="sent", sent_at=now)


@settings(max_examples=120, deadline=None)
@given(stories())
def test_the_rules_keep_their_promises_on_any_timeline(story: dict[str, object]) -> None:
    rules = policy(notice_days=NOTICE_DAYS)
    promise: date = story["promise"]  # type: ignore[assignment]
    mail = emails(story)
    claims: dict[tuple[str, int], PastClaim] = {}
    resolved_on = None
    arrival_day = promise + timedelta(days=story["arrival"]) if story["arrival"] is not None else None  # type: ignore[operator]
    for n in range(60):
        today = START + timedelta(days=n)
        now = datetime.combine(today, time(story["hour"]), PARIS)  # type: ignore[arg-type]
        seen = [s for s in mail if s.message.sent_at is not None and s.message.sent_at <= now]
        decided = decide_all(timelines(seen), now, rules, list(claims.values()))
        arrived_by_now = any(s.event.kind in (EventKind.DELIVERED, EventKind.PICKUP_READY) for s in seen)
        for w in decided.withdraw:
            assert w.claim.status in ("queued", "approved", "drafted")
            claims[w.claim.track, w.claim.step] = replace(w.claim, status="withdrawn")
        for r in decided.rewrite:
            given_ = r.evidence.get("deadline_given")
            claims[r.claim.track, r.claim.step] = replace(r.claim, written_at=now,
                                                          deadline=date.fromisoformat(given_) if given_ else None)
        for d in decided.new:
            key = (d.track, d.step)
            assert resolved_on is None, "a letter after the user settled the case"
            assert_may_be_written(d, claims, today, promise, arrival_day, arrived_by_now)
            deadline = date.fromisoformat(d.evidence["deadline_given"]) if "deadline_given" in d.evidence else None
            claims[key] = PastClaim(d.order_id, d.shipment, d.track, d.step, now, "drafted", id=len(claims) + 1,
                                    deadline=deadline, written_at=now)
        # The user's day: sends the drafts whose time has come (after the pass), or settles the case.
        send_due_drafts(claims, story["send_after"], today, now)  # type: ignore[arg-type]
        if story["resolve_on"] is not None and today == promise + timedelta(days=story["resolve_on"]) and claims:  # type: ignore[operator]
            key = max(claims, key=lambda k: claims[k].created_at)
            claims[key] = replace(claims[key], status="closed")
            resolved_on = today
    late = arrival_day is not None and arrival_day > promise
    settled_first = resolved_on is not None and arrival_day is not None and resolved_on <= arrival_day
    if late and not settled_first and arrival_day is not None and arrival_day < START + timedelta(days=59):
        assert ("A", 1) in claims, "a parcel that came late got no goodwill request"
    if not late:
        assert ("A", 1) not in claims
