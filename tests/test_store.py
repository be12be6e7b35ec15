from __future__ import annotations

import os
import sqlite3
import stat
from datetime import UTC, date, datetime
from pathlib import Path

import pytest

from daemon.errors import StoreError
from daemon.state.store import SCHEMA_VERSION, Store, migrate
from parsers.model import DateWindow, Event, EventKind, MessageInfo, ParseResult, Status

NOW = datetime(2026, 11, 20, 9, 30, tzinfo=UTC)


def result(message_id: str = "a@example.com", *, promise: DateWindow | None = None) -> ParseResult:
    message = MessageInfo(message_id, "Shipped: a lamp", datetime(2026, 11, 18, 8, 0, tzinfo=UTC),
                          "shipment-tracking@amazon.fr", True)
    event = Event(EventKind.SHIPPED, "amazon.fr", "fr", ("171-5302846-9915233",), promise=promise,
                  previous_promise=DateWindow(None, date(2026, 11, 21)), evidence="Arrivée : lundi 23 novembre",
                  pattern="fr.arrival", shipment="2")
    return ParseResult(Status.PARSED, message, (event,))


def test_a_new_file_is_private_in_wal_mode_at_the_current_schema(tmp_path: Path) -> None:
    path = tmp_path / "state" / "lateclaim.db"
    with Store(path) as store:
        assert store.schema_version == SCHEMA_VERSION
        assert store.db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700


def test_reopening_keeps_everything_and_migrates_nothing_twice(tmp_path: Path) -> None:
    path = tmp_path / "lateclaim.db"
    with Store(path) as store:
        store.ingest("INBOX", 7, 3, result(), "1", NOW)
    with Store(path) as store:
        assert store.schema_version == SCHEMA_VERSION
        assert store.message_counts() == {"parsed": 1}


def test_a_file_from_a_newer_version_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "lateclaim.db"
    with Store(path):
        pass
    db = sqlite3.connect(path)
    db.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
    db.close()
    with pytest.raises(StoreError, match="newer lateclaim"):
        Store(path)


def test_events_round_trip_exactly(tmp_path: Path) -> None:
    original = result(promise=DateWindow(date(2026, 11, 22), date(2026, 11, 23)))
    with Store(tmp_path / "s.db") as store:
        store.ingest("INBOX", 7, 3, original, "1", NOW)
        [sighting] = store.sightings()
    assert sighting.event == original.events[0]
    assert sighting.message == original.message


def test_ingest_is_idempotent_and_moves_the_cursor(tmp_path: Path) -> None:
    with Store(tmp_path / "s.db") as store:
        assert store.cursor("INBOX").last_uid == 0
        assert store.ingest("INBOX", 7, 3, result(), "1", NOW) is True
        assert store.ingest("[Gmail]/All Mail", 9, 40, result(), "1", NOW) is False  # same Message-ID elsewhere
        assert store.cursor("INBOX").uidvalidity == 7 and store.cursor("INBOX").last_uid == 3
        assert store.cursor("[Gmail]/All Mail").last_uid == 40
        assert len(store.sightings()) == 1


def test_one_claim_per_shipment_track_and_step(tmp_path: Path) -> None:
    fields = {"order_id": "171-5302846-9915233", "shipment": "1", "track": "A", "step": 1, "status": "queued",
              "held": "", "language": "fr", "subject": "Retard", "body": "Bonjour", "evidence": {"promise": "x"},
              "now": NOW}
    with Store(tmp_path / "s.db") as store:
        first = store.add_claim(message_id="<1@lateclaim>", **fields)  # type: ignore[arg-type]
        again = store.add_claim(message_id="<2@lateclaim>", **fields)  # type: ignore[arg-type]
        assert first is not None and again is None
        store.update_claim(first, NOW, status="drafted", delivery="done", note="put in Drafts")
        claim = store.claim(first)
        assert claim is not None and claim.status == "drafted" and claim.delivery == "done"
        assert [status for _, status, _ in store.claim_history(first)] == ["queued", "drafted"]
        assert claim.to_json()["status"] == "drafted"


