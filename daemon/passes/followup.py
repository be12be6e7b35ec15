"""Following a claim after it left lateclaim: sent however it left, answered only by an answer.

**Sent.** A drafted claim the user sends from their mail app may leave with a new Message-ID and without our
headers (Gmail's web and mobile apps give a sent draft their own id). So it is looked for in \\Sent by several
signals, none trusted alone, each checked against the message found:
  - its own Message-ID (`rfc822msgid:` on Gmail, the header search elsewhere; the header is always read back);
  - its reference token ("Ref. 4F7Q-2K"), which the letter carries as a customer's reference would;
  - on Gmail, the thread the draft was given at APPEND (X-GM-THRID), for a copy with the claim's subject.
Found: it becomes `sent`, with the copy's Date as `sent_at` and the copy's Message-ID as the one answers refer to.
Not found, the draft is watched in \\Drafts (by its UID from APPENDUID; when gone from there, by its Message-ID
or reference, since editing a draft gives it a new UID). A draft gone from Drafts and absent from Sent for
DISCARD_AFTER is `discarded`: the user deleted it, and no later step may cite it. Uncertain and discarded claims
are looked for in Sent too: a copy that turns up later settles them as `sent`.

**Answered.** A sent claim is `answered` by a message that replies to the Message-ID it really left with
(In-Reply-To or References), or by an Amazon customer-service email naming its order, dated after it went out.
Shipment, order, refund and marketing mail never answers: a message the state file recorded as shipment mail (by
its Message-ID, or the hash of its bytes when it has none) is never an answer, and the sender and subject must
look like customer service (daemon/passes/data/answers.toml).
One search per folder covers all the claims waiting (they are OR-ed), so the cost does not grow with them.
The user closes a claim with `lateclaim claims resolve ID --outcome granted|refused`.
"""

from __future__ import annotations

import email
import tomllib
from dataclasses import dataclass
from datetime import datetime, timedelta
from email import policy
from email.utils import parseaddr, parsedate_to_datetime
from functools import cache
from pathlib import Path
from typing import Any

import structlog

from daemon.errors import MailboxError
from daemon.mail.imap import ImapMailbox, any_of, readable_text, sender_criteria
from daemon.passes.answers import excerpt
from daemon.passes.outbox import claim_reference
from daemon.state.store import Claim, Store
from parsers.marketplaces import sender_domains
from parsers.mime import identity

log = structlog.get_logger("lateclaim.followup")

DISCARD_AFTER = timedelta(days=3)  # a draft gone from Drafts and not in Sent this long was deleted, not sent
LOOK_BACK = timedelta(days=60)  # how long an uncertain or discarded claim is still looked for in Sent
ANSWERS = Path(__file__).parent / "data" / "answers.toml"


def _bare(message_id: str) -> str:
    return message_id.strip().strip("<>")


def _bracketed(message_id: str) -> str:
    return f"<{_bare(message_id)}>"


def _date(value: object) -> datetime | None:
    try:
        moment = parsedate_to_datetime(str(value)) if value else None
    except (TypeError, ValueError):
        return None
    return moment if moment is None or moment.tzinfo else None  # a date without a zone cannot be compared


# -- sent, however it left ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Copy:
    """A claim's copy found in a folder."""

    uid: int
    message_id: str
    date: datetime | None
    how: str  # which signal found it


def _normal_subject(subject: str) -> str:
    text = " ".join(subject.split()).casefold()
    while text[:3] in ("re:", "fw:") or text[:4] == "fwd:":
        text = text.split(":", 1)[1].strip()
    return text


def _match(claims: list[Claim], found: dict[int, bytes]) -> dict[int, Copy]:
    """Claim id -> its copy among `found`, recognised by its own Message-ID or its reference token."""
    copies: dict[int, Copy] = {}
    for uid, raw in sorted(found.items()):
        message = email.message_from_bytes(raw, policy=policy.default)
        message_id = _bare(str(message.get("Message-ID", "")))
        text = readable_text(raw)
        for claim in claims:
            if claim.id in copies:
                continue
            if message_id == _bare(claim.message_id):
                how = "its Message-ID"
            elif claim_reference(claim) in text:
                how = f"its reference {claim_reference(claim)}"
            else:
                continue
            copies[claim.id] = Copy(uid, message_id or _bare(claim.message_id), _date(message.get("Date")), how)
    return copies


