"""What counts as an answer to a claim, read from one message; and what of it is kept.

A message can answer a claim only when all of these hold (daemon/passes/followup.py applies the last ones, which
need the claim and the mailbox):

- it comes from Amazon itself, authenticated by the same rule as any Amazon fact (an aligned DKIM pass from the
  receiving server, unless `rules.trust_unauthenticated`), or from the address the letter was written to (then
  it must reply to the letter's own Message-ID, which only its recipient knows). Never from the user's own
  addresses; a seller's message that Amazon relays (@marketplace.amazon.*) is a seller's words, never Amazon's;
- it is none of ours: not a claim's Message-ID, no \\Draft flag, not in Drafts or Sent;
- it arrived after the letter left;
- it replies to the Message-ID the letter left with (In-Reply-To, References), or it is Amazon's customer
  service naming the claim's order: a sender, subject or text that reads as an answer (no-reply@ included), and
  never shipment, order, refund or marketing mail (mail the parsers read events from).

Its header values are read strictly (daemon.passes.thread.checked_id) before any can be reused in a letter. Only
its own words are kept: the history it quotes (the user's letter, "On ... wrote:") is cut, and the excerpt is
bounded. It is stored with the claim in the private state file, never logged.
"""

from __future__ import annotations

import email
import re
import tomllib
from dataclasses import dataclass
from datetime import datetime
from email import policy
from email.header import decode_header, make_header
from email.message import EmailMessage, Message
from email.parser import BytesHeaderParser
from email.utils import formataddr, parseaddr
from functools import cache
from pathlib import Path
from typing import Any

import parsers
from daemon.config import Config
from daemon.passes.thread import checked_id, message_ids
from parsers.marketplaces import marketplace_of
from parsers.model import Status

ANSWERS = Path(__file__).parent / "data" / "answers.toml"
MAX_LINES = 25
MAX_CHARS = 1500
# Where a reply's own words end: the quoted history, a mail client's attribution line, a forwarded original.
HISTORY = re.compile(
    r"^\s*(>|-{2,}\s*(original message|message d'origine|ursprüngliche nachricht|messaggio originale|"
    r"mensaje original)|(on|le|am|il giorno|el)\b.{0,200}\b(wrote|écrit|schrieb|scritto|escribió)\s*:)",
    re.IGNORECASE,
)
ORDER_ID = re.compile(r"\b[A-Z0-9]{3}-\d{7}-\d{7}\b")  # Amazon's order numbers, on every marketplace


@cache
def _hints() -> dict[str, Any]:
    with ANSWERS.open("rb") as file:
        return tomllib.load(file)


def _by_header(sender: str, subject: str) -> bool | None:
    """From the sender and subject alone: customer service (True), automatic mail (False), or cannot tell."""
    hints = _hints()
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
    if any(word in text for word in hints["subjects"]["words"]):
        return True
    return None


def looks_like_customer_service(sender: str, subject: str, text: str = "") -> bool:
    """Could this Amazon email be customer service answering? Its sender and subject first; when they tell
    nothing (a no-reply@ sender, a plain subject), its text."""
    verdict = _by_header(sender, subject)
    if verdict is not None:
        return verdict
    words = " ".join(text.split()).casefold()
    return any(word in words for word in _hints()["texts"]["words"])


def is_seller_relay(address: str) -> bool:
    """A seller's message relayed by Amazon (xyz@marketplace.amazon.fr): signed by Amazon, written by the seller."""
    domain = address.rpartition("@")[2].lower()
    return any(domain.startswith(f"{label}.") for label in _hints()["senders"]["relays"])


def _decoded(value: object) -> str:
    try:
        return str(make_header(decode_header(str(value or ""))))
    except (LookupError, ValueError, UnicodeError):  # an unknown charset, a broken encoded word: as written
        return str(value or "")


