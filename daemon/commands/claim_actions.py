"""What the user does to a claim from the command line: approve, reject, send now (or again), confirm or mark it
sent, resolve; and the stats."""

from __future__ import annotations

from collections import Counter
from datetime import date, datetime, time
from typing import Any
from zoneinfo import ZoneInfo

from daemon.config import Config
from daemon.errors import ClaimActionError
from daemon.mail.imap import ImapMailbox
from daemon.passes.memory import adopt_from_mailbox
from daemon.passes.outbox import deliver
from daemon.passes.pipeline import imap_settings, smtp_outbox
from daemon.state.store import Claim, Store
from parsers.model import Event, EventKind
from rules.timeline import USER_PATTERN, timelines


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
    """Close the claim with its outcome; this closes the parcel's case: nothing more is written about it, and
    its letters that never left are withdrawn at the next evaluation."""
    claim = _claim(store, claim_id, ("queued", "drafted", "approved", "sent", "answered", "uncertain"), "resolved")
    store.update_claim(claim.id, now, status="closed", held="", outcome=outcome, note=note or outcome)
    return store.claim(claim.id) or claim


def request_next(store: Store, claim_id: int, now: datetime, note: str) -> Claim:
    """Amazon answered, and the answer settles nothing: let the ladder go on to its next step."""
    claim = _claim(store, claim_id, ("answered",), "followed by the next step")
    if claim.track != "B":
        raise ClaimActionError(f"claim {claim_id} is a goodwill request: it has no next step")
    store.update_claim(claim.id, now, next_requested=True, note=note or "the user asked for the next step")
    return store.claim(claim.id) or claim


def parcel_arrived(store: Store, order_id: str, parcel: str, day: date, pickup: bool, now: datetime) -> str:
    """Record the user's word that parcel `parcel` of `order_id` arrived on `day` (delivered, or made available
    at a pickup point): it settles a parcel that an email could not be tied to, or one whose email never came."""
    parcels = [s for s in timelines(store.sightings()) if order_id in s.order_ids]
    if not parcels:
        raise ClaimActionError(f"no order {order_id} in the state file (see `lateclaim orders`)")
    chosen = next((p for p in parcels if p.shipment == parcel), None)
    if chosen is None:
        raise ClaimActionError(f"order {order_id} has parcels {', '.join(p.shipment for p in parcels)}, "
                               f"not {parcel} (see `lateclaim orders`)")
    order_id, marketplace = chosen.order_id, chosen.marketplace
    kind = EventKind.PICKUP_READY if pickup else EventKind.DELIVERED
    event = Event(kind=kind, marketplace=marketplace, language="", order_ids=(order_id,), shipment=parcel,
                  delivered_on=day if kind is EventKind.DELIVERED else None,
                  available_on=day if kind is EventKind.PICKUP_READY else None,
                  evidence=f"stated by the user on {now.date().isoformat()}", pattern=USER_PATTERN)
    how = "made available at a pickup point" if pickup else "delivered"
    return store.record_user_event(event, f"you said: parcel {parcel} {how} on {day.isoformat()}", now)


def send_now(store: Store, config: Config, claim_id: int, now: datetime, again: bool = False) -> Claim:
    """Send one queued or approved claim by SMTP at once (any mode); the caps still hold. `again`: an uncertain
    claim, which the user checked did not go out, or one the server refused, once the cause is fixed (it keeps
    its Message-ID, so that copies can be matched). A claim the server deferred is sent now all the same."""
    if again:
        claim = _claim(store, claim_id, ("uncertain", "refused"), "sent again")
        store.update_claim(claim.id, now, status="approved", delivery="", note="to be sent again, by the user")
        claim = store.claim(claim.id) or claim
    else:
        claim = _claim(store, claim_id, ("queued", "approved"), "sent")
    if claim.held:
        raise ClaimActionError(f"claim {claim_id} is held ({claim.held})")
    if not config.claims.to:
        raise ClaimActionError(f"{config.source}: claims.to: expected the address claims are sent to")
    from daemon.passes.evaluate import write_at_release
    from daemon.passes.outbox import DEFERRED

    if claim.delivery == DEFERRED:  # the user asks now: the pause the server asked for is theirs to cut short
        store.update_claim(claim.id, now, delivery="")
    claim = write_at_release(store, config, store.claim(claim.id) or claim, now)
    with ImapMailbox(imap_settings(config)) as mailbox:
        if again or claim.delivery or claim.attempted_at is not None \
                or not adopt_from_mailbox(store, mailbox, [claim], now):  # already in Sent or Drafts: not again
            deliver(store, smtp_outbox(config, mailbox), claim, config, now, status="sent")
    return store.claim(claim.id) or claim


def confirm_sent(store: Store, claim_id: int, now: datetime) -> Claim:
    """The user found an uncertain claim in Sent (or the recipient has it): it went out when it was attempted."""
    claim = _claim(store, claim_id, ("uncertain",), "confirmed sent")
    left = min(now, claim.attempted_at) if claim.attempted_at else now
    store.update_claim(claim.id, now, status="sent", delivery="done", sent_at=left,
                       sent_message_id=claim.message_id, note="confirmed sent by the user")
    return store.claim(claim.id) or claim


def mark_sent(store: Store, claim_id: int, now: datetime, on: date | None, zone: ZoneInfo) -> Claim:
    """A claim the user sent by hand (chat, contact form, post), on `on` (a day in their zone) or now."""
    claim = _claim(store, claim_id, ("queued", "approved", "drafted", "uncertain", "discarded"), "marked sent")
    if on is not None and on > now.astimezone(zone).date():
        raise ClaimActionError(f"--on {on.isoformat()} is in the future")
    left = datetime.combine(on, time(12), tzinfo=zone) if on is not None else now
    store.update_claim(claim.id, now, status="sent", held="", sent_at=min(left, now),
                       note=f"marked sent by the user{f' (sent on {on.isoformat()})' if on else ''}")
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
