"""Where a finished claim goes, and the at-most-once rule for putting it there.

A claim's Message-ID is fixed when the claim is created. Just before the first moment the claim could reach its
destination (the APPEND; for SMTP the DATA command, after the server has taken the sender and recipients), the
claim is recorded `pending` with the time; once there, it is recorded `done`. A claim found `pending` after a crash
is first looked up at its destination by its Message-ID:

- found: it is there, recorded as such, never put again;
- not found in Drafts or a folder: the APPEND did not land, it is put again (the lookup is authoritative);
- not found in Sent after an SMTP attempt: the server may have accepted it without our hearing it. Where the
  SMTP server files a copy in Sent itself (smtp.gmail.com, seconds to a minute later) it is looked for during
  smtp.sent_copy_wait; then, or at once where lateclaim files the copy itself, the claim is held as `uncertain`
  for the user to check: it is never sent a second time automatically.
"""

from __future__ import annotations

import hashlib
import re
import time
import uuid
from collections.abc import Callable, Sequence
from datetime import datetime, timedelta
from email.message import EmailMessage
from email.policy import SMTP
from email.utils import format_datetime, parseaddr
from pathlib import Path
from typing import Any, Literal, Protocol

import structlog

from daemon import clock, faults
from daemon.config import Config
from daemon.errors import MailboxError, SmtpError
from daemon.files import write_whole
from daemon.mail.imap import ImapMailbox
from daemon.mail.smtp import SmtpSettings, send
from daemon.passes.guidance import situation
from daemon.passes.thread import references as thread_references
from daemon.passes.thread import thread_of
from daemon.state.store import Claim, Store
from rules.contacts import draft_note, phrase
from rules.letters import quoted_answer, reply_subject

# CRLF line ends, as SMTP and IMAP APPEND expect. Headers are folded only past RFC 5322's hard limit of 998
# characters: at the usual 78, Python moves a subject of 70 to 78 characters whole to a second line, which reads
# back with a leading space.
WIRE = SMTP.clone(max_line_length=998)

log = structlog.get_logger("lateclaim.outbox")

PASS_WAIT = 20.0  # seconds one pass waits at most for a copy to show (a daemon must not stall for minutes)
LOOK_EVERY = 2.0  # seconds between two lookups while waiting

class Outbox(Protocol):
    description: str
    is_draft: bool  # the user sends it by hand: it starts with a note on where to paste it
    retry_is_safe: bool  # contains() is authoritative: a claim it does not find after an attempt can be put again
    settle_seconds: float  # after an attempt, how long its copy may take to show to contains()

    def contains(self, message_id: str) -> bool: ...

    def put(self, raw: bytes, message_id: str, committing: Callable[[], None]) -> dict[str, Any]:
        """Put the message there; call `committing` just before it could first arrive. Returns where it was put
        (identifiers to recognise it by later), when the destination says."""
        ...

    def remove(self, message_id: str) -> int:
        """Take lateclaim's own message `message_id` back out, where that can be done; how many were removed."""
        ...


class DraftsOutbox:
    """The mailbox's \\Drafts folder: Gmail shows each claim as a draft, ready to review and send."""

    description = "the Drafts folder"
    is_draft = True
    retry_is_safe = True
    settle_seconds = 0.0

    def __init__(self, mailbox: ImapMailbox) -> None:
        self.mailbox = mailbox

    def contains(self, message_id: str) -> bool:
        return self.mailbox.contains_message_id(self.mailbox.drafts_folder(), message_id)

    def put(self, raw: bytes, message_id: str, committing: Callable[[], None]) -> dict[str, Any]:
        self.mailbox.drafts_folder()  # a missing Drafts folder fails here, before anything is recorded
        committing()
        return self.mailbox.append_draft(raw).to_json()

    def remove(self, message_id: str) -> int:
        return self.mailbox.remove_own(self.mailbox.drafts_folder(), message_id)


