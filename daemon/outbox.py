"""Where a finished claim goes, and the exactly-once rule for putting it there.

A claim's Message-ID is fixed when the claim is created. Delivery is recorded before the attempt (`pending`)
and after it (`done`); a claim found `pending` after a crash is first looked up by its Message-ID at its
destination, and only put there again when it is not found. So a crash at any point neither loses a claim nor
makes two of it.
"""

from __future__ import annotations

import os
import re
import uuid
from collections.abc import Callable, Sequence
from datetime import datetime
from email.message import EmailMessage
from email.policy import SMTP
from email.utils import format_datetime
from pathlib import Path
from typing import Protocol

from daemon import faults
from daemon.config import Config
from daemon.guidance import situation
from daemon.imap import ImapMailbox
from daemon.smtp import SmtpSettings, send
from daemon.store import Claim, Store
from daemon.thread import thread_of
from rules.contacts import draft_note
from rules.letters import reply_subject


class Outbox(Protocol):
    description: str

    def contains(self, message_id: str) -> bool: ...

    def put(self, raw: bytes, message_id: str) -> None: ...

    def remove(self, message_id: str) -> int:
        """Take lateclaim's own message `message_id` back out, where that can be done; how many were removed."""
        ...


class DraftsOutbox:
    """The mailbox's \\Drafts folder: Gmail shows each claim as a draft, ready to review and send."""

    description = "the Drafts folder"
    is_draft = True  # the user sends it by hand: it starts with a note on where to paste it

    def __init__(self, mailbox: ImapMailbox) -> None:
        self.mailbox = mailbox

    def contains(self, message_id: str) -> bool:
        return self.mailbox.contains_message_id(self.mailbox.drafts_folder(), message_id)

    def put(self, raw: bytes, message_id: str) -> None:
        self.mailbox.append_draft(raw)

    def remove(self, message_id: str) -> int:
        return self.mailbox.remove_own_draft(message_id)


class DirOutbox:
    """A local folder of .eml files (the demo): written whole or not at all."""

    is_draft = True

    def __init__(self, path: Path) -> None:
        path.mkdir(parents=True, exist_ok=True, mode=0o700)
        self.path = path
        self.description = f"the folder {path}"

    def file_for(self, message_id: str) -> Path:
        return self.path / (re.sub(r"[^A-Za-z0-9.@_-]", "_", message_id.strip("<>")) + ".eml")

    def contains(self, message_id: str) -> bool:
        return self.file_for(message_id).exists()

    def put(self, raw: bytes, message_id: str) -> None:
        final = self.file_for(message_id)
        partial = final.with_suffix(".part")
        with open(os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600), "wb") as out:
            out.write(raw)
            out.flush()
            os.fsync(out.fileno())
        partial.replace(final)

    def remove(self, message_id: str) -> int:
        path = self.file_for(message_id)
        if not path.exists():
            return 0
        path.unlink()
        return 1


class SmtpOutbox:
    """Sending by SMTP. A message sent is recognised afterwards in the mailbox's \\Sent folder: Gmail files
    every message its SMTP server sends there, and elsewhere lateclaim files a copy right after sending, as mail
    clients do. That is how a crash between sending and recording is detected. (On a server that does not file
    sent mail itself, a crash between the server's "accepted" and that copy can still cause a second send.)"""

    def __init__(self, settings: Callable[[], SmtpSettings], sender: str, recipients: list[str],
                 mailbox: ImapMailbox | None) -> None:
        self._settings = settings  # read when first needed: a run with nothing to send needs no SMTP password
        self.sender = sender
        self.recipients = recipients
        self.mailbox = mailbox
        self.description = f"SMTP to {', '.join(recipients)}"

    def contains(self, message_id: str) -> bool:
        sent = self.mailbox.sent_folder() if self.mailbox is not None else None
        return sent is not None and self.mailbox is not None and self.mailbox.contains_message_id(sent, message_id)

    def remove(self, message_id: str) -> int:
        return 0  # a sent message cannot be taken back

    def put(self, raw: bytes, message_id: str) -> None:
        send(self._settings(), raw, self.sender, self.recipients)
        if self.mailbox is not None:
            self.mailbox.append_sent(raw)


def new_message_id(config: Config) -> str:
    """A Message-ID as a mail client makes one (Thunderbird: a random UUID at the sender's domain): it names no
    tool, so the seller sees the user's own message. Which claim it is stays in the state file."""
    address = config.claims.sender or config.mailbox.username
    domain = address.rpartition("@")[2].strip() or "localhost"
    return f"<{uuid.uuid4()}@{domain}>"


def compose(claim: Claim, config: Config, now: datetime, thread: Sequence[Claim] = (), note: str = "") -> bytes:
    """The claim as an RFC 5322 message: UTF-8 plain text, with the Message-ID it was given at creation, replying
    to the earlier claims of its `thread` (daemon.thread) as a mail client would. No header names lateclaim.
    `note` (drafts only) goes above the letter: where to paste it, ending with a cut line."""
    message = EmailMessage()
    sender = config.claims.sender or config.mailbox.username
    if sender:
        message["From"] = sender
    if config.claims.to:
        message["To"] = config.claims.to
    message["Subject"] = reply_subject(claim.track, claim.subject, [c.subject for c in thread])
    message["Date"] = format_datetime(now)
    message["Message-ID"] = claim.message_id
    if thread:
        message["In-Reply-To"] = thread[-1].message_id
        message["References"] = " ".join(c.message_id for c in thread)
    message.set_content(note + claim.body, charset="utf-8")
    return message.as_bytes(policy=SMTP)  # CRLF line ends, as SMTP and IMAP APPEND expect


def message_for(store: Store, outbox: Outbox, claim: Claim, config: Config, now: datetime) -> bytes:
    """The message `claim` goes out as through `outbox`: in its thread, with the note above it in a draft."""
    note = draft_note(situation(store, claim, config, now)) if getattr(outbox, "is_draft", False) else ""
    return compose(claim, config, now, thread_of(store, claim), note)


def deliver(store: Store, outbox: Outbox, claim: Claim, config: Config, now: datetime, status: str) -> bool:
    """Put one claim in the outbox once; mark it `status`. False when it was already there (a crash recovery)."""
    if claim.delivery == "pending" and outbox.contains(claim.message_id):
        store.update_claim(claim.id, now, status=status, delivery="done", note=f"found in {outbox.description}")
        return False
    store.update_claim(claim.id, now, delivery="pending")
    faults.crash_point("delivery_recorded")
    outbox.put(message_for(store, outbox, claim, config, now), claim.message_id)
    faults.crash_point("delivery_done")
    store.update_claim(claim.id, now, status=status, delivery="done", note=f"put in {outbox.description}",
                       sent_at=now if status == "sent" else None)
    return True
