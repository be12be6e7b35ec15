"""`lateclaim run` as a process against the real Dovecot: IDLE brings mail in, SIGHUP reloads, faults heal."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from daemon.commands.demo import SAMPLE_MAILBOX
from tests import lateclaim_setup as setup
from tests.servers.dovecot import Account, Dovecot


class Daemon:
    def __init__(self, config: Path, log: Path) -> None:
        self.log = log
        self.process = subprocess.Popen([sys.executable, "-m", "daemon.cli", "run", "--config", str(config)],
                                        stdout=subprocess.DEVNULL, stderr=log.open("w"))

    def logged(self, text: str) -> bool:
        return text in self.log.read_text()


@pytest.fixture
def daemon(tmp_path: Path, dovecot: Dovecot, imap_account: Account) -> Iterator[Daemon]:
    for name in ("04_fr_commande_lampe.eml", "05_fr_expedie_lampe.eml"):
        dovecot.deliver(imap_account.username, (SAMPLE_MAILBOX / name).read_bytes())
    config = setup.write_config(tmp_path, imap_account, mailbox={"poll_interval": 3600})
    running = Daemon(config, tmp_path / "daemon.log")
    try:
        setup.wait_for(lambda: running.logged('"event": "watching"'), 20, "the first sync and the IDLE watcher")
        yield running
    finally:
        if running.process.poll() is None:
            running.process.send_signal(signal.SIGTERM)
            try:
                running.process.wait(timeout=40)
            except subprocess.TimeoutExpired:
                os.kill(running.process.pid, signal.SIGKILL)


def delivered(config: Path) -> bool:
    """Whether the state file knows the lamp was delivered (read through the command line, as a user would)."""
    done = subprocess.run([sys.executable, "-m", "daemon.cli", "orders", "--json", "--config", str(config)],
                          capture_output=True, text=True, timeout=30, check=False)
    return '"delivered_on": "2026-11-19"' in done.stdout


def test_new_mail_is_synced_through_idle_without_waiting_for_the_poll(
    daemon: Daemon, dovecot: Dovecot, imap_account: Account, tmp_path: Path
) -> None:
    assert not delivered(tmp_path / "config.toml")
    dovecot.deliver(imap_account.username, (SAMPLE_MAILBOX / "06_fr_livre_lampe.eml").read_bytes())
    setup.wait_for(lambda: daemon.logged('"event": "new_mail"'), 20, "IDLE to report the new mail")
    setup.wait_for(lambda: delivered(tmp_path / "config.toml"), 20, "the delivery email to be synced")


def test_a_dropped_connection_is_reopened(
    daemon: Daemon, dovecot: Dovecot, imap_account: Account, tmp_path: Path
) -> None:
    dovecot.kick(imap_account.username)
    setup.wait_for(lambda: daemon.logged('"event": "watch_interrupted"'), 20, "the watcher to notice")
    dovecot.deliver(imap_account.username, (SAMPLE_MAILBOX / "06_fr_livre_lampe.eml").read_bytes())
    setup.wait_for(lambda: delivered(tmp_path / "config.toml"), 40, "a sync after reconnecting")
    # The sync's own kept session was ended too: it reconnects at once, and no false failure is reported.
    assert daemon.logged('"event": "reconnecting"') and not daemon.logged('"event": "sync_failed"')


def test_sighup_keeps_the_old_config_when_the_new_one_is_broken(daemon: Daemon, tmp_path: Path) -> None:
    config = tmp_path / "config.toml"
    good = config.read_text()
    config.write_text(good.replace("poll_interval = 3600", "poll_interval = \"often\""))
    daemon.process.send_signal(signal.SIGHUP)
    setup.wait_for(lambda: daemon.logged('"event": "reload_refused"'), 20, "the refusal")
    assert daemon.logged("mailbox.poll_interval")
    config.write_text(good)
    daemon.process.send_signal(signal.SIGHUP)
    setup.wait_for(lambda: daemon.logged('"event": "config_reloaded"'), 20, "the reload")
    assert daemon.process.poll() is None
    daemon.process.send_signal(signal.SIGTERM)
    assert daemon.process.wait(timeout=40) == 0


def test_a_wrong_password_fails_the_start_visibly(tmp_path: Path, imap_account: Account) -> None:
    config = setup.write_config(tmp_path, imap_account)
    (tmp_path / "imap-password").write_text("wrong-password-123")
    done = subprocess.run([sys.executable, "-m", "daemon.cli", "run", "--config", str(config)],
                          capture_output=True, text=True, timeout=60, check=False)
    assert done.returncode == 1
    assert f"login failed for {imap_account.username}" in done.stderr
    assert "wrong-password-123" not in done.stderr + done.stdout


def test_the_server_restarting_is_survived(tmp_path: Path) -> None:
    """A Dovecot of this test's own is stopped and started again on the same port while lateclaim runs."""
    root = Path(tempfile.mkdtemp(prefix="lateclaim-dovecot-"))  # see the dovecot fixture: not under pytest's
    server = Dovecot(root).start()
    try:
        account = server.new_account()
        server.deliver(account.username, (SAMPLE_MAILBOX / "04_fr_commande_lampe.eml").read_bytes())
        config = setup.write_config(tmp_path, account, mailbox={"poll_interval": 3600})
        running = Daemon(config, tmp_path / "daemon.log")
        try:
            setup.wait_for(lambda: running.logged('"event": "watching"'), 20, "the first sync")
            server.stop()
            setup.wait_for(lambda: running.logged('"event": "watch_interrupted"'), 40, "the watcher to notice")
            server.start()
            server.deliver(account.username, (SAMPLE_MAILBOX / "06_fr_livre_lampe.eml").read_bytes())
            setup.wait_for(lambda: delivered(config), 60, "the delivery email, synced after the restart")
            assert running.process.poll() is None
        finally:
            running.process.send_signal(signal.SIGTERM)
            running.process.wait(timeout=40)
    finally:
        server.stop()
        shutil.rmtree(root, ignore_errors=True)
