"""Which claims are due now, for each parcel, on the whole of its timeline: the two tracks, the ladder's timing,
what no longer applies, and the caps.

Track A (arrived late): one goodwill request once the parcel arrived (delivered, or made available at a pickup
point or by a delivery attempt) after its first promise and the grace days. A track B letter that never left
does not block it (it is withdrawn); after a step 1 that was really sent, the request follows it in its thread.

Track B (not delivered): a ladder.
  step 1  "where is my parcel?": on the first working day (the marketplace country's calendar) after the latest
          date Amazon itself announced, from midday there, so that the last day's delivery email has come;
  step 2  STEP_2_AFTER_DAYS days after step 1 went out: where the country lets the buyer set an extra period
          and then terminate, the formal notice giving `notice_days` from the day it leaves; elsewhere a plain
          request to cancel and refund, which ends the ladder;
  step 3  the day after the deadline the notice stated: termination and the refund request.
A step is written only once the step before it went out (found sent, or confirmed by the user): a draft still
waiting in Drafts is not a letter the seller received. An answer pauses the ladder until the user resolves the
claim or asks for the next step; a rejected or discarded step ends it until the user acts.

The parcel's case ends when it arrives, is cancelled or refunded in full, or the user resolves one of its claims:
nothing more is written about it, and letters about it that never left are withdrawn. A partial or goodwill
refund, or an email that may be about the parcel but names none, pauses it.

Caps count parcels, not letters: a track A request counts one, a whole track B ladder counts once (its step 1).
A claim beyond `max_per_day` (a calendar day of the user's zone) or `max_per_year` (the last 365 days) is returned
with `held` saying why; a ladder already started is never held at a later step.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any

from parsers.marketplaces import country, home_zone
from rules.calendar import next_working_day
from rules.law import has_termination_law, notice_deadline
from rules.letters import Letter, LetterFacts, jurisdiction, render
from rules.policy import Policy
from rules.timeline import Shipment, Sighting
from rules.verdict import Verdict, VerdictKind, verdict

STEP_2_AFTER_DAYS = 3  # a courteous question deserves a few days' answer before a formal notice
DUE_AT = time(12)  # letters fall due at midday in the marketplace's zone: the day's last emails have come
WENT_OUT = ("sent", "answered", "closed")  # the seller has it
NOT_OUT_YET = ("queued", "approved", "drafted")  # still lateclaim's: it can be withdrawn or written again
NOT_COUNTED = ("rejected", "withdrawn", "discarded", "refused")  # never went out: they count toward no cap
REWRITTEN_LETTERS = (("B", 2), ("B", 3))  # letters that state deadlines counted from the day they leave


@dataclass(frozen=True)
class PastClaim:
    order_id: str
    shipment: str
    track: str
    step: int
    created_at: datetime
    status: str
    sent_at: datetime | None = None  # when it went out, when known (a review can keep it waiting for days)
    id: int | None = None
    held: str = ""  # a cap holds it: it is decided again at each evaluation
    deadline: date | None = None  # the deadline the letter stated (a formal notice)
    written_at: datetime | None = None  # when its dates were written (its release, or its last rewrite)
    next_requested: bool = False  # the user asked for the next step after an answer

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


@dataclass(frozen=True)
class Withdrawal:
    """A letter that never left and no longer applies: lateclaim takes it back (and removes its own draft)."""

    claim: PastClaim
    reason: str


@dataclass(frozen=True)
class Rewrite:
    """A letter still waiting to leave whose dates must be those of today (a notice drafted yesterday)."""

    claim: PastClaim
    letter: Letter
    evidence: dict[str, Any]


@dataclass(frozen=True)
class Outlook:
    """What `lateclaim orders` says of a parcel: which date counts, and what is due and when, or why not."""

    shipment: Shipment
    verdict: Verdict
    reason: str
    next_step: str | None = None  # "A1", "B1", "B2", "B3"
    due_at: datetime | None = None
    # When what is decided about the parcel may change with nothing new said about it: a step falling due, the
    # day turning for a letter written again, `now` while something is due or held; None: only when its emails
    # or its claims change. The daemon re-decides a parcel only then (its due-time index).
    revisit_at: datetime | None = None


@dataclass(frozen=True)
class Decisions:
    new: list[ClaimDecision]
    withdraw: list[Withdrawal]
    rewrite: list[Rewrite]
    outlooks: list[Outlook]


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
        "items": list(shipment.items),
        "promise": {
            "start": promise.start.isoformat() if promise and promise.start else None,
            "end": promise.end.isoformat() if promise else None,
            "latest": promise.latest.strftime("%H:%M") if promise and promise.latest else None,
            "guaranteed": shipment.guaranteed,
            "email": _cited(shipment.promise_source),
        },
        "revisions": [_cited(s) for s in shipment.revisions],
        "expected_end": shipment.expected.end.isoformat() if shipment.expected else None,
        "delivery": _cited(shipment.arrival_source) or absent,
        "arrival": shipment.arrival,
        "delivered_on": shipment.arrived_on.isoformat() if shipment.arrived_on else None,
        "verdict": result.kind.value,
        "deadline": result.deadline.isoformat() if result.deadline else None,
        "days_late": result.days_late,
    }


def _user_day(moment: datetime, policy: Policy) -> date:
    return moment.astimezone(policy.timezone).date()


def _at_midday(day: date, shipment: Shipment) -> datetime:
    return datetime.combine(day, DUE_AT, home_zone(shipment.marketplace))


def when(moment: datetime) -> str:
    """"Mon 23 Nov 12:00": how `orders` writes a moment (English, like the rest of the command line)."""
    return f"{moment.strftime('%a')} {moment.day} {moment.strftime('%b %H:%M')}"


def _day_text(day: date) -> str:
    return f"{day.strftime('%a')} {day.day} {day.strftime('%b')}"


def step_1_due(shipment: Shipment) -> tuple[datetime, str] | None:
    """When "where is my parcel?" falls due, and why then; None without a promise."""
    waited = shipment.expected or shipment.promise
    if waited is None:
        return None
    day, skipped = next_working_day(waited.end, country(shipment.marketplace))
    promise = shipment.promise
    why = [f"{waited.end.strftime('%a')} promise"]
    if promise is not None and waited.end != promise.end:
        why = [f"promised {_day_text(promise.end)}, Amazon announced {_day_text(waited.end)}"]
    return _at_midday(day, shipment), ", ".join([*why, *skipped])


def _next_due(step: int, ladder: dict[int, PastClaim], shipment: Shipment,
              policy: Policy) -> tuple[datetime, str] | None:
    """When track B's `step` (2 or 3) falls due after the step before it went out; None: never."""
    previous = ladder[step - 1]
    sent_on = _user_day(previous.went_out, policy)
    if step == 2:
        return _at_midday(sent_on + timedelta(days=STEP_2_AFTER_DAYS), shipment), \
            f"{STEP_2_AFTER_DAYS} days after step 1 went out on {_day_text(sent_on)}"
    if step == 3 and has_termination_law(jurisdiction(shipment.marketplace, policy)):
        deadline = previous.deadline or notice_deadline(sent_on, jurisdiction(shipment.marketplace, policy),
                                                        policy.notice_days)
        return _at_midday(deadline + timedelta(days=1), shipment), \
            f"the day after the notice's deadline, {_day_text(deadline)}"
    return None


