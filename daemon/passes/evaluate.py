"""From the stored events to recorded claims: the rules decide, this module only records what they decided.

New claims are recorded `queued`; a letter that no longer applies is withdrawn (a draft of it is marked for
removal from Drafts, which daemon.passes.delivery carries out); a notice drafted on an earlier day is written again.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from datetime import date, datetime

from daemon import __version__
from daemon.config import Config
from daemon.passes.outbox import new_message_id
from daemon.state.store import Claim, Store
from rules.claims import ClaimDecision, Decisions, Outlook, PastClaim, decide_all, letter_at_release
from rules.law import country_of_address
from rules.policy import Policy
from rules.timeline import Shipment, timelines
from rules.verdict import Verdict, verdict

REMOVE = "remove"  # the claim's delivery column: its draft must be taken out of Drafts
REPLACE = "replace"  # ... must be replaced in Drafts by the letter as now written
REPLACING = "replacing"  # ... lateclaim is replacing it: a draft found missing now was removed by lateclaim


def policy_of(config: Config) -> Policy:
    rules, claims = config.rules, config.claims
    return Policy(
        timezone=rules.timezone,
        grace_days=rules.grace_days,
        trust_unauthenticated=rules.trust_unauthenticated,
        max_per_day=claims.max_per_day,
        max_per_year=claims.max_per_year,
        language=claims.language,
        notice_days=claims.notice_days,
        ask=claims.ask,
        sender_name=claims.signature,
        template_dir=claims.template_dir,
        max_age_days=claims.max_age_days,
        consumer_country=claims.country or country_of_address(claims.postal_address),
    )


def shipments_with_verdicts(store: Store, config: Config, now: datetime) -> list[tuple[Shipment, Verdict]]:
    policy = policy_of(config)
    return [(s, verdict(s, now, policy)) for s in timelines(store.sightings())]


def _day(text: object) -> date | None:
    return date.fromisoformat(text) if isinstance(text, str) else None


def _moment(text: object) -> datetime | None:
    return datetime.fromisoformat(text) if isinstance(text, str) else None


def past_claim(c: Claim) -> PastClaim:
    return PastClaim(
        c.order_id, c.shipment, c.track, c.step, c.created_at, c.status, c.sent_at, id=c.id, held=c.held,
        deadline=_day(c.evidence.get("deadline_given")),
        # A claim written before letters recorded their date was written when it was created.
        written_at=_moment(c.evidence.get("written_at")) or c.created_at,
        next_requested=c.next_requested_at is not None,
    )


def history(store: Store) -> list[PastClaim]:
    """Every claim, as the rules see it (those a cap holds are decided again, and may be withdrawn)."""
    return [past_claim(c) for c in store.claims()]


def decisions(store: Store, config: Config, now: datetime, order_ids: Collection[str] | None = None) -> Decisions:
    """What is due now, for every parcel or for those of `order_ids` (and the orders an email joins to them)."""
    return decide_all(timelines(store.sightings(order_ids)), now, policy_of(config), history(store))


def outlooks(store: Store, config: Config, now: datetime, order_ids: Collection[str] | None = None) -> list[Outlook]:
    """Each parcel (of `order_ids`, if given) with its verdict and what is due (`lateclaim orders`)."""
    return decisions(store, config, now, order_ids).outlooks


@dataclass(frozen=True)
class Evaluation:
    created: list[int]
    held: list[int]
    released: list[int]
    withdrawn: list[int]
    rewritten: list[int]
    orders_decided: int = 0  # orders decided again (the due-time index's choice)


def basis(config: Config) -> str:
    """What decisions rest on besides the state file: the policy and the rules' version. When it changes, every
    parcel is decided again."""
    return f"{__version__} {policy_of(config)!r}"


def record_decisions(store: Store, config: Config, now: datetime, full: bool = False) -> Evaluation:
    """Ask the rules what is due now and record it: new claims, claims a cap holds or released, letters that no
    longer apply, and letters to write again.

    Only the orders that need it are decided (the store's due-time index): those whose emails or claims changed
    since, and those whose next step falls due by `now`. The others would decide nothing new: the result is the
    full decision's (tests/test_incremental_decisions.py), at a cost that does not grow with the history. `full`,
    a changed policy or a clock set back decide every order."""
    policy = policy_of(config)
    last_basis, last_at = store.decided()
    if full or last_basis != basis(config) or last_at is None or now < last_at:
        marks = store.revisit_marks()
        sightings = store.sightings()
    else:
        due = store.due_orders(now)
        if not due:
            return Evaluation([], [], [], [], [], 0)
        # A claim a cap holds is decided again with any other: a parcel falling due may take the cap's place.
        marks = store.revisit_marks(store.orders_joined({*due, *store.held_orders()}))
        sightings = store.sightings(marks)
    decided = decide_all(timelines(sightings), now, policy, history(store))
    created, held, released = _record_new(store, config, decided.new, now)
    withdrawn = []
    for w in decided.withdraw:
        assert w.claim.id is not None
        current = store.claim(w.claim.id)
        if current is None or current.delivery == "pending":
            continue  # its letter may have left: recovered first (daemon.passes.delivery.settle_pending)
        # A draft is taken back out of Drafts by the next delivery step; anything else never left lateclaim.
        store.update_claim(current.id, now, status="withdrawn", held="", note=w.reason,
                           delivery=REMOVE if current.status == "drafted" else None)
        withdrawn.append(current.id)
    rewritten = []
    for r in decided.rewrite:
        assert r.claim.id is not None
        current = store.claim(r.claim.id)
        # A replacement interrupted on an earlier day keeps its REPLACING mark: its draft is missing because
        # lateclaim took it out, and it is put back, whatever day this pass falls on.
        mark = REPLACING if current is not None and current.delivery == REPLACING else REPLACE
        store.update_claim(r.claim.id, now, subject=r.letter.subject, body=r.letter.body, evidence=r.evidence,
                           delivery=mark, note="written again: its dates count from today")
        rewritten.append(r.claim.id)
    store.set_revisits(_revisits(decided.outlooks, marks), marks, basis(config), now)
    return Evaluation(created, held, released, withdrawn, rewritten, len(marks))


def _record_new(store: Store, config: Config, new: list[ClaimDecision], now: datetime
                ) -> tuple[list[int], list[int], list[int]]:
    """The new claims recorded, and those a cap held before released or held for another reason; their ids as
    (created, held, released)."""
    waiting = {(c.order_id, c.shipment, c.track, c.step): c for c in store.claims(["queued"]) if c.held}
    created: list[int] = []
    held: list[int] = []
    released: list[int] = []
    for d in new:
        existing = waiting.get((d.order_id, d.shipment, d.track, d.step))
        if existing is not None:
            if d.held is None:  # released: its letter is written again, so that its dates are today's
                store.update_claim(existing.id, now, held="", note="released by the caps", subject=d.letter.subject,
                                   body=d.letter.body, evidence=d.evidence)
                released.append(existing.id)
            elif d.held != existing.held:
                store.update_claim(existing.id, now, held=d.held, note=d.held)
                held.append(existing.id)
            continue
        claim_id = _add(store, config, d, now)
        if claim_id is not None:
            (held if d.held else created).append(claim_id)
    return created, held, released


def _revisits(outlooks: list[Outlook], marks: dict[str, int]) -> dict[str, datetime | None]:
    """Order id -> the earliest revisit of its parcels, for every order id decided (an alias names its order)."""
    due: dict[str, datetime | None] = dict.fromkeys(marks)
    for outlook in outlooks:
        for order_id in {outlook.shipment.order_id, *outlook.shipment.order_ids}:
            at, current = outlook.revisit_at, due.get(order_id)
            due[order_id] = at if current is None else (current if at is None else min(at, current))
    return due


def write_at_release(store: Store, config: Config, claim: Claim, now: datetime) -> Claim:
    """The claim with its letter written as of `now`, the moment it leaves (review and send modes, and a cap's
    release): the dates it quotes and the deadlines it sets count from the day the seller gets it."""
    shipment = next((s for s in timelines(store.sightings({claim.order_id}))  # its order's emails only
                     if (s.order_id, s.shipment) == (claim.order_id, claim.shipment)), None)
    if shipment is None:
        return claim
    letter, evidence = letter_at_release(shipment, past_claim(claim), now, policy_of(config), history(store))
    if letter.body == claim.body and letter.subject == claim.subject:
        return claim
    store.update_claim(claim.id, now, subject=letter.subject, body=letter.body, evidence=evidence,
                       note="written as of its release")
    return store.claim(claim.id) or claim


def _add(store: Store, config: Config, d: ClaimDecision, now: datetime) -> int | None:
    return store.add_claim(
        order_id=d.order_id, shipment=d.shipment, track=d.track, step=d.step, status="queued",
        held=d.held or "", language=d.letter.language, subject=d.letter.subject, body=d.letter.body,
        message_id=new_message_id(config, d.order_id, d.shipment, d.track, d.step), evidence=d.evidence,
        now=now,
    )
