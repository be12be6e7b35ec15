"""The state file: one SQLite database in WAL mode, the only memory lateclaim has.

It holds what was seen (messages, with their parse status), what was learnt (events), where each folder's sync
stands (UIDVALIDITY, last UID) and every claim with its history. Every write is one short transaction, so a
crash at any point leaves either the whole step or none of it. The file and its directory are private (0600 /
0700): mail is personal data.
"""

from __future__ import annotations

import contextlib
import json
import os
import sqlite3
import stat
from collections.abc import Collection, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from daemon.errors import ForeignFile, StoreError
from daemon.state import statefile
from daemon.state.lock import WriterLock
from daemon.state.records import event_from_record, event_to_record
from parsers.model import Event, MessageInfo, ParseResult, Status

if TYPE_CHECKING:
    from rules.timeline import Sighting

# Each entry migrates the schema from version i to i + 1. Never edit a released entry: add one.
MIGRATIONS: tuple[str, ...] = (
    """
    CREATE TABLE folders (
        folder      TEXT PRIMARY KEY,
        uidvalidity INTEGER NOT NULL,
        last_uid    INTEGER NOT NULL,
        updated_at  TEXT NOT NULL
    );
    CREATE TABLE messages (
        identity       TEXT PRIMARY KEY,   -- Message-ID, or sha256 of the bytes
        folder         TEXT NOT NULL,
        uidvalidity    INTEGER NOT NULL,
        uid            INTEGER NOT NULL,
        status         TEXT NOT NULL,      -- parsed | ignored | quarantined
        reason         TEXT NOT NULL,
        parser_version TEXT NOT NULL,
        subject        TEXT NOT NULL,
        sender         TEXT NOT NULL,
        sent_at        TEXT,
        authenticated  INTEGER,            -- 1, 0 or NULL (no verdict from the receiving server)
        forwarded      INTEGER NOT NULL,
        ingested_at    TEXT NOT NULL
    );
    CREATE INDEX messages_location ON messages (folder, uidvalidity, uid);
    CREATE TABLE events (
        id       INTEGER PRIMARY KEY,
        identity TEXT NOT NULL REFERENCES messages (identity),
        seq      INTEGER NOT NULL,
        kind     TEXT NOT NULL,
        order_id TEXT,
        data     TEXT NOT NULL,            -- daemon.state.records JSON
        UNIQUE (identity, seq)
    );
    CREATE TABLE claims (
        id           INTEGER PRIMARY KEY,
        order_id     TEXT NOT NULL,
        shipment     TEXT NOT NULL,
        track        TEXT NOT NULL,
        step         INTEGER NOT NULL,
        status       TEXT NOT NULL,        -- queued | drafted | approved | sent | answered | closed | rejected
                                        -- (3: | uncertain | discarded)
        held         TEXT NOT NULL,        -- why a queued claim waits (a cap), or ''
        delivery     TEXT NOT NULL,        -- '' | pending (the attempt may have reached its destination) | done
        language     TEXT NOT NULL,
        subject      TEXT NOT NULL,
        body         TEXT NOT NULL,
        message_id   TEXT NOT NULL UNIQUE, -- assigned at creation, before any delivery attempt
        evidence     TEXT NOT NULL,        -- JSON
        created_at   TEXT NOT NULL,
        updated_at   TEXT NOT NULL,
        sent_at      TEXT,
        UNIQUE (order_id, shipment, track, step)
    );
    CREATE TABLE claim_history (
        claim_id INTEGER NOT NULL REFERENCES claims (id),
        at       TEXT NOT NULL,
        status   TEXT NOT NULL,
        note     TEXT NOT NULL
    );
    """,
    # 2: how a claim ended, once the user says so (`lateclaim claims resolve`).
    """
    ALTER TABLE claims ADD COLUMN outcome TEXT NOT NULL DEFAULT '';   -- '' | granted | refused
    ALTER TABLE claims ADD COLUMN outcome_note TEXT NOT NULL DEFAULT '';
    """,
    # 3: the user asked for the next step of a ladder that Amazon answered (`lateclaim claims next`).
    """
    ALTER TABLE claims ADD COLUMN next_requested_at TEXT;
    """,
    # 4: following a claim however it left (daemon/passes/outbox.py, daemon/passes/followup.py). Statuses added with it:
    # uncertain (an SMTP attempt may or may not have reached the server: held for the user) and discarded (the
    # draft left Drafts and never showed up in Sent).
    """
    ALTER TABLE claims ADD COLUMN attempted_at TEXT;       -- wall clock: when the attempt could first reach the server
    ALTER TABLE claims ADD COLUMN sent_message_id TEXT NOT NULL DEFAULT '';  -- the Message-ID it really left with
    ALTER TABLE claims ADD COLUMN placed TEXT NOT NULL DEFAULT '{}';  -- JSON: the draft's identifiers at APPEND
    ALTER TABLE claims ADD COLUMN missing_since TEXT;      -- wall clock: the draft first found gone, not in Sent
    """,
    # 5: what the user was told (daemon/passes/notices.py): an event is told once.
    """
    CREATE TABLE notices (
        event      TEXT PRIMARY KEY,   -- e.g. drafted:3, held:7, spoofed:171-...:1
        at         TEXT NOT NULL,
        message_id TEXT NOT NULL       -- the notice that told it
    );
    """,
    # 6: every place a message was seen, so that none is downloaded twice: a second folder holding it, the same
    # folder after a UIDVALIDITY change (daemon/passes/sync.py recognises it from its headers first).
    """
    CREATE TABLE seen (
        folder      TEXT NOT NULL,
        uidvalidity INTEGER NOT NULL,
        uid         INTEGER NOT NULL,
        identity    TEXT NOT NULL,        -- the message recorded (messages.identity)
        gm_msgid    INTEGER,              -- Gmail's id of the message (X-GM-MSGID), where the server has one
        PRIMARY KEY (folder, uidvalidity, uid)
    ) WITHOUT ROWID;
    CREATE INDEX seen_gm_msgid ON seen (gm_msgid) WHERE gm_msgid IS NOT NULL;
    INSERT OR IGNORE INTO seen (folder, uidvalidity, uid, identity)
        SELECT folder, uidvalidity, uid, identity FROM messages WHERE folder != '';
    """,
    # 7: the due-time index (daemon/passes/evaluate.py): a pass decides again only the orders whose emails or
    # claims changed since they were last decided, and those whose next step falls due. Triggers mark the changes,
    # whichever code writes them.
    """
    CREATE TABLE event_orders (            -- every order number an event names (an email may join two orders)
        order_id TEXT NOT NULL,
        event_id INTEGER NOT NULL REFERENCES events (id),
        PRIMARY KEY (order_id, event_id)
    ) WITHOUT ROWID;
    CREATE INDEX event_orders_event ON event_orders (event_id);
    CREATE TABLE revisits (
        order_id TEXT PRIMARY KEY,
        due_at   TEXT,                     -- UTC: decide it again from then; '' at the next pass; NULL only on a change
        changes  INTEGER NOT NULL DEFAULT 0  -- counts changes: decisions made before one are not recorded over it
    ) WITHOUT ROWID;
    CREATE INDEX revisits_due ON revisits (due_at) WHERE due_at IS NOT NULL;
    CREATE TABLE decided (key TEXT PRIMARY KEY, value TEXT NOT NULL);  -- basis (policy, version), at (last pass)
    CREATE TRIGGER event_orders_of_new_event AFTER INSERT ON events BEGIN
        INSERT OR IGNORE INTO event_orders SELECT value, new.id FROM json_each(new.data, '$.order_ids');
        INSERT INTO revisits (order_id, due_at, changes) SELECT value, '', 1 FROM json_each(new.data, '$.order_ids')
            WHERE true ON CONFLICT (order_id) DO UPDATE SET due_at = '', changes = changes + 1;
    END;
    CREATE TRIGGER revisit_on_new_claim AFTER INSERT ON claims BEGIN
        INSERT INTO revisits (order_id, due_at, changes) VALUES (new.order_id, '', 1)
            ON CONFLICT (order_id) DO UPDATE SET due_at = '', changes = changes + 1;
    END;
    CREATE TRIGGER revisit_on_claim_change AFTER UPDATE ON claims BEGIN
        INSERT INTO revisits (order_id, due_at, changes) VALUES (new.order_id, '', 1)
            ON CONFLICT (order_id) DO UPDATE SET due_at = '', changes = changes + 1;
    END;
    INSERT OR IGNORE INTO event_orders SELECT j.value, e.id FROM events e, json_each(e.data, '$.order_ids') j;
    INSERT OR IGNORE INTO revisits (order_id, due_at) SELECT DISTINCT order_id, '' FROM event_orders;
    INSERT OR IGNORE INTO revisits (order_id, due_at) SELECT DISTINCT order_id, '' FROM claims;
    """,
    # 8: the messages without an authentic verdict (or forwarded), found without reading every message: the
    # notices' check for parcels judged on such mail runs at every pass (Store.orders_with_unauthenticated_mail).
    """
    CREATE INDEX messages_unauthenticated ON messages (identity) WHERE authenticated IS NOT 1 OR forwarded;
    """,
)
SCHEMA_VERSION = len(MIGRATIONS)