def step_due_at(step: int, ladder: dict[int, PastClaim], shipment: Shipment, policy: Policy) -> datetime | None:
    """When step 2 or 3 of a ladder (track B, or track C opened by the user) falls due; None when the step
    before it has not gone out, or the ladder has no such step."""
    previous = ladder.get(step - 1)
    if previous is None or previous.status not in WENT_OUT:
        return None
    due = _next_due(step, ladder, shipment, policy)
    return due[0] if due else None


def _claimable(shipment: Shipment, policy: Policy) -> bool:
    source = shipment.promise_source
    # No claim without evidence: the promise's email, with its date, must be there to be cited.
    if source is None or source.message.sent_at is None:
        return False
    return shipment.authenticated or policy.trust_unauthenticated


def _too_old(shipment: Shipment, result: Verdict, now: datetime, policy: Policy) -> bool:
    """A promise broken long ago (found by a history import) starts no claim: Amazon's goodwill is asked for
    within days, and an old undelivered order has usually been settled some other way."""
    broken_on = shipment.arrived_on or result.deadline
    return broken_on is not None and (now.date() - broken_on).days > policy.max_age_days


@dataclass(frozen=True)
class _Due:
    shipment: Shipment
    verdict: Verdict
    track: str
    step: int
    previous: PastClaim | None = None


