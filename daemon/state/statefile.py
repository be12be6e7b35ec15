"""Recognising lateclaim's own state file before anything at `state.path` is touched.

lateclaim migrates, writes or chmods only a file it made: an SQLite database stamped with lateclaim's
`application_id` when it was created, or one from the first version (which did not stamp it) that holds
lateclaim's tables; that one is stamped when it is next opened for writing. Anything else at `state.path` (a
program, a text file, another application's database, a directory) is refused with a clear error and left exactly
as it was: not opened for writing, not chmodded, no WAL files made beside it.

A new state file is made under a temporary name and linked into place only once it is stamped, so a crash never
leaves a half-made file that the next start would have to refuse.
"""

from __future__ import annotations

import os
import sqlite3
import stat
from pathlib import Path
from typing import Literal

from daemon.errors import ForeignFile

APPLICATION_ID = 0x4C434C4D  # "LCLM", in the SQLite header (offset 68) of every state file lateclaim creates
SQLITE_MAGIC = b"SQLite format 3\x00"
OWN_TABLES = frozenset({"folders", "messages", "events", "claims", "claim_history"})

Kind = Literal["missing", "ours", "unstamped"]


def _refuse(what: str) -> ForeignFile:
    return ForeignFile(f"{what}, not a lateclaim state file; lateclaim leaves it untouched (check state.path)")


def identify(path: Path) -> Kind:
    """"missing", "ours" (stamped), "unstamped" (the first version's file, with lateclaim's tables), or
    ForeignFile. Reads only: the header's 100 bytes, and for an unstamped database its list of tables."""
    header = _header(path)
    if header is None:
        return "missing"
    if not header:
        raise _refuse("is an empty file")
    if len(header) < 100 or not header.startswith(SQLITE_MAGIC):
        raise _refuse("is not an SQLite database")
    application_id = int.from_bytes(header[68:72], "big")
    if application_id == APPLICATION_ID:
        return "ours"
    if application_id != 0:
        raise _refuse(f"is another application's SQLite database (application_id {application_id:#x})")
    if _tables(path) >= OWN_TABLES:
        return "unstamped"
    raise _refuse("is an SQLite database without lateclaim's tables")


def _header(path: Path) -> bytes | None:
    """The first 100 bytes of the regular file at `path` (fewer if it is shorter); None when there is none."""
    try:
        info = path.stat()
    except FileNotFoundError:
        return None
    except OSError as exc:
        raise ForeignFile(f"cannot look at it: {exc.strerror or exc}") from None
    if stat.S_ISDIR(info.st_mode):
        raise _refuse(f"is a directory (state.path names the file itself, such as {path / 'lateclaim.db'})")
    if not stat.S_ISREG(info.st_mode):
        raise _refuse("is not a regular file")
    try:
        with path.open("rb") as file:
            return file.read(100)
    except OSError as exc:
        raise ForeignFile(f"cannot read it: {exc.strerror or exc}") from None


def _tables(path: Path) -> set[str]:
    # immutable=1 reads the file as it is, creating no -wal/-shm beside it; a file that already has a -wal is
    # read through it (its last writes may still be there).
    immutable = "" if path.with_name(path.name + "-wal").exists() else "&immutable=1"
    try:
        db = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro{immutable}", uri=True, timeout=30)
        try:
            rows = db.execute("SELECT name FROM sqlite_master WHERE type = 'table'").fetchall()
        finally:
            db.close()
    except sqlite3.Error as exc:
        raise _refuse(f"is an SQLite database that cannot be read ({exc})") from None
    return {name for (name,) in rows}


def create(path: Path) -> None:
    """A new, empty, stamped state file (WAL mode, 0600) at `path`, in a directory made 0700 if need be.
    When another process made one first, theirs stays and is the one used."""
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    temporary = path.with_name(f".{path.name}.{os.getpid()}.new")
    os.close(os.open(temporary, os.O_RDWR | os.O_CREAT | os.O_EXCL, 0o600))
    try:
        db = sqlite3.connect(temporary, isolation_level=None)
        try:
            db.execute(f"PRAGMA application_id = {APPLICATION_ID}")
            db.execute("PRAGMA journal_mode = WAL")
        finally:
            db.close()  # the last connection: the WAL is checkpointed into the file and removed
        try:
            os.link(temporary, path)  # never replaces a file that appeared meanwhile
        except FileExistsError:
            pass
        except OSError:
            if not path.exists():  # a file system without hard links
                os.replace(temporary, path)
    finally:
        for leftover in (temporary, *(temporary.with_name(temporary.name + s) for s in ("-wal", "-shm"))):
            leftover.unlink(missing_ok=True)


def check_state(path: Path) -> Kind:
    """identify(), with the path in the error: for commands that refuse a wrong state.path before going online."""
    try:
        return identify(path)
    except ForeignFile as exc:
        raise ForeignFile(f"state file {path}: {exc}") from None
