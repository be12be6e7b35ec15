"""One email's parts made readable: headers, the plain text (or the HTML turned to text), the raw HTML.

mail-parser decodes the MIME structure, transfer encodings and charsets; this module picks what the
extraction needs and unwraps a forwarded Amazon email (the forward's inner date and sender then count, and it is
never authenticated).
"""

from __future__ import annotations

import email
import hashlib
import re
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta, timezone
from email.header import decode_header
from email.message import Message
from email.utils import getaddresses, parsedate_to_datetime

import mailparser
from bs4 import BeautifulSoup

# Bidi and zero-width controls: invisible, but they break order numbers and phrases apart.
INVISIBLE = re.compile("[\u200b-\u200f\u202a-\u202e\u2066-\u2069\ufeff\u00ad]")


def visible(text: str) -> str:
    return INVISIBLE.sub("", text)
FORWARD_MARKERS = re.compile(
    r"^[>\s]*(?:-+\s*)?(?:begin forwarded message|forwarded message|original message|message transféré|"
    r"début du message réexpédié|weitergeleitete nachricht|messaggio inoltrato|mensaje reenviado)\s*:?\s*-*\s*$",
    re.I | re.M)
HEADER_LINE = re.compile(r"^[>\s]*(from|de|von|da|date|datum|data|fecha|subject|objet|betreff|oggetto|asunto|sent|"
                         r"envoyé|gesendet)\s*:\s*(.*)$", re.I)
JAVAMAIL_BOUNDARY = re.compile(r"_Part_\d+_\d+\.(\d{13})")
US_ZONES = {"EST": -5, "EDT": -4, "CST": -6, "CDT": -5, "MST": -7, "MDT": -6, "PST": -8, "PDT": -7, "GMT": 0,
            "UTC": 0, "BST": 1, "CET": 1, "CEST": 2}


@dataclass(frozen=True)
class Mail:
    message_id: str
    subject: str
    sender: str  # lowercased address
    sent_at: datetime | None
    text: str  # the plain-text part, or the HTML part turned into text
    html: str  # the raw HTML part, "" when none
    auth_headers: tuple[str, ...] = ()  # Authentication-Results headers, topmost first
    arc_headers: tuple[str, ...] = ()
    forwarded: bool = False
    year_hint: int | None = None  # when there is no Date: the year the MIME boundary was made in
    notes: tuple[str, ...] = field(default=())


def identity(raw: bytes, message: Message | None) -> str:
    found = str(message.get("Message-ID") or "").strip() if message is not None else ""
    found = visible(found).strip().strip("<>").strip()
    return found if found and " " not in found else "sha256:" + hashlib.sha256(raw).hexdigest()


def _address(value: str) -> str:
    pairs = getaddresses([value])
    return pairs[0][1].strip().lower() if pairs and pairs[0][1] else ""


def _date(header: object) -> datetime | None:
    value = str(header or "")  # an 8-bit header comes as an email.header.Header
    if not value:
        return None
    try:
        moment = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return _apple_date(value)
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment


def _apple_date(value: str) -> datetime | None:
    """ "January 7, 2022 at 10:23:16 AM EST": the Date line of an Apple Mail forward."""
    m = re.match(r"\s*(\w+ \d{1,2}, \d{4}) at (\d{1,2}:\d\d(?::\d\d)?\s*[AP]M)\s*([A-Z]{2,4})?", value)
    if not m:
        return None
    for fmt in ("%B %d, %Y %I:%M:%S %p", "%B %d, %Y %I:%M %p"):
        try:
            naive = datetime.strptime(f"{m.group(1)} {m.group(2).replace(' ', ' ')}", fmt)
        except ValueError:
            continue
        offset = US_ZONES.get(m.group(3) or "UTC", 0)
        return naive.replace(tzinfo=timezone(timedelta(hours=offset)))
    return None


def html_to_text(html: str) -> str:
    soup = BeautifulSoup(html, "lxml")
    for tag in soup(["style", "script", "head"]):
        tag.decompose()
    return soup.get_text("\n")


def _boundary_year(raw: bytes) -> int | None:
    """JavaMail boundaries carry the sending time in milliseconds. Without a Date header it tells the year,
    enough to place "1 December" with its weekday, not the day: "today" then stays unresolved."""
    m = JAVAMAIL_BOUNDARY.search(raw[:20000].decode("ascii", "replace"))
    return datetime.fromtimestamp(int(m.group(1)) / 1000, UTC).year if m else None


