"""Forwarded Amazon mail is read over IMAP when `trust_unauthenticated` is on: a second, narrow server-side search
finds mail from the user's own addresses that names Amazon (the sender filter on Amazon domains cannot see it).
With the setting off, forwards are not even downloaded (they could never drive a claim)."""

from __future__ import annotations

import email
import email.policy
from datetime import UTC, datetime
from email.message import EmailMessage, Message
from pathlib import Path

import pytest

from daemon.commands.demo import SAMPLE_MAILBOX
from daemon.config import load
from daemon.mail.imap import ImapMailbox
from daemon.passes.pipeline import imap_settings
from daemon.passes.sync import ingest
from daemon.state.store import Store
from tests import lateclaim_setup as setup
from tests.servers.dovecot import Account, Dovecot

NOW = datetime(2026, 11, 24, 12, 0, tzinfo=UTC)


def _text(message: Message) -> str:
    for part in message.walk():
        if part.get_content_type() == "text/plain":
            payload = part.get_payload(decode=True)
            assert isinstance(payload, bytes)
            return payload.decode(part.get_content_charset() or "utf-8")
    raise AssertionError("the sample has no text part")


def forward(sender: str, sample: str, message_id: str) -> bytes:
    """What Gmail's "Forward" makes of a sample Amazon email, sent from `sender`."""
    original = email.message_from_bytes((SAMPLE_MAILBOX / sample).read_bytes(), policy=email.policy.default)
    mail = EmailMessage()
    mail["From"], mail["To"], mail["Subject"] = sender, sender, f"Fwd: {original['Subject']}"
    mail["Date"], mail["Message-ID"] = "Tue, 10 Nov 2026 09:00:00 +0000", f"<{message_id}>"
    mail.set_content("---------- Forwarded message ---------\n"
                     f"From: {original['From']}\nDate: {original['Date']}\nSubject: {original['Subject']}\n"
                     f"To: {sender}\n\n{_text(original)}")
    return mail.as_bytes()


def note(sender: str, message_id: str) -> bytes:
    mail = EmailMessage()
    mail["From"], mail["To"], mail["Subject"], mail["Message-ID"] = sender, sender, "Lunch", f"<{message_id}>"
    mail.set_content("See you at noon.")
    return mail.as_bytes()


@pytest.mark.parametrize("trusted", [True, False])
def test_forwarded_amazon_mail_is_read_only_when_unauthenticated_mail_is_trusted(
    tmp_path: Path, dovecot: Dovecot, imap_account: Account, trusted: bool
) -> None:
    me = f"{imap_account.username}@example.com"  # the configured `claims.from`
    dovecot.deliver(imap_account.username, forward(me, "02_fr_expedie_bouilloire.eml", "fwd-1@example.com"))
    dovecot.deliver(imap_account.username, note(me, "note-1@example.com"))
    dovecot.deliver(imap_account.username, forward("stranger@example.org", "02_fr_expedie_bouilloire.eml",
                                                   "fwd-2@example.org"))
    # The user's own draft and a notice of ours name Amazon too, from the same address: neither is a forward.
    dovecot.deliver(imap_account.username, forward(me, "02_fr_expedie_bouilloire.eml", "draft-1@example.com"))
    dovecot.doveadm("flags", "add", "-u", imap_account.username, "\\Draft", "mailbox", "INBOX", "header",
                    "Message-ID", "draft-1@example.com")
    notice = EmailMessage()
    notice["From"], notice["To"], notice["Subject"] = me, me, "lateclaim: a draft to send about your Amazon parcel"
    notice["Message-ID"], notice["X-Lateclaim-Notice"] = "<notice-1@example.com>", "1"
    notice.set_content("A letter to Amazon waits in your Drafts.")
    dovecot.deliver(imap_account.username, notice.as_bytes())
    config = load(setup.write_config(tmp_path, imap_account, rules={"trust_unauthenticated": trusted}))
    with Store(config.state.path) as store, ImapMailbox(imap_settings(config)) as mailbox:
        summary = ingest(mailbox, store, config, NOW)
        assert summary.fetched == (1 if trusted else 0)  # never the note, never a stranger's forward
        assert store.has_message("fwd-1@example.com") is trusted
        if trusted:
            [sighting] = [s for s in store.sightings() if s.message.message_id == "fwd-1@example.com"]
            assert sighting.message.forwarded and sighting.message.authenticated is not True
        assert ingest(mailbox, store, config, NOW).fetched == 0  # recorded once
