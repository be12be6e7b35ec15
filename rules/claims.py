"""Which claims are due now: the two tracks, the ladder's timing, and the caps.

Track A (arrived late): one goodwill request, step 1 only, never after a track B letter about the same parcel
(the user already wrote about it; a second message would read as farming).

Track B (not delivered): a ladder, each step dated in the user's zone.
  step 1  "where is my parcel?", as soon as the promise is overdue;
  step 2  STEP_2_AFTER_DAYS days after step 1: where the marketplace's country lets the buyer set an extra
          period and then terminate (EU member states, the UK), the formal notice giving `notice_days`; where no
          such law exists (amazon.com, amazon.ca, unknown marketplaces), a plain request to cancel and refund,
          which ends the ladder;
  step 3  the day after the notice's period has ended: termination and the refund request with its deadline.
A step is due only once the step before it has reached the user (drafted, approved, sent...); a rejected step
ends the ladder; a delivery email ends it at once (the verdict is no longer OVERDUE).

Caps hold in every mode: one claim per (order, shipment, track, step), ever, whatever its status; at most
`max_per_day` claims created on one calendar day of the user's zone and `max_per_year` over the last 365 days
(rolling, so that no burst at the turn of a year looks abusive). Every past claim counts toward those two caps
except rejected ones, which never went out (the daemon leaves claims still held by a cap out of the history). A
claim beyond a cap is still returned, with `held` saying why, so that the user sees it waiting.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from parsers.marketplaces import country
from rules.law import has_termination_law
from rules.letters import Letter, LetterFacts, render
from rules.policy import Policy
from rules.timeline import Shipment, Sighting
from rules.verdict import Verdict, VerdictKind, verdict

STEP_2_AFTER_DAYS = 3  # a courteous question deserves a few days' answer before a formal notice
REACHED_USER = ("drafted", "approved", "sent", "answered", "closed")  # the step exists outside lateclaim
NOT_COUNTED = ("rejected",)  # the user said no: it never went out, it does not count toward the caps


@dataclass(frozen=True)
class PastClaim:
    order_id: str
    shipment: str
    track: str
    step: int
    created_at: datetime
    status: str
    sent_at: datetime | None = None  # when it was sent, when known (a review can keep it waiting for days)

    @property
    def went_out(self) -> datetime:
        """When the seller got it, as far as lateclaim knows: the ladder counts its waits from there."""
        return self.sent_at or self.created_at


@dataclass(frozen=True)
class ClaimDecision:
    order_id: str
    shipment: str
    track: str  # "A" | "B"
    step: int
    language: str
    letter: Letter
    evidence: dict[str, Any] = field(default_factory=dict)
    held: str | None = None  # why a cap holds it back; None: it may go out now


def _cited(sighting: Sighting | None) -> dict[str, Any] | None:
    if sighting is None:
        return None
    m = sighting.message
    return {
        "message_id": m.message_id,
        "subject": m.subject,
        "date": m.sent_at.isoformat() if m.sent_at else None,
        "sentence": sighting.event.evidence,
        "kind": sighting.event.kind.value,
        "authenticated": m.authenticated,
    }


def evidence_of(shipment: Shipment, result: Verdict) -> dict[str, Any]:
    """What the claim rests on, JSON-ready: stored with the claim so that it can always be explained."""
    promise = shipment.promise
    absent = f"absent at deadline ({result.deadline.isoformat()})" if result.deadline else "absent at deadline"
    return {
        "order_ids": list(shipment.order_ids),
        "shipment": shipment.shipment,
        "marketplace": shipment.marketplace,
        "promise": {
            "start": promise.start.isoformat() if promise and promise.start else None,
            "end": promise.end.isoformat() if promise else None,
            "latest": promise.latest.strftime("%H:%M") if promise and promise.latest else None,
            "guaranteed": shipment.guaranteed,
            "email": _cited(shipment.promise_source),
        },
        "revisions": [_cited(s) for s in shipment.revisions],
        "delivery": _cited(shipment.delivery_source) or absent,
        "delivered_on": shipment.delivered_on.isoformat() if shipment.delivered_on else None,
        "verdict": result.kind.value,
        "deadline": result.deadline.isoformat() if result.deadline else None,
        "days_late": result.days_late,
    }


def _day(moment: datetime, policy: Policy) -> date:
    return moment.astimezone(policy.timezone).date()


def step_due_on(step: int, ladder: dict[int, PastClaim], shipment: Shipment, policy: Policy) -> date | None:
    """The day (user's zone) track B's `step` falls due, given the ladder's past steps; None: never.

    Step 1's day is the verdict's business (the day after the deadline); this answers for steps 2 and 3.
    """
    previous = ladder.get(step - 1)
    if previous is None or previous.status not in REACHED_USER:
        return None  # not written yet, waiting for the user, or rejected: the ladder waits or ends
    written = _day(previous.went_out, policy)
    with_law = has_termination_law(country(shipment.marketplace))
    if step == 2:
        return written + timedelta(days=STEP_2_AFTER_DAYS)
    if step == 3 and with_law:
        return written + timedelta(days=policy.notice_days + 1)  # the notice's last day is still the seller's
    return None


def _next_step(shipment: Shipment, now: datetime, ladder: dict[int, PastClaim], policy: Policy) -> int | None:
    """The next track B step due now, or None."""
    if not ladder:
        return 1
    step = max(ladder) + 1
    due_on = step_due_on(step, ladder, shipment, policy)
    return step if due_on is not None and _day(now, policy) >= due_on else None


@dataclass(frozen=True)
class _Due:
    shipment: Shipment
    verdict: Verdict
    track: str
    step: int
    previous_at: datetime | None = None  # when the ladder's previous step was created


def _claimable(shipment: Shipment, policy: Policy) -> bool:
    source = shipment.promise_source
    # No claim without evidence: the promise's email, with its date, must be there to be cited.
    if source is None or source.message.sent_at is None:
        return False
    return shipment.authenticated or policy.trust_unauthenticated


def _too_old(shipment: Shipment, result: Verdict, now: datetime, policy: Policy) -> bool:
    """A promise broken long ago (found by a history import) starts no claim: Amazon's goodwill is asked for
    within days, and an old undelivered order has usually been settled some other way."""
    broken_on = shipment.delivered_on or result.deadline
    return broken_on is not None and (now.date() - broken_on).days > policy.max_age_days


def _candidates(shipments: Sequence[Shipment], now: datetime, policy: Policy,
                history: Sequence[PastClaim]) -> list[_Due]:
    done: dict[tuple[str, str, str], dict[int, PastClaim]] = {}
    for claim in history:
        done.setdefault((claim.order_id, claim.shipment, claim.track), {})[claim.step] = claim
    due: list[_Due] = []
    for shipment in shipments:
        if not _claimable(shipment, policy):
            continue
        result = verdict(shipment, now, policy)
        key = (shipment.order_id, shipment.shipment)
        ladder = done.get((*key, "B"), {})
        if not ladder and _too_old(shipment, result, now, policy):
            continue
        if result.kind is VerdictKind.LATE and not done.get((*key, "A")) and not ladder:
            due.append(_Due(shipment, result, "A", 1))
        elif result.kind is VerdictKind.OVERDUE:
            step = _next_step(shipment, now, ladder, policy)
            if step is not None:
                previous = ladder.get(step - 1)
                due.append(_Due(shipment, result, "B", step, previous.went_out if previous else None))
    # Oldest broken promise first: when a cap bites, the longest-waiting claim goes out.
    due.sort(key=lambda d: (d.verdict.deadline or date.max, d.shipment.order_id, d.shipment.shipment, d.track,
                            d.step))
    return due


def decide(shipments: Sequence[Shipment], now: datetime, policy: Policy,
           history: Sequence[PastClaim]) -> list[ClaimDecision]:
    """The claims due at `now`, each with its letter and evidence; those beyond a cap carry `held`."""
    if now.tzinfo is None:
        raise ValueError(f"a timezone-aware datetime is required, got {now!r}")
    counted = [c for c in history if c.status not in NOT_COUNTED]
    today = _day(now, policy)
    per_day = sum(1 for c in counted if _day(c.created_at, policy) == today)
    per_year = sum(1 for c in counted if now - timedelta(days=365) < c.created_at <= now)
    decisions = []
    for due in _candidates(shipments, now, policy, history):
        held = None
        if per_day >= policy.max_per_day:
            held = f"daily cap reached ({policy.max_per_day})"
        elif per_year >= policy.max_per_year:
            held = f"yearly cap reached ({policy.max_per_year} in the last 365 days)"
        else:
            per_day += 1
            per_year += 1
        s = due.shipment
        letter = render(LetterFacts(s, due.verdict, due.track, due.step, now, policy, due.previous_at))
        decisions.append(ClaimDecision(s.order_id, s.shipment, due.track, due.step, letter.language, letter,
                                       evidence_of(s, due.verdict), held))
    return decisions
