"""One email's parts made readable: headers, the plain text (or the HTML turned to text), the trimmed HTML.

The MIME structure is read once: the header block by the standard library's parser, multipart bodies split
on their boundaries at C speed, and only the text/plain and text/html parts decoded (mail-parser, which
parsed every part and then walked them again, cost two thirds of the parse time). Every step is bounded:
header size, nesting depth, part count, part size, HTML size. Bytes that do not start like an email are
refused before any of it. A forwarded Amazon email is unwrapped (the forward's inner date and sender then
count, and it is never authenticated).
"""

from __future__ import annotations

import binascii
import hashlib
import re
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta, timezone
from email.header import decode_header
from email.message import Message
from email.parser import BytesHeaderParser
from email.policy import compat32
from email.utils import getaddresses, parsedate_to_datetime
from html import unescape
from itertools import islice

# Bounds on the work one email can cause: no Amazon email comes near them (real ones: 30-100 KB of HTML,
# 2-4 parts, 2 levels), and anything past them cannot change what the email states at its top.
MAX_HEADER_BYTES = 64 * 1024
MAX_PARTS = 64
MAX_DEPTH = 8
MAX_PART_BYTES = 1024 * 1024  # one encoded text part
MAX_HTML_CHARS = 512 * 1024
MAX_TEXT_CHARS = 256 * 1024
HEADERS = BytesHeaderParser(policy=compat32)
# Header lines, each with its folded continuations; an mbox "From " line may come first. Alternatives that
# start differently (a name, a blank): the match is linear.
HEADER_BLOCK = re.compile(rb"(?:From [^\n]*\n)?(?:[!-9;-~]+[ \t]*:[^\n]*(?:\n|$)(?:[ \t][^\n]*(?:\n|$))*)*")
TAG = re.compile(r"<[^<>]*>")
HIDDEN = re.compile(r"<(?:!--|(head|style|script)\b)", re.I)  # blocks whose text is not shown
CLOSING = {tag: re.compile(rf"</{tag}\s*>", re.I) for tag in ("head", "style", "script")}
HEADING = re.compile(r"<h[1-3]\b[^<>]*>", re.I)
LD_JSON = re.compile(r"application/ld\+json", re.I)

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
JAVAMAIL_BOUNDARY = re.compile(r"_Part_\d+_\d+\.(\d{13})")
US_ZONES = {"EST": -5, "EDT": -4, "CST": -6, "CDT": -5, "MST": -7, "MDT": -6, "PST": -8, "PDT": -7, "GMT": 0,
            "UTC": 0, "BST": 1, "CET": 1, "CEST": 2}


@dataclass(frozen=True)
class Mail:
    message_id: str
    subject: str
    sender: str  # lowercased address
    sent_at: datetime | None  # aware; naive only for a forward's zone-less Date line (see _loose_date)
    text: str  # the plain-text part, or the HTML part turned into text
    html: str  # the HTML part without head, style, script and comments; "" when none
    auth_headers: tuple[str, ...] = ()  # Authentication-Results headers, topmost first
    arc_headers: tuple[str, ...] = ()
    forwarded: bool = False
    year_hint: int | None = None  # when there is no Date: the year the MIME boundary was made in
    notes: tuple[str, ...] = field(default=())
    html_text: str = ""  # the visible text of `html` when it is the only text (then also `text`), else ""
    json_ld: tuple[str, ...] = ()  # schema.org JSON-LD blocks of the HTML
    headings: tuple[str, ...] = ()  # the texts of the HTML's first <h1>-<h3> headings


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


def json_ld(html: str) -> tuple[str, ...]:
    """The JSON-LD blocks (schema.org markup) of the HTML, which trimming removes with the other scripts."""
    if "ld+json" not in html and "LD+JSON" not in html:
        return ()
    blocks: list[str] = []
    at = 0
    while len(blocks) < 16 and (marker := LD_JSON.search(html, at)):
        start, end = html.find(">", marker.end()), CLOSING["script"].search(html, marker.end())
        if start < 0 or end is None:
            break
        if start < end.start():
            blocks.append(html[start + 1:end.start()])
        at = end.end()
    return tuple(blocks)