@dataclass
class _Plan:
    reason: str
    due: _Due | None = None
    due_at: datetime | None = None
    next_step: str | None = None
    withdraw: list[Withdrawal] = field(default_factory=list)
    rewrite: list[PastClaim] = field(default_factory=list)


def _withdraw_unsent(claims: list[PastClaim], reason: str, tracks: str = "AB") -> list[Withdrawal]:
    return [Withdrawal(c, reason) for c in claims if c.status in NOT_OUT_YET and c.track in tracks]


def _arrival_text(shipment: Shipment) -> str:
    where = {"delivered": "delivered", "pickup_ready": "made available at a pickup point",
             "attempted": "a delivery was attempted"}.get(shipment.arrival or "", "arrived")
    day = shipment.arrived_on
    return f"{where} {_day_text(day)}" if day else f"{where} (date unknown)"


def _plan(shipment: Shipment, result: Verdict, claims: list[PastClaim], now: datetime,
          policy: Policy) -> _Plan:
    """One parcel: what is due now, what no longer applies, and the sentence that explains it."""
    ladder = {c.step: c for c in claims if not c.held and c.track == "B"}
    resolved = next((c for c in claims if c.status == "closed"), None)
    context = f"promised {_day_text(shipment.promise.end)}" if shipment.promise else "no promise known"
    context += f"; {_arrival_text(shipment)}" if shipment.arrived else ""
    if resolved is not None:
        why = f"case resolved by you (claim {resolved.id})"
        return _Plan(f"{context}; {why}", withdraw=_withdraw_unsent(claims, why))
    if shipment.cancelled:
        why = f"cancelled or refunded ({_day_text(shipment.closed_by.message.sent_at.date())})" \
            if shipment.closed_by and shipment.closed_by.message.sent_at else "cancelled or refunded"
        return _Plan(f"{context}; {why}", withdraw=_withdraw_unsent(claims, why))
    if shipment.promise is None:
        return _Plan("no promise known" + (f"; {_arrival_text(shipment)}" if shipment.arrived else ""))
    promise_text = f"promised {_day_text(shipment.promise.end)}"
    if shipment.arrived:
        return _arrived(shipment, result, claims, now, policy, promise_text)
    if shipment.ambiguous:
        return _Plan(f"{promise_text}; waits: {shipment.ambiguous} (say which with `lateclaim orders arrived`)")
    if shipment.paused:
        return _Plan(f"{promise_text}; paused: {shipment.paused}")
    if result.kind is not VerdictKind.OVERDUE and not ladder:
        due = step_1_due(shipment)
        return _Plan(f"{promise_text}; on its way" + (f"; step 1 would be due {when(due[0])} ({due[1]})"
                                                      if due else ""))
    if not _claimable(shipment, policy):
        return _Plan(f"{promise_text}; overdue, no claim: the promise's email is not authenticated or undated")
    return _ladder(shipment, result, ladder, now, policy, promise_text)