def _in_thread(mailbox: ImapMailbox, folder: str, claims: list[Claim]) -> dict[int, Copy]:
    """Gmail only: a copy in the draft's thread with the claim's subject (token and Message-ID both gone)."""
    copies: dict[int, Copy] = {}
    for claim in claims:
        thread = claim.placed.get("gm_thrid")
        if not isinstance(thread, int):
            continue
        for uid, raw in mailbox.fetch(folder, mailbox.find_thread(folder, thread)):
            message = email.message_from_bytes(raw, policy=policy.default)
            if _normal_subject(str(message.get("Subject", ""))) == _normal_subject(claim.subject):
                copies[claim.id] = Copy(uid, _bare(str(message.get("Message-ID", ""))) or _bare(claim.message_id),
                                        _date(message.get("Date")), "the draft's Gmail thread")
                break
    return copies


def _found_in(mailbox: ImapMailbox, folder: str, claims: list[Claim]) -> dict[int, Copy]:
    since = (min(c.created_at for c in claims) - timedelta(days=1)).date()
    found = mailbox.find_own(folder, [c.message_id for c in claims], [claim_reference(c) for c in claims], since)
    copies = _match(claims, found)
    rest = [c for c in claims if c.id not in copies]
    if rest and mailbox.gmail:
        copies |= _in_thread(mailbox, folder, rest)
    return copies


def _still_drafted(mailbox: ImapMailbox, claims: list[Claim], store: Store, now: datetime) -> set[int]:
    """Claims whose draft is still in Drafts. A draft found under a new UID (edited) has its UID updated."""
    drafts = mailbox.drafts_folder()
    present: set[int] = set()
    by_validity: dict[int, list[Claim]] = {}
    for claim in claims:
        if isinstance(claim.placed.get("uid"), int) and isinstance(claim.placed.get("uidvalidity"), int):
            by_validity.setdefault(claim.placed["uidvalidity"], []).append(claim)
    for validity, group in by_validity.items():
        there = mailbox.present_uids(drafts, validity, [c.placed["uid"] for c in group])
        present |= {c.id for c in group if there is not None and c.placed["uid"] in there}
    rest = [c for c in claims if c.id not in present]
    if rest:
        for claim_id, copy in _found_in(mailbox, drafts, rest).items():
            present.add(claim_id)
            claim = next(c for c in rest if c.id == claim_id)
            store.update_claim(claim_id, now, placed={**claim.placed, "folder": drafts, "uid": copy.uid,
                                                      "uidvalidity": mailbox.uidvalidity(drafts)})
    return present


def _left_at(store: Store, claim: Claim, copy: Copy, now: datetime) -> datetime:
    """When the claim left: the copy's Date, which a mail app sets as it sends; but a copy still dated as the
    draft was written tells nothing of when it went, so then the moment it was found."""
    written = [at for at, _, note in store.claim_history(claim.id) if note.startswith(("put in", "replaced in"))]
    if copy.date is None or (written and copy.date <= max(written)):
        return now
    return min(copy.date, now)


def _follow_drafts(store: Store, mailbox: ImapMailbox, now: datetime) -> list[int]:
    changed: list[int] = []
    sent_folder = mailbox.sent_folder()
    recent = now - LOOK_BACK
    looking = [c for c in store.claims(["drafted", "uncertain", "discarded"])
               if c.status == "drafted" or c.created_at >= recent]
    copies = _found_in(mailbox, sent_folder, looking) if looking and sent_folder is not None else {}
    for claim in looking:
        copy = copies.get(claim.id)
        if copy is None:
            continue
        store.update_claim(claim.id, now, status="sent", delivery="done", sent_at=_left_at(store, claim, copy, now),
                           sent_message_id=copy.message_id, missing_since="clear",
                           note=f"found in {sent_folder} by {copy.how}")
        changed.append(claim.id)
    drafted = [c for c in looking if c.status == "drafted" and c.id not in copies]
    if not drafted or sent_folder is None:
        return changed  # without a Sent folder a draft that left Drafts cannot be told sent from deleted
    try:
        present = _still_drafted(mailbox, drafted, store, now)
    except MailboxError as exc:  # Drafts hidden from IMAP since, say: nothing to conclude from it
        log.warning("drafts_not_watched", error=str(exc))
        return changed
    for claim in drafted:
        if claim.id in present:
            if claim.missing_since is not None:
                store.update_claim(claim.id, now, missing_since="clear", note="back in Drafts")
        elif claim.missing_since is None:
            store.update_claim(claim.id, now, missing_since=now,
                               note="no longer in Drafts, and not in Sent (yet)")
        elif now - claim.missing_since >= DISCARD_AFTER:
            store.update_claim(claim.id, now, status="discarded",
                               note=f"gone from Drafts since {claim.missing_since:%Y-%m-%d} and never found in Sent: "
                               "deleted, not sent (`lateclaim claims mark-sent ID` if you sent it another way)")
            changed.append(claim.id)
    return changed


