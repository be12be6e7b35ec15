"""From the stored events to recorded claims: the rules decide, this module only records and delivers."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from daemon.config import Config
from daemon.outbox import new_message_id
from daemon.store import Store
from rules.claims import ClaimDecision, PastClaim, decide
from rules.policy import Policy
from rules.timeline import Shipment, timelines
from rules.verdict import Verdict, verdict


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
    )


def shipments_with_verdicts(store: Store, config: Config, now: datetime) -> list[tuple[Shipment, Verdict]]:
    policy = policy_of(config)
    return [(s, verdict(s, now, policy)) for s in timelines(store.sightings())]


def history(store: Store) -> list[PastClaim]:
    """Claims the rules must count. A claim held back by a cap is not yet history: it is decided again."""
    return [
        PastClaim(c.order_id, c.shipment, c.track, c.step, c.created_at, c.status, c.sent_at)
        for c in store.claims()
        if not (c.status == "queued" and c.held)
    ]


@dataclass(frozen=True)
class Evaluation:
    created: list[int]
    held: list[int]
    released: list[int]


def record_decisions(store: Store, config: Config, now: datetime) -> Evaluation:
    """Ask the rules what is due now and record it: new claims, claims a cap holds, claims a cap released."""
    shipments = timelines(store.sightings())
    decisions = decide(shipments, now, policy_of(config), history(store))
    waiting = {(c.order_id, c.shipment, c.track, c.step): c for c in store.claims(["queued"]) if c.held}
    created: list[int] = []
    held: list[int] = []
    released: list[int] = []
    for d in decisions:
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
    return Evaluation(created, held, released)


def _add(store: Store, config: Config, d: ClaimDecision, now: datetime) -> int | None:
    return store.add_claim(
        order_id=d.order_id, shipment=d.shipment, track=d.track, step=d.step, status="queued",
        held=d.held or "", language=d.letter.language, subject=d.letter.subject, body=d.letter.body,
        message_id=new_message_id(config), evidence=d.evidence, now=now,
    )
