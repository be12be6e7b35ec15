"""The whole job once: sync the mailbox, let the rules decide, record and deliver the claims.

A pass reads the mailbox first and then acts. The acting half (rules, letters, outboxes) is imported once the
mail is read, so that `lateclaim run` tells systemd READY=1 after its first login and poll without paying for
modules it needs only afterwards: a restart with nothing new is ready sooner (bench/startup.py).
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

import structlog

from daemon.config import Config
from daemon.mail.imap import ImapMailbox, ImapSettings
from daemon.mail.oauth import access_token
from daemon.mail.secrets import read_secret
from daemon.passes.sync import MailSource, SyncSummary, ingest
from daemon.state.store import Store

if TYPE_CHECKING:
    from daemon.mail.smtp import SmtpSettings
    from daemon.passes.delivery import Channels
    from daemon.passes.evaluate import Evaluation
    from daemon.passes.followup import Listening
    from daemon.passes.notices import Notice
    from daemon.passes.outbox import SmtpOutbox

log = structlog.get_logger("lateclaim.pipeline")


@dataclass(frozen=True)
class PassResult:
    """What one whole pass did: the mail read, the claims decided, delivered and followed up."""
    sync: SyncSummary
    evaluation: Evaluation
    delivered: list[int]
    followed: list[int]
    notice: Notice | None = None  # what the user was told at the end of the pass (daemon/passes/notices.py)


def imap_settings(config: Config) -> ImapSettings:
    box = config.mailbox
    oauth2 = box.oauth2
    return ImapSettings(
        host=box.host, port=box.port, security=box.security, username=box.username,
        password="" if oauth2 else read_secret(box.password, "mailbox password"), folders=box.folders,
        ca_file=str(box.ca_file) if box.ca_file else None,
        oauth2_token=(lambda: access_token(oauth2)) if oauth2 else None,
    )


def smtp_settings(config: Config) -> SmtpSettings:
    """Without an SMTP password of its own, SMTP signs in like the mailbox: Gmail takes the same OAuth2 token."""
    from daemon.mail.smtp import SmtpSettings

    smtp, oauth2 = config.smtp, config.mailbox.oauth2
    use_oauth2 = oauth2 is not None and not smtp.password.configured
    username = smtp.username or (config.mailbox.username if use_oauth2 else "")
    return SmtpSettings(smtp.host, smtp.port, smtp.security, username,
                        read_secret(smtp.password, "smtp password") if smtp.password.configured else "",
                        ca_file=str(smtp.ca_file) if smtp.ca_file else None,
                        oauth2_token=(lambda: access_token(oauth2)) if use_oauth2 and oauth2 else None)


def smtp_outbox(config: Config, mailbox: ImapMailbox | None) -> SmtpOutbox:
    from daemon.passes.outbox import SmtpOutbox

    sender = config.claims.sender or config.mailbox.username
    return SmtpOutbox(lambda: smtp_settings(config), sender, [config.claims.to], mailbox,
                      files_sent=config.smtp.server_files_sent, sent_copy_wait=config.smtp.sent_copy_wait)


def run_pass(
    source: MailSource, channels: Channels, store: Store, config: Config, now: datetime,
    stop: threading.Event | None = None, mailbox: ImapMailbox | None = None,
) -> PassResult:
    return act(ingest(source, store, config, now, stop), channels, store, config, now, mailbox)


def act(summary: SyncSummary, channels: Channels, store: Store, config: Config, now: datetime,
        mailbox: ImapMailbox | None = None, listening: Listening | None = None) -> PassResult:
    """The second half of a pass, once the mail is read: follow up, decide, deliver. `listening`: the answers
    heard while the mail was read."""
    from daemon.passes.delivery import deliver_due, settle_pending
    from daemon.passes.evaluate import record_decisions
    from daemon.passes.followup import follow_up

    # An attempt a crash interrupted is settled first: a letter that may have left is never withdrawn unseen.
    settle_pending(store, channels, config, now)
    # Follow-up next: a draft the user sent meanwhile is `sent` before the rules decide what comes next.
    followed = follow_up(store, mailbox, now, listening) if mailbox is not None else []
    evaluation = record_decisions(store, config, now)
    delivered = deliver_due(store, channels, config, now)
    notice = None
    if config.notices.enabled:  # last: it tells what this pass (and the user's commands since) left for the user
        from daemon.passes.notices import notify

        notice = notify(store, config, now, mailbox)
    log.info(
        "sync_done", folders=summary.folders, fetched=summary.fetched, already_known=summary.known,
        interrupted=summary.interrupted, **summary.statuses, claims_created=len(evaluation.created),
        claims_held=len(evaluation.held), claims_withdrawn=len(evaluation.withdrawn),
        claims_rewritten=len(evaluation.rewritten), claims_delivered=len(delivered), claims_followed_up=len(followed),
    )
    return PassResult(summary, evaluation, delivered, followed, notice)


def sync_with(mailbox: ImapMailbox, config: Config, now: datetime, stop: threading.Event | None = None,
              reading: Callable[[SyncSummary, bool], None] | None = None, store: Store | None = None) -> PassResult:
    """One pass on an open mailbox connection, used for reading, drafting and checking alike. `reading`, if
    given, hears how the reading goes: after each new message (False), and once it is all read and stored,
    before anything is decided (True). `store`: one the caller holds open (and so its writer lock); else the
    pass opens the state file, holding its lock for the whole pass."""
    with contextlib.nullcontext(store) if store is not None else Store(config.state.path) as store:
        def progress(so_far: SyncSummary) -> None:
            if reading is not None:
                reading(so_far, False)

        from daemon.passes.followup import Listening

        listening = Listening(mailbox, store, config, now)  # answers are read from the mail the pass reads anyway
        summary = ingest(listening, store, config, now, stop, progress)
        if reading is not None:
            reading(summary, True)
        from daemon.passes.delivery import Channels
        from daemon.passes.outbox import DraftsOutbox

        smtp = smtp_outbox(config, mailbox) if config.claims.to else None
        channels = Channels(drafts=DraftsOutbox(mailbox), smtp=smtp, mailbox=mailbox)
        return act(summary, channels, store, config, now, mailbox, listening)


def sync_mailbox(config: Config, now: datetime, stop: threading.Event | None = None) -> PassResult:
    """One pass with a connection of its own (`lateclaim sync`)."""
    with ImapMailbox(imap_settings(config)) as mailbox:
        return sync_with(mailbox, config, now, stop)
