"""The mailbox is the memory of last resort: a letter already in Drafts or Sent is never written or sent again.

A claim's Message-ID and its reference token ("Ref. 4F7Q-2K") are derived from what the claim is
(daemon.passes.outbox.new_message_id), so a new state file, or one restored from an old backup, computes the same
ones as the file that wrote the letter. Before a claim is put anywhere for the first time, it is looked for in
Drafts, in Sent and in All Mail where the server has one, by either; what is found is adopted into the state:

- in Drafts: the claim is `drafted` there (its UID recorded, as after an APPEND of ours);
- in Sent, or in All Mail out of Drafts: it left, it is `sent`, with the copy's date and Message-ID.

One search per folder covers every claim about to be delivered (they are OR-ed), and only when there is one: a
pass with nothing new to deliver costs nothing here.
"""

from __future__ import annotations

import email
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from email import policy

import structlog

from daemon.errors import MailboxError
from daemon.mail.headers import bare_id, header_date
from daemon.mail.imap import ImapMailbox, readable_text
from daemon.passes.outbox import claim_reference
from daemon.state.store import Claim, Store

log = structlog.get_logger("lateclaim.memory")

LOOK_BACK = timedelta(days=400)  # how far back a letter is looked for: longer than any claim's life


@dataclass(frozen=True)
class Found:
    folder: str
    uid: int
    message_id: str
    date: datetime | None




def _look(mailbox: ImapMailbox, folder: str, claims: Sequence[Claim], since: datetime) -> dict[int, Found]:
    """Claim id -> its copy in `folder`, recognised by its own Message-ID or its reference (checked in the
    message itself: the server's search is only a hint)."""
    found = mailbox.find_own(folder, [c.message_id for c in claims], [claim_reference(c) for c in claims],
                             since.date())
    copies: dict[int, Found] = {}
    for uid, raw in sorted(found.items()):
        message = email.message_from_bytes(raw, policy=policy.default)
        message_id = bare_id(str(message.get("Message-ID", "")))
        text = readable_text(raw)
        for claim in claims:
            if claim.id not in copies and (message_id == bare_id(claim.message_id) or claim_reference(claim) in text):
                copies[claim.id] = Found(folder, uid, message_id or bare_id(claim.message_id),
                                         header_date(message["Date"]))
    return copies


def adopt_from_mailbox(store: Store, mailbox: ImapMailbox, claims: Sequence[Claim], now: datetime) -> set[int]:
    """Look for `claims` (about to be delivered for the first time) in the mailbox; adopt those found. Returns
    the ids adopted: they must not be delivered."""
    if not claims:
        return set()
    since = min(c.created_at for c in claims) - LOOK_BACK
    try:
        drafts: str | None = mailbox.drafts_folder()
    except MailboxError:  # none: the letters are sent, not drafted; Sent and All Mail still say
        drafts = None
    sent, everything = mailbox.sent_folder(), mailbox.all_mail_folder()
    adopted: set[int] = set()
    left = list(claims)
    for folder, is_draft in ((drafts, True), (sent, False), (everything, False)):
        if folder is None or not left:
            continue
        for claim_id, copy in _look(mailbox, folder, left, since).items():
            claim = next(c for c in left if c.id == claim_id)
            if is_draft:
                store.update_claim(claim.id, now, status="drafted", delivery="done",
                                   placed={"folder": folder, "uid": copy.uid,
                                           "uidvalidity": mailbox.uidvalidity(folder)},
                                   note=f"already in {folder}: adopted, not written again")
            else:
                left_at = min(copy.date, now) if copy.date is not None else now
                store.update_claim(claim.id, now, status="sent", delivery="done", sent_at=left_at,
                                   sent_message_id=copy.message_id,
                                   note=f"already in {folder}: it went out, adopted, not sent again")
            log.info("claim_adopted", claim=claim.id, folder=folder, uid=copy.uid)
            adopted.add(claim.id)
        left = [c for c in left if c.id not in adopted]
    return adopted