class DirOutbox:
    """A local folder of .eml files (the demo): written whole or not at all."""

    is_draft = True
    retry_is_safe = True
    settle_seconds = 0.0

    def __init__(self, path: Path) -> None:
        path.mkdir(parents=True, exist_ok=True, mode=0o700)
        self.path = path
        self.description = f"the folder {path}"

    def file_for(self, message_id: str) -> Path:
        return self.path / (re.sub(r"[^A-Za-z0-9.@_-]", "_", message_id.strip("<>")) + ".eml")

    def contains(self, message_id: str) -> bool:
        return self.file_for(message_id).exists()

    def put(self, raw: bytes, message_id: str, committing: Callable[[], None]) -> dict[str, Any]:
        committing()
        write_whole(self.file_for(message_id), raw)
        return {}

    def remove(self, message_id: str) -> int:
        path = self.file_for(message_id)
        if not path.exists():
            return 0
        path.unlink()
        return 1


class SmtpOutbox:
    """Sending by SMTP. A message sent is recognised afterwards in the mailbox's \\Sent folder. Whether the copy
    there is the SMTP server's (smtp.gmail.com files what it sends, some seconds later) or lateclaim's own
    (filed right after the server accepted it, as mail clients do) depends on the SMTP server, not on the IMAP
    one: `files_sent`."""

    is_draft = False  # it leaves as it is: no note for the user in it
    retry_is_safe = False  # a message the server may have accepted is never sent again automatically

    def __init__(self, settings: Callable[[], SmtpSettings], sender: str, recipients: list[str],
                 mailbox: ImapMailbox | None, files_sent: bool = False, sent_copy_wait: float = 0.0) -> None:
        self._settings = settings  # read when first needed: a run with nothing to send needs no SMTP password
        self.sender = sender
        self.recipients = recipients
        self.mailbox = mailbox
        self.files_sent = files_sent
        # Our own copy is filed at once or never; the server's own may take a while.
        self.settle_seconds = sent_copy_wait if files_sent else 0.0
        self.description = f"SMTP to {', '.join(recipients)}"

    def contains(self, message_id: str) -> bool:
        sent = self.mailbox.sent_folder() if self.mailbox is not None else None
        return sent is not None and self.mailbox is not None and self.mailbox.contains_message_id(sent, message_id)

    def remove(self, message_id: str) -> int:
        return 0  # a sent message cannot be taken back

    def put(self, raw: bytes, message_id: str, committing: Callable[[], None]) -> dict[str, Any]:
        send(self._settings(), raw, self.sender, self.recipients, committing)
        faults.crash_point("smtp_accepted")
        if self.mailbox is not None and not self.files_sent:
            try:
                self.mailbox.append_sent(raw)
            except MailboxError as exc:  # it is sent all the same: only its copy is missing
                log.warning("sent_copy_not_filed", message_id=message_id, error=str(exc))
        return {}


CLAIM_IDS = uuid.UUID("5b0f3c2e-8d1a-4f6e-9c47-1a2b3c4d5e6f")  # the namespace claims' Message-IDs are made in


def new_message_id(config: Config, order_id: str, shipment: str, track: str, step: int) -> str:
    """A claim's Message-ID, shaped as a mail client makes one (Thunderbird: a UUID at the sender's domain), so
    it names no tool and the seller sees the user's own message. It is derived from what the claim is (the
    sender's address, the order, the parcel, the track and the step), not drawn at random: a new or restored
    state file computes the same one, and so finds the letter already in Drafts or Sent (daemon.passes.memory)
    instead of writing it again. Only the address of `claims.from` is used, never its display name."""
    address = parseaddr(config.claims.sender or config.mailbox.username)[1] or config.mailbox.username
    domain = address.rpartition("@")[2].strip().strip("<>") or "localhost"
    name = "\x1f".join((address.lower(), order_id, shipment, track, str(step)))
    return f"<{uuid.uuid5(CLAIM_IDS, name)}@{domain}>"


REFERENCE_ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"  # Crockford's base 32: no I, L, O, U to misread


def claim_reference(claim: Claim) -> str:
    """The claim's short reference, such as "4F7Q-2K": derived from its Message-ID, so fixed for its life. The
    letter carries it as a customer's reference would, and it finds the claim again in Sent when the mail app
    that sent it gave it a new Message-ID (30 bits: one chance in a billion of two claims sharing one)."""
    digest = int.from_bytes(hashlib.sha256(claim.message_id.encode()).digest()[:4], "big") >> 2
    chars = "".join(REFERENCE_ALPHABET[(digest >> (5 * i)) & 31] for i in range(6))
    return f"{chars[:4]}-{chars[4:]}"


