"""A start that fails after the sign-in (issue 19, item 7) is reported and retried, never an exit into systemd's
restart loop: the service says READY=1 with the failure in STATUS=, stays up, and the next attempt succeeds once
the cause is gone. The failure here is a state file lateclaim cannot use (written by a newer version, say, or
on a full or read-only disk): the same path as any StoreError after the mailbox took the password."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from daemon.state.store import SCHEMA_VERSION, Store
from tests import lateclaim_setup as setup
from tests.servers.dovecot import Account, Dovecot
from tests.test_readiness import running


def test_a_state_file_failing_after_the_sign_in_is_retried_with_the_service_up(
    dovecot: Dovecot, imap_account: Account, tmp_path: Path
) -> None:
    setup.deliver_samples(dovecot, imap_account)
    config = setup.write_config(tmp_path, imap_account, mailbox={"poll_interval": 3600})
    state = tmp_path / "state" / "lateclaim.db"
    with Store(state):
        pass
    with sqlite3.connect(state) as db:
        db.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")  # unusable until put back
    with running(config, tmp_path) as (process, notifications, log):
        seen = notifications.until("READY=1")
        status = next(line for line in seen if line.startswith("STATUS=Signed in, but the first pass failed"))
        assert "newer lateclaim" in status
        assert process.poll() is None  # up, not exited into a restart loop
        with sqlite3.connect(state) as db:
            db.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")
        after = notifications.until("WATCHDOG=1")  # the retry's pass (5 s later) reports it synced
        while not any(line.startswith("STATUS=Synced") for line in after):
            after += notifications.until("WATCHDOG=1")
        assert process.poll() is None
    assert '"event": "sync_failed"' in log.read_text()