def trim_html(html: str) -> str:
    """The HTML that can hold facts: no comments, head, style or script (an unclosed one runs to the end);
    at most MAX_HTML_CHARS. Each block is searched for once from where the last one ended: linear."""
    html = html[:MAX_HTML_CHARS]
    kept, at = [], 0
    while opening := HIDDEN.search(html, at):
        kept.append(html[at:opening.start()])
        tag = opening.group(1)
        if tag is None:
            end = html.find("-->", opening.end())
            at = len(html) if end < 0 else end + 3
        else:
            closing = CLOSING[tag.lower()].search(html, opening.end())
            at = len(html) if closing is None else closing.end()
    kept.append(html[at:])
    return "".join(kept)


def headings(html: str) -> tuple[str, ...]:
    """The first few <h1>-<h3> texts, each read from at most 2000 characters after its opening tag."""
    found = []
    for opening in islice(HEADING.finditer(html), 12):
        end = html.find("</", opening.end(), opening.end() + 2000)
        while end >= 0 and not html.startswith(("</h", "</H"), end):
            end = html.find("</", end + 2, opening.end() + 2000)
        text = " ".join(visible(html_to_text(html[opening.end():end])).split()) if end >= 0 else ""
        if text:
            found.append(text[:300])
        if len(found) == 3:
            break
    return tuple(found)


def html_to_text(html: str) -> str:
    """The visible text of (trimmed) HTML, one line per text run, as BeautifulSoup's get_text("\n") gives it.
    A linear tag pattern (no tag spans a "<"), so that no markup makes it slow."""
    return unescape(TAG.sub("\n", html))


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


def rejection(raw: bytes) -> str | None:
    """Why `raw` is not worth parsing, decided on its first bytes; None when it looks like an email."""
    if not raw.strip():
        return "empty message"
    block = HEADER_BLOCK.match(raw, 0, MAX_HEADER_BYTES)
    length = block.end() if block else 0
    if length == 0:
        return "not an email: it does not start with a header line"
    window = raw[:MAX_HEADER_BYTES]
    if length >= MAX_HEADER_BYTES - 1000 and b"\n\r\n" not in window and b"\n\n" not in window:
        return f"not an email: headers longer than {MAX_HEADER_BYTES} bytes"
    return None


Span = tuple[int, int]  # [start, end) of the raw message: parts are located, not copied


def _headers(raw: bytes, span: Span) -> tuple[Message, Span]:
    """The header block at the start of `span`, parsed by the standard library, and the span of the body that
    follows. The headers end at the first line that is not a header (the standard parser's rule: some senders
    omit the empty line)."""
    start, stop = span
    block = HEADER_BLOCK.match(raw, start, min(stop, start + MAX_HEADER_BYTES))
    end = block.end() if block else start
    body = end + (2 if raw.startswith(b"\r\n", end, stop) else 1 if raw.startswith(b"\n", end, stop) else 0)
    return HEADERS.parsebytes(raw[start:end]), (body, stop)


def _body_parts(raw: bytes, span: Span, boundary: str) -> list[Span]:
    """The parts between a multipart's delimiter lines ("--boundary" alone on its line, at most MAX_PARTS),
    found with bytes.find: C speed, and no copy of the body."""
    start, stop = span
    delimiter = b"--" + boundary.encode("ascii", "surrogateescape")
    parts: list[Span] = []
    opened: int | None = None
    for at in _delimiter_lines(raw, start, stop, delimiter):
        line_end = raw.find(b"\n", at, stop)
        rest = raw[at + len(delimiter):line_end if line_end >= 0 else stop].strip()
        if rest and not rest.startswith(b"--"):
            continue  # "--boundaryXYZ": a nested part's longer boundary, not ours
        if opened is not None:  # the line break before a delimiter belongs to it
            parts.append((opened, max(opened, at - (2 if raw[at - 2:at] == b"\r\n" else 1))))
        opened = None
        if rest.startswith(b"--") or line_end < 0 or len(parts) > MAX_PARTS:
            break
        opened = line_end + 1
    if opened is not None:  # no closing delimiter (a truncated email): the last part runs to the end
        parts.append((opened, stop))
    return parts


def _delimiter_lines(raw: bytes, start: int, stop: int, delimiter: bytes) -> Iterator[int]:
    if raw.startswith(delimiter, start, stop):
        yield start
    at = raw.find(b"\n" + delimiter, start, stop)
    while at >= 0:
        yield at + 1
        at = raw.find(b"\n" + delimiter, at + 1, stop)


