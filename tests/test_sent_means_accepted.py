"""Sent means accepted (issue 19, item 1): the SMTP server's reply to the message itself decides. A refusal
(5xx) is `refused` with the server's words; a deferral (4xx) is tried again after a pause, as often as it takes;
`claims send` the same. And the server's own words when it refuses the login (Gmail's 534-5.7.9)."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from tests import lateclaim_setup as setup
from tests.servers.dovecot import Account, Dovecot
from tests.servers.smtp import APP_PASSWORD_REFUSAL, APP_PASSWORD_USER, SmtpServer

RETAILER = "claims@retailer.example"
NOW = datetime.fromisoformat("2026-11-24T12:00:00+01:00")
SENT = "[Gmail]/Sent Mail"


@contextmanager
def clock_at(moment: datetime) -> Iterator[None]:
    """lateclaim's clock for the commands run inside (daemon.clock: LATECLAIM_NOW)."""
    os.environ["LATECLAIM_NOW"] = moment.isoformat()
    try:
        yield
    finally:
        del os.environ["LATECLAIM_NOW"]


def send_config(tmp_path: Path, account: Account, smtp: SmtpServer, mode: str = "send", **smtp_options: Any) -> str:
    return str(setup.write_config(tmp_path, account, smtp, smtp_options=smtp_options,
                                  claims={"from": f"{account.username}@example.com", "mode": mode, "to": RETAILER}))


def claims(config: str) -> list[dict[str, Any]]:
    done = setup.lateclaim("claims", "list", "--json", "--config", config)
    assert done.returncode == 0, done.stderr
    return list(json.loads(done.stdout))


def test_a_message_refused_after_data_is_refused_with_the_servers_words_and_never_retried(
    dovecot: Dovecot, imap_account: Account, smtp_server: SmtpServer, tmp_path: Path
) -> None:
    setup.deliver_samples(dovecot, imap_account)
    config = send_config(tmp_path, imap_account, smtp_server)
    smtp_server.sink.reply = "554 5.7.1 Message rejected as spam"
    with clock_at(NOW):
        assert setup.lateclaim("sync", "--once", "--config", config).returncode == 0
    listed = claims(config)
    assert listed and {c["status"] for c in listed} == {"refused"}  # not `sent`: the server did not take it
    refused_once = len(smtp_server.sink.refused)
    assert refused_once == len(listed) and smtp_server.messages == []
    shown = setup.lateclaim("claims", "show", str(listed[0]["id"]), "--config", config)
    assert "554 5.7.1 Message rejected as spam" in shown.stdout
    assert dovecot.messages(imap_account.username, SENT) == []  # no Sent copy of what never left
    with clock_at(NOW + timedelta(days=1)):
        assert setup.lateclaim("sync", "--once", "--config", config).returncode == 0
    assert len(smtp_server.sink.refused) == refused_once  # a refusal is the user's to look at, not retried

    smtp_server.sink.reply = "250 OK"  # the user fixed the cause, and sends it again
    with clock_at(NOW + timedelta(days=1)):
        again = setup.lateclaim("claims", "send", str(listed[0]["id"]), "--again", "--config", config)
    assert again.returncode == 0, again.stderr
    assert again.stdout.strip() == f"claim {listed[0]['id']}: sent" and len(smtp_server.messages) == 1


def test_a_deferred_message_is_tried_again_after_a_growing_pause_until_accepted(
    dovecot: Dovecot, imap_account: Account, smtp_server: SmtpServer, tmp_path: Path
) -> None:
    setup.deliver_samples(dovecot, imap_account)
    config = send_config(tmp_path, imap_account, smtp_server)
    smtp_server.sink.reply = "451 4.3.0 Temporary failure, try again later"
    tries = []
    for minutes in (0, 1, 6, 8, 17):  # pauses of 5 then 10 minutes: tried at 0, 6 and 17
        with clock_at(NOW + timedelta(minutes=minutes)):
            assert setup.lateclaim("sync", "--once", "--config", config).returncode == 0
        tries.append(len(smtp_server.sink.refused))
        assert {c["status"] for c in claims(config)} == {"queued"}
    letters = len(claims(config))
    assert tries == [letters, letters, 2 * letters, 2 * letters, 3 * letters]
    smtp_server.sink.reply = "250 OK"
    with clock_at(NOW + timedelta(minutes=60)):
        assert setup.lateclaim("sync", "--once", "--config", config).returncode == 0
    assert {c["status"] for c in claims(config)} == {"sent"}
    assert len(smtp_server.messages) == letters  # each once, whatever the deferrals
    assert len({m.content for m in smtp_server.messages}) == letters


def test_claims_send_says_a_refusal_in_the_servers_words(
    dovecot: Dovecot, imap_account: Account, smtp_server: SmtpServer, tmp_path: Path
) -> None:
    setup.deliver_samples(dovecot, imap_account)
    config = send_config(tmp_path, imap_account, smtp_server, mode="review")
    with clock_at(NOW):
        assert setup.lateclaim("sync", "--once", "--config", config).returncode == 0
        first = claims(config)[0]["id"]
        smtp_server.sink.reply = "451 4.7.0 Please try again later"
        deferred = setup.lateclaim("claims", "send", str(first), "--config", config)
        assert deferred.returncode == 1
        assert "451 4.7.0 Please try again later" in deferred.stderr
        assert claims(config)[0]["status"] == "queued"
        smtp_server.sink.reply = "554 5.1.1 No such recipient here"
        refused = setup.lateclaim("claims", "send", str(first), "--config", config)
    assert refused.returncode == 1 and "554 5.1.1 No such recipient here" in refused.stderr
    assert claims(config)[0]["status"] == "refused" and smtp_server.messages == []


def test_gmails_words_are_kept_when_it_refuses_the_login(
    dovecot: Dovecot, imap_account: Account, smtp_server: SmtpServer, tmp_path: Path
) -> None:
    setup.deliver_samples(dovecot, imap_account)
    config = send_config(tmp_path, imap_account, smtp_server, username=APP_PASSWORD_USER)
    with clock_at(NOW):
        done = setup.lateclaim("sync", "--once", "--config", config)
    assert done.returncode == 1
    assert APP_PASSWORD_REFUSAL.split(" ", 1)[1] in done.stderr  # "5.7.9 Application-specific password required..."
    assert {c["status"] for c in claims(config)} == {"queued"}  # nothing went: tried again by the next pass


def test_a_relay_that_is_not_gmails_gets_its_sent_copy_filed(
    dovecot: Dovecot, imap_account: Account, smtp_server: SmtpServer, tmp_path: Path
) -> None:
    setup.deliver_samples(dovecot, imap_account)
    config = send_config(tmp_path, imap_account, smtp_server)  # 127.0.0.1: files_sent = "auto" says it does not
    with clock_at(NOW):
        assert setup.lateclaim("sync", "--once", "--config", config).returncode == 0
    sent = dovecot.messages(imap_account.username, SENT)
    assert len(sent) == len(smtp_server.messages) > 0