def migrate(db: sqlite3.Connection, migrations: Sequence[str]) -> None:
    """Brings the schema (PRAGMA user_version) up to len(migrations). Each migration is a whole script that SQLite
    itself reads (a ';' in a comment, a string or a trigger's body is SQL, not a separator), run in one transaction
    with the version it reaches: a migration that fails leaves the file as it was before it."""
    version = db.execute("PRAGMA user_version").fetchone()[0]
    if version > len(migrations):
        raise StoreError(f"written by a newer lateclaim (schema {version} > {len(migrations)})")
    for number in range(version, len(migrations)):
        try:
            # executescript() runs the script as it is: BEGIN and COMMIT are written in it.
            db.executescript(f"BEGIN IMMEDIATE;\n{migrations[number]}\n;\nPRAGMA user_version = {number + 1};\nCOMMIT;")
        except BaseException:
            if db.in_transaction:
                db.execute("ROLLBACK")
            raise
WAL_PAGES = 64  # 256 KB of WAL at most between checkpoints (SQLite's default, 1000 pages, is 4 MB)


@dataclass(frozen=True)
class Cursor:
    """How far a folder has been read: the highest UID seen under its UIDVALIDITY."""
    folder: str
    uidvalidity: int | None
    last_uid: int


@dataclass(frozen=True)
class Claim:
    """A claim as stored: its letter, where it stands, and the evidence it rests on."""
    id: int
    order_id: str
    shipment: str
    track: str
    step: int
    status: str
    held: str
    delivery: str
    language: str
    subject: str
    body: str
    message_id: str
    evidence: dict[str, Any]
    created_at: datetime
    updated_at: datetime
    sent_at: datetime | None
    outcome: str = ""
    outcome_note: str = ""
    next_requested_at: datetime | None = None
    attempted_at: datetime | None = None  # wall clock, when a delivery attempt could first have reached its target
    sent_message_id: str = ""  # the Message-ID it left with: ours, or the one Gmail gave it when the user sent it
    placed: dict[str, Any] = field(default_factory=dict)  # the draft's identifiers at APPEND (uid, X-GM-MSGID...)
    missing_since: datetime | None = None  # wall clock, when the draft was first found gone and not in Sent

    @property
    def reply_id(self) -> str:
        """The Message-ID that answers and later steps refer to: the one it really left with."""
        return self.sent_message_id or self.message_id

    def to_json(self) -> dict[str, Any]:
        """The `lateclaim claims list --json` contract (README)."""
        return {
            "id": self.id,
            "order_id": self.order_id,
            "shipment": self.shipment,
            "track": self.track,
            "step": self.step,
            "status": self.status,
            "held": self.held or None,
            "language": self.language,
            "subject": self.subject,
            "created_at": self.created_at.isoformat(),
            "sent_at": self.sent_at.isoformat() if self.sent_at else None,
            "outcome": self.outcome or None,
        }


