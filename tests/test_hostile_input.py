"""Broken and hostile input: parse() never raises; what it cannot read is quarantined with a reason."""

from __future__ import annotations

from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from parsers import MAX_BYTES, parse
from parsers.model import Status

FIXTURES = sorted((Path(__file__).parent / "fixtures" / "amazon").rglob("*.eml"))
SAMPLES = [p.read_bytes() for p in FIXTURES]


def test_empty_and_garbage_input() -> None:
    for raw in (b"", b"\x00\xff\xfe", b"not an email at all", b"From: \r\n\r\n", b"\r\n\r\n\r\n"):
        result = parse(raw)
        assert result.status in (Status.IGNORED, Status.QUARANTINED)
        assert result.reason
        assert result.message.message_id.startswith("sha256:")


def test_an_enormous_message_is_quarantined_without_being_read() -> None:
    result = parse(b"From: shipment-tracking@amazon.fr\r\n\r\n" + b"x" * (MAX_BYTES + 1))
    assert result.status is Status.QUARANTINED and "too large" in result.reason


def test_a_truncated_amazon_email_still_yields_what_it_states() -> None:
    raw = FIXTURES[0].read_bytes()
    for cut in (len(raw) // 2, len(raw) // 3, 200):
        result = parse(raw[:cut])
        assert result.status in (Status.PARSED, Status.IGNORED, Status.QUARANTINED)


def test_a_wrong_charset_is_survived() -> None:
    raw = (b"From: \"Amazon.fr\" <shipment-tracking@amazon.fr>\r\nSubject: Exp\xe9di\xe9 : colis\r\n"
           b"Date: Mon, 16 Nov 2026 09:00:00 +0000\r\nContent-Type: text/plain; charset=x-no-such-charset\r\n\r\n"
           b"Arriv\xe9e : mardi 17 novembre\r\nCommande n\xb0 402-1234567-7654321\r\n")
    result = parse(raw)
    assert result.status is not None  # no exception escaped
    assert result.status in (Status.PARSED, Status.QUARANTINED)


@settings(max_examples=300, deadline=None)
@given(sample=st.sampled_from(SAMPLES), data=st.data())
def test_mutated_real_shaped_emails_never_raise(sample: bytes, data: st.DataObject) -> None:
    start = data.draw(st.integers(0, len(sample)))
    length = data.draw(st.integers(0, 400))
    junk = data.draw(st.binary(max_size=400))
    mutated = sample[:start] + junk + sample[start + length:]
    result = parse(mutated)
    assert result.status in (Status.PARSED, Status.IGNORED, Status.QUARANTINED)
    if result.status is not Status.PARSED:
        assert result.reason


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=3000))
def test_random_bytes_never_raise(raw: bytes) -> None:
    assert parse(raw).status in (Status.PARSED, Status.IGNORED, Status.QUARANTINED)


def test_bytes_that_are_not_an_email_are_refused_on_their_first_bytes() -> None:
    result = parse(b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 100)
    assert result.status is Status.QUARANTINED and result.reason.startswith("not an email")


def test_endless_headers_are_refused() -> None:
    result = parse(b"From: shipment-tracking@amazon.com\r\n" + b"X-Filler: y\r\n" * 10_000 + b"\r\nArriving: today")
    assert result.status is Status.QUARANTINED and "headers longer than" in result.reason


def test_a_flood_of_promise_markers_yields_no_promise_and_says_why() -> None:
    raw = (b"From: shipment-tracking@amazon.com\r\nSubject: Shipped: your package\r\n"
           b"Date: Tue, 01 Dec 2026 09:00:00 +0000\r\n\r\n" + b"Arriving: Thursday\r\n" * 500)
    result = parse(raw)
    assert result.status is Status.PARSED and result.events[0].promise is None
    assert any("promise markers" in note for note in result.diagnostics)


def test_a_missing_blank_line_after_the_headers_is_read_like_the_standard_parser() -> None:
    raw = (b"From: shipment-tracking@amazon.com\r\nSubject: Shipped: your package\r\n"
           b"Date: Tue, 01 Dec 2026 09:00:00 +0000\r\nContent-Type: multipart/alternative; boundary=\"b\"\r\n"
           b"--b\r\nContent-Type: text/plain\r\n\r\nArriving: Thursday, December 3\r\n--b--\r\n")
    result = parse(raw)
    assert result.status is Status.PARSED and result.events[0].promise is not None


def test_a_forward_is_read_at_the_forwarded_headers_date_and_is_never_authentic() -> None:
    raw = (b"From: Jordan <jordan@example.com>\r\nSubject: Fwd: Shipped\r\nDate: Fri, 11 Dec 2026 15:00:00 +0000\r\n"
           b"Authentication-Results: mx.google.com; dkim=pass header.d=amazon.com;\r\n"
           b" dmarc=pass header.from=amazon.com\r\n"
           b"\r\n---------- Forwarded message ---------\r\nFrom: Amazon.com <shipment-tracking@amazon.com>\r\n"
           b"Date: Fri, Dec 4, 2026 at 9:12 PM\r\nSubject: Your Amazon.com order has shipped\r\n\r\n"
           b"Your package has shipped.\r\nArriving Tuesday\r\nOrder #113-5555555-6666666\r\n")
    result = parse(raw)
    assert result.message.forwarded and result.message.authenticated is not True
    assert result.events[0].promise is not None and result.events[0].promise.end.isoformat() == "2026-12-08"


def test_a_french_forward_is_dated_by_its_french_date_line() -> None:
    raw = ("From: Alex <alex@example.com>\r\nSubject: TR: Expédié\r\nDate: Fri, 11 Dec 2026 15:00:00 +0000\r\n"
           "Content-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\n"
           "-------- Message transféré --------\r\nDe : Amazon.fr <shipment-tracking@amazon.fr>\r\n"
           "Date : ven. 4 déc. 2026 à 21:12\r\nObjet : Expédié : votre colis\r\n\r\n"
           "Votre colis a été expédié.\r\nArrivée : mardi\r\nCommande n° 171-5555555-6666666\r\n").encode()
    result = parse(raw)
    assert result.message.forwarded and result.message.authenticated is not True
    assert result.events[0].promise is not None and result.events[0].promise.end.isoformat() == "2026-12-08"