def test_a_full_disk_is_a_clear_error_and_leaves_the_file_whole(tmp_path: Path) -> None:
    """The file-size limit plays the full disk: SQLite's writes fail as they would with no space left."""
    import subprocess
    import sys
    import textwrap

    path = tmp_path / "lateclaim.db"
    with Store(path) as store:
        store.ingest("INBOX", 7, 1, result("first@example.com"), "1", NOW)
    script = textwrap.dedent(f"""
        import resource, signal, sys
        sys.path.insert(0, {str(Path(__file__).parents[1])!r})
        from tests.test_store import result, NOW
        from daemon.errors import StoreError
        from daemon.state.store import Store
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # a failed write, not a killed process
        from pathlib import Path
        with Store(Path({str(path)!r})) as store:
            resource.setrlimit(resource.RLIMIT_FSIZE, (0, 0))
            try:
                for n in range(200):
                    store.ingest("INBOX", 7, 2 + n, result(f"more-{{n}}@example.com"), "1", NOW)
            except StoreError as exc:
                print(exc)
                sys.exit(3)
    """)
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=60, check=False)
    assert done.returncode == 3, done.stderr
    assert f"state file {path}" in done.stdout
    with Store(path) as store:  # the file is whole: what was committed is there, nothing else
        assert store.db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        counts = store.message_counts()["parsed"]
        assert counts >= 1
        assert len(store.sightings()) == counts


def test_a_readonly_store_creates_nothing_and_reads_everything(tmp_path: Path) -> None:
    path = tmp_path / "lateclaim.db"
    with pytest.raises(StoreError, match="there is none yet"):
        Store(path, readonly=True)
    assert not path.exists()
    with Store(path) as store:
        store.ingest("INBOX", 7, 1, result(), "1", NOW)
    with Store(path, readonly=True) as store:
        assert len(store.sightings()) == 1
        with pytest.raises(StoreError, match="readonly"):
            store.ingest("INBOX", 7, 2, result("other@example.com"), "1", NOW)


@pytest.mark.skipif(os.getuid() != 0, reason="only root can hand a file to another user (CI runs as root)")
def test_root_leaves_the_state_files_to_their_owner(tmp_path: Path) -> None:
    path = tmp_path / "lateclaim.db"
    with Store(path) as store:
        store.ingest("INBOX", 7, 1, result(), "1", NOW)
    os.chown(path, 65534, 65534)  # the service's dynamic user, say
    for readonly in (True, False):
        with Store(path, readonly=readonly) as store:
            assert len(store.sightings()) == 1
            for sidecar in tmp_path.glob("lateclaim.db-*"):
                assert (sidecar.stat().st_uid, sidecar.stat().st_gid) == (65534, 65534), sidecar.name


# -- migrations ------------------------------------------------------------------------------------------

SCRIPTED = (
    """
    CREATE TABLE notes (id INTEGER PRIMARY KEY, text TEXT NOT NULL);  -- a comment; with a semicolon
    CREATE TABLE log (text TEXT NOT NULL);
    """,
    """
    INSERT INTO notes (text) VALUES ('one; two');
    CREATE TRIGGER notes_logged AFTER INSERT ON notes BEGIN
        INSERT INTO log (text) VALUES (new.text);
        INSERT INTO log (text) VALUES ('again');
    END;
    """,
)


def test_a_migration_is_one_script_whatever_semicolons_it_holds(tmp_path: Path) -> None:
    db = sqlite3.connect(tmp_path / "s.db", isolation_level=None)
    migrate(db, SCRIPTED)
    assert db.execute("PRAGMA user_version").fetchone()[0] == 2
    db.execute("INSERT INTO notes (text) VALUES ('three')")
    assert [r[0] for r in db.execute("SELECT text FROM notes ORDER BY id")] == ["one; two", "three"]
    assert [r[0] for r in db.execute("SELECT text FROM log")] == ["three", "again"]
    migrate(db, SCRIPTED)  # at its version already: nothing runs twice
    assert db.execute("SELECT count(*) FROM notes").fetchone()[0] == 2


def test_a_failing_migration_leaves_the_file_at_the_version_before_it(tmp_path: Path) -> None:
    db = sqlite3.connect(tmp_path / "s.db", isolation_level=None)
    broken = (SCRIPTED[0], "ALTER TABLE notes ADD COLUMN kept TEXT; INSERT INTO nowhere VALUES (1);")
    with pytest.raises(sqlite3.OperationalError, match="no such table: nowhere"):
        migrate(db, broken)
    assert not db.in_transaction
    assert db.execute("PRAGMA user_version").fetchone()[0] == 1
    assert [r[1] for r in db.execute("PRAGMA table_info(notes)")] == ["id", "text"]  # the ALTER was rolled back
    migrate(db, SCRIPTED)
    assert db.execute("PRAGMA user_version").fetchone()[0] == 2
