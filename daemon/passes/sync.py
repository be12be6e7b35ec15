"""One sync pass: new mail from the mailbox into the state file, each message downloaded once, ever.

Before any body, the server says what each new message is (its size, its Message-ID and on Gmail its message id,
about 100 bytes): a message already recorded (from another folder, or before the folder's UIDVALIDITY changed) is
only noted as seen there, and one larger than the per-email limit is quarantined by its size, never downloaded.
The rest is downloaded in batches bounded in bytes, so a pass's memory stays bounded whatever the mailbox holds,
and each batch is recorded in one transaction with the folder's cursor: an interrupted pass resumes after the
last batch it recorded, and the cursor never passes a message that was not recorded.

Each pass also searches a margin of UIDs below the cursor: Gmail's search index can lag behind IDLE, so a message
not yet indexed when a newer one was recorded would otherwise be passed by for good. Every (folder, UIDVALIDITY,
UID) seen is recorded, so the margin costs one wider SEARCH and a lookup in the state file, not downloads.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from email.utils import parseaddr
from typing import Protocol, runtime_checkable

import structlog

import parsers
from daemon import faults
from daemon.config import Config
from daemon.mail.imap import Described, FolderState
from daemon.state.store import Cursor, Store
from parsers.marketplaces import sender_domains
from parsers.model import MessageInfo, ParseResult, Status

log = structlog.get_logger("lateclaim.sync")

MARGIN = 500  # UIDs below the cursor searched again each pass (on Gmail's All Mail, every message takes a UID)
BATCH_BYTES = 8 * 1024 * 1024  # bodies downloaded per FETCH at most (one larger message comes alone)
BATCH_MESSAGES = 200  # ... and messages per FETCH, so that progress shows and a stop is heard


class MailSource(Protocol):
    def folders_to_read(self) -> list[str]: ...

    def scan(
        self, folder: str, uidvalidity: int | None, last_uid: int, sender_domains: Sequence[str]
    ) -> FolderState: ...

    def describe(self, folder: str, uids: Sequence[int]) -> dict[int, Described]: ...

    def fetch(self, folder: str, uids: Sequence[int], batch: int = 50) -> Iterator[tuple[int, bytes]]: ...


@runtime_checkable
class ForwardSource(Protocol):
    """A mailbox that can also find the Amazon emails the user forwarded to it (IMAP: a second, narrow search)."""

    def scan_forwards(self, folder: str, last_uid: int, own: Sequence[str]) -> tuple[int, ...]: ...


def own_addresses(config: Config) -> list[str]:
    """The user's own addresses: forwards come from them. Only read when `trust_unauthenticated` is on, since a
    forward can never be authenticated."""
    found = [parseaddr(a)[1] for a in (config.mailbox.username, config.claims.sender)]  # "Jane <jane@x.org>"
    return sorted({a.strip().lower() for a in found if "@" in a})


@dataclass
class SyncSummary:
    """What one reading of the mailbox did, counted per message status."""
    folders: int = 0
    fetched: int = 0
    known: int = 0
    refused: int = 0  # quarantined unread: larger than the per-email limit
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
        last_uid = cursor.last_uid if state.uidvalidity == cursor.uidvalidity else 0
        if not read_folder(source, store, config, now, state, last_uid, summary, stop, progress):
            return summary
    return summary


def read_folder(
    source: MailSource, store: Store, config: Config, now: datetime, state: FolderState, last_uid: int,
    summary: SyncSummary, stop: threading.Event | None = None,
    progress: Callable[[SyncSummary], None] | None = None,
) -> bool:
    """Records the messages at `state.uids` never seen there, downloading only those the state file does not
    know; False when `stop` interrupted it. Also `lateclaim backfill`'s reading."""
    folder, uidvalidity = state.folder, state.uidvalidity
    seen = store.seen_uids(folder, uidvalidity, state.uids)
    unseen = [uid for uid in state.uids if uid not in seen]
    late = [uid for uid in unseen if uid <= last_uid]
    if late:
        log.info("late_mail_found", folder=folder, uids=late)
    described = source.describe(folder, unseen) if unseen else {}
    known, refused, wanted = _sort_out(store, described)
    if known or refused:
        store.record_unfetched(folder, uidvalidity, known, refused, parsers.PARSER_VERSION, now)
        summary.known += len(known)
        summary.refused += len(refused)
        for uid, result, _ in refused:
            summary.statuses[result.status.value] += 1
            _log_message(folder, uid, result.message.message_id, result.status, result.reason)
    return _download(source, store, config, now, state, last_uid, wanted, described, summary, stop, progress)


