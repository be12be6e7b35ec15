"""Which claim goes where, per mode; each through the exactly-once step of daemon.passes.outbox.

- draft: a queued claim goes to the Drafts folder and becomes `drafted`; the user reviews and sends it.
- review: a queued claim waits for `lateclaim claims approve`; an approved claim is sent by SMTP when
  claims.to is set, else drafted.
- send: a queued claim is sent by SMTP and becomes `sent` once the server accepted it; a claim it refused (5xx)
  becomes `refused`, with its words; one it deferred (4xx) stays queued and is tried again after a pause.
Caps hold in every mode: a claim a cap holds is not delivered. A letter is written again as of the moment it
leaves, so that its dates and deadlines count from then. Drafts that no longer apply are taken back out of
Drafts, and a notice drafted on an earlier day is replaced there by the letter as now written. A letter about to
be put anywhere for the first time is first looked for in the mailbox (daemon.passes.memory).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

import structlog

from daemon import faults
from daemon.config import Config
from daemon.mail.imap import ImapMailbox
from daemon.passes.evaluate import REMOVE, REPLACE, REPLACING, write_at_release
from daemon.passes.memory import adopt_from_mailbox
from daemon.passes.outbox import Outbox, deliver, message_for, server_pause_left, settle
from daemon.state.store import Claim, Store

log = structlog.get_logger("lateclaim.delivery")


@dataclass(frozen=True)
class Channels:
    drafts: Outbox | None = None
    smtp: Outbox | None = None
    mailbox: ImapMailbox | None = None  # where letters already written are looked for (daemon.passes.memory)


def route(claim: Claim, config: Config, channels: Channels) -> tuple[Outbox | None, str] | None:
    """Where a claim goes now and the status it then takes; None when it waits."""
    mode = config.claims.mode
    if claim.held:
        return None
    if claim.status == "queued" and mode == "draft":
        return channels.drafts, "drafted"
    if claim.status == "queued" and mode == "send":
        return channels.smtp, "sent"
    if claim.status == "approved":
        return (channels.smtp, "sent") if config.claims.to else (channels.drafts, "drafted")
    return None


def tidy_drafts(store: Store, drafts: Outbox | None, config: Config, now: datetime) -> list[int]:
    """Remove the drafts of withdrawn letters and replace rewritten ones; each step is safe to repeat after a
    crash (a removal finds nothing the second time; a replacement, see _replace, puts back what it removed)."""
    if drafts is None:
        return []
    done = []
    for claim in store.claims(["withdrawn", "drafted"]):
        if claim.delivery == REMOVE:
            removed = drafts.remove(claim.message_id)
            store.update_claim(claim.id, now, delivery="done",
                               note=f"its draft removed from {drafts.description}" if removed else
                               f"its draft was no longer in {drafts.description}")
            done.append(claim.id)
        elif claim.delivery in (REPLACE, REPLACING):
            note, placed = _replace(store, drafts, claim, config, now)
            store.update_claim(claim.id, now, delivery="done", note=note, placed=placed)
            done.append(claim.id)
    return done


def _replace(store: Store, drafts: Outbox, claim: Claim, config: Config, now: datetime
             ) -> tuple[str, dict[str, Any] | None]:
    """Replace a claim's draft by its letter as now written. Before removing anything, the claim is marked
    REPLACING: after a crash between the removal and the new draft, a missing draft is then known to be
    lateclaim's doing and is put back, instead of being taken for one the user sent or deleted."""
    if claim.delivery == REPLACE:
        if not drafts.contains(claim.message_id):  # sent or deleted by the user meanwhile: the follow-up tells
            return f"not replaced: its draft was no longer in {drafts.description}", None
        store.update_claim(claim.id, now, delivery=REPLACING)
    drafts.remove(claim.message_id)
    faults.crash_point("draft_removed")
    placed = drafts.put(message_for(store, drafts, claim, config, now), claim.message_id, lambda: None)
    return f"replaced in {drafts.description} by the letter as written today", placed


def settle_pending(store: Store, channels: Channels, config: Config, now: datetime) -> list[int]:
    """Claims whose last attempt was interrupted (a crash between recording it and recording its outcome):
    found where they went, known never to have landed, or held `uncertain`, first thing in a pass, so that no
    later event (the parcel's delivery email) is decided about them as if they had never left."""
    settled = []
    for claim in store.claims(["queued", "approved"]):
        target = route(claim, config, channels) if claim.delivery == "pending" else None
        if target is not None and target[0] is not None:
            settle(store, target[0], claim, now, target[1])
            settled.append(claim.id)
    return settled


def deliver_due(store: Store, channels: Channels, config: Config, now: datetime) -> list[int]:
    tidy_drafts(store, channels.drafts, config, now)
    done = []
    due = [c for c in store.claims(["queued", "approved"]) if route(c, config, channels) is not None]
    # Never put anywhere yet: the mailbox may hold it already (a new or restored state file), and then it is
    # adopted, not written or sent again.
    first_time = [c for c in due if not c.delivery and c.attempted_at is None]
    adopted = adopt_from_mailbox(store, channels.mailbox, first_time, now) if channels.mailbox else set()
    for claim in due:
        if claim.id in adopted:
            continue
        target = route(claim, config, channels)
        if target is None:
            continue
        outbox, status = target
        if outbox is None:
            log.warning("claim_not_delivered", claim=claim.id, reason="no channel for it in this run")
            continue
        if server_pause_left(store, claim):
            continue  # the SMTP server said "try again later": the pause it asked for is not over
        if claim.delivery != "pending":  # a letter half-delivered before a crash keeps the text it may have left with
            claim = write_at_release(store, config, claim, now)
        deliver(store, outbox, claim, config, now, status)
        done.append(claim.id)
    return done