def _arrived(shipment: Shipment, result: Verdict, claims: list[PastClaim], now: datetime, policy: Policy,
             promise_text: str) -> _Plan:
    """A parcel that arrived: track B is over (its letters not yet out are withdrawn); track A if it came late."""
    decided = [c for c in claims if not c.held]
    track_a = [c for c in decided if c.track == "A"]
    ladder = {c.step: c for c in decided if c.track == "B"}
    arrival = _arrival_text(shipment)
    plan = _Plan(f"{promise_text}; {arrival}", withdraw=_withdraw_unsent(claims, f"the parcel arrived: {arrival}",
                                                                      tracks="B"))
    if result.kind is not VerdictKind.LATE:
        return plan
    if track_a:
        plan.reason += f"; goodwill request: claim {track_a[0].id} ({track_a[0].status})"
    elif shipment.paused:
        plan.reason += f"; paused: {shipment.paused}"
    elif not _claimable(shipment, policy) or _too_old(shipment, result, now, policy):
        plan.reason += "; no claim (not authenticated, or too long ago)"
    elif any(c.status == "uncertain" for c in decided):
        plan.reason += "; waits: a letter may have been sent (confirm it first)"
    else:
        sent_step_1 = ladder.get(1) if ladder.get(1) and ladder[1].status in WENT_OUT else None
        plan.due, plan.next_step, plan.due_at = _Due(shipment, result, "A", 1, sent_step_1), "A1", now
        plan.reason += f", {result.days_late} days late: goodwill request due"
    return plan


def _first_step(shipment: Shipment, result: Verdict, now: datetime, policy: Policy, promise_text: str) -> _Plan:
    """Track B before its first letter: step 1, due the first working day after the latest announced date."""
    if _too_old(shipment, result, now, policy):
        return _Plan(f"{promise_text}; overdue since long ago: no new claim")
    due = step_1_due(shipment)
    assert due is not None  # a promise is known here
    due_at, why = due
    plan = _Plan(f"{promise_text}; step 1 due {when(due_at)} ({why})", next_step="B1", due_at=due_at)
    if now >= due_at:
        plan.due = _Due(shipment, result, "B", 1)
    return plan


def _ladder(shipment: Shipment, result: Verdict, ladder: dict[int, PastClaim], now: datetime, policy: Policy,
            promise_text: str) -> _Plan:
    """Track B under way: the next step once the last one went out and its wait is over."""
    if not ladder:
        return _first_step(shipment, result, now, policy, promise_text)
    last = max(ladder)
    claim = ladder[last]
    plan = _Plan(f"{promise_text}; step {last} is {claim.status} (claim {claim.id})")
    if claim.status in NOT_OUT_YET:
        if claim.status == "drafted" and ("B", last) in REWRITTEN_LETTERS and claim.written_at is not None \
                and _user_day(claim.written_at, policy) < _user_day(now, policy):
            plan.rewrite.append(claim)
        plan.reason += ": the next step waits until it has gone out"
        return plan
    if claim.status == "answered" and not claim.next_requested:
        plan.reason += f": paused (resolve it, or `lateclaim claims next {claim.id}` for the next step)"
        return plan
    if claim.status not in WENT_OUT:  # rejected, withdrawn, discarded (never left), uncertain (may have)
        plan.reason += ": the ladder waits for you"
        return plan
    due = _next_due(last + 1, ladder, shipment, policy)
    if due is None:
        plan.reason += ": the ladder has no further step"
        return plan
    due_at, why = due
    plan.next_step, plan.due_at = f"B{last + 1}", due_at
    if claim.next_requested:
        due_at = min(due_at, now)
        why = "you asked for the next step"
    plan.reason += f"; step {last + 1} due {when(due_at)} ({why})"
    if now >= due_at:
        plan.due = _Due(shipment, result, "B", last + 1, claim)
    return plan