def _shown(header: Message) -> str:
    """The From line as a mail client shows it ("Amazon.fr" <cs-reply@amazon.fr>), on one line, bounded."""
    name, address = parseaddr(_decoded(header.get("From", "")))
    return " ".join(formataddr((name, address)).split())[:200]


def text_of(message: EmailMessage) -> str:
    """A message's own text: its plain part, else its HTML part read as text. The one place answers read HTML."""
    body = message.get_body(preferencelist=("plain", "html"))
    if body is None:
        return ""
    try:
        content = str(body.get_content())
    except (LookupError, ValueError):  # an unknown charset or a broken encoding: nothing to read
        return ""
    if body.get_content_type() != "text/html":
        return content
    return parsers.readable_text(content)


def own_words(text: str) -> str:
    """The answer's own words, bounded: the history it quotes is cut."""
    lines: list[str] = []
    for line in text.splitlines():
        if HISTORY.match(line):
            break
        if line.strip() or (lines and lines[-1]):
            lines.append(line.rstrip())
    words = "\n".join(lines).strip()[:MAX_CHARS]
    return "\n".join(words.splitlines()[:MAX_LINES])


@dataclass(frozen=True)
class Heard:
    """A message that may answer a claim, as read once by the pass that downloaded it."""

    folder: str
    uid: int
    message_id: str  # checked, bare; "" when it has none that could be repeated in a letter
    sender: str  # the From address as a mail client shows it, lowercased
    sent_at: datetime | None
    refers_to: frozenset[str]  # the checked Message-IDs of its In-Reply-To and References
    amazon: bool  # from Amazon itself (not a relayed seller), authenticated as any Amazon fact must be
    addressed: bool  # from an address a letter was written to (`claims.to`)
    service: bool  # reads as customer service answering (sender, subject or text)
    orders: frozenset[str]  # the order numbers it names
    words: dict[str, Any]  # what a later letter quotes (message_id, date, sender as its From reads, text)

    def replies_to(self, message_id: str) -> bool:
        bare = checked_id(message_id)
        return bool(bare) and bare in self.refers_to


def _header_block(raw: bytes) -> Message:
    return BytesHeaderParser(policy=policy.compat32).parsebytes(raw)


def hear(raw: bytes, folder: str, uid: int, config: Config, own: frozenset[str],
         recipients: frozenset[str]) -> Heard | None:
    """The message at `uid` as a possible answer; None when it can answer no claim at all. Cheap for the mail
    that cannot (shipment mail from its headers): only a possible answer is read whole."""
    header = _header_block(raw)
    refers = frozenset(message_ids(f"{header.get('In-Reply-To', '')} {header.get('References', '')}"))
    address = parseaddr(str(header.get("From", "")))[1].lower()
    subject = _decoded(header.get("Subject", ""))
    if address in own or (not refers and _by_header(address, subject) is False):
        return None
    result = parsers.parse(raw, recipient_tz=config.rules.timezone, authserv_ids=config.rules.authserv_ids)
    info = result.message
    sender = info.sender.lower()
    if result.status is Status.QUARANTINED or not sender or sender in own:
        return None
    shipment_mail = result.status is Status.PARSED and bool(result.events)
    amazon = (marketplace_of(sender) is not None and not is_seller_relay(sender)
              and (info.authenticated is True or config.rules.trust_unauthenticated))
    if not amazon and sender not in recipients:
        return None
    message = email.message_from_bytes(raw, policy=policy.default)
    assert isinstance(message, EmailMessage)
    text = text_of(message)
    message_id = checked_id(info.message_id)
    service = not shipment_mail and looks_like_customer_service(sender, subject, text)
    return Heard(
        folder=folder, uid=uid, message_id=message_id, sender=sender, sent_at=info.sent_at, refers_to=refers,
        amazon=amazon, addressed=sender in recipients, service=service,
        orders=frozenset(ORDER_ID.findall(f"{subject}\n{text}")),
        words={"message_id": message_id, "date": info.sent_at.isoformat() if info.sent_at else None,
               "sender": _shown(header), "text": own_words(text)},
    )
