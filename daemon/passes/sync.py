"""One sync pass: new mail from the mailbox into the state file, one message at a time.

The folder's cursor moves in the same transaction that records a message, so an interrupted pass resumes after
the last message it recorded, and a message is never recorded twice (its identity is the Message-ID).

Each pass also searches a margin of UIDs below the cursor: Gmail's search index can lag behind IDLE, so a message
not yet indexed when a newer one was recorded would otherwise be passed by for good. Only the UIDs found there
that were never recorded are fetched: the margin costs one wider SEARCH, not downloads.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Protocol, runtime_checkable

import structlog

import parsers
from daemon import faults
from daemon.config import Config
from daemon.mail.imap import FolderState
from daemon.state.store import Store
from parsers.marketplaces import sender_domains
from parsers.model import Status

log = structlog.get_logger("lateclaim.sync")

MARGIN = 500  # UIDs below the cursor searched again each pass (on Gmail's All Mail, every message takes a UID)


class MailSource(Protocol):
    def folders_to_read(self) -> list[str]: ...

    def scan(
        self, folder: str, uidvalidity: int | None, last_uid: int, sender_domains: Sequence[str]
    ) -> FolderState: ...

    def fetch(self, folder: str, uids: Sequence[int], batch: int = 50) -> Iterator[tuple[int, bytes]]: ...


@runtime_checkable
class ForwardSource(Protocol):
    """A mailbox that can also find the Amazon emails the user forwarded to it (IMAP: a second, narrow search)."""

    def scan_forwards(self, folder: str, last_uid: int, own: Sequence[str]) -> tuple[int, ...]: ...


def own_addresses(config: Config) -> list[str]:
    """The user's own addresses: forwards come from them. Only read when `trust_unauthenticated` is on, since a
    forward can never be authenticated."""
    found = [config.mailbox.username, config.claims.sender]
    return sorted({a.strip().lower() for a in found if "@" in a})


@dataclass
class SyncSummary:
    """What one reading of the mailbox did, counted per message status."""
    folders: int = 0
    fetched: int = 0
    known: int = 0
    statuses: dict[str, int] = field(default_factory=lambda: {s.value: 0 for s in Status})
    interrupted: bool = False

    @property
    def new(self) -> int:
        return sum(self.statuses.values())


def ingest(
    source: MailSource, store: Store, config: Config, now: datetime, stop: threading.Event | None = None,
    progress: Callable[[SyncSummary], None] | None = None,
) -> SyncSummary:
    """Reads and records the new mail of every folder; `progress`, if given, is called after each message."""
    summary = SyncSummary()
    domains = sender_domains()
    for folder in source.folders_to_read():
        summary.folders += 1
        cursor = store.cursor(folder)
        state = source.scan(folder, cursor.uidvalidity, max(cursor.last_uid - MARGIN, 0), domains)
        if cursor.uidvalidity is not None and state.uidvalidity != cursor.uidvalidity:
            log.warning("uidvalidity_changed", folder=folder, old=cursor.uidvalidity, new=state.uidvalidity)
        if config.rules.trust_unauthenticated and isinstance(source, ForwardSource):
            since = max(cursor.last_uid - MARGIN, 0) if state.uidvalidity == cursor.uidvalidity else 0
            forwards = source.scan_forwards(folder, since, own_addresses(config))
            state = replace(state, uids=tuple(sorted(set(state.uids) | set(forwards))))
        uids = _unrecorded(store, folder, state, cursor.last_uid if state.uidvalidity == cursor.uidvalidity else 0)
        for uid, raw in source.fetch(folder, uids):
            summary.fetched += 1
            result = parsers.parse(raw, recipient_tz=config.rules.timezone, authserv_ids=config.rules.authserv_ids)
            added = store.ingest(folder, state.uidvalidity, uid, result, parsers.PARSER_VERSION, now)
            faults.crash_point("message_recorded")
            if not added:
                summary.known += 1
            else:
                summary.statuses[result.status.value] += 1
                _log_message(folder, uid, result.message.message_id, result.status, result.reason)
            if progress is not None:
                progress(summary)
            if stop is not None and stop.is_set():
                summary.interrupted = True
                return summary
        if not state.uids and cursor.uidvalidity != state.uidvalidity:
            store.advance(folder, state.uidvalidity, 0, now)  # remember the folder's identity even when empty
    return summary


def _unrecorded(store: Store, folder: str, state: FolderState, last_uid: int) -> list[int]:
    """The UIDs to fetch: every one above the cursor, and those of the margin below it never recorded (mail the
    server's search did not show yet when the cursor passed it)."""
    below = [uid for uid in state.uids if uid <= last_uid]
    late = sorted(set(below) - store.recorded_uids(folder, state.uidvalidity, below))
    if late:
        log.info("late_mail_found", folder=folder, uids=late)
    return late + [uid for uid in state.uids if uid > last_uid]


def _log_message(folder: str, uid: int, message_id: str, status: Status, reason: str) -> None:
    # Ids only: the subject and body of a mail are personal data and never go to the log.
    if status is Status.QUARANTINED:
        log.warning("message_quarantined", folder=folder, uid=uid, message_id=message_id, reason=reason)
    else:
        log.debug("message_ingested", folder=folder, uid=uid, message_id=message_id, status=status.value)