def _revisit(shipment: Shipment, claims: list[PastClaim], plan: _Plan, now: datetime, policy: Policy,
             caps_change: datetime) -> datetime | None:
    """The parcel's next moment of change by time alone (Outlook.revisit_at). Every other input of _plan is a
    fact or a claim: a parcel becomes overdue no sooner than its step 1 falls due, an arrival's goodwill request
    is due at once, a promise broken too long ago only ever starts fewer claims. A claim a cap holds changes with
    the caps: when they change by time alone, and whenever another claim is decided (the caller decides held
    parcels again with any other)."""
    moments = []
    if any(c.held for c in claims):
        moments.append(caps_change)
    elif plan.due is not None or plan.rewrite:
        return now  # due or written again now: its claims change, and it is decided again after
    if plan.due_at is not None:
        moments.append(plan.due_at)
    if not shipment.arrived and not shipment.cancelled and (due := step_1_due(shipment)) is not None:
        moments.append(due[0])
    for c in claims:
        if c.status == "drafted" and (c.track, c.step) in REWRITTEN_LETTERS and c.written_at is not None:
            day = _user_day(c.written_at, policy) + timedelta(days=1)
            moments.append(datetime.combine(day, time(0), policy.timezone))
    return min((m for m in moments if m > now), default=None)  # what fell due by now is decided already


def past_claims_by_parcel(history: Sequence[PastClaim]) -> dict[tuple[str, str], list[PastClaim]]:
    found: dict[tuple[str, str], list[PastClaim]] = {}
    for claim in history:
        found.setdefault((claim.order_id, claim.shipment), []).append(claim)
    return found


def _facts(due: _Due, now: datetime, policy: Policy) -> LetterFacts:
    previous = due.previous
    return LetterFacts(due.shipment, due.verdict, due.track, due.step, now, policy,
                       previous.went_out if previous else None,
                       previous_deadline=previous.deadline if previous else None)


def _evidence(due: _Due, now: datetime, policy: Policy) -> dict[str, Any]:
    evidence = evidence_of(due.shipment, due.verdict)
    evidence["written_at"] = now.isoformat()
    place = jurisdiction(due.shipment.marketplace, policy)
    if due.track == "B" and due.step == 2 and has_termination_law(place):
        evidence["deadline_given"] = notice_deadline(_user_day(now, policy), place, policy.notice_days,
                                                     policy.posted).isoformat()
    if due.previous is not None:
        evidence["follows"] = {"track": due.previous.track, "step": due.previous.step,
                               "sent_at": due.previous.went_out.isoformat()}
    return evidence


def _counted(claim: PastClaim) -> bool:
    """Caps count parcels: a track A request, or the step 1 that starts a ladder."""
    return claim.status not in NOT_COUNTED and not claim.held and (claim.track == "A" or claim.step == 1)


class Caps:
    """The daily and yearly caps as they stand at `now`, given the claims already made; `take` counts one more."""

    def __init__(self, history: Sequence[PastClaim], now: datetime, policy: Policy) -> None:
        self.counted = counted = [c for c in history if _counted(c)]
        today = _user_day(now, policy)
        self.policy = policy
        self.per_day = sum(1 for c in counted if _user_day(c.created_at, policy) == today)
        self.per_year = sum(1 for c in counted if now - timedelta(days=365) < c.created_at <= now)

    def next_change(self, now: datetime) -> datetime:
        """When the caps change with nothing decided: the user's next midnight (a new day's cap), or a claim
        leaving the last 365 days."""
        midnight = datetime.combine(_user_day(now, self.policy) + timedelta(days=1), time(0), self.policy.timezone)
        leaving = [c.created_at + timedelta(days=365) for c in self.counted if c.created_at + timedelta(days=365) > now]
        return min([midnight, *leaving])

    def held(self) -> str | None:
        """Why one more claim must wait, or None."""
        if self.per_day >= self.policy.max_per_day:
            return f"daily cap reached ({self.policy.max_per_day})"
        if self.per_year >= self.policy.max_per_year:
            return f"yearly cap reached ({self.policy.max_per_year} in the last 365 days)"
        return None

    def take(self) -> str | None:
        """Count one more claim that starts a parcel's case; why it must wait instead, or None."""
        held = self.held()
        if held is None:
            self.per_day += 1
            self.per_year += 1
        return held


