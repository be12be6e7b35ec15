"""Which claim goes where, per mode; each through the exactly-once step of daemon.outbox.

- draft: a queued claim goes to the Drafts folder and becomes `drafted`; the user reviews and sends it.
- review: a queued claim waits for `lateclaim claims approve`; an approved claim is sent by SMTP when
  claims.to is set, else drafted.
- send: a queued claim is sent by SMTP and becomes `sent`.
Caps hold in every mode: a claim a cap holds is not delivered.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import structlog

from daemon.config import Config
from daemon.outbox import Outbox, deliver
from daemon.store import Claim, Store

log = structlog.get_logger("lateclaim.delivery")


@dataclass(frozen=True)
class Channels:
    drafts: Outbox | None = None
    smtp: Outbox | None = None


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


def deliver_due(store: Store, channels: Channels, config: Config, now: datetime) -> list[int]:
    done = []
    for claim in store.claims(["queued", "approved"]):
        target = route(claim, config, channels)
        if target is None:
            continue
        outbox, status = target
        if outbox is None:
            log.warning("claim_not_delivered", claim=claim.id, reason="no channel for it in this run")
            continue
        deliver(store, outbox, claim, config, now, status)
        done.append(claim.id)
    return done
