"""Gmail's words reach the user: a refused login is shown in the server's own words (exit message, doctor, log),
a wrong password is said as such, a limit reached makes `lateclaim run` wait an hour, and the client says who it
is with IMAP ID. The refusals come from the real Dovecot (a passdb that refuses with a reason)."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
from pathlib import Path

import pytest
from imapclient.exceptions import LoginError

from daemon.errors import MailboxError
from daemon.mail.imap import ImapMailbox, ImapSettings, server_words
from tests import lateclaim_setup as setup
from tests.servers.dovecot import REFUSALS, Account, Dovecot

TOO_MANY = REFUSALS["toomany"]


def settings(account: Account, password: str | None = None) -> ImapSettings:
    return ImapSettings("127.0.0.1", account.tls_port, "tls", account.username,
                        account.password if password is None else password, ca_file=account.ca_file)


def refusal(account: Account, password: str | None = None) -> MailboxError:
    with pytest.raises(MailboxError) as info, ImapMailbox(settings(account, password)):
        pass
    return info.value


@pytest.mark.parametrize(("line", "code", "long"), [
    ("b'[ALERT] Too many simultaneous connections. (Failure)'", "ALERT", True),
    ("b'[OVERQUOTA] Account exceeded command or bandwidth limits. (Failure)'", "OVERQUOTA", True),
    ("b'[THROTTLED] Account exceeded command or bandwidth limits.'", "THROTTLED", True),
    ("b'[UNAVAILABLE] Temporary System Error'", "UNAVAILABLE", False),
    ("b'[AUTHENTICATIONFAILED] Invalid credentials (Failure)'", "AUTHENTICATIONFAILED", False),
    ("b'[ALERT] Please log in via your web browser (Failure)'", "ALERT", False),
    ("b'Too many simultaneous connections.'", "", True),
])
def test_the_servers_line_is_read_whole(line: str, code: str, long: bool) -> None:
    found_code, words = server_words(LoginError(line))
    assert found_code == code
    assert words == line[2:-1]  # as the server wrote it, code included
    assert MailboxError("x", found_code, words).refused_for_long is long


def test_a_refusal_for_too_many_connections_is_quoted_and_is_a_limit(dovecot: Dovecot) -> None:
    error = refusal(dovecot.refused_account("toomany"))
    assert TOO_MANY in str(error) and error.server_says.endswith(TOO_MANY)
    assert error.refused_for_long
    assert "password" not in str(error)  # not "check the password": that is not what the server said


def test_another_refusal_is_quoted_and_is_no_limit(dovecot: Dovecot) -> None:
    error = refusal(dovecot.refused_account("weblogin"))
    assert REFUSALS["weblogin"] in str(error)
    assert not error.refused_for_long


def test_a_wrong_password_is_said_as_such(imap_account: Account) -> None:
    error = refusal(imap_account, password="not-it-77")
    assert "wrong user name or password" in str(error) and error.code == "AUTHENTICATIONFAILED"
    assert "not-it-77" not in str(error)
    assert not error.refused_for_long


def test_the_client_says_who_it_is_with_imap_id(dovecot: Dovecot, imap_account: Account) -> None:
    with ImapMailbox(settings(imap_account)):
        pass
    assert "ID" in dovecot.commands(imap_account.username)
    rawlog = b"".join(p.read_bytes() for p in (dovecot.root / "rawlog" / imap_account.username).glob("*.in"))
    assert b'ID ("name" "lateclaim" "version" "' in rawlog


def test_the_command_line_and_doctor_show_the_servers_words(tmp_path: Path, dovecot: Dovecot) -> None:
    config = setup.write_config(tmp_path, dovecot.refused_account("toomany"))
    synced = setup.lateclaim("sync", "--once", "--config", str(config))
    assert synced.returncode == 1 and TOO_MANY in synced.stderr
    doctor = setup.lateclaim("doctor", "--config", str(config))
    assert doctor.returncode == 1 and TOO_MANY in doctor.stdout + doctor.stderr


def test_run_waits_an_hour_after_a_limit_instead_of_exiting(tmp_path: Path, dovecot: Dovecot) -> None:
    """Exiting would have systemd restart it into the same refusal every 30 s."""
    config = setup.write_config(tmp_path, dovecot.refused_account("toomany"), mailbox={"poll_interval": 60})
    log = tmp_path / "run.log"
    before = _logins(dovecot, "refused-toomany")
    process = subprocess.Popen([sys.executable, "-m", "daemon.cli", "run", "--config", str(config)],
                               stdout=subprocess.DEVNULL, stderr=log.open("w"))
    try:
        setup.wait_for(lambda: '"sync_refused"' in log.read_text(), 30, "the refusal to be logged")
        event = next(json.loads(line[line.index("{"):]) for line in log.read_text().splitlines()
                     if '"sync_refused"' in line)  # after the journal priority prefix, "<3>"
        assert event["server_says"].endswith(TOO_MANY)
        assert event["retry_in"] >= 3600
        setup.wait_for(lambda: _logins(dovecot, "refused-toomany") > before, 10, "Dovecot to log the refusal")
        assert process.poll() is None  # still running, quietly
    finally:
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=30) == 0
    # The IDLE watcher, which used to connect right after the first sync, kept quiet too: one login in all.
    assert _logins(dovecot, "refused-toomany") == before + 1


def _logins(dovecot: Dovecot, user: str) -> int:
    info = dovecot.root / "log" / "dovecot.info.log"
    text = info.read_text(errors="replace") if info.exists() else ""
    return sum(1 for line in text.splitlines() if f"user=<{user}>" in line and "imap-login" in line)
