"""Claims end to end on real servers: each mode, the caps, outcomes, and SIGKILL at every delivery step."""

from __future__ import annotations

import email
import json
import subprocess
import threading
from email import policy
from pathlib import Path

import pytest

from tests import lateclaim_setup as setup
from tests.servers.dovecot import Account, Dovecot
from tests.servers.smtp import SmtpServer

AS_OF = "2026-11-24T12:00"
DRAFTS, SENT = "[Gmail]/Drafts", "[Gmail]/Sent Mail"
LATE, UNDELIVERED = "171-5302846-9915233", "203-8841957-6620374"
RETAILER = "claims@retailer.example"


def write_config(tmp_path: Path, account: Account, smtp: SmtpServer | None = None, **claims: object) -> str:
    return str(setup.write_config(tmp_path, account, smtp, claims=claims))


def claims(config: str) -> dict[str, dict[str, object]]:
    done = setup.lateclaim("claims", "list", "--json", "--config", config)
    assert done.returncode == 0, done.stderr
    return {c["order_id"]: c for c in json.loads(done.stdout)}


def sync(config: str, crash_at: str | None = None) -> subprocess.CompletedProcess[str]:
    return setup.lateclaim("sync", "--once", "--config", config, "--as-of", AS_OF, crash_at=crash_at)


def test_review_mode_waits_for_approval_then_sends_one_proper_email(
    dovecot: Dovecot, imap_account: Account, smtp_server: SmtpServer, tmp_path: Path
) -> None:
    setup.deliver_samples(dovecot, imap_account)
    config = write_config(tmp_path, imap_account, smtp_server, mode="review", to=RETAILER)
    assert sync(config).returncode == 0
    queued = claims(config)
    assert {c["status"] for c in queued.values()} == {"queued"}
    assert dovecot.messages(imap_account.username, DRAFTS) == [] and smtp_server.messages == []

    late_id = str(queued[LATE]["id"])
    assert setup.lateclaim("claims", "approve", late_id, "--config", config).returncode == 0
    assert sync(config).returncode == 0
    assert claims(config)[LATE]["status"] == "sent"
    assert claims(config)[UNDELIVERED]["status"] == "queued"
    [sent] = smtp_server.messages
    assert sent.rcpt_tos == [RETAILER]
    letter = email.message_from_bytes(sent.content, policy=policy.default)
    for header in ("From", "To", "Date", "Message-ID", "Subject"):
        assert letter[header], header
    assert letter.get_content_type() == "text/plain" and letter.get_content_charset() == "utf-8"
    assert LATE in letter.get_content()

    rejected = setup.lateclaim("claims", "reject", str(queued[UNDELIVERED]["id"]), "--config", config)
    assert rejected.returncode == 0 and claims(config)[UNDELIVERED]["status"] == "rejected"
    again = setup.lateclaim("claims", "approve", str(queued[UNDELIVERED]["id"]), "--config", config)
    assert again.returncode == 2 and "only a claim that is queued" in again.stderr


def test_send_mode_sends_each_claim_once(
    dovecot: Dovecot, imap_account: Account, smtp_server: SmtpServer, tmp_path: Path
) -> None:
    setup.deliver_samples(dovecot, imap_account)
    config = write_config(tmp_path, imap_account, smtp_server, mode="send", to=RETAILER)
    assert sync(config).returncode == 0
    assert sync(config).returncode == 0
    assert len(smtp_server.messages) == 2
    assert {c["status"] for c in claims(config).values()} == {"sent"}


def test_a_cap_holds_a_claim_queued_with_its_reason(
    dovecot: Dovecot, imap_account: Account, tmp_path: Path
) -> None:
    setup.deliver_samples(dovecot, imap_account)
    config = write_config(tmp_path, imap_account, max_per_day=1)
    assert sync(config).returncode == 0
    found = claims(config)
    statuses = sorted((c["status"], c["held"]) for c in found.values())
    assert statuses[0] == ("drafted", None)
    assert statuses[1][0] == "queued" and "daily cap" in str(statuses[1][1])
    assert len(dovecot.messages(imap_account.username, DRAFTS)) == 1
    # The next day the cap lets it through: it is drafted then, once.
    assert setup.lateclaim("sync", "--once", "--config", config, "--as-of", "2026-11-25T12:00").returncode == 0
    assert sorted(c["status"] for c in claims(config).values()) == ["drafted", "drafted"]
    assert len(dovecot.messages(imap_account.username, DRAFTS)) == 2