def compose(claim: Claim, config: Config, now: datetime, thread: Sequence[Claim] = (), note: str = "") -> bytes:
    """The claim as an RFC 5322 message: UTF-8 plain text, with the Message-ID it was given at creation, replying
    to the earlier claims of its `thread` (daemon.passes.thread) as a mail client would. No header names lateclaim.
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
    quote = ""
    if thread:
        # The ids the earlier letters really left with (Gmail's app may have given a sent draft a new one); when
        # the retailer answered the last one, this letter replies to that answer and quotes it.
        references = thread_references(thread)  # checked ids only: nothing read from a header reaches one unread
        answer = thread[-1].evidence.get("answer") or {}
        if answer.get("message_id"):
            answered_on = datetime.fromisoformat(answer["date"]).astimezone(config.rules.timezone).date() \
                if answer.get("date") else None
            quote = "\n" + quoted_answer(claim.language, str(claim.evidence.get("marketplace", "")), answered_on,
                                         str(answer.get("sender", "")), str(answer.get("text", ""))) + "\n"
        if references:
            message["In-Reply-To"] = references[-1]
            message["References"] = " ".join(references)
    # The reference worded as a person would, in the letter's language ("My reference: 4F7Q-2K").
    reference = phrase(claim.language, "reference", reference=claim_reference(claim))
    message.set_content(f"{note}{claim.body.rstrip()}\n\n{reference}\n{quote}", charset="utf-8")
    return message.as_bytes(policy=WIRE)


def message_for(store: Store, outbox: Outbox, claim: Claim, config: Config, now: datetime) -> bytes:
    """The message `claim` goes out as through `outbox`: in its thread, with the note above it in a draft."""
    note = draft_note(situation(store, claim, config, now)) if outbox.is_draft else ""
    return compose(claim, config, now, thread_of(store, claim), note)


DEFERRED = "deferred"  # the claim's delivery column: the server said "try again later" (a 4xx)
DEFERRED_NOTE = "deferred by the server, tried again later: "
FIRST_PAUSE, LONGEST_PAUSE = timedelta(minutes=5), timedelta(hours=6)


def deferral_pause(store: Store, claim_id: int) -> timedelta:
    """How long a deferred claim waits before its next attempt: 5 min, doubling with each deferral, at most
    6 h. Retries are the same claim: they count against no cap, and there is no limit to them."""
    deferrals = sum(note.startswith(DEFERRED_NOTE) for _, _, note in store.claim_history(claim_id))
    doublings: int = min(12, max(0, deferrals - 1))
    return min(LONGEST_PAUSE, FIRST_PAUSE * (1 << doublings))


def server_pause_left(store: Store, claim: Claim) -> bool:
    """True while a claim the server deferred must still wait before its next attempt."""
    return claim.delivery == DEFERRED and claim.attempted_at is not None \
        and clock.now() < claim.attempted_at + deferral_pause(store, claim.id)


def deliver(store: Store, outbox: Outbox, claim: Claim, config: Config, now: datetime, status: str) -> bool:
    """Put one claim in the outbox at most once; mark it `status`. False when it was not put now (it was already
    there, it is being waited for, it is held as uncertain, the server deferred or refused it)."""
    if claim.delivery == "pending":
        return _recover(store, outbox, claim, config, now, status)
    if server_pause_left(store, claim):
        return False  # the server asked for a pause: not yet over
    return _attempt(store, outbox, claim, config, now, status)


def _attempt(store: Store, outbox: Outbox, claim: Claim, config: Config, now: datetime, status: str) -> bool:
    def committing() -> None:
        store.update_claim(claim.id, now, delivery="pending", attempted_at=clock.now())
        faults.crash_point("delivery_recorded")

    try:
        placed = outbox.put(message_for(store, outbox, claim, config, now), claim.message_id, committing)
    except SmtpError as exc:
        if exc.refused:  # the server will not take it: kept, with its words, for the user to see and decide
            store.update_claim(claim.id, now, status="refused", delivery="",
                               note=f"refused by the server: {exc.server_says}")
            log.warning("claim_refused", claim=claim.id, server_says=exc.server_says)
            return False
        if exc.deferred:  # "try again later": the claim waits for a later pass, with a growing pause
            store.update_claim(claim.id, now, delivery=DEFERRED, note=f"{DEFERRED_NOTE}{exc.server_says}")
            log.warning("claim_deferred", claim=claim.id, server_says=exc.server_says,
                        retry_in=round(deferral_pause(store, claim.id).total_seconds()))
            return False
        if exc.may_have_reached:  # looked for in Sent by the next pass, never sent again blindly
            store.update_claim(claim.id, now, note=f"no answer from the server after sending: {exc}")
        else:
            store.update_claim(claim.id, now, delivery="")  # it cannot have arrived: it may be tried again
        raise
    faults.crash_point("delivery_done")
    sent = status == "sent"
    store.update_claim(claim.id, now, status=status, delivery="done", note=f"put in {outbox.description}",
                       sent_at=now if sent else None, sent_message_id=claim.message_id if sent else None,
                       placed=placed)
    return True


def _recover(store: Store, outbox: Outbox, claim: Claim, config: Config, now: datetime, status: str) -> bool:
    """A claim whose last attempt may have reached the outbox (the process died, or the server never answered)."""
    if settle(store, outbox, claim, now, status) == "absent":
        return _attempt(store, outbox, claim, config, now, status)
    return False


def settle(store: Store, outbox: Outbox, claim: Claim, now: datetime, status: str
           ) -> Literal["found", "absent", "waiting", "uncertain"]:
    """Decide where an interrupted attempt left a claim, before anything else is decided about it (a parcel's
    delivery email read in the same pass must not withdraw a letter that may have left):
    found: it is there, recorded `status`; absent: it never landed (an outbox whose lookup is authoritative),
    recorded as never attempted; waiting: its copy may still show, it stays pending; uncertain: held for the user."""
    found = _look_for(outbox, claim)
    if found == "found":
        sent = status == "sent"
        left = min(now, claim.attempted_at) if claim.attempted_at else now
        store.update_claim(claim.id, now, status=status, delivery="done",
                           note=f"found in {outbox.description} after an interrupted attempt",
                           sent_at=left if sent else None, sent_message_id=claim.message_id if sent else None)
        return "found"
    if outbox.retry_is_safe:
        store.update_claim(claim.id, now, delivery="",
                           note=f"the interrupted attempt did not reach {outbox.description}")
        return "absent"
    if found == "waiting":
        log.info("claim_awaiting_sent_copy", claim=claim.id)
        return "waiting"
    store.update_claim(claim.id, now, status="uncertain", note=uncertain_note(claim.id))
    log.warning("claim_uncertain", claim=claim.id, message_id=claim.message_id, what_to_do=uncertain_note(claim.id))
    return "uncertain"


def uncertain_note(claim_id: int) -> str:
    return (f"sending was interrupted and the server may or may not have accepted it; it was not found in Sent, "
            f"so it is not sent again on its own. Check your Sent folder (or with the recipient), then run "
            f"`lateclaim claims confirm-sent {claim_id}` if it went, or `lateclaim claims send {claim_id} --again`")


def _look_for(outbox: Outbox, claim: Claim) -> Literal["found", "absent", "waiting"]:
    """Look for the claim in the outbox, waiting (a little, in this pass) while its copy may still show."""
    attempted = claim.attempted_at or clock.now()
    deadline = attempted + timedelta(seconds=outbox.settle_seconds)
    pass_ends = time.monotonic() + PASS_WAIT
    while True:
        if outbox.contains(claim.message_id):
            return "found"
        left = (deadline - clock.now()).total_seconds()
        if left <= 0:
            return "absent"
        if time.monotonic() >= pass_ends:
            return "waiting"
        time.sleep(min(LOOK_EVERY, left, max(0.0, pass_ends - time.monotonic())))
