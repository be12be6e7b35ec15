"""lateclaim changes only its own state file: whatever else `state.path` names is refused and left as it was."""

from __future__ import annotations

import hashlib
import shutil
import sqlite3
import stat
from collections.abc import Callable
from pathlib import Path

import pytest

from daemon.cli import main
from daemon.errors import StoreError
from daemon.state.statefile import APPLICATION_ID
from daemon.state.store import MIGRATIONS, SCHEMA_VERSION, Store


def a_program(path: Path) -> None:
    shutil.copyfile(shutil.which("true") or "/bin/true", path)
    path.chmod(0o755)


def a_text_file(path: Path) -> None:
    path.write_text("# my notes\nnothing to do with lateclaim\n")
    path.chmod(0o644)


def another_database(path: Path) -> None:
    db = sqlite3.connect(path)
    db.execute("CREATE TABLE notes (id INTEGER PRIMARY KEY, text TEXT)")
    db.execute("INSERT INTO notes (text) VALUES ('keep me')")
    db.commit()
    db.close()
    path.chmod(0o644)


def another_stamped_database(path: Path) -> None:
    """Another application's database, even one with tables named as lateclaim's, is still not lateclaim's."""
    db = sqlite3.connect(path)
    db.execute("PRAGMA application_id = 1234")
    for table in ("folders", "messages", "events", "claims", "claim_history"):
        db.execute(f"CREATE TABLE {table} (x)")
    db.commit()
    db.close()
    path.chmod(0o640)


def a_directory(path: Path) -> None:
    path.mkdir(mode=0o755)
    (path / "inside.txt").write_text("x")


def an_empty_file(path: Path) -> None:
    path.touch(mode=0o644)
    path.chmod(0o644)


NOT_OURS: dict[str, Callable[[Path], None]] = {
    "program": a_program, "text": a_text_file, "sqlite": another_database, "stamped": another_stamped_database,
    "directory": a_directory, "empty": an_empty_file,
}

COMMANDS = [
    ["orders"], ["orders", "--json"], ["claims", "list"], ["claims", "show", "1"], ["claims", "approve", "1"],
    ["claims", "reject", "1"], ["claims", "resolve", "1", "--outcome", "granted"], ["claims", "send", "1"],
    ["stats"], ["doctor"], ["sync", "--once"], ["sync"], ["backfill", "--since", "2026-01-01"], ["run"],
    ["report", "--output", "{tmp}/report.html"], ["claims", "next", "1"],
    ["claims", "letter", "1", "--pdf", "{tmp}/l.pdf"],
    ["claims", "open", "171-5302846-9915233", "--not-received"], ["orders", "arrived", "171-5302846-9915233"],
]


def fingerprint(path: Path) -> tuple[object, ...]:
    """Mode, size, content, and every file beside it (no -wal, -shm or journal may appear)."""
    info = path.stat()
    if path.is_dir():
        content = sorted((p.name, p.read_bytes()) for p in path.iterdir())
    else:
        content = [hashlib.sha256(path.read_bytes()).hexdigest()]
    beside = sorted(p.name for p in path.parent.iterdir())
    return stat.S_IMODE(info.st_mode), info.st_size, info.st_mtime_ns, content, beside


def config_for(tmp_path: Path, state: Path) -> Path:
    """A complete configuration whose mailbox is a closed loopback port: nothing may get that far anyway."""
    (tmp_path / "pw").write_text("secret\n")
    (tmp_path / "pw").chmod(0o600)
    config = tmp_path / "config.toml"
    config.write_text(f'[mailbox]\nhost = "127.0.0.1"\nport = 9\nusername = "u@example.com"\n'
                      f'password_file = "{tmp_path / "pw"}"\n[state]\npath = "{state}"\n'
                      '[claims]\nto = "c@example.com"\n')
    return config


