"""The libraries' quirks that parsers/mime.py works around, each named, shown, and shown worked around.

Each test first shows the quirk in the library itself: when an upgrade fixes it, that assertion fails and the
workaround can go.
"""

from __future__ import annotations

import email
from pathlib import Path

import mailparser
import pytest

from parsers.auth import header_fields
from parsers.mime import read

CRAFTED = Path(__file__).parent / "fixtures" / "amazon" / "crafted"


def test_quirk_mail_parser_drops_the_space_after_a_folded_encoded_word() -> None:
    raw = (b"From: shipment-tracking@amazon.fr\r\nSubject: =?UTF-8?Q?Cafeti=C3=A8re_=C3=A0?=\r\n piston\r\n"
           b"Content-Type: text/plain\r\n\r\nx\r\n")
    assert mailparser.parse_from_bytes(raw).subject == "Cafetière àpiston"  # the quirk
    assert read(raw).subject == "Cafetière à piston"  # the standard library's make_header(decode_header(...))


def test_quirk_mail_parser_decodes_html_without_a_charset_as_utf8() -> None:
    raw = (CRAFTED / "shift_jis_meta_charset.eml").read_bytes()
    assert "お届け予定日" not in mailparser.parse_from_bytes(raw).text_html[0]  # the quirk: mojibake
    assert "お届け予定日：2026年6月11日(木)" in read(raw).text  # its bytes go to BeautifulSoup, which reads <meta>


def test_quirk_mail_parser_puts_an_attached_messages_text_in_the_forwards_body() -> None:
    raw = (CRAFTED / "forwarded_as_attachment.eml").read_bytes()
    assert any("Arriving" in text for text in mailparser.parse_from_bytes(raw).text_plain)  # the quirk
    mail = read(raw)
    assert "Arriving" not in mail.text  # the forward's own words only
    assert len(mail.attached) == 1  # the attached email is read as a message of its own


def test_quirk_str_splitlines_breaks_header_lines_the_mail_parser_keeps_whole() -> None:
    value = "x\x85y\x0bz\x0cw\x1cv\x1du\x1et"
    assert len(value.splitlines()) == 7  # the quirk of str.splitlines()
    raw = f"A: {value}\r\nB: two\r\n\r\nbody".encode("latin-1")
    # One reader, the mail parser's: lines end at CRLF or LF only (the 8-bit byte 0x85 kept as the standard
    # library keeps undecodable bytes).
    kept = value.encode("latin-1").decode("ascii", "surrogateescape")
    assert header_fields(raw) == (("a", kept), ("b", "two"))


def test_quirk_a_nul_in_a_charset_parameter_raises_in_mail_parser_and_in_get_payload() -> None:
    raw = (b"From: shipment-tracking@amazon.com\r\nSubject: Shipped: kettle\r\n"
           b"Date: Mon, 08 Jun 2026 10:00:00 +0000\r\n"
           b'Content-Type: text/plain; charset="utf\x008"\r\n\r\nCaf\xc3\xa9\r\nArriving: Thursday, June 11\r\n')
    with pytest.raises(ValueError, match="null"):
        mailparser.parse_from_bytes(raw)  # the quirk, in mail-parser's body decoding
    with pytest.raises(ValueError, match="null"):
        email.message_from_bytes(raw).get_payload()  # and in the standard library's get_payload() of a leaf
    mail = read(raw)  # read by the standard library's parser, the parts walked without get_payload()
    assert "Arriving: Thursday, June 11" in mail.text
    assert any("mail-parser failed" in note for note in mail.notes)


def test_quirk_mail_parser_writes_attached_messages_out_and_a_charset_that_is_no_name_raises() -> None:
    from email.errors import CharsetError

    inner = (b'Content-Type: text/plain; charset="u\xff8"\r\nContent-Transfer-Encoding: 8bit\r\n\r\nCaf\xc3\xa9\r\n')
    raw = (b"From: shipment-tracking@amazon.com\r\nSubject: Shipped: kettle\r\n"
           b"Date: Mon, 08 Jun 2026 10:00:00 +0000\r\nContent-Type: multipart/mixed; boundary=b\r\n\r\n"
           b"--b\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nArriving: Thursday, June 11\r\n"
           b"--b\r\nContent-Type: message/rfc822\r\nContent-Disposition: attachment\r\n\r\n" + inner + b"--b--\r\n")
    with pytest.raises(CharsetError):
        mailparser.parse_from_bytes(raw)  # the quirk
    mail = read(raw)
    assert "Arriving: Thursday, June 11" in mail.text
    assert any("mail-parser failed" in note for note in mail.notes)