def test_a_draft_is_followed_to_its_outcome(dovecot: Dovecot, imap_account: Account, tmp_path: Path) -> None:
    setup.deliver_samples(dovecot, imap_account)
    config = write_config(tmp_path, imap_account)
    assert sync(config).returncode == 0
    drafted = claims(config)[LATE]
    # The user sends the draft from Gmail: Gmail files it in Sent Mail.
    [draft] = [m for m in dovecot.messages(imap_account.username, DRAFTS) if LATE.encode() in m]
    dovecot.deliver(imap_account.username, draft, SENT)
    assert sync(config).returncode == 0
    assert claims(config)[LATE]["status"] == "sent"
    # Amazon answers in the thread.
    message_id = email.message_from_bytes(draft)["Message-ID"]
    reply = (f"{setup.received('amazon.fr')}From: \"Amazon.fr\" <cs-reply@amazon.fr>\r\n"
             f"To: {imap_account.username}@example.com\r\n"
             f"Subject: Re: votre commande\r\nMessage-ID: <reply-1@amazon.fr>\r\nIn-Reply-To: {message_id}\r\n"
             f"Date: Wed, 25 Nov 2026 09:00:00 +0000\r\n\r\nBonjour, nous vous offrons un bon de 5 EUR.\r\n")
    dovecot.deliver(imap_account.username, reply.encode())
    assert sync(config).returncode == 0
    assert claims(config)[LATE]["status"] == "answered"
    done = setup.lateclaim("claims", "resolve", str(drafted["id"]), "--outcome", "granted", "--note", "5 EUR voucher",
                     "--config", config)
    assert done.returncode == 0
    assert claims(config)[LATE]["status"] == "closed"
    stats = json.loads(setup.lateclaim("stats", "--json", "--config", config).stdout)
    assert stats["by_outcome"]["granted"] == 1
    assert stats["granted"][0]["note"] == "5 EUR voucher"


@pytest.mark.parametrize("crash_at", ["message_recorded", "delivery_recorded", "delivery_done"])
def test_a_crash_in_draft_mode_loses_nothing_and_drafts_nothing_twice(
    dovecot: Dovecot, imap_account: Account, tmp_path: Path, crash_at: str
) -> None:
    setup.deliver_samples(dovecot, imap_account)
    config = write_config(tmp_path, imap_account)
    crashed = sync(config, crash_at=crash_at)
    assert crashed.returncode == -9, crashed.stderr  # really killed, at that point
    for _ in range(3):
        assert sync(config).returncode == 0
    drafts = dovecot.messages(imap_account.username, DRAFTS)
    assert len(drafts) == 2
    assert sorted(c["status"] for c in claims(config).values()) == ["drafted", "drafted"]
    orders = json.loads(setup.lateclaim("orders", "--json", "--config", config, "--as-of", AS_OF).stdout)
    assert {o["order_id"]: o["verdict"] for o in orders if o["authenticated"]} == {
        "402-7461938-2058316": "on_time", LATE: "late", UNDELIVERED: "overdue"}


@pytest.mark.parametrize("server_files_sent_mail", [True, False], ids=["like-gmail", "plain-server"])
@pytest.mark.parametrize("crash_at", ["smtp_accepted", "delivery_done"])
def test_a_crash_after_the_server_accepted_sends_nothing_twice(
    dovecot: Dovecot, imap_account: Account, smtp_server: SmtpServer, tmp_path: Path, crash_at: str,
    server_files_sent_mail: bool,
) -> None:
    if server_files_sent_mail:  # Gmail files what its SMTP server sends; elsewhere lateclaim files a copy
        smtp_server.sink.file_in_sent = lambda raw: dovecot.deliver(imap_account.username, raw, SENT)
    setup.deliver_samples(dovecot, imap_account)
    config = send_config(tmp_path, imap_account, smtp_server, files_sent=server_files_sent_mail)
    crashed = sync(config, crash_at=crash_at)
    assert crashed.returncode == -9, crashed.stderr
    for _ in range(3):
        assert sync(config).returncode == 0
    ids = [email.message_from_bytes(m.content)["Message-ID"] for m in smtp_server.messages]
    assert len(ids) == 2 and len(set(ids)) == 2  # never twice
    found = claims(config)
    filed = {email.message_from_bytes(m)["Message-ID"] for m in dovecot.messages(imap_account.username, SENT)}
    if crash_at == "smtp_accepted" and not server_files_sent_mail:
        # Accepted, then killed before its copy was filed: nothing tells whether it went. Held for the user.
        [held] = [c for c in found.values() if c["status"] == "uncertain"]
        assert {c["status"] for c in found.values()} == {"sent", "uncertain"}
        shown = setup.lateclaim("claims", "show", str(held["id"]), "--config", config)
        assert f"lateclaim claims confirm-sent {held['id']}" in shown.stdout
        assert f"lateclaim claims send {held['id']} --again" in shown.stdout
        confirmed = setup.lateclaim("claims", "confirm-sent", str(held["id"]), "--config", config)
        assert confirmed.returncode == 0, confirmed.stderr
        assert len(filed) == 1
    else:
        assert filed == set(ids)  # each sent claim has its copy in Sent, whoever filed it
    assert {c["status"] for c in claims(config).values()} == {"sent"}
    assert len(smtp_server.messages) == 2


