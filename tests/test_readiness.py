"""When `lateclaim run` tells systemd it is up, and what a failure does before and after that moment.

READY=1 comes once the first login and the first reading of the mailbox are done: a wrong password fails the
start, and mail is never reported read before it is stored. Deciding and delivering come after READY=1, so a
failure there (an SMTP password file not there yet) leaves the service up and is retried like any later pass.
"""

from __future__ import annotations

import json
import os
import re
import signal
import socket
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from daemon.commands.demo import SAMPLE_MAILBOX
from daemon.service import PROGRESS_EVERY, START_EXTENSION_S
from tests import lateclaim_setup as setup
from tests.servers.dovecot import Account, Dovecot
from tests.servers.smtp import SmtpServer

DRAFTS = "[Gmail]/Drafts"
RETAILER = "claims@retailer.example"


class Notifications:
    """The service manager's end of NOTIFY_SOCKET: every datagram `lateclaim run` sends, in order."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.socket = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self.socket.bind(str(path))
        self.socket.settimeout(60)

    def until(self, line: str) -> list[str]:
        """Every line received, up to and including the datagram that carries `line`."""
        seen: list[str] = []
        while line not in seen:
            seen += self.socket.recv(8192).decode().splitlines()
        return seen


@contextmanager
def running(config: Path, tmp_path: Path) -> Iterator[tuple[subprocess.Popen[bytes], Notifications, Path]]:
    notifications = Notifications(tmp_path / "notify.sock")
    log = tmp_path / "run.log"
    process = subprocess.Popen([sys.executable, "-m", "daemon.cli", "run", "--config", str(config)],
                               env={**os.environ, "NOTIFY_SOCKET": str(notifications.path)},
                               stdout=subprocess.DEVNULL, stderr=log.open("w"))
    try:
        yield process, notifications, log
    finally:
        process.send_signal(signal.SIGCONT)
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=40)
        except subprocess.TimeoutExpired:
            process.kill()
            raise
        finally:
            notifications.socket.close()


def orders(config: Path) -> list[dict[str, object]]:
    done = setup.lateclaim("orders", "--json", "--config", str(config))
    assert done.returncode == 0, done.stderr
    rows: list[dict[str, object]] = json.loads(done.stdout)
    return rows


def test_ready_comes_once_the_mail_is_read_and_the_claims_follow(
    dovecot: Dovecot, imap_account: Account, tmp_path: Path
) -> None:
    setup.deliver_samples(dovecot, imap_account)
    config = setup.write_config(tmp_path, imap_account, mailbox={"poll_interval": 3600})
    with running(config, tmp_path) as (process, notifications, _):
        lines = notifications.until("READY=1")
        process.send_signal(signal.SIGSTOP)  # held right at READY=1: what is stored by then?
        [started] = [line for line in lines if line.startswith("STATUS=Started: ")]
        assert re.fullmatch(r"STATUS=Started: [1-9]\d* new messages read", started)
        assert {row["order_id"] for row in orders(config)} >= {"171-5302846-9915233", "203-8841957-6620374"}
        process.send_signal(signal.SIGCONT)
        setup.wait_for(lambda: len(dovecot.messages(imap_account.username, DRAFTS)) == 2, 30,
                       "the claims, drafted after READY=1")
        assert any(line.startswith("STATUS=Synced at") for line in notifications.until("WATCHDOG=1"))
        assert process.poll() is None


def test_a_long_first_reading_asks_systemd_for_more_time_before_ready(
    dovecot: Dovecot, imap_account: Account, tmp_path: Path
) -> None:
    """Years of Amazon mail take longer to read than TimeoutStartSec (120 s) on a slow line: progress extends it."""
    sample = (SAMPLE_MAILBOX / "05_fr_expedie_lampe.eml").read_bytes()
    for n in range(PROGRESS_EVERY + 20):
        dovecot.deliver(imap_account.username, re.sub(rb"Message-ID: <[^>]+>",
                                                      f"Message-ID: <copy-{n}@amazon.fr>".encode(), sample))
    config = setup.write_config(tmp_path, imap_account, mailbox={"poll_interval": 3600})
    with running(config, tmp_path) as (_, notifications, _):
        lines = notifications.until("READY=1")
    extension = lines.index(f"EXTEND_TIMEOUT_USEC={START_EXTENSION_S * 1_000_000}")
    assert lines[extension + 1] == f"STATUS=First reading of the mailbox: {PROGRESS_EVERY} messages so far"
    assert extension < lines.index("READY=1")
    assert f"STATUS=Started: {PROGRESS_EVERY + 20} new messages read" in lines


def test_a_failure_after_ready_keeps_the_service_up_and_is_retried(
    dovecot: Dovecot, imap_account: Account, smtp_server: SmtpServer, tmp_path: Path
) -> None:
    setup.deliver_samples(dovecot, imap_account)
    config = setup.write_config(tmp_path, imap_account, smtp_server, mailbox={"poll_interval": 3600},
                                claims={"mode": "send", "to": RETAILER})
    password = tmp_path / "smtp-password"
    kept = password.read_text()
    password.unlink()  # the user has not written it yet
    with running(config, tmp_path) as (process, notifications, log):
        notifications.until("READY=1")
        setup.wait_for(lambda: '"event": "sync_failed"' in log.read_text(), 30, "the failed delivery to be logged")
        assert "smtp password" in log.read_text() and process.poll() is None
        assert smtp_server.messages == []
        password.write_text(kept)
        setup.wait_for(lambda: len(smtp_server.messages) == 2, 60, "the retry to send both claims")
        assert process.poll() is None
    assert process.returncode == 0
    assert sorted(message.rcpt_tos[0] for message in smtp_server.messages) == [RETAILER, RETAILER]
    statuses = setup.lateclaim("claims", "list", "--json", "--config", str(config))
    assert {claim["status"] for claim in json.loads(statuses.stdout)} == {"sent"}


def test_a_wrong_password_ends_the_start_before_ready(imap_account: Account, tmp_path: Path) -> None:
    config = setup.write_config(tmp_path, imap_account)
    (tmp_path / "imap-password").write_text("not-the-password")
    with running(config, tmp_path) as (process, notifications, log):
        assert process.wait(timeout=60) == 1
        notifications.socket.settimeout(0)
        received = []
        try:
            while True:
                received.append(notifications.socket.recv(8192))
        except BlockingIOError:
            pass
        assert not any(b"READY=1" in datagram for datagram in received)
        assert "login failed" in log.read_text()