def _decode(payload: bytes, charset: str | None) -> str:
    """A part's text in its declared charset; a missing or unknown one falls back to UTF-8, then cp1252
    (the usual truth behind a wrong label), rather than losing the accented words the phrases need."""
    for candidate in (charset, "utf-8", "cp1252"):
        if not candidate:
            continue
        try:
            return payload.decode(candidate)
        except (LookupError, UnicodeDecodeError):
            continue
    return payload.decode("utf-8", "replace")


def _parts(message: Message, subtype: str) -> str:
    texts = []
    for part in message.walk():
        if part.get_content_type() == f"text/{subtype}" and not part.get_filename():
            payload = part.get_payload(decode=True)
            if isinstance(payload, bytes):
                texts.append(_decode(payload, part.get_content_charset()))
    return "\n".join(texts)


def _subject(message: Message) -> str:
    """The Subject, RFC 2047 words decoded; raw 8-bit bytes (against the rules, but seen) read like a body."""
    value = message.get("Subject")
    if value is None:
        return ""
    words = []
    for chunk, charset in decode_header(value):
        if isinstance(chunk, str):
            chunk = chunk.encode("utf-8", "surrogateescape")
        words.append(_decode(chunk, None if charset in (None, "unknown-8bit") else charset))
    return "".join(words)


def read(raw: bytes) -> Mail:
    parsed = mailparser.parse_from_bytes(raw)
    message: Message = parsed.message
    text = visible(_parts(message, "plain"))
    html = visible(_parts(message, "html"))
    if not text.strip() and html:
        text = html_to_text(html)
    sent_at = _date(message.get("Date"))
    notes: tuple[str, ...] = () if sent_at else ("no usable Date header: relative dates stay unresolved",)
    mail = Mail(
        message_id=identity(raw, message),
        subject=" ".join(visible(_subject(message)).split()),
        sender=_address(str(message.get("From") or "")),
        sent_at=sent_at,
        text=text,
        html=html,
        auth_headers=tuple(str(h) for h in message.get_all("Authentication-Results") or ()),
        arc_headers=tuple(str(h) for h in message.get_all("ARC-Authentication-Results") or ()),
        year_hint=None if sent_at else _boundary_year(raw),
        notes=notes,
    )
    return mail


def _embedded_email(text: str) -> bytes | None:
    """A whole raw email pasted as the body (some forwarding tools do this)."""
    head = text.lstrip()[:5000]
    if re.match(r"^[A-Za-z][\w-]*:", head) and re.search(r"^From:", head, re.M) and re.search(
            r"^(?:Received|Delivered-To|Message-ID|Return-Path|Date):", head, re.M | re.I):
        return text.lstrip().encode("utf-8", "surrogateescape")
    return None


def unwrap_forward(mail: Mail) -> Mail | None:
    """The inner Amazon email of a forward, or None when `mail` is not a forward."""
    embedded = _embedded_email(mail.text)
    if embedded is not None:
        inner = read(embedded)
        if inner.sender:
            return replace(inner, forwarded=True, auth_headers=(), arc_headers=(),
                           message_id=mail.message_id, notes=(*inner.notes, "an email pasted whole as the body"))
    marker = FORWARD_MARKERS.search(mail.text)
    if marker is None:
        return None
    lines = mail.text[marker.end():].splitlines()
    fields: dict[str, str] = {}
    body_start = 0
    for index, line in enumerate(lines[:20]):
        m = HEADER_LINE.match(line)
        if m:
            key = m.group(1).lower()
            key = {"de": "from", "von": "from", "da": "from", "datum": "date", "data": "date", "fecha": "date",
                   "sent": "date", "envoyé": "date", "gesendet": "date", "objet": "subject", "betreff": "subject",
                   "oggetto": "subject", "asunto": "subject"}.get(key, key)
            fields.setdefault(key, m.group(2).strip())
            body_start = index + 1
    if "from" not in fields:
        return None
    body = "\n".join(re.sub(r"^>\s?", "", line) for line in lines[body_start:])
    return replace(mail, subject=fields.get("subject", mail.subject), sender=_address(fields["from"]),
                   sent_at=_date(fields.get("date")), text=body, forwarded=True, auth_headers=(), arc_headers=(),
                   notes=(*mail.notes, "forwarded: the inner message's sender and date are used"))


def message_or_none(raw: bytes) -> Message | None:
    try:
        return email.message_from_bytes(raw)
    except Exception:  # noqa: BLE001 - only used to name a message that could not be read at all
        return None
