"""What the user does to a claim from the command line: approve, reject, send now, resolve; and the stats."""

from __future__ import annotations

from collections import Counter
from datetime import datetime
from typing import Any

from daemon.config import Config
from daemon.imap import ImapMailbox
from daemon.outbox import deliver
from daemon.pipeline import imap_settings, smtp_outbox
from daemon.store import Claim, Store

OUTCOMES = ("granted", "refused")


class ClaimActionError(Exception):
    pass


def _claim(store: Store, claim_id: int, allowed: tuple[str, ...], action: str) -> Claim:
    claim = store.claim(claim_id)
    if claim is None:
        raise ClaimActionError(f"no claim {claim_id} (see `lateclaim claims list`)")
    if claim.status not in allowed:
        raise ClaimActionError(f"claim {claim_id} is {claim.status}: only a claim that is "
                               f"{' or '.join(allowed)} can be {action}")
    return claim


def approve(store: Store, claim_id: int, now: datetime) -> Claim:
    claim = _claim(store, claim_id, ("queued",), "approved")
    if claim.held:
        raise ClaimActionError(f"claim {claim_id} is held ({claim.held}); it is released when the cap allows")
    store.update_claim(claim.id, now, status="approved", note="approved by the user")
    return store.claim(claim.id) or claim


def reject(store: Store, claim_id: int, now: datetime, note: str) -> Claim:
    claim = _claim(store, claim_id, ("queued", "approved", "drafted"), "rejected")
    store.update_claim(claim.id, now, status="rejected", held="", note=note or "rejected by the user")
    return store.claim(claim.id) or claim


def resolve(store: Store, claim_id: int, outcome: str, now: datetime, note: str) -> Claim:
    claim = _claim(store, claim_id, ("drafted", "approved", "sent", "answered"), "resolved")
    store.update_claim(claim.id, now, status="closed", outcome=outcome, note=note or outcome)
    return store.claim(claim.id) or claim


def send_now(store: Store, config: Config, claim_id: int, now: datetime) -> Claim:
    """Send one queued or approved claim by SMTP at once (any mode); the caps still hold."""
    claim = _claim(store, claim_id, ("queued", "approved"), "sent")
    if claim.held:
        raise ClaimActionError(f"claim {claim_id} is held ({claim.held})")
    if not config.claims.to:
        raise ClaimActionError(f"{config.source}: claims.to: expected the address claims are sent to")
    with ImapMailbox(imap_settings(config)) as mailbox:
        deliver(store, smtp_outbox(config, mailbox), claim, config, now, status="sent")
    return store.claim(claim.id) or claim


def stats(claims: list[Claim]) -> dict[str, Any]:
    by_step = Counter(f"{c.track}{c.step}" for c in claims)
    return {
        "claims": len(claims),
        "by_track_step": dict(sorted(by_step.items())),
        "by_status": dict(sorted(Counter(c.status for c in claims).items())),
        "by_outcome": dict(sorted(Counter(c.outcome or "open" for c in claims).items())),
        "granted": [{"id": c.id, "order_id": c.order_id, "track": c.track, "step": c.step,
                     "note": c.outcome_note} for c in claims if c.outcome == "granted"],
    }
