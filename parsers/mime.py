"""One email made readable: mail-parser reads the message, BeautifulSoup reads its HTML.

mail-parser (over the standard library's email package) reads the headers, the MIME tree and its defects; each
text/plain and text/html part of the message itself (not an attachment, not a message attached to it) is decoded,
and the HTML parsed once by BeautifulSoup with the lxml builder (parsers/html.py). Work is bounded before any
parsing: the size (parsers.MAX_BYTES), a header block that ends, the number of lines, of MIME delimiter lines
and of attached messages; then of parts, levels and HTML tags. A forwarded Amazon email is unwrapped, whether
attached (message/rfc822) or quoted in the text (the forward's inner date and sender then count, and it is never
authenticated).

Where a library has a quirk it is worked around here, with a test naming it (tests/test_mime_quirks.py).
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta, timezone
from email import message_from_bytes
from email.errors import MessageError
from email.header import decode_header, make_header
from email.message import Message
from email.parser import BytesHeaderParser
from email.policy import compat32
from email.utils import getaddresses, parsedate_to_datetime

from parsers import html as html_reader
from parsers.auth import author

# Bounds on the work one email can cause: no Amazon email comes near them (real ones: 30-100 KB of HTML,
# 2-4 parts, 2 levels), and anything past them cannot change what the email states at its top.
MAX_HEADER_BYTES = 64 * 1024
MAX_DELIMITER_LINES = 1000  # lines starting with "--": every MIME part needs one, so this bounds the parts
MAX_LINES = 100_000  # real emails have 500-5,000; the standard library's parser keeps every line in memory
MAX_ATTACHED_MESSAGES = 8  # message/rfc822 parts: each one is a level of nesting without a delimiter line
MAX_PARTS = 64  # parts looked at for text
MAX_DEPTH = 8
MAX_HTML_CHARS = 512 * 1024
MAX_TEXT_CHARS = 256 * 1024
HEADERS = BytesHeaderParser(policy=compat32)  # the parser mail-parser's message_from_bytes runs

# Bidi and zero-width controls: invisible, but they break order numbers and phrases apart.
INVISIBLE = re.compile("[\u200b-\u200f\u202a-\u202e\u2066-\u2069\ufeff\u00ad]")


def visible(text: str) -> str:
    return INVISIBLE.sub("", text)


FORWARD_MARKERS = re.compile(  # [> \t], not \s: a run of blank lines must not be rescanned from each line
    r"^[> \t]*(?:-+[ \t]*)?(?:begin forwarded message|forwarded message|original message|message transféré|"
    r"début du message réexpédié|weitergeleitete nachricht|messaggio inoltrato|mensaje reenviado)"
    r"[ \t]*:?[ \t]*-*[ \t]*$", re.I | re.M)
HEADER_LINE = re.compile(r"^[> \t]*(from|de|von|da|date|datum|data|fecha|subject|objet|betreff|oggetto|asunto|sent|"
                         r"envoyé|gesendet)[ \t]*:[ \t]*(.*)$", re.I)
LOOSE_DATE = re.compile(
    r"(?:[^\W\d_]{2,12}(?:-[^\W\d_]{2,6})?\.?,?\s+)?"  # the weekday in any language ("Fri,", "ven.", "sexta-feira,")
    r"(?:(?P<m1>[^\W\d_]{3,12})\.?\s+(?P<d1>\d{1,2}),?|(?P<d2>\d{1,2})\.?\s+(?:de\s+)?(?P<m2>[^\W\d_]{3,12})\.?,?)"
    r"\s+(?:de\s+)?(?P<y>\d{4}),?"
    r"(?:\s+(?:at|à|um|alle ore|alle|a las|às|om|o|kl\.?|klockan)?\s*(?P<h>\d{1,2})[:h.](?P<mi>\d\d)(?::\d\d)?"
    r"\s*(?P<ap>[AaPp]\.?[Mm]\.?)?)?"
    r"(?:\s*\(?(?P<z>[A-Z]{2,4}|[+-]\d{4})\)?)?")
MAIL_PROGRAM_DATE = re.compile(r"\d\s*[AaPp]\.?[Mm]\b|\d{4},?\s+at\s")
MONTHS = {name: number for number, name in enumerate(
    ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"), 1)}
JAVAMAIL_BOUNDARY = re.compile(r"_Part_\d+_\d+\.(\d{13})")  # read in a boundary parameter, not the raw bytes
US_ZONES = {"EST": -5, "EDT": -4, "CST": -6, "CDT": -5, "MST": -7, "MDT": -6, "PST": -8, "PDT": -7, "GMT": 0,
            "UTC": 0, "BST": 1, "CET": 1, "CEST": 2}


@dataclass(frozen=True)
class Mail:
    message_id: str
    subject: str
    sender: str  # lowercased address, as a mail client shows it (parsers.auth.author)
    sent_at: datetime | None  # aware; naive only for a forward's zone-less Date line (see _loose_date)
    text: str  # the plain-text part, or the HTML part's visible text
    html_text: str = ""  # the HTML part's visible text; "" when there is none
    text_from_html: bool = False  # `text` is `html_text`: there is no plain-text part
    page: html_reader.Page | None = None  # the HTML part as read by BeautifulSoup
    message: Message | None = field(default=None, compare=False, repr=False)  # the headers mail-parser read
    forwarded: bool = False
    year_hint: int | None = None  # when there is no Date: the year the MIME boundary was made in
    notes: tuple[str, ...] = field(default=())
    attached: tuple[Message, ...] = field(default=(), compare=False, repr=False)  # message/rfc822 parts

    @property
    def json_ld(self) -> tuple[str, ...]:
        return self.page.json_ld if self.page else ()

    @property
    def headings(self) -> tuple[str, ...]:
        return self.page.headings if self.page else ()


def identity(raw: bytes, message: Message | None) -> str:
    found = str(message.get("Message-ID") or "").strip() if message is not None else ""
    found = visible(found).strip().strip("<>").strip()
    return found if found and " " not in found else "sha256:" + hashlib.sha256(raw).hexdigest()


def _date(header: object) -> datetime | None:
    value = str(header or "")  # an 8-bit header comes as an email.header.Header
    if not value:
        return None
    if MAIL_PROGRAM_DATE.search(value):  # "... at 10:23 PM": parsedate would drop the PM
        return _loose_date(value)
    try:
        moment = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return _loose_date(value)
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment


def _month(name: str) -> int | None:
    """A month's number from its name or abbreviation in English, else in any language lateclaim reads (a
    French forward says "déc.", a German one "Dez."). CLDR names are loaded only for a non-English one."""
    folded = name.lower().rstrip(".")
    if folded[:3] in MONTHS and folded.isascii():
        return MONTHS[folded[:3]]
    from parsers.dates import names
    from parsers.phrases import languages

    return next((found for language in languages() if (found := names(language).months.get(folded))), None)


def _loose_date(value: str) -> datetime | None:
    """The Date line of a forward as mail programs write it: "Fri, Jan 7, 2022 at 10:23 AM" (Gmail), "January 7,
    2022 at 10:23:16 AM EST" (Apple Mail), "Friday, January 7, 2022 10:23 AM" (Outlook), "7 Jan 2022 at 10:23",
    "ven. 7 janv. 2022 à 10:23", "Fr., 7. Jan. 2022 um 10:23".
    Without a zone it is returned naive: wall-clock time where the email was read, placed in the marketplace's
    zone by the caller."""
    m = LOOSE_DATE.match(value.strip()[:100])
    if not m:
        return None
    month = _month(m["m1"] or m["m2"])
    hour, minute = int(m["h"] or 12), int(m["mi"] or 0)
    meridiem = (m["ap"] or "").lower().replace(".", "")
    if meridiem == "pm" and hour < 12:
        hour += 12
    elif meridiem == "am" and hour == 12:
        hour = 0
    try:
        naive = datetime(int(m["y"]), month or 0, int(m["d1"] or m["d2"]), hour, minute)
    except ValueError:
        return None
    zone = m["z"]
    if zone in US_ZONES:
        return naive.replace(tzinfo=timezone(timedelta(hours=US_ZONES[zone])))
    if zone and zone[0] in "+-":
        offset = timedelta(hours=int(zone[1:3]), minutes=int(zone[3:5]))
        return naive.replace(tzinfo=timezone(offset if zone[0] == "+" else -offset))
    return naive


def _boundary_year(message: Message) -> int | None:
    """JavaMail boundaries carry the sending time in milliseconds. Without a Date header it tells the year,
    enough to place "1 December" with its weekday, not the day: "today" then stays unresolved."""
    for part in _walk(message):
        if (m := JAVAMAIL_BOUNDARY.search(part.get_boundary() or "")) is not None:
            return datetime.fromtimestamp(int(m.group(1)) / 1000, UTC).year
    return None


def _decode(payload: bytes, charset: str | None) -> str:
    """A part's text in its declared charset; a missing or unknown one falls back to UTF-8, then cp1252
    (the usual truth behind a wrong label), rather than losing the accented words the phrases need."""
    for candidate in (charset, "utf-8", "cp1252"):
        if not candidate:
            continue
        try:
            return payload.decode(candidate)
        except (LookupError, ValueError):  # an unknown charset, bytes it cannot decode, a NUL in its name
            continue
    return payload.decode("utf-8", "replace")


def _subject(message: Message) -> str:
    """The Subject exactly as the standard library decodes it (make_header over decode_header: the space between
    an encoded word and the plain word folded after it is kept; mail-parser's own decoding drops it). Raw 8-bit
    bytes (against the rules, but seen; the standard library marks them unknown-8bit) are read like a body."""
    value = message.get("Subject")
    if value is None:
        return ""
    chunks = decode_header(value)
    if any(charset == "unknown-8bit" for _, charset in chunks):
        return "".join(_decode(chunk, None) if isinstance(chunk, bytes) else chunk for chunk, _ in chunks)
    try:
        return str(make_header(chunks))
    except (LookupError, UnicodeError):  # an unknown or lying charset in an encoded word
        return "".join(_decode(chunk, None) if isinstance(chunk, bytes) else chunk for chunk, _ in chunks)


def rejection(raw: bytes) -> str | None:
    """Why `raw` is not worth parsing, decided before any parsing; None when it looks like an email."""
    if not raw.strip():
        return "empty message"
    window = raw[:MAX_HEADER_BYTES]
    if len(raw) > MAX_HEADER_BYTES and b"\n\n" not in window and b"\n\r\n" not in window:
        return f"not an email: headers longer than {MAX_HEADER_BYTES} bytes"
    first = window.split(b"\n", 1)[0]
    name, colon, _ = first.partition(b":")
    if not first.startswith(b"From ") and (not colon or not name or not all(33 <= c <= 126 for c in name)):
        return "not an email: it does not start with a header line"
    if (lines := raw.count(b"\n")) > MAX_LINES:
        return f"too many lines: {lines} (the limit is {MAX_LINES})"
    if (lines := raw.count(b"\n--")) > MAX_DELIMITER_LINES:
        return f"too many MIME parts: {lines} delimiter lines (the limit is {MAX_DELIMITER_LINES})"
    if (attached := raw.lower().count(b"message/rfc822")) > MAX_ATTACHED_MESSAGES:
        return f"too deeply nested: {attached} attached messages (the limit is {MAX_ATTACHED_MESSAGES})"
    return None


def _walk(message: Message, depth: int = 0, budget: list[int] | None = None) -> list[Message]:
    """The message's own parts, depth first, within MAX_DEPTH levels and MAX_PARTS parts; a message attached to
    it (message/rfc822) is another message, and is not entered."""
    budget = [MAX_PARTS] if budget is None else budget
    budget[0] -= 1
    if budget[0] < 0:
        return []
    found = [message]
    if depth < MAX_DEPTH and message.is_multipart() and message.get_content_type() != "message/rfc822":
        # get_payload() only on a multipart: on a leaf it decodes the text with the charset parameter as written,
        # and a NUL there raises ValueError (the standard library's quirk, tests/test_mime_quirks.py).
        payload = message.get_payload()
        for part in payload if isinstance(payload, list) else ():
            if isinstance(part, Message):
                found += _walk(part, depth + 1, budget)
    return found


def _attached(parts: list[Message]) -> tuple[Message, ...]:
    found = []
    for part in parts:
        payload = part.get_payload() if part.get_content_type() == "message/rfc822" else None
        if isinstance(payload, list) and payload and isinstance(payload[0], Message):
            found.append(payload[0])
    return tuple(found)


def _is_body(part: Message) -> bool:
    """A text part of the message itself: not an attachment (a filename, or a disposition saying so, as
    mail-parser decides it), not a container."""
    return (part.get_content_maintype() == "text" and part.get_content_subtype() in ("plain", "html")
            and not part.is_multipart() and not part.get_filename()
            and (part.get_content_disposition() or "inline") == "inline")


def _html_of(part: Message) -> str | bytes:
    """An HTML part for BeautifulSoup: its text when the MIME header names a charset, else its bytes, so that
    BeautifulSoup reads the charset from the document's own <meta> (mail-parser would decode them as UTF-8)."""
    payload = part.get_payload(decode=True)
    data = payload if isinstance(payload, bytes) else b""
    if part.get_content_charset() is None:
        return data[:MAX_HTML_CHARS]
    return _decode(data, part.get_content_charset())[:MAX_HTML_CHARS]


def read(raw: bytes) -> Mail:
    """`raw` read by mail-parser; its text parts decoded, its HTML read by BeautifulSoup."""
    import mailparser

    try:
        parsed = mailparser.parse_from_bytes(raw)
    except (ValueError, MessageError) as exc:
        # mail-parser decodes each text part with its charset parameter as written (a NUL in it raises ValueError)
        # and writes attached messages back out (a charset that is no name raises CharsetError): see
        # tests/test_mime_quirks.py. The message is then read by the parser mail-parser runs, the standard library's.
        note = f"mail-parser failed ({type(exc).__name__}): read without it"
        return read_message(message_from_bytes(raw), raw, notes=(note,))
    return read_message(parsed.message, raw, notes=tuple(_defects(parsed)))


def _defects(parsed: object) -> list[str]:
    categories = sorted(getattr(parsed, "defects_categories", ()) or ())
    return [f"MIME defects: {', '.join(categories)}"] if categories else []


def read_message(message: Message, raw: bytes = b"", notes: tuple[str, ...] = ()) -> Mail:
    """One message's Mail, from the tree mail-parser (the standard library's parser) built."""
    parts = _walk(message)
    plain: list[str] = []
    page: html_reader.Page | None = None
    found_notes = list(notes)
    for part in parts:
        if not _is_body(part):
            continue
        if part.get_content_subtype() == "plain":
            payload = part.get_payload(decode=True)
            if isinstance(payload, bytes):
                plain.append(_decode(payload, part.get_content_charset()).replace("\r\n", "\n"))
        elif page is None:  # the first HTML part: the one the message shows
            page = html_reader.read(_html_of(part))
    text = visible("\n".join(plain)[:MAX_TEXT_CHARS])
    html_text = visible(page.text)[:MAX_TEXT_CHARS] if page is not None else ""
    text_from_html = not text.strip() and bool(html_text)
    if text_from_html:
        text = html_text
    sent_at = _date(message.get("Date"))
    if not sent_at:
        found_notes.append("no usable Date header: relative dates stay unresolved")
    return Mail(
        message_id=identity(raw, message),
        subject=" ".join(visible(_subject(message)).split())[:1000],
        sender=author(str(message.get("From") or "")),
        sent_at=sent_at,
        text=text,
        html_text=html_text,
        text_from_html=text_from_html,
        page=page,
        message=message,
        year_hint=None if sent_at else _boundary_year(message),
        notes=tuple(found_notes),
        attached=_attached(parts),
    )


def _embedded_email(text: str) -> bytes | None:
    """A whole raw email pasted as the body (some forwarding tools do this)."""
    head = text.lstrip()[:5000]
    if re.match(r"^[A-Za-z][\w-]*:", head) and re.search(r"^From:", head, re.M) and re.search(
            r"^(?:Received|Delivered-To|Message-ID|Return-Path|Date):", head, re.M | re.I):
        return text.lstrip().encode("utf-8", "surrogateescape")
    return None


def _address(value: str) -> str:
    """The address of a forward's quoted "From:" line (a forward is never authenticated: any reading will do)."""
    pairs = getaddresses([value])
    return pairs[0][1].strip().lower() if pairs and pairs[0][1] else ""


def unwrap_forward(mail: Mail) -> Mail | None:
    """The inner Amazon email of a forward, or None when `mail` is not a forward."""
    for attached in mail.attached:
        inner = read_message(attached)
        if inner.sender:
            return replace(inner, forwarded=True, message_id=mail.message_id,
                           notes=(*inner.notes, "an email forwarded as an attachment (message/rfc822)"))
    embedded = _embedded_email(mail.text)
    if embedded is not None:
        inner = read(embedded)
        if inner.sender:
            return replace(inner, forwarded=True, message_id=mail.message_id,
                           notes=(*inner.notes, "an email pasted whole as the body"))
    marker = FORWARD_MARKERS.search(mail.text)
    if marker is None:
        return None
    lines = mail.text[marker.end():].splitlines()
    fields: dict[str, str] = {}
    body_start = 0
    for index, line in enumerate(lines[:20]):
        if fields and not line.strip(" >\t"):
            break  # the forwarded header ends at its first blank line (a forward inside starts below it)
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
                   sent_at=_date(fields.get("date")), text=body, text_from_html=False, forwarded=True, attached=(),
                   notes=(*mail.notes, "forwarded: the inner message's sender and date are used"))


def message_or_none(raw: bytes) -> Message | None:
    try:
        return HEADERS.parsebytes(raw[:MAX_HEADER_BYTES])
    except Exception:  # noqa: BLE001 - only used to name a message that could not be read at all
        return None