@pytest.mark.parametrize("kind", sorted(NOT_OURS))
def test_every_command_refuses_a_state_path_that_is_not_lateclaims_and_changes_nothing(
    kind: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    state = tmp_path / "data" / "target"
    state.parent.mkdir()
    NOT_OURS[kind](state)
    config = config_for(tmp_path, state)
    before = fingerprint(state)
    for command in COMMANDS:
        argv = [part.format(tmp=tmp_path) for part in command]
        status = main([*argv, "--config", str(config)])
        out, err = capsys.readouterr()
        assert status == 1, (argv, out, err)
        assert f"state file {state}" in out + err, (argv, out, err)
        assert "not a lateclaim state file" in out + err or "cannot" in out + err, (argv, out, err)
        assert "lateclaim sync" not in out + err, (argv, err)  # that would advise writing into it
        assert fingerprint(state) == before, argv
    assert not (tmp_path / "report.html").exists() and not (tmp_path / "l.pdf").exists()


@pytest.mark.parametrize("kind", ["program", "sqlite", "directory"])
def test_the_demo_refuses_a_directory_whose_state_file_is_not_lateclaims(
    kind: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    state = tmp_path / "lateclaim.db"
    NOT_OURS[kind](state)
    before = fingerprint(state)
    assert main(["demo", "--keep", str(tmp_path)]) == 1
    assert "not a lateclaim state file" in capsys.readouterr().err
    assert fingerprint(state) == before


def test_the_messages_say_what_the_file_is(tmp_path: Path) -> None:
    expected = {"program": "not an SQLite database", "text": "not an SQLite database",
                "sqlite": "without lateclaim's tables", "stamped": "another application's SQLite database",
                "directory": "is a directory", "empty": "is an empty file"}
    for kind, words in expected.items():
        path = tmp_path / kind
        NOT_OURS[kind](path)
        for readonly in (True, False):
            with pytest.raises(StoreError, match=words):
                Store(path, readonly=readonly)


def first_version_file(path: Path) -> None:
    """A state file as the first lateclaim wrote it: its tables, its schema version, no application_id."""
    db = sqlite3.connect(path, isolation_level=None)
    db.execute("PRAGMA journal_mode = WAL")
    db.executescript(MIGRATIONS[0])
    db.execute("PRAGMA user_version = 1")
    db.execute("INSERT INTO folders VALUES ('INBOX', 7, 42, '2026-11-01T00:00:00+00:00')")
    db.close()


def header_application_id(path: Path) -> int:
    return int.from_bytes(path.read_bytes()[68:72], "big")


def test_a_state_file_of_the_first_version_is_accepted_migrated_and_stamped(tmp_path: Path) -> None:
    path = tmp_path / "lateclaim.db"
    first_version_file(path)
    assert header_application_id(path) == 0
    with pytest.raises(StoreError, match="run `lateclaim sync` once"):  # its own, so that advice is right
        Store(path, readonly=True)
    with Store(path) as store:
        assert store.schema_version == SCHEMA_VERSION
        assert store.cursor("INBOX").last_uid == 42
    assert header_application_id(path) == APPLICATION_ID
    with Store(path, readonly=True) as store:
        assert store.cursor("INBOX").last_uid == 42


def test_a_new_state_file_is_stamped_and_leaves_nothing_beside_it(tmp_path: Path) -> None:
    path = tmp_path / "state" / "lateclaim.db"
    with Store(path):
        pass
    assert header_application_id(path) == APPLICATION_ID
    assert sorted(p.name for p in path.parent.iterdir()) == ["lateclaim.db"]
    assert stat.S_IMODE(path.stat().st_mode) == 0o600


def test_doctor_reports_a_missing_state_file_without_creating_it(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    state = tmp_path / "new" / "lateclaim.db"
    main(["doctor", "--config", str(config_for(tmp_path, state))])
    out = capsys.readouterr().out
    assert "does not exist yet: the first sync creates it" in out
    assert not state.exists() and not state.parent.exists()


def test_files_named_on_the_command_line_are_replaced_only_when_lateclaim_wrote_them(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """`claims letter --pdf FILE` and `report --output FILE` never overwrite a file of the user's (a typo as root)."""
    assert main(["demo", "--keep", str(tmp_path / "demo")]) == 0
    config = tmp_path / "demo" / "config.toml"
    config.write_text(config.read_text().replace(
        "[claims]\n", '[claims]\npostal_address = ["12 rue des Lilas", "75011 Paris"]\nsignature = "Camille"\n'))
    mine = tmp_path / "notes.txt"
    for kind in ("program", "text", "sqlite"):
        NOT_OURS[kind](mine)
        before = fingerprint(mine)
        for argv in (["claims", "letter", "2", "--pdf", str(mine)], ["report", "--output", str(mine)]):
            assert main([*argv, "--config", str(config)]) == 2, argv
            assert "lateclaim replaces only" in capsys.readouterr().err
            assert fingerprint(mine) == before, argv
        mine.unlink()
    letter = tmp_path / "letter.pdf"
    for _ in range(2):  # its own letter, it replaces
        assert main(["claims", "letter", "2", "--pdf", str(letter), "--config", str(config)]) == 0
    assert letter.read_bytes().startswith(b"%PDF-")
