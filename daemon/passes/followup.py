"""Following a claim after it left lateclaim: sent however it left, answered only by an answer.

**Sent.** A drafted claim the user sends from their mail app may leave with a new Message-ID and without our
headers (Gmail's web and mobile apps give a sent draft their own id). So it is looked for in \\Sent by several
signals, none trusted alone, each checked against the message found:
  - its own Message-ID (`rfc822msgid:` on Gmail, the header search elsewhere; the header is always read back);
  - its reference token ("Ref. 4F7Q-2K"), which the letter carries as a customer's reference would;
  - on Gmail, the thread the draft was given at APPEND (X-GM-THRID), for a copy with the claim's subject.
Found: it becomes `sent`, with the copy's Date as `sent_at` and the copy's Message-ID as the one answers refer to.
A copy the user sent to themselves is a letter sent by chat or post (the draft's note asks for just that).
Not found, the draft is watched in \\Drafts (by its UID from APPENDUID; when gone from there, by listing Drafts
and reading Message-IDs, then references, since editing a draft gives it a new UID: never a search, whose index
lags). A draft gone from Drafts and absent from Sent for DISCARD_AFTER is `discarded` and reported ("vanished",
a warning): no later step cites it until the user says it went. Uncertain and discarded claims are looked for in
Sent too: a copy that turns up later settles them as `sent`.

**Answered.** A sent claim is `answered` only by a real answer (daemon/passes/answers.py: from Amazon itself,
authenticated, or from the address the letter went to; never ours; after the letter left; replying to the id it
left with, or Amazon's customer service naming its order). Answers are read from the mail the pass downloads
anyway (`Listening`): no search per claim, so an idle poll costs the same IMAP commands whatever the number of
claims awaiting an answer. The user closes a claim with `lateclaim claims resolve ID --outcome granted|refused`.
"""

from __future__ import annotations

import contextlib
import email
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from email import policy
from email.message import Message
from email.utils import getaddresses, parseaddr

import structlog

import parsers
from daemon.config import Config
from daemon.errors import MailboxError
from daemon.mail.headers import bare_id, header_date
from daemon.mail.imap import Described, FolderState, ImapMailbox, readable_text
from daemon.passes.answers import Heard, hear
from daemon.passes.outbox import claim_reference
from daemon.passes.sync import own_addresses
from daemon.passes.thread import checked_id
from daemon.state.store import Claim, Store

log = structlog.get_logger("lateclaim.followup")

DISCARD_AFTER = timedelta(days=3)  # a draft gone from Drafts and not in Sent this long was deleted, not sent
LOOK_BACK = timedelta(days=60)  # how long an uncertain or discarded claim is still looked for in Sent
VANISHED = "vanished"  # how the history entry of a draft gone without a Sent copy starts (read by the notices)




# -- sent, however it left ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Copy:
    """A claim's copy found in a folder."""

    uid: int
    message_id: str
    date: datetime | None
    how: str  # which signal found it
    to: frozenset[str] = frozenset()  # the addresses it was sent to


def _recipients(message: Message) -> frozenset[str]:
    return frozenset(address.lower() for _, address in getaddresses([str(v) for v in message.get_all("To", [])]))


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
        message_id = bare_id(str(message.get("Message-ID", "")))
        text = readable_text(raw)
        for claim in claims:
            if claim.id in copies:
                continue
            if message_id == bare_id(claim.message_id):
                how = "its Message-ID"
            elif claim_reference(claim) in text:
                how = f"its reference {claim_reference(claim)}"
            else:
                continue
            copies[claim.id] = Copy(uid, message_id or bare_id(claim.message_id), header_date(message.get("Date")),
                                    how, _recipients(message))
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
                copies[claim.id] = Copy(uid, bare_id(str(message.get("Message-ID", ""))) or bare_id(claim.message_id),
                                        header_date(message.get("Date")), "the draft's Gmail thread",
                                        _recipients(message))
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