# -- answered only by an answer ---------------------------------------------------------------------------------


@cache
def _answer_hints() -> dict[str, Any]:
    with ANSWERS.open("rb") as file:
        return tomllib.load(file)


def looks_like_customer_service(sender: str, subject: str) -> bool:
    """From the sender and subject alone: could this Amazon email be customer service answering?"""
    hints = _answer_hints()
    local = parseaddr(sender)[1].rpartition("@")[0].casefold()
    text = " ".join(subject.split()).casefold()
    if local in hints["senders"]["never"]:
        return False
    if local in hints["senders"]["service"]:
        return True
    if text.startswith(tuple(hints["subjects"]["reply_prefixes"])):
        return True
    if any(word in text for word in hints["subjects"]["never"]):
        return False
    return any(word in text for word in hints["subjects"]["words"])


def _replied_to(mailbox: ImapMailbox, folder: str, claims: list[Claim]) -> dict[int, tuple[str, int]]:
    groups = [["HEADER", name, _bracketed(c.reply_id)] for c in claims for name in ("In-Reply-To", "References")]
    uids = mailbox.search(folder, any_of(groups))
    answered: dict[int, tuple[str, int]] = {}
    for uid, header in mailbox.headers(folder, uids, ["In-Reply-To", "References"]).items():
        text = f"{header.get('In-Reply-To', '')} {header.get('References', '')}"
        for claim in claims:
            if _bracketed(claim.reply_id) in text:
                answered[claim.id] = (f"a reply in {folder} (UID {uid})", uid)
    return answered


def _customer_service(mailbox: ImapMailbox, folder: str, store: Store, claim: Claim) -> tuple[str, int] | None:
    went_out = claim.sent_at or claim.created_at
    uids = mailbox.search(folder, ["SINCE", went_out.date(), "BODY", claim.order_id,
                                   *sender_criteria(sender_domains())])
    headers = mailbox.headers(folder, uids, ["Message-ID", "From", "Subject", "Date"])
    for uid, header in headers.items():
        date = _date(header.get("Date"))
        if date is None or date <= went_out:
            continue  # only what came after the claim can answer it
        if not looks_like_customer_service(str(header.get("From", "")), str(header.get("Subject", ""))):
            continue
        message_id = _bare(str(header.get("Message-ID", "")))
        if not message_id:  # the state file knows such a message by the hash of its bytes
            message_id = next((identity(raw, None) for _, raw in mailbox.fetch(folder, [uid])), "")
        if store.is_shipment_message(message_id):
            continue
        return f"a customer-service email naming the order in {folder} (UID {uid})", uid
    return None


def _follow_answers(store: Store, mailbox: ImapMailbox, now: datetime) -> list[int]:
    changed: list[int] = []
    waiting = store.claims(["sent"])
    if not waiting:
        return changed
    for folder in mailbox.folders_to_read():
        answers = _replied_to(mailbox, folder, waiting)
        for claim in waiting:
            answer = answers.get(claim.id) or _customer_service(mailbox, folder, store, claim)
            if answer is not None:
                note, uid = answer
                # Its words are kept with the claim: the next letter of the thread quotes them, as a reply does.
                raw = next((raw for _, raw in mailbox.fetch(folder, [uid])), None)
                evidence = {**claim.evidence, "answer": excerpt(raw)} if raw is not None else None
                store.update_claim(claim.id, now, status="answered", note=note, evidence=evidence)
                changed.append(claim.id)
        waiting = [c for c in waiting if c.id not in changed]
    return changed


def follow_up(store: Store, mailbox: ImapMailbox, now: datetime) -> list[int]:
    changed = _follow_drafts(store, mailbox, now) + _follow_answers(store, mailbox, now)
    if changed:
        log.info("claims_followed_up", claims=changed)
    return changed