def _ts(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat(timespec="seconds")


def _dt(text: str | None) -> datetime | None:
    return datetime.fromisoformat(text) if text else None


def _open_readonly(path: Path) -> sqlite3.Connection:
    """A connection that can only read: first as SQLite reads a WAL database (through its -shm, which it may have
    to create); where it cannot (a read-only file system or directory, a read-only copy) the file is read as it
    is, with immutable=1. That holds every committed write when no -wal file is beside it, which is the case after
    lateclaim closed it cleanly; a -wal left by a crash on a file system since made read-only is not read."""
    uri = path.resolve().as_uri()
    db = sqlite3.connect(f"{uri}?mode=ro", uri=True, isolation_level=None, timeout=30, check_same_thread=False)
    try:
        db.execute("PRAGMA user_version").fetchone()  # opening is lazy: this is what needs the -shm
        return db
    except sqlite3.OperationalError:
        db.close()
    return sqlite3.connect(f"{uri}?mode=ro&immutable=1", uri=True, isolation_level=None, timeout=30,
                           check_same_thread=False)


def _tighten_directory(path: Path) -> None:
    """The state file's directory is made 0700 when it is lateclaim's own: ours (same owner), not a shared one
    (sticky, like /tmp; the home directory), and either named lateclaim (~/.local/state/lateclaim, systemd's
    StateDirectory) or holding nothing but the state file and its companions. A directory that already existed
    with mode 0777 would otherwise show everyone which orders and claims there are (the -wal files, the names)."""
    directory = path.parent.resolve()
    info = directory.stat()
    if not info.st_mode & 0o077 or info.st_uid != os.getuid() or info.st_mode & stat.S_ISVTX:
        return
    if directory in (Path.home().resolve(), Path("/").resolve()):
        return
    own = all(entry.name.startswith((path.name, f".{path.name}.")) for entry in directory.iterdir())
    if directory.name == "lateclaim" or own:
        directory.chmod(0o700)


def _identify(path: Path) -> statefile.Kind:
    try:
        return statefile.identify(path)
    except ForeignFile as exc:
        raise StoreError(f"state file {path}: {exc}") from None


def _open_writable(path: Path, kind: statefile.Kind) -> sqlite3.Connection:
    """Our own file, made if missing, private (0600, in a 0700 directory when the directory is ours), opened."""
    if kind == "missing":
        statefile.create(path)
    elif path.stat().st_mode & 0o077:
        path.chmod(0o600)  # lateclaim's own file: mail is personal data
    with contextlib.suppress(OSError):  # best effort: a directory it cannot list or chmod stays as is
        _tighten_directory(path)
    return sqlite3.connect(path, isolation_level=None, timeout=30, check_same_thread=False)


class Store:
    def __init__(self, path: Path, readonly: bool = False, wait: float | None = None) -> None:
        """`readonly` is for commands that only look (orders, claims list): they create nothing, so that root
        inspecting a service's state never leaves files the service's own user cannot write, and they take no
        lock (WAL lets them read while a writer writes). Any other Store holds the writer lock (daemon.state.lock)
        until it is closed, waiting `wait` seconds at most (default lock.WAIT) for another writer to finish."""
        self.path = path
        self.lock: WriterLock | None = None
        kind = _identify(path)  # before anything is opened for writing or chmodded
        if readonly and kind == "missing":
            raise StoreError(f"state file {path}: there is none yet (run `lateclaim sync` first)")
        if not readonly:
            self.lock = self._lock(path, wait)
            try:
                kind = _identify(path)  # another writer may have made it while this one waited
            except StoreError:
                self._unlock()
                raise
        try:
            self.db = _open_readonly(path) if readonly else _open_writable(path, kind)
            self.db.row_factory = sqlite3.Row
            self._match_owner()
            if readonly:
                if self.schema_version != SCHEMA_VERSION:
                    raise StoreError(f"state file {path}: schema {self.schema_version}, this lateclaim reads "
                                     f"{SCHEMA_VERSION} (run `lateclaim sync` once to bring it up to date)")
                return
            self._prepare(kind)
        except (OSError, sqlite3.Error, StoreError) as exc:
            if hasattr(self, "db"):
                self.db.close()  # a connection left open would keep the WAL from being checkpointed
            self._unlock()
            if isinstance(exc, StoreError):
                raise
            raise StoreError(f"state file {path}: {exc}") from None

    def _prepare(self, kind: statefile.Kind) -> None:
        """The writer's settings, the stamp of a first version's file, and the schema brought up to date."""
        self.db.execute("PRAGMA journal_mode = WAL")
        self.db.execute("PRAGMA foreign_keys = ON")
        self.db.execute("PRAGMA synchronous = FULL")  # a committed claim state survives a power cut
        # A bounded WAL: checkpointed every WAL_PAGES pages and cut back after, instead of growing to 4 MB
        # and staying so. On a nearly full disk a long sync then still records message after message.
        self.db.execute(f"PRAGMA wal_autocheckpoint = {WAL_PAGES}")
        self.db.execute(f"PRAGMA journal_size_limit = {WAL_PAGES * 4096}")
        if kind == "unstamped":  # the first version's file: lateclaim's tables, no application_id yet
            self.db.execute(f"PRAGMA application_id = {statefile.APPLICATION_ID}")
        self._migrate()

    def _match_owner(self) -> None:
        """Root looking at a service's state (`sudo lateclaim orders`) must not leave WAL files the service's
        own user cannot write: they get the owner of the state file."""
        if os.getuid() != 0:
            return
        self.db.execute("PRAGMA user_version").fetchone()  # opens the WAL files, if the file uses them
        owner = self.path.stat()
        for suffix in ("-wal", "-shm"):
            sidecar = self.path.with_name(self.path.name + suffix)
            if sidecar.exists() and (sidecar.stat().st_uid, sidecar.stat().st_gid) != (owner.st_uid, owner.st_gid):
                os.chown(sidecar, owner.st_uid, owner.st_gid)

    @staticmethod
    def _lock(path: Path, wait: float | None) -> WriterLock:
        """The writer lock, taken before the file is created or migrated: two first runs cannot both make it."""
        try:  # StateBusy (a StoreError) when another writer keeps it longer than the wait
            path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
            return WriterLock(path).acquire() if wait is None else WriterLock(path).acquire(wait)
        except OSError as exc:
            raise StoreError(f"state file {path}: cannot take its lock: {exc.strerror or exc}") from None

    def _unlock(self) -> None:
        if self.lock is not None:
            self.lock.release()
            self.lock = None

    def close(self) -> None:
        try:
            self.db.close()
        finally:
            self._unlock()

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        """One atomic step. A failing write (a full disk, say) rolls the step back whole and becomes a
        StoreError that says what to do; everything committed before it stays."""
        try:
            self.db.execute("BEGIN IMMEDIATE")
            try:
                yield self.db
            except BaseException:
                self.db.execute("ROLLBACK")
                raise
            self.db.execute("COMMIT")
        except sqlite3.Error as exc:
            if self.db.in_transaction:
                self.db.execute("ROLLBACK")
            hint = " (free some space: nothing was half-written)" if "full" in str(exc) else ""
            raise StoreError(f"state file {self.path}: {exc}{hint}") from None

    def _migrate(self) -> None:
        migrate(self.db, MIGRATIONS)

    @property
    def schema_version(self) -> int:
        return int(self.db.execute("PRAGMA user_version").fetchone()[0])

    # -- sync cursors and messages -------------------------------------------------------------------------

    def cursor(self, folder: str) -> Cursor:
        row = self.db.execute("SELECT uidvalidity, last_uid FROM folders WHERE folder = ?", (folder,)).fetchone()
        if row is None:
            return Cursor(folder, None, 0)
        return Cursor(folder, row["uidvalidity"], row["last_uid"])

    def advance(self, folder: str, uidvalidity: int, last_uid: int, now: datetime) -> None:
        with self.transaction() as db:
            self._advance(db, folder, uidvalidity, last_uid, now)

    @staticmethod
    def _advance(db: sqlite3.Connection, folder: str, uidvalidity: int, last_uid: int, now: datetime) -> None:
        db.execute(
            # Within one UIDVALIDITY the cursor only moves forward (a history import reads old UIDs).
            "INSERT INTO folders VALUES (?, ?, ?, ?) ON CONFLICT (folder) DO UPDATE SET "
            "last_uid = CASE WHEN folders.uidvalidity = excluded.uidvalidity "
            "THEN max(folders.last_uid, excluded.last_uid) ELSE excluded.last_uid END, "
            "uidvalidity = excluded.uidvalidity, updated_at = excluded.updated_at",
            (folder, uidvalidity, last_uid, _ts(now)),
        )

    def seen_uids(self, folder: str, uidvalidity: int, uids: Sequence[int]) -> set[int]:
        """Which of `uids` (in `folder` as of `uidvalidity`) were seen already, recorded or recognised as known:
        neither is downloaded again."""
        found: set[int] = set()
        for first in range(0, len(uids), 500):  # well under SQLite's limit on bound parameters
            chunk = list(uids[first:first + 500])
            marks = ", ".join("?" * len(chunk))
            rows = self.db.execute(
                f"SELECT uid FROM seen WHERE folder = ? AND uidvalidity = ? AND uid IN ({marks})",
                (folder, uidvalidity, *chunk))
            found.update(row["uid"] for row in rows)
        return found

    def known(self, identities: Sequence[str], gm_msgids: Sequence[int] = ()) -> tuple[set[str], dict[int, str]]:
        """Which of these Message-IDs name a recorded message; the identity recorded for each of these Gmail
        message ids already seen."""
        ids: set[str] = set()
        for first in range(0, len(identities), 500):  # well under SQLite's limit on bound parameters
            chunk = list(identities[first:first + 500])
            rows = self.db.execute(f"SELECT identity FROM messages WHERE identity IN ({', '.join('?' * len(chunk))})",
                                   chunk)
            ids.update(row["identity"] for row in rows)
        gm: dict[int, str] = {}
        for first in range(0, len(gm_msgids), 500):
            numbers = list(gm_msgids[first:first + 500])
            rows = self.db.execute(f"SELECT gm_msgid, identity FROM seen WHERE gm_msgid IN "
                                   f"({', '.join('?' * len(numbers))})", numbers)
            gm.update((row["gm_msgid"], row["identity"]) for row in rows)
        return ids, gm

    def has_message(self, identity: str) -> bool:
        return self.db.execute("SELECT 1 FROM messages WHERE identity = ?", (identity,)).fetchone() is not None

    def ingest(
        self, folder: str, uidvalidity: int, uid: int, result: ParseResult, parser_version: str, now: datetime
    ) -> bool:
        """Record one message and its events, and move the folder's cursor past it, atomically.

        Returns False when the message was already known (same identity from another folder, a resync after a
        UIDVALIDITY change, a second copy): nothing is added then but where it was seen, and the cursor moves.
        """
        return self.ingest_batch(folder, uidvalidity, [(uid, result, None)], parser_version, now)[0]

    def ingest_batch(
        self, folder: str, uidvalidity: int, items: Sequence[tuple[int, ParseResult, int | None]],
        parser_version: str, now: datetime,
    ) -> list[bool]:
        """Record messages (uid, parse result, Gmail message id or None) and move the folder's cursor past the
        highest UID, in one transaction: a crash keeps all of them or none, and the cursor never passes a message
        that was not recorded. One commit (one fsync) per batch is what makes a first sync cost about the parse.
        For each message, whether it was new."""
        if not items:
            return []
        with self.transaction() as db:
            self._advance(db, folder, uidvalidity, max(uid for uid, _, _ in items), now)
            return [self._record(db, folder, uidvalidity, uid, result, gm_msgid, parser_version, now)
                    for uid, result, gm_msgid in items]

    def record_unfetched(
        self, folder: str, uidvalidity: int, known: Sequence[tuple[int, str, int | None]],
        refused: Sequence[tuple[int, ParseResult, int | None]], parser_version: str, now: datetime,
    ) -> None:
        """Record what was decided from the headers alone, without a download: messages already known (uid,
        identity, Gmail id) seen at one more place, and messages refused unread (too large). The cursor does not
        move: UIDs below these may still wait for their download."""
        with self.transaction() as db:
            db.executemany("INSERT OR IGNORE INTO seen VALUES (?, ?, ?, ?, ?)",
                           [(folder, uidvalidity, uid, identity, gm) for uid, identity, gm in known])
            for uid, result, gm_msgid in refused:
                self._record(db, folder, uidvalidity, uid, result, gm_msgid, parser_version, now)

    @staticmethod
    def _record(db: sqlite3.Connection, folder: str, uidvalidity: int, uid: int, result: ParseResult,
                gm_msgid: int | None, parser_version: str, now: datetime) -> bool:
        m = result.message
        db.execute("INSERT OR IGNORE INTO seen VALUES (?, ?, ?, ?, ?)", (folder, uidvalidity, uid, m.message_id,
                                                                          gm_msgid))
        if db.execute("SELECT 1 FROM messages WHERE identity = ?", (m.message_id,)).fetchone():
            return False
        db.execute(
            "INSERT INTO messages VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                m.message_id, folder, uidvalidity, uid, result.status.value, result.reason, parser_version,
                m.subject, m.sender, m.sent_at.isoformat() if m.sent_at else None,
                None if m.authenticated is None else int(m.authenticated), int(m.forwarded), _ts(now),
            ),
        )
        db.executemany(
            "INSERT INTO events (identity, seq, kind, order_id, data) VALUES (?, ?, ?, ?, ?)",
            [(m.message_id, seq, event.kind.value, event.order_id, json.dumps(event_to_record(event)))
             for seq, event in enumerate(result.events)],
        )
        return True

    def record_user_event(self, event: Event, note: str, now: datetime) -> str:
        """Record a fact the user stated (`lateclaim orders arrived`) as an event of a message of its own, so
        that the timelines read it like any email's; its identity says who said it and when. It replaces what the
        user said before about the same parcel (a mistyped date is corrected by saying it again): the earlier
        statement stays in the state file, `ignored`, with what replaced it as its reason, and its event goes."""
        identity = f"user:{now.isoformat()}:{event.order_id}:{event.shipment}"
        message = MessageInfo(message_id=identity, subject=note, sent_at=now, sender="you", authenticated=True)
        with self.transaction() as db:
            about = f":{event.order_id}:{event.shipment}"
            earlier = [row["identity"] for row in db.execute(
                "SELECT identity FROM messages WHERE parser_version = 'user' AND status = ? AND identity != ?",
                (Status.PARSED.value, identity)) if row["identity"].endswith(about)]
            for old in earlier:  # the new event (inserted below) marks the order to be decided again
                db.execute("DELETE FROM event_orders WHERE event_id IN (SELECT id FROM events WHERE identity = ?)",
                           (old,))
                db.execute("DELETE FROM events WHERE identity = ?", (old,))
                db.execute("UPDATE messages SET status = ?, reason = ? WHERE identity = ?",
                           (Status.IGNORED.value, f"replaced by what you said at {_ts(now)}: {note}", old))
            db.execute("INSERT OR IGNORE INTO messages VALUES (?, '', 0, 0, ?, '', 'user', ?, ?, ?, 1, 0, ?)",
                       (identity, Status.PARSED.value, message.subject, message.sender, now.isoformat(), _ts(now)))
            db.execute("INSERT OR IGNORE INTO events (identity, seq, kind, order_id, data) VALUES (?, 0, ?, ?, ?)",
                       (identity, event.kind.value, event.order_id, json.dumps(event_to_record(event))))
        return identity

    def quarantine(self, identity: str, reason: str) -> None:
        """Set a recorded message aside with the reason a later step could not read it (a hostile header, say);
        its events, if any, stay."""
        with self.transaction() as db:
            db.execute("UPDATE messages SET status = ?, reason = ? WHERE identity = ?",
                       (Status.QUARANTINED.value, reason, identity))

    def message_counts(self) -> dict[str, int]:
        rows = self.db.execute("SELECT status, count(*) AS n FROM messages GROUP BY status")
        return {row["status"]: row["n"] for row in rows}

    def quarantined(self) -> list[tuple[str, str]]:
        rows = self.db.execute("SELECT identity, reason FROM messages WHERE status = ? ORDER BY ingested_at",
                               (Status.QUARANTINED.value,))
        return [(row["identity"], row["reason"]) for row in rows]

    def sightings(self, order_ids: Collection[str] | None = None) -> list[Sighting]:
        """Every stored event with the facts of the email it came from, oldest email first; with `order_ids`,
        only the events of those orders and of every order an email joins to them (a timeline is built from all
        of its order's emails)."""
        from rules.timeline import Sighting  # the rules' type: a start with nothing new does not load them

        query = ("SELECT m.identity, m.subject, m.sender, m.sent_at, m.authenticated, m.forwarded, e.data "
                 "FROM events e JOIN messages m USING (identity)")
        if order_ids is None:
            rows = self.db.execute(query + " ORDER BY m.sent_at, m.identity, e.seq")
        else:
            events = self._events_of(self.orders_joined(order_ids))
            rows = self.db.execute(query + " WHERE e.id IN (SELECT value FROM json_each(?)) "
                                   "ORDER BY m.sent_at, m.identity, e.seq", (json.dumps(sorted(events)),))
        result = []
        for row in rows:
            message = MessageInfo(
                message_id=row["identity"],
                subject=row["subject"],
                sent_at=_dt(row["sent_at"]),
                sender=row["sender"],
                authenticated=None if row["authenticated"] is None else bool(row["authenticated"]),
                forwarded=bool(row["forwarded"]),
            )
            result.append(Sighting(message, event_from_record(json.loads(row["data"]))))
        return result

    def _events_of(self, order_ids: Collection[str]) -> set[int]:
        rows = self.db.execute("SELECT DISTINCT event_id FROM event_orders WHERE order_id IN "
                               "(SELECT value FROM json_each(?))", (json.dumps(sorted(order_ids)),))
        return {row[0] for row in rows}

    def orders_joined(self, order_ids: Collection[str]) -> set[str]:
        """These orders and every order an email names together with one of them, transitively."""
        found, frontier = set(order_ids), set(order_ids)
        while frontier:
            rows = self.db.execute(
                "SELECT DISTINCT order_id FROM event_orders WHERE event_id IN (SELECT event_id FROM event_orders "
                "WHERE order_id IN (SELECT value FROM json_each(?)))", (json.dumps(sorted(frontier)),))
            frontier = {row[0] for row in rows} - found
            found |= frontier
        return found

    # -- the due-time index: which orders a pass decides again (daemon/passes/evaluate.py) ------------------

    def due_orders(self, now: datetime) -> dict[str, int]:
        """Order id -> its change count, for the orders to decide again at `now`: those whose emails or claims
        changed since they were last decided (marked by the schema's triggers), and those whose next step falls
        due by then."""
        rows = self.db.execute("SELECT order_id, changes FROM revisits WHERE due_at <= ?", (_ts(now),))
        return {row["order_id"]: row["changes"] for row in rows}

    def orders_with_unauthenticated_mail(self) -> set[str]:
        """The orders named by an email without an authentic verdict (or forwarded): only their parcels can be
        judged on mail that is not authentic Amazon mail (the user's own word counts as authentic)."""
        rows = self.db.execute(
            # CROSS JOIN keeps that order: from the (few) such messages to their events, not from every event.
            "SELECT DISTINCT o.order_id FROM messages m INDEXED BY messages_unauthenticated "
            "CROSS JOIN events e ON e.identity = m.identity CROSS JOIN event_orders o ON o.event_id = e.id "
            "WHERE m.authenticated IS NOT 1 OR m.forwarded")
        return {row[0] for row in rows}

    def held_orders(self) -> set[str]:
        """The orders with a claim a cap holds back."""
        rows = self.db.execute("SELECT DISTINCT order_id FROM claims WHERE held != ''")
        return {row[0] for row in rows}

    def revisit_marks(self, order_ids: Collection[str] | None = None) -> dict[str, int]:
        """Order id -> its change count (all orders with None)."""
        if order_ids is None:
            rows = self.db.execute("SELECT order_id, changes FROM revisits")
        else:
            rows = self.db.execute("SELECT order_id, changes FROM revisits WHERE order_id IN "
                                   "(SELECT value FROM json_each(?))", (json.dumps(sorted(order_ids)),))
        return {row["order_id"]: row["changes"] for row in rows}

    def set_revisits(self, due: dict[str, datetime | None], marks: dict[str, int], basis: str,
                     now: datetime) -> None:
        """Record when each decided order is next due (None: only when it changes), unless it changed since its
        mark was read (a claim recorded by this very pass, a command run meanwhile): that one stays due."""
        with self.transaction() as db:
            db.executemany("UPDATE revisits SET due_at = ? WHERE order_id = ? AND changes = ?",
                           [(_ts(at) if at is not None else None, order_id, marks[order_id])
                            for order_id, at in due.items() if order_id in marks])
            db.executemany("INSERT INTO decided VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value",
                           [("basis", basis), ("at", _ts(now))])

    def decided(self) -> tuple[str, datetime | None]:
        """(the basis the last decisions were made on, when); ("", None) before any."""
        found = {row["key"]: row["value"] for row in self.db.execute("SELECT key, value FROM decided")}
        return found.get("basis", ""), _dt(found.get("at"))

    # -- claims -----------------------------------------------------------------------------------------

    def add_claim(
        self,
        *,
        order_id: str,
        shipment: str,
        track: str,
        step: int,
        status: str,
        held: str,
        language: str,
        subject: str,
        body: str,
        message_id: str,
        evidence: dict[str, Any],
        now: datetime,
    ) -> int | None:
        """Record a new claim; None when one already exists for that shipment, track and step."""
        with self.transaction() as db:
            cursor = db.execute(
                "INSERT INTO claims (order_id, shipment, track, step, status, held, delivery, language, subject, "
                "body, message_id, evidence, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, '', ?, ?, ?, ?, ?, ?, ?)"
                " ON CONFLICT (order_id, shipment, track, step) DO NOTHING",
                (order_id, shipment, track, step, status, held, language, subject, body, message_id,
                 json.dumps(evidence, ensure_ascii=False), _ts(now), _ts(now)),
            )
            if cursor.rowcount == 0:
                return None
            claim_id = int(cursor.lastrowid or 0)
            db.execute("INSERT INTO claim_history VALUES (?, ?, ?, ?)", (claim_id, _ts(now), status, held))
        return claim_id

    def update_claim(
        self, claim_id: int, now: datetime, *, status: str | None = None, held: str | None = None,
        delivery: str | None = None, sent_at: datetime | None = None, note: str = "", outcome: str | None = None,
        subject: str | None = None, body: str | None = None, evidence: dict[str, Any] | None = None,
        next_requested: bool = False,
        attempted_at: datetime | None = None, sent_message_id: str | None = None,
        placed: dict[str, Any] | None = None, missing_since: datetime | Literal["clear"] | None = None,
    ) -> None:
        """Change the given columns; None leaves a column as it is."""
        given: dict[str, Any] = {
            "status": status, "held": held, "delivery": delivery, "sent_message_id": sent_message_id,
            "sent_at": sent_at and _ts(sent_at), "attempted_at": attempted_at and _ts(attempted_at),
            "next_requested_at": _ts(now) if next_requested else None,
            "placed": None if placed is None else json.dumps(placed),
            "evidence": None if evidence is None else json.dumps(evidence, ensure_ascii=False),
            "outcome": outcome, "outcome_note": None if outcome is None else note,
            **({"subject": subject, "body": body} if subject is not None and body is not None else {}),
        }
        changes = {"updated_at": _ts(now), **{column: value for column, value in given.items() if value is not None}}
        if missing_since is not None:  # "clear": back to NULL
            changes["missing_since"] = None if missing_since == "clear" else _ts(missing_since)
        assignments = ", ".join(f"{column} = ?" for column in changes)
        with self.transaction() as db:
            db.execute(f"UPDATE claims SET {assignments} WHERE id = ?", (*changes.values(), claim_id))
            if status is not None or note:
                current = db.execute("SELECT status FROM claims WHERE id = ?", (claim_id,)).fetchone()
                db.execute("INSERT INTO claim_history VALUES (?, ?, ?, ?)",
                           (claim_id, _ts(now), current["status"], note))

    def claims(self, statuses: Sequence[str] = ()) -> list[Claim]:
        query = "SELECT * FROM claims"
        if statuses:
            query += f" WHERE status IN ({', '.join('?' * len(statuses))})"
        rows = self.db.execute(query + " ORDER BY id", tuple(statuses))
        return [self._claim(row) for row in rows]

    def claim(self, claim_id: int) -> Claim | None:
        row = self.db.execute("SELECT * FROM claims WHERE id = ?", (claim_id,)).fetchone()
        return self._claim(row) if row else None

    def claim_history(self, claim_id: int) -> list[tuple[datetime, str, str]]:
        rows = self.db.execute("SELECT at, status, note FROM claim_history WHERE claim_id = ? ORDER BY rowid",
                               (claim_id,))
        return [(datetime.fromisoformat(row["at"]), row["status"], row["note"]) for row in rows]

    # -- notices -----------------------------------------------------------------------------------------------

    def notified(self, events: Sequence[str]) -> set[str]:
        """Those of `events` the user was already told of."""
        told: set[str] = set()
        for start in range(0, len(events), 500):
            chunk = list(events[start:start + 500])
            marks = ",".join("?" * len(chunk))
            told.update(row[0] for row in self.db.execute(f"SELECT event FROM notices WHERE event IN ({marks})",
                                                          chunk))
        return told

    def record_notified(self, events: Sequence[str], now: datetime, message_id: str) -> None:
        with self.transaction() as db:
            db.executemany("INSERT OR IGNORE INTO notices (event, at, message_id) VALUES (?, ?, ?)",
                           [(event, _ts(now), message_id) for event in events])

    @staticmethod
    def _claim(row: sqlite3.Row) -> Claim:
        return Claim(
            id=row["id"], order_id=row["order_id"], shipment=row["shipment"], track=row["track"],
            step=row["step"], status=row["status"], held=row["held"], delivery=row["delivery"],
            language=row["language"], subject=row["subject"], body=row["body"], message_id=row["message_id"],
            evidence=json.loads(row["evidence"]), created_at=datetime.fromisoformat(row["created_at"]),
            updated_at=datetime.fromisoformat(row["updated_at"]), sent_at=_dt(row["sent_at"]),
            outcome=row["outcome"], outcome_note=row["outcome_note"],
            next_requested_at=_dt(row["next_requested_at"]),
            attempted_at=_dt(row["attempted_at"]),
            sent_message_id=row["sent_message_id"], placed=json.loads(row["placed"]),
            missing_since=_dt(row["missing_since"]),
        )
