"""Property: what Amazon adds around the facts never changes them. Inserting a progress tracker, a
recommendation block with order-id-like links, or wrapping the email in a forward, into any fixture, leaves its
kind and order ids as they were (and a forward is never authentic)."""

from __future__ import annotations

import re
from email import message_from_bytes
from email.header import decode_header, make_header
from email.message import Message
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from parsers import parse
from parsers.model import Status
from parsers.phrases import phrases

FIXTURES = Path(__file__).parent / "fixtures" / "amazon"
PARSED = [p for p in sorted(FIXTURES.rglob("*.eml"))
          if parse(p.read_bytes()).status is Status.PARSED and "schema_org" not in p.parts]
DELIMITER = re.compile(rb"\r?\n--[^\r\n]+")


def _facts(raw: bytes) -> tuple[list[str], list[tuple[str, ...]]]:
    result = parse(raw)
    return [e.kind.value for e in result.events], [e.order_ids for e in result.events]


def _tracker(language: str) -> str:
    labels = phrases(language).tracker.pattern if phrases(language).tracker else ""
    words = [w.replace("\\", "") for w in re.findall(r"\(\?:(.*)\)", labels)[0].split("|")] if labels else []
    return "\n" + "\n".join(w.capitalize() for w in words) + "\n"


def _recommendations(language: str) -> str:
    heading = phrases(language).stop[0].capitalize()
    link = "https://www.amazon.com/gp/r.html/ref%2Fpd_te_s_rp_im%2F143-4316046-7858437%2FB0ABCDEFGH"
    return f"\n{heading}\n<{link}>\nKettle 1.7 L, 12.99\n<{link.replace('143-4316046', '171-9876543')}>\n"


def _insert(raw: bytes, block: str, where: int) -> bytes:
    """`block` at the start or end of one of the email's text parts (all lines short and free of "=", so that
    it is valid in quoted-printable parts too)."""
    head_end = raw.find(b"\n\n") if b"\r\n\r\n" not in raw else raw.find(b"\r\n\r\n")
    ends = [m.start() for m in DELIMITER.finditer(raw, head_end)] or [len(raw)]
    data = block.replace("\n", "\r\n").encode()
    position = ends[where % len(ends)]
    return raw[:position] + data + raw[position:]


@settings(max_examples=120, deadline=None)
@given(path=st.sampled_from(PARSED), what=st.sampled_from(("tracker", "recommendations")), where=st.integers(0, 5))
def test_a_tracker_or_recommendations_change_neither_kind_nor_order_ids(path: Path, what: str, where: int) -> None:
    raw = path.read_bytes()
    language = parse(raw).events[0].language or "en"
    block = _tracker(language) if what == "tracker" else _recommendations(language)
    assert _facts(_insert(raw, block, where)) == _facts(raw)


def _text(message: Message) -> str:
    for part in message.walk():
        if part.get_content_type() == "text/plain":
            payload = part.get_payload(decode=True)
            if isinstance(payload, bytes):
                return payload.decode(part.get_content_charset() or "utf-8", "replace")
    return ""


@settings(max_examples=60, deadline=None)
@given(path=st.sampled_from(PARSED), quote=st.booleans())
def test_a_forwarded_fixture_keeps_kind_and_order_ids_and_is_never_authentic(path: Path, quote: bool) -> None:
    raw = path.read_bytes()
    inner = message_from_bytes(raw)
    text = _text(inner)
    if not text.strip():
        return  # an HTML-only email: forwarding programs quote its text, which the other fixtures cover
    if any(part.get_content_type() == "message/rfc822" for part in inner.walk()):
        return  # the Amazon email is attached to this one, not in its text
    subject = make_header(decode_header(inner["Subject"]))
    lines = [f"From: {inner['From']}", f"Date: {inner['Date']}", f"Subject: {subject}", "", *text.splitlines()]
    body = "\n".join(("> " + line) if quote else line for line in lines)
    forward = ("From: Jordan <jordan@example.com>\r\nTo: me@example.com\r\nSubject: Fwd: an Amazon email\r\n"
               "Date: Mon, 14 Dec 2026 10:00:00 +0000\r\nMessage-ID: <fwd@example.com>\r\n"
               "Authentication-Results: mx.google.com; dkim=pass header.d=amazon.com;\r\n"
               " dmarc=pass header.from=amazon.com\r\n"
               "Content-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\n"
               f"---------- Forwarded message ---------\r\n{body}\r\n").encode()
    result = parse(forward)
    assert result.message.authenticated is not True
    assert _facts(forward) == _facts(raw)
    assert result.message.forwarded