def _in_drafts(mailbox: ImapMailbox, drafts: str, claims: list[Claim], store: Store) -> dict[int, Copy]:
    """Claims' drafts found again in Drafts by listing the folder, never by a search (Gmail's HEADER search misses,
    its index lags): by Message-ID; else, for a draft edited since (a new UID, perhaps a new Message-ID), by its
    reference, read in the drafts that are none of ours and came after it (an edit gets a higher UID)."""
    listed = mailbox.listed(drafts)
    where = {message_id: uid for uid, message_id in listed.items()}
    copies = {c.id: Copy(where[bare_id(c.message_id)], bare_id(c.message_id), None, "its Message-ID")
              for c in claims if bare_id(c.message_id) in where}
    rest = [c for c in claims if c.id not in copies]
    if rest:
        known = {bare_id(c.message_id) for c in store.claims()}
        validity = mailbox.uidvalidity(drafts)
        placed = [u for c in rest
                  if c.placed.get("uidvalidity") == validity and isinstance(u := c.placed.get("uid"), int)]
        after = min(placed) if len(placed) == len(rest) else 0
        others = [uid for uid, message_id in sorted(listed.items()) if message_id not in known and uid > after]
        copies |= _match(rest, dict(mailbox.fetch(drafts, others)))
    if rest and mailbox.gmail:
        copies |= _in_thread(mailbox, drafts, [c for c in rest if c.id not in copies])
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
        for claim_id, copy in _in_drafts(mailbox, drafts, rest, store).items():
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


def _how_it_left(copy: Copy, own: frozenset[str]) -> str:
    """The history note of a claim found sent. A copy the user sent to themselves is the draft's way of saying
    "I sent it by chat or by post" (its note asks for just that, from any mail app)."""
    if copy.to and own and copy.to <= own:
        return f"sent by chat or post (a copy sent to yourself, found by {copy.how})"
    return f"found by {copy.how}"


def _follow_drafts(store: Store, mailbox: ImapMailbox, now: datetime, own: frozenset[str]) -> list[int]:
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
                           note=f"{_how_it_left(copy, own)} in {sent_folder}")
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
            # Reported, never silent: the ladder waits for the user's word (the notices read this entry).
            what_to_do = (f"if you sent it another way (chat, contact form, post), run `lateclaim claims mark-sent "
                          f"{claim.id} --on DATE` and the ladder goes on")
            store.update_claim(claim.id, now, status="discarded",
                               note=f"{VANISHED}: gone from Drafts since {claim.missing_since:%Y-%m-%d} and never "
                               f"found in Sent; {what_to_do}")
            log.warning("draft_vanished", claim=claim.id, order_id=claim.order_id, what_to_do=what_to_do)
            changed.append(claim.id)
    return changed


# -- answered only by an answer ---------------------------------------------------------------------------------