@pytest.mark.parametrize("server_files_sent_mail", [True, False], ids=["like-gmail", "plain-server"])
def test_a_claim_that_may_have_reached_the_server_is_held_not_sent_again(
    dovecot: Dovecot, imap_account: Account, smtp_server: SmtpServer, tmp_path: Path, server_files_sent_mail: bool,
) -> None:
    """Killed once the attempt was recorded, before the message's DATA: it did not go, but nothing can tell that
    from "accepted, copy not filed". It is held `uncertain`; the user sends it again by hand."""
    setup.deliver_samples(dovecot, imap_account)
    config = send_config(tmp_path, imap_account, smtp_server, files_sent=server_files_sent_mail)
    assert sync(config, crash_at="delivery_recorded").returncode == -9
    for _ in range(2):
        assert sync(config).returncode == 0
    assert len(smtp_server.messages) == 1  # the other claim; the crashed one never reached the server
    [held] = [c for c in claims(config).values() if c["status"] == "uncertain"]
    again = setup.lateclaim("claims", "send", str(held["id"]), "--again", "--config", config)
    assert again.returncode == 0, again.stderr
    assert len(smtp_server.messages) == 2
    assert {c["status"] for c in claims(config).values()} == {"sent"}
    assert sync(config).returncode == 0 and len(smtp_server.messages) == 2
    refused = setup.lateclaim("claims", "send", str(held["id"]), "--again", "--config", config)
    assert refused.returncode == 2 and "only a claim that is uncertain" in refused.stderr


def test_a_sent_copy_that_shows_late_is_waited_for_not_sent_twice(
    dovecot: Dovecot, imap_account: Account, smtp_server: SmtpServer, tmp_path: Path
) -> None:
    """Gmail files its Sent copy some seconds after accepting: a restart in between waits for it."""
    timers: list[threading.Timer] = []

    def file_later(raw: bytes) -> None:
        timers.append(threading.Timer(3.0, dovecot.deliver, (imap_account.username, raw, SENT)))
        timers[-1].start()

    smtp_server.sink.file_in_sent = file_later
    setup.deliver_samples(dovecot, imap_account)
    config = send_config(tmp_path, imap_account, smtp_server, files_sent=True, sent_copy_wait=60)
    assert sync(config, crash_at="smtp_accepted").returncode == -9  # killed before the copy shows
    assert sync(config).returncode == 0
    for timer in timers:
        timer.join()
    assert len(smtp_server.messages) == 2
    assert {c["status"] for c in claims(config).values()} == {"sent"}
    assert len(dovecot.messages(imap_account.username, SENT)) == 2


def send_config(tmp_path: Path, account: Account, smtp: SmtpServer, files_sent: bool,
                sent_copy_wait: int = 2) -> str:
    return str(setup.write_config(tmp_path, account, smtp, claims={"mode": "send", "to": RETAILER},
                                  smtp_options={"files_sent": "yes" if files_sent else "no",
                                                "sent_copy_wait": sent_copy_wait}))


@pytest.mark.parametrize(("crash_at", "imported"), [("message_parsed", 9), ("message_recorded", 0)])
def test_backfill_imports_in_batches_and_resumes_after_a_crash(
    dovecot: Dovecot, imap_account: Account, tmp_path: Path, crash_at: str, imported: int
) -> None:
    """The nine samples are one batch: a crash before its commit loses it whole (it is read again), one after
    the commit keeps it whole."""
    setup.deliver_samples(dovecot, imap_account)
    config = write_config(tmp_path, imap_account)
    args = ("backfill", "--since", "2020-01-01", "--config", config, "--as-of", AS_OF)
    crashed = setup.lateclaim(*args, crash_at=crash_at)
    assert crashed.returncode == -9
    done = setup.lateclaim(*args)
    assert done.returncode == 0, done.stderr
    assert (f"9 Amazon emails since 2020-01-01: {imported} imported, {9 - imported} already known; "
            "2 claims created.") in done.stdout
    assert "INBOX: 9/9 messages (100%)" in done.stderr
    again = setup.lateclaim(*args)
    assert "0 imported, 9 already known; 0 claims created." in again.stdout
    assert len(dovecot.messages(imap_account.username, DRAFTS)) == 2