def decide_all(shipments: Sequence[Shipment], now: datetime, policy: Policy,
               history: Sequence[PastClaim]) -> Decisions:
    """Everything due at `now`: new claims (those beyond a cap carry `held`), letters to withdraw or to write
    again, and for each parcel the sentence that explains it."""
    if now.tzinfo is None:
        raise ValueError(f"a timezone-aware datetime is required, got {now!r}")
    by_parcel = past_claims_by_parcel(history)
    outlooks: list[Outlook] = []
    due: list[_Due] = []
    withdraw: list[Withdrawal] = []
    rewrite: list[Rewrite] = []
    caps_change = Caps(history, now, policy).next_change(now)
    for shipment in shipments:
        result = verdict(shipment, now, policy)
        parcel_claims = by_parcel.get((shipment.order_id, shipment.shipment), [])
        plan = _plan(shipment, result, parcel_claims, now, policy)
        outlooks.append(Outlook(shipment, result, plan.reason, plan.next_step, plan.due_at,
                                _revisit(shipment, parcel_claims, plan, now, policy, caps_change)))
        withdraw.extend(plan.withdraw)
        if plan.due is not None:
            due.append(plan.due)
        for claim in plan.rewrite:
            again = _Due(shipment, result, claim.track, claim.step,
                         by_parcel_step(by_parcel, shipment, claim.track, claim.step - 1))
            letter = render(_facts(again, now, policy))
            rewrite.append(Rewrite(claim, letter, _evidence(again, now, policy)))
    # Oldest broken promise first: when a cap bites, the longest-waiting claim goes out.
    due.sort(key=lambda d: (d.verdict.deadline or date.max, d.shipment.order_id, d.shipment.shipment, d.track,
                            d.step))
    caps = Caps(history, now, policy)
    new = []
    for d in due:
        held = caps.take() if d.track == "A" or d.step == 1 else None  # a ladder started is never held later
        letter = render(_facts(d, now, policy))
        new.append(ClaimDecision(d.shipment.order_id, d.shipment.shipment, d.track, d.step, letter.language,
                                 letter, _evidence(d, now, policy), held))
    return Decisions(new, withdraw, rewrite, outlooks)


def by_parcel_step(by_parcel: dict[tuple[str, str], list[PastClaim]], shipment: Shipment, track: str,
                   step: int) -> PastClaim | None:
    return next((c for c in by_parcel.get((shipment.order_id, shipment.shipment), [])
                 if c.track == track and c.step == step and not c.held), None)


def decide(shipments: Sequence[Shipment], now: datetime, policy: Policy,
           history: Sequence[PastClaim]) -> list[ClaimDecision]:
    """The new claims due at `now`, each with its letter and evidence; those beyond a cap carry `held`."""
    return decide_all(shipments, now, policy, history).new


def letter_at_release(shipment: Shipment, claim: PastClaim, now: datetime, policy: Policy,
                      history: Sequence[PastClaim]) -> tuple[Letter, dict[str, Any]]:
    """A claim's letter written as of the moment it leaves (review and send modes write it at release), so
    that its dates and the deadlines it sets count from that day."""
    previous = None
    if claim.track == "B" and claim.step > 1:
        previous = by_parcel_step(past_claims_by_parcel(history), shipment, "B", claim.step - 1)
    elif claim.track == "A":
        step_1 = by_parcel_step(past_claims_by_parcel(history), shipment, "B", 1)
        previous = step_1 if step_1 is not None and step_1.status in WENT_OUT else None
    due = _Due(shipment, verdict(shipment, now, policy), claim.track, claim.step, previous)
    return render(_facts(due, now, policy)), _evidence(due, now, policy)