class Listening:
    """The pass's mailbox, overheard: every message the pass downloads anyway is also read as a possible answer
    (daemon/passes/answers.py), and the addresses the letters went to are added to the senders the pass asks the
    server for. Finding answers costs no IMAP command of its own: an idle poll costs the same whatever the
    number of claims awaiting one. An answer is recorded as soon as it is read, before the pass records the
    message and moves past it; one replying to a letter this same pass finds sent waits for follow_up()."""

    def __init__(self, mailbox: ImapMailbox, store: Store, config: Config, now: datetime) -> None:
        self.mailbox, self.store, self.now, self.config = mailbox, store, now, config
        self.own = frozenset(own_addresses(config))  # mail from them is the user's, never an answer
        self.recipients = frozenset(a for a in recipient_addresses(config) if a not in self.own)
        self.heard: list[Heard] = []
        self.answered: list[int] = []

    def folders_to_read(self) -> list[str]:
        return self.mailbox.folders_to_read()

    def scan(self, folder: str, uidvalidity: int | None, last_uid: int, sender_domains: Sequence[str]) -> FolderState:
        return self.mailbox.scan(folder, uidvalidity, last_uid, [*sender_domains, *sorted(self.recipients)])

    def scan_forwards(self, folder: str, last_uid: int, own: Sequence[str]) -> tuple[int, ...]:
        return self.mailbox.scan_forwards(folder, last_uid, own)

    def describe(self, folder: str, uids: Sequence[int]) -> dict[int, Described]:
        return self.mailbox.describe(folder, uids)

    def fetch(self, folder: str, uids: Sequence[int], batch: int = 50) -> Iterator[tuple[int, bytes]]:
        for uid, raw in self.mailbox.fetch(folder, uids, batch):
            self._hear(folder, uid, raw)
            yield uid, raw

    def _hear(self, folder: str, uid: int, raw: bytes) -> None:
        try:
            heard = hear(raw, folder, uid, self.config, self.own, self.recipients)
            if heard is not None and folder not in self._own_folders():
                self.heard.append(heard)
                self.answered += settle(self.store, self.mailbox, [heard], self.now)
        except Exception as exc:  # noqa: BLE001 - one email's failure must never fail the pass
            reason = f"unreadable as an answer: {type(exc).__name__}: {exc}"[:300]
            identity = parsers.parse(raw, authserv_ids=self.config.rules.authserv_ids).message.message_id
            log.warning("answer_unreadable", folder=folder, uid=uid, message_id=identity, reason=reason)
            self.store.quarantine(identity, reason)

    def _own_folders(self) -> set[str]:
        """Drafts and Sent: what is filed there is ours, whatever it says."""
        folders = {self.mailbox.sent_folder()}
        with contextlib.suppress(MailboxError):
            folders.add(self.mailbox.drafts_folder())
        return {f for f in folders if f}


def recipient_addresses(config: Config) -> list[str]:
    """The addresses the letters are written to: their replies are answers too."""
    return sorted({parseaddr(a)[1].lower() for a in [config.claims.to] if "@" in a})


def _answers(heard: Heard, claim: Claim, ours: set[str]) -> str | None:
    """What makes `heard` an answer to `claim`, or None."""
    went_out = claim.sent_at or claim.created_at
    if heard.sent_at is None or heard.sent_at <= went_out or heard.message_id in ours:
        return None  # only what came after the letter can answer it, and never one of our own letters
    if (heard.amazon or heard.addressed) and (heard.replies_to(claim.reply_id) or heard.replies_to(claim.message_id)):
        return f"a reply in {heard.folder} (UID {heard.uid})"
    if heard.amazon and heard.service and claim.order_id in heard.orders:
        return f"a customer-service email naming the order in {heard.folder} (UID {heard.uid})"
    return None


def settle(store: Store, mailbox: ImapMailbox, heard: Sequence[Heard], now: datetime) -> list[int]:
    """Mark `answered` the sent claims that one of `heard` answers; their ids."""
    waiting = store.claims(["sent"])
    if not heard or not waiting:
        return []
    everything = store.claims()
    ours = {checked_id(c.message_id) for c in everything} | {checked_id(c.sent_message_id) for c in everything}
    changed: list[int] = []
    for message in heard:
        found = [(claim, note) for claim in waiting if claim.id not in changed
                 and (note := _answers(message, claim, ours)) is not None]
        if not found or mailbox.is_own_copy(message.folder, message.uid):
            continue  # a draft or a sent letter (its flag, its Gmail label) is never an answer
        for claim, note in found:
            # Its words are kept with the claim: the next letter of the thread quotes them, as a reply does.
            store.update_claim(claim.id, now, status="answered", note=note,
                               evidence={**claim.evidence, "answer": message.words})
            changed.append(claim.id)
    return changed


def follow_up(store: Store, mailbox: ImapMailbox, now: datetime, listening: Listening | None = None) -> list[int]:
    changed = _follow_drafts(store, mailbox, now, listening.own if listening is not None else frozenset())
    if listening is not None:  # answers to letters this pass found sent, and those recorded while reading
        changed += listening.answered + settle(store, mailbox, listening.heard, now)
    if changed:
        log.info("claims_followed_up", claims=changed)
    return changed