def _download(
    source: MailSource, store: Store, config: Config, now: datetime, state: FolderState, last_uid: int,
    wanted: list[int], described: dict[int, Described], summary: SyncSummary, stop: threading.Event | None,
    progress: Callable[[SyncSummary], None] | None,
) -> bool:
    """Downloads, parses and records `wanted`, a batch bounded in bytes at a time."""
    folder, uidvalidity = state.folder, state.uidvalidity
    for chunk in _batches(wanted, described):
        parsed = []
        for uid, raw in source.fetch(folder, chunk, batch=len(chunk)):
            parsed.append((uid, parsers.parse(raw, recipient_tz=config.rules.timezone,
                                              authserv_ids=config.rules.authserv_ids), described[uid].gm_msgid))
            faults.crash_point("message_parsed")  # within a batch: nothing of it is recorded yet
        added = store.ingest_batch(folder, uidvalidity, parsed, parsers.PARSER_VERSION, now)
        faults.crash_point("message_recorded")
        for (uid, result, _), new in zip(parsed, added, strict=True):
            summary.fetched += 1  # counted once recorded: progress reports what a crash would keep
            if not new:
                summary.known += 1
            else:
                summary.statuses[result.status.value] += 1
                _log_message(folder, uid, result.message.message_id, result.status, result.reason)
            if progress is not None:
                progress(summary)
        if stop is not None and stop.is_set():
            summary.interrupted = True
            return False
    highest = max(state.uids, default=0)
    if store.cursor(folder) != Cursor(folder, uidvalidity, max(highest, last_uid)):
        # Every message up to here is recorded: the cursor passes the known ones too (and remembers the folder's
        # identity when it is empty).
        store.advance(folder, uidvalidity, highest, now)
    return True


def _sort_out(store: Store, described: dict[int, Described]) -> tuple[
        list[tuple[int, str, int | None]], list[tuple[int, ParseResult, int | None]], list[int]]:
    """(known: seen elsewhere, recorded under that identity; refused: too large to download; wanted)."""
    if not described:
        return [], [], []
    from parsers.mime import HEADERS, identity  # the MIME reader: loaded only when there is new mail

    ids = {}
    for uid, d in described.items():
        found = identity(b"", HEADERS.parsebytes(d.message_id)) if d.message_id else ""
        ids[uid] = "" if found.startswith("sha256:") else found
    known_ids, known_gm = store.known([i for i in ids.values() if i],
                                      [d.gm_msgid for d in described.values() if d.gm_msgid is not None])
    known, refused, wanted = [], [], []
    for uid in sorted(described):
        d, message_id = described[uid], ids[uid]
        if message_id in known_ids:
            known.append((uid, message_id, d.gm_msgid))
        elif d.gm_msgid in known_gm:
            known.append((uid, known_gm[d.gm_msgid], d.gm_msgid))
        elif d.size > parsers.MAX_BYTES:
            name = message_id or f"size:{d.gm_msgid or uid}:{d.size}"
            refused.append((uid, ParseResult(Status.QUARANTINED, MessageInfo(name), reason=(
                f"too large: {d.size} bytes (the limit is {parsers.MAX_BYTES}); not downloaded")), d.gm_msgid))
        else:
            wanted.append(uid)
    return known, refused, wanted


def _batches(uids: Sequence[int], described: dict[int, Described]) -> Iterator[list[int]]:
    """The UIDs in ascending order, cut so that each FETCH brings at most BATCH_BYTES (or one larger message)."""
    chunk: list[int] = []
    size = 0
    for uid in sorted(uids):
        cost = described[uid].size
        if chunk and (size + cost > BATCH_BYTES or len(chunk) >= BATCH_MESSAGES):
            yield chunk
            chunk, size = [], 0
        chunk.append(uid)
        size += cost
    if chunk:
        yield chunk


def _log_message(folder: str, uid: int, message_id: str, status: Status, reason: str) -> None:
    # Ids only: the subject and body of a mail are personal data and never go to the log.
    if status is Status.QUARANTINED:
        log.warning("message_quarantined", folder=folder, uid=uid, message_id=message_id, reason=reason)
    else:
        log.debug("message_ingested", folder=folder, uid=uid, message_id=message_id, status=status.value)
