"""The whole job once: sync the mailbox, let the rules decide, record and deliver the claims."""

from __future__ import annotations

import threading
from dataclasses import dataclass
from datetime import datetime

import structlog

from daemon.config import Config
from daemon.evaluate import Evaluation, deliver_drafts, record_decisions
from daemon.imap import ImapMailbox, ImapSettings
from daemon.outbox import DraftsOutbox, Outbox
from daemon.secrets import read_secret
from daemon.store import Store
from daemon.sync import MailSource, SyncSummary, ingest

log = structlog.get_logger("lateclaim.pipeline")


@dataclass(frozen=True)
class PassResult:
    sync: SyncSummary
    evaluation: Evaluation
    delivered: list[int]


def imap_settings(config: Config) -> ImapSettings:
    box = config.mailbox
    return ImapSettings(
        host=box.host, port=box.port, security=box.security, username=box.username,
        password=read_secret(box.password, "mailbox password"), folders=box.folders,
        ca_file=str(box.ca_file) if box.ca_file else None,
    )


def run_pass(
    source: MailSource, outbox: Outbox | None, store: Store, config: Config, now: datetime,
    stop: threading.Event | None = None,
) -> PassResult:
    summary = ingest(source, store, config, now, stop)
    evaluation = record_decisions(store, config, now)
    delivered: list[int] = []
    if outbox is not None and config.claims.mode == "draft":
        delivered = deliver_drafts(store, outbox, config, now)
    log.info(
        "sync_done", folders=summary.folders, fetched=summary.fetched, already_known=summary.known,
        interrupted=summary.interrupted, **summary.statuses, claims_created=len(evaluation.created),
        claims_held=len(evaluation.held), claims_delivered=len(delivered),
    )
    return PassResult(summary, evaluation, delivered)


def sync_mailbox(config: Config, now: datetime, stop: threading.Event | None = None) -> PassResult:
    """One pass against the configured IMAP mailbox, with one connection for reading and drafting."""
    with Store(config.state.path) as store, ImapMailbox(imap_settings(config)) as mailbox:
        outbox = DraftsOutbox(mailbox) if config.claims.mode == "draft" else None
        return run_pass(mailbox, outbox, store, config, now, stop)
