"""The state file under stress: a nearly full disk, a read-only file system, a directory left open to everyone."""

from __future__ import annotations

import os
import shutil
import stat
import subprocess
import sys
import textwrap
from datetime import UTC, datetime
from pathlib import Path

import parsers
from daemon.commands.demo import SAMPLE_MAILBOX
from daemon.state.store import Store
from tests import lateclaim_setup as setup
from tests.servers.dovecot import Account
from tests.test_store import NOW, result

ROOT = Path(__file__).parents[1]


def test_a_long_sync_on_a_nearly_full_disk_records_message_after_message(tmp_path: Path) -> None:
    """No file may grow past 1 MB (the file-size limit plays the nearly full disk). SQLite's default WAL grows to
    4 MB before its first checkpoint: the 40th message or so failed. A bounded WAL lets 800 through."""
    path = tmp_path / "lateclaim.db"
    with Store(path) as store:
        store.ingest("INBOX", 7, 1, result("first@example.com"), "1", NOW)
    script = textwrap.dedent(f"""
        import resource, signal, sys
        sys.path.insert(0, {str(ROOT)!r})
        from pathlib import Path
        from tests.test_store import result, NOW
        from daemon.state.store import Store
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # a failed write, not a killed process
        with Store(Path({str(path)!r})) as store:
            resource.setrlimit(resource.RLIMIT_FSIZE, (1 << 20, 1 << 20))
            for n in range(800):
                store.ingest("INBOX", 7, 2 + n, result(f"more-{{n}}@example.com"), "1", NOW)
    """)
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 0, done.stdout + done.stderr
    with Store(path) as store:
        assert store.message_counts()["parsed"] == 801
        assert store.cursor("INBOX").last_uid == 801


def _state_with_samples(tmp_path: Path) -> Path:
    config = setup.write_config(tmp_path, Account("someone", "pw", "127.0.0.1", 1, 1, "/dev/null"))
    with Store(tmp_path / "state" / "lateclaim.db") as store:
        for uid, sample in enumerate(sorted(SAMPLE_MAILBOX.glob("*.eml")), 1):
            store.ingest("INBOX", 1, uid, parsers.parse(sample.read_bytes()), parsers.PARSER_VERSION,
                         datetime(2026, 11, 24, tzinfo=UTC))
    return config


def test_read_only_commands_work_on_a_read_only_file_system(tmp_path: Path) -> None:
    """The state directory is bind-mounted read-only in a mount namespace of the command's own (unshare), so
    SQLite meets a real EROFS: it cannot make the -shm a WAL database needs."""
    config = _state_with_samples(tmp_path)
    state = tmp_path / "state"
    script = (f"mount --bind {state} {state} && mount -o remount,bind,ro {state} && "
              f"! touch {state}/probe 2>/dev/null && "
              f"for c in 'orders --json' 'claims list' 'stats --json'; do "
              f"{sys.executable} -m daemon.cli $c --config {config} || exit 7; echo '--next--'; done")
    unshare = [shutil.which("unshare") or "unshare", "--mount"]
    if os.getuid() != 0:
        unshare.append("--map-root-user")
    done = subprocess.run([*unshare, "sh", "-c", script], capture_output=True, text=True, timeout=120, check=False,
                          cwd=ROOT)
    assert done.returncode == 0, done.stdout + done.stderr
    orders, claims, stats, _ = done.stdout.split("--next--\n")
    assert "171-5302846-9915233" in orders  # the lamp, read from the read-only file
    assert claims.startswith("No claims")  # nothing evaluated yet: the command ran and said so
    assert '"claims"' in stats
    assert sorted(p.name for p in state.iterdir()) == ["lateclaim.db"]  # nothing was written beside it


def test_a_world_open_directory_of_lateclaims_own_is_tightened(tmp_path: Path) -> None:
    own = tmp_path / "lateclaim"
    own.mkdir(mode=0o777)
    own.chmod(0o777)
    Store(own / "lateclaim.db").close()
    assert stat.S_IMODE(own.stat().st_mode) == 0o700
    # Only the state file and its companions in a directory of another name: lateclaim's too.
    alone = tmp_path / "data"
    alone.mkdir()
    alone.chmod(0o755)
    Store(alone / "state.db").close()
    assert stat.S_IMODE(alone.stat().st_mode) == 0o700


def test_a_shared_directory_is_left_as_it_is(tmp_path: Path) -> None:
    shared = tmp_path / "documents"
    shared.mkdir()
    (shared / "notes.txt").write_text("mine")
    shared.chmod(0o755)
    Store(shared / "lateclaim.db").close()
    assert stat.S_IMODE(shared.stat().st_mode) == 0o755  # the file itself is 0600 all the same
    assert stat.S_IMODE((shared / "lateclaim.db").stat().st_mode) == 0o600
    sticky = tmp_path / "tmp"
    sticky.mkdir()
    sticky.chmod(0o1777)
    Store(sticky / "lateclaim.db").close()
    assert stat.S_IMODE(sticky.stat().st_mode) == 0o1777
