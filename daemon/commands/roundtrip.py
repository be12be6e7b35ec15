"""`lateclaim doctor --roundtrip`: a test draft through the user's real Drafts folder and back.

The first thing to run on a new mailbox (Gmail above all, whose drafts, ids and search lateclaim cannot try in its
test suite): it appends a test draft addressed to the user, reads it back by each signal a sent claim will be
recognised by (APPENDUID, the Message-ID with the header checked, the reference token, Gmail's X-GM-MSGID and
X-GM-THRID), says where sent claims will be looked for, then deletes that draft, and only it, by its own identity.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid

from daemon.config import Config
from daemon.errors import MailboxError
from daemon.mail.imap import ImapMailbox
from daemon.passes.outbox import WIRE

Report = Callable[[str, str, str], None]  # level (ok | warn | FAIL), check, detail


def test_draft(config: Config, now: datetime) -> tuple[bytes, str, str]:
    """The test draft, its Message-ID and its reference token."""
    address = config.claims.sender or config.mailbox.username
    message_id = make_msgid(domain=address.rpartition("@")[2] or "localhost")
    reference = "TEST-" + message_id.strip("<>").split(".")[0][-6:].upper()
    message = EmailMessage()
    if address:
        message["From"] = address
        message["To"] = address
    message["Subject"] = f"lateclaim round-trip test (Ref. {reference}), safe to delete"
    message["Date"] = format_datetime(now)
    message["Message-ID"] = message_id
    message.set_content("lateclaim doctor --roundtrip wrote this draft to check your Drafts folder, and deletes it "
                        f"at once. If you can read it, that deletion failed: delete it.\n\nRef. {reference}\n")
    return message.as_bytes(policy=WIRE), message_id, reference  # written as the letters are


def roundtrip(mailbox: ImapMailbox, config: Config, now: datetime, report: Report) -> None:
    raw, message_id, reference = test_draft(config, now)
    drafts = mailbox.drafts_folder()
    placed = mailbox.append_draft(raw)
    if placed.uid is None:
        report("warn", "roundtrip", f"draft appended to {drafts}, but the server gave no APPENDUID: drafts will be "
               "watched by their Message-ID and reference only")
    else:
        report("ok", "roundtrip", f"draft appended to {drafts} (APPENDUID {placed.uidvalidity} {placed.uid})")
    uid = placed.uid
    try:
        by_id = mailbox.find_message_id(drafts, message_id)
        if not by_id:
            report("FAIL", "roundtrip", f"the draft was not found again by its Message-ID in {drafts}")
        else:
            uid = uid or by_id[0]
            same = placed.uid is None or by_id == [placed.uid]
            report("ok" if same else "warn", "roundtrip", "found again by its Message-ID (Drafts listed, each "
                   "header read)" + ("" if same else f" at UID {by_id}, not the UID the server gave"))
        by_text = mailbox.find_text(drafts, reference)
        report("ok" if by_text else "FAIL", "roundtrip",
               f"found by its reference {reference} in subject and text" if by_text else
               f"not found by its reference {reference}: a claim sent with a new Message-ID would be missed")
        if mailbox.gmail:
            if placed.gm_msgid is not None and placed.gm_thrid is not None:
                report("ok", "roundtrip", f"Gmail ids: X-GM-MSGID {placed.gm_msgid}, X-GM-THRID {placed.gm_thrid}")
            else:
                report("warn", "roundtrip", "Gmail gave no X-GM-MSGID / X-GM-THRID for the draft")
        sent = mailbox.sent_folder()
        if sent is None:
            report("warn", "roundtrip", "no \\Sent folder: a claim you send cannot be recognised as sent")
        else:
            signals = "its Message-ID, its reference" + (", its draft's thread" if mailbox.gmail else "")
            report("ok", "roundtrip", f"a claim you send will be recognised in {sent} by {signals}")
    finally:
        deleted = uid is not None and mailbox.remove_own(drafts, message_id, uid) > 0
        gone = not mailbox.find_message_id(drafts, message_id)
    if deleted and gone:
        report("ok", "roundtrip", "the test draft was deleted (only it, by its UID and Message-ID)")
    else:
        raise MailboxError(f"the test draft (Message-ID {message_id}) could not be deleted from {drafts}: "
                           "delete it by hand")
