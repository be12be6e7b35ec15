"""What lateclaim reads from an email is what the standard email package and BeautifulSoup read from it.

For every fixture email, the text that phrases are matched against (the plain-text part, else the HTML part's
visible text) and the subject are compared with a reference built independently here: the standard library's
email package with its modern policy, and BeautifulSoup (lxml) with head, title, style, script and comments
removed. No fixture may read differently, crafted ones included (tests/fixtures/amazon/crafted: an image's alt
text, an unclosed <head>, an empty comment <!-->, a boundary that prefixes another, a text line that starts like a
boundary, a forward attached as message/rfc822, a text attachment without a filename, Shift_JIS declared only in
<meta>, a subject folded after an encoded word).
"""

from __future__ import annotations

import email
import re
from email import policy
from email.message import EmailMessage
from pathlib import Path

import pytest
from bs4 import BeautifulSoup, Comment

from parsers.mime import read

FIXTURES = Path(__file__).parent / "fixtures"
EMAILS = sorted(FIXTURES.rglob("*.eml"))
INVISIBLE = re.compile("[\u200b-\u200f\u202a-\u202e\u2066-\u2069\ufeff\u00ad]")  # shown as nothing by a client


def _parts(message: EmailMessage) -> list[EmailMessage]:
    """The message's own leaf parts: an attached message (message/rfc822) is another message."""
    if message.get_content_type() == "message/rfc822":
        return []
    if message.is_multipart():
        return [leaf for part in message.iter_parts() for leaf in _parts(part)]  # type: ignore[arg-type]
    return [message]


def _visible(html: str | bytes) -> str:
    soup = BeautifulSoup(html, "lxml")
    for hidden in soup(["head", "title", "style", "script", "template"]):
        hidden.decompose()
    for comment in soup.find_all(string=lambda s: isinstance(s, Comment)):
        comment.extract()
    return soup.get_text("\n")


def reference(raw: bytes) -> tuple[str, str]:
    """(text, subject) as the standard library and bs4 read them."""
    message = email.message_from_bytes(raw, policy=policy.default)
    assert isinstance(message, EmailMessage)
    body = [p for p in _parts(message) if p.get_content_type() in ("text/plain", "text/html")
            and not p.is_attachment() and not p.get_filename()]
    plain = "\n".join(str(p.get_content()) for p in body if p.get_content_type() == "text/plain")
    html = next((p for p in body if p.get_content_type() == "text/html"), None)
    text = plain
    if not plain.strip() and html is not None:
        declared = html.get_content_charset() is not None
        text = _visible(str(html.get_content()) if declared else html.get_payload(decode=True))
    return text, str(message.get("Subject", ""))


def lines(text: str) -> list[str]:
    return [line for line in (" ".join(INVISIBLE.sub("", raw).split()) for raw in text.splitlines()) if line]


def test_there_are_crafted_fixtures() -> None:
    assert len([p for p in EMAILS if "crafted" in p.parts]) >= 12


@pytest.mark.parametrize("path", EMAILS, ids=[str(p.relative_to(FIXTURES)) for p in EMAILS])
def test_the_text_and_subject_are_the_standard_librarys_and_bs4s(path: Path) -> None:
    raw = path.read_bytes()
    mail = read(raw)
    text, subject = reference(raw)
    assert lines(mail.text) == lines(text)
    assert mail.subject == " ".join(INVISIBLE.sub("", subject).split())[:1000]
