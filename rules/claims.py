"""Which claims are due now: the two tracks, the ladder's timing, and the caps.

Track A (arrived late): one goodwill request, step 1 only. Track B (not delivered): a ladder. Step 1 asks where
the parcel is, as soon as the promise is overdue. Where the marketplace's country gives the buyer a right to
set a final deadline and terminate (the EU, the UK), step 2 is that formal notice, STEP_2_AFTER days after
step 1, and step 3 terminates the contract and asks for the refund once the notice period has passed. Where no
such law exists (amazon.com, amazon.ca...), step 2 asks to cancel and refund, and the ladder ends there. Each
step waits for the one before it to have reached the user (drafted, approved or sent); a rejected step ends the
ladder; a delivery email ends it at once.

Caps hold in every mode: one claim per shipment, track and step, ever; at most `max_per_day` a day (in the
user's zone) and `max_per_year` over the last 365 days. A claim beyond a cap is still returned, with `held`
saying why, so that the user sees it waiting.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from parsers.marketplaces import country
from rules.law import has_termination_law
from rules.letters import Letter, LetterFacts, render
from rules.policy import Policy
from rules.timeline import Shipment, Sighting
from rules.verdict import Verdict, VerdictKind, verdict

STEP_2_AFTER = timedelta(days=3)  # a courteous reminder deserves a few days' answer before a formal notice
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


@dataclass(frozen=True)
class ClaimDecision:
    order_id: str
    shipment: str
    track: str  # "A" | "B"
    step: int
    language: str
    letter: Letter
    evidence: dict[str, Any] = field(default_factory=dict)
    held: str | None = None  # why a cap holds it back


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
    promise = shipment.promise
    return {
        "order_ids": list(shipment.order_ids),
        "marketplace": shipment.marketplace,
        "promise": {
            "start": promise.start.isoformat() if promise and promise.start else None,
            "end": promise.end.isoformat() if promise else None,
            "guaranteed": shipment.guaranteed,
            "email": _cited(shipment.promise_source),
        },
        "revisions": [_cited(s) for s in shipment.revisions],
        "delivery": _cited(shipment.delivery_source) or "no delivery email at the deadline",
        "delivered_on": shipment.delivered_on.isoformat() if shipment.delivered_on else None,
        "verdict": result.kind.value,
        "days_late": result.days_late,
    }


def _due_step(shipment: Shipment, now: datetime, past: dict[int, PastClaim], policy: Policy) -> int | None:
    """The next track B step due now, or None."""
    if 1 not in past:
        return 1
    last = max(past)
    previous = past[last]
    if previous.status not in REACHED_USER:
        return None  # waiting for the user, or the user rejected it
    with_law = has_termination_law(country(shipment.marketplace))
    if last == 1 and now >= previous.created_at + STEP_2_AFTER:
        return 2
    if last == 2 and with_law and now >= previous.created_at + timedelta(days=policy.notice_days + 1):
        return 3
    return None


@dataclass(frozen=True)
class _Due:
    shipment: Shipment
    verdict: Verdict
    track: str
    step: int
    previous_at: datetime | None = None  # when the ladder's previous step was created


def _candidates(shipments: Sequence[Shipment], now: datetime, policy: Policy,
                history: Sequence[PastClaim]) -> list[_Due]:
    done: dict[tuple[str, str, str], dict[int, PastClaim]] = {}
    for claim in history:
        done.setdefault((claim.order_id, claim.shipment, claim.track), {})[claim.step] = claim
    due: list[_Due] = []
    for shipment in shipments:
        if not (shipment.authenticated or policy.trust_unauthenticated):
            continue
        result = verdict(shipment, now, policy)
        key = (shipment.order_id, shipment.shipment)
        if result.kind is VerdictKind.LATE and not done.get((*key, "A")):
            due.append(_Due(shipment, result, "A", 1))
        elif result.kind is VerdictKind.OVERDUE:
            ladder = done.get((*key, "B"), {})
            step = _due_step(shipment, now, ladder, policy)
            if step is not None:
                previous = ladder.get(step - 1)
                due.append(_Due(shipment, result, "B", step, previous.created_at if previous else None))
    # Oldest broken promise first: when a cap bites, the most overdue claim goes out.
    due.sort(key=lambda d: (d.verdict.deadline or now.date(), d.shipment.order_id, d.shipment.shipment, d.track,
                            d.step))
    return due


def decide(shipments: Sequence[Shipment], now: datetime, policy: Policy,
           history: Sequence[PastClaim]) -> list[ClaimDecision]:
    counted = [c for c in history if c.status not in NOT_COUNTED]
    today = now.astimezone(policy.timezone).date()
    per_day = sum(1 for c in counted if c.created_at.astimezone(policy.timezone).date() == today)
    per_year = sum(1 for c in counted if c.created_at > now - timedelta(days=365))
    decisions = []
    for due in _candidates(shipments, now, policy, history):
        held = None
        if per_day >= policy.max_per_day:
            held = f"daily cap reached ({policy.max_per_day} a day)"
        elif per_year >= policy.max_per_year:
            held = f"yearly cap reached ({policy.max_per_year} in 365 days)"
        else:
            per_day += 1
            per_year += 1
        s = due.shipment
        letter = render(LetterFacts(s, due.verdict, due.track, due.step, now, policy, due.previous_at))
        decisions.append(ClaimDecision(s.order_id, s.shipment, due.track, due.step, letter.language, letter,
                                       evidence_of(s, due.verdict), held))
    return decisions