def _leaves(raw: bytes, message: Message, span: Span, depth: int,
            budget: list[int]) -> Iterator[tuple[Message, Span]]:
    """Every non-multipart part (headers, span of its undecoded body), within MAX_DEPTH levels and MAX_PARTS
    parts."""
    budget[0] -= 1
    if budget[0] < 0:
        return
    content_type = message.get_content_type()
    if depth < MAX_DEPTH and content_type.startswith("multipart/"):
        boundary = message.get_boundary()
        if boundary:
            for part in _body_parts(raw, span, boundary):
                if budget[0] <= 0:
                    break
                yield from _leaves(raw, *_headers(raw, part), depth + 1, budget)
            return
    if depth < MAX_DEPTH and content_type == "message/rfc822":
        start, stop = span
        while start < stop and raw[start:start + 1] in (b"\r", b"\n"):
            start += 1
        yield from _leaves(raw, *_headers(raw, (start, stop)), depth + 1, budget)
        return
    yield message, span


def _text_of(part: Message, body: bytes) -> str:
    encoding = str(part.get("Content-Transfer-Encoding", "")).strip().lower()
    payload: object
    try:
        if encoding == "quoted-printable":
            payload = binascii.a2b_qp(body)
        elif encoding == "base64":
            payload = binascii.a2b_base64(body)
        elif encoding in ("", "7bit", "8bit", "binary"):
            payload = body
        else:
            raise ValueError(encoding)
    except (binascii.Error, ValueError):  # padding errors, uuencode: the standard library's lenient decoder
        part.set_payload(body.decode("ascii", "surrogateescape"))
        payload = part.get_payload(decode=True)
    text = _decode(payload, part.get_content_charset()) if isinstance(payload, bytes) else ""
    return text.replace("\r\n", "\n")  # one line ending: line patterns need not allow for "\r"


def read(raw: bytes) -> Mail:
    """The MIME structure read once: headers by the standard library, multipart bodies split on their
    boundaries, only the text/plain and text/html parts decoded."""
    message, body = _headers(raw, (0, len(raw)))
    texts: dict[str, list[str]] = {"plain": [], "html": []}
    notes: list[str] = []
    for part, (start, stop) in _leaves(raw, message, body, 0, [MAX_PARTS]):
        subtype = part.get_content_subtype() if part.get_content_maintype() == "text" else ""
        if subtype in texts and not part.get_filename():
            if stop - start > MAX_PART_BYTES:
                notes.append(f"a {stop - start}-byte text part was cut to its first {MAX_PART_BYTES} bytes")
                stop = raw.rfind(b"\n", start, start + MAX_PART_BYTES) + 1 or start + MAX_PART_BYTES
            texts[subtype].append(_text_of(part, raw[start:stop]))
    text = visible("\n".join(texts["plain"])[:MAX_TEXT_CHARS])
    html = "\n".join(texts["html"])[:MAX_HTML_CHARS]
    markup = json_ld(html)
    html = trim_html(html)
    html_text = ""
    if html and not text.strip():  # the HTML's text is needed only when it is the email's only text
        html_text = visible(html_to_text(html))
    if not text.strip() and html:
        text = html_text[:MAX_TEXT_CHARS]
    sent_at = _date(message.get("Date"))
    if not sent_at:
        notes.append("no usable Date header: relative dates stay unresolved")
    return Mail(
        message_id=identity(raw, message),
        subject=" ".join(visible(_subject(message)).split())[:1000],
        sender=_address(str(message.get("From") or "")),
        sent_at=sent_at,
        text=text,
        html=html,
        html_text=html_text,
        json_ld=markup,
        headings=headings(html) if html else (),
        auth_headers=tuple(str(h) for h in message.get_all("Authentication-Results") or ()),
        arc_headers=tuple(str(h) for h in message.get_all("ARC-Authentication-Results") or ()),
        year_hint=None if sent_at else _boundary_year(raw),
        notes=tuple(notes),
    )


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
                   sent_at=_date(fields.get("date")), text=body, forwarded=True, auth_headers=(), arc_headers=(),
                   notes=(*mail.notes, "forwarded: the inner message's sender and date are used"))


def message_or_none(raw: bytes) -> Message | None:
    try:
        return HEADERS.parsebytes(raw[:MAX_HEADER_BYTES])
    except Exception:  # noqa: BLE001 - only used to name a message that could not be read at all
        return None
