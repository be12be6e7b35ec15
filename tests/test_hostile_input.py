"""Broken and hostile input: parse() never raises; what it cannot read is quarantined with a reason."""

from __future__ import annotations

from datetime import date
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from parsers import MAX_BYTES, parse
from parsers.model import EventKind, ParseResult, Status

FIXTURES = sorted((Path(__file__).parent / "fixtures" / "amazon").rglob("*.eml"))
SAMPLES = [p.read_bytes() for p in FIXTURES]


def assert_explained(result: ParseResult) -> None:
    """What parse() returns for anything at all: an identity to record it by, and facts or the reason it has none."""
    assert result.message.message_id
    if result.status is Status.PARSED:
        assert result.events and not result.reason
    else:
        assert result.reason and not result.events


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
    raw = (Path(__file__).parent / "fixtures" / "amazon" / "au" / "shipped_1.eml").read_bytes()

    def cut_before(marker: bytes) -> ParseResult:
        return parse(raw[:raw.index(marker)])

    # Cut after the text part, or half-way through the HTML part: the text part says it all.
    for marker in (b"Amazon.com.au\n\n--", b"<td><p>Your package"):
        result = cut_before(marker)
        assert result.status is Status.PARSED
        [event] = result.events
        assert (event.kind, event.order_ids) == (EventKind.SHIPPED, ("250-5566778-9900112",))
        assert event.promise is not None and event.promise.end == date(2026, 12, 3)
    # Cut before the order number: the promise it did state is kept, no order number is made up.
    [event] = cut_before(b"Order # 250").events
    assert event.promise is not None and event.promise.end == date(2026, 12, 3) and event.order_ids == ()
    # Cut in the headers: nothing to read, and it says why.
    for cut in (raw[:raw.index(b"Subject:")], raw[:200]):
        result = parse(cut)
        assert result.status is not Status.PARSED and result.reason and result.events == ()


def test_a_wrong_charset_is_read_as_latin_1() -> None:
    raw = (b"From: \"Amazon.fr\" <shipment-tracking@amazon.fr>\r\nSubject: Exp\xe9di\xe9 : colis\r\n"
           b"Date: Mon, 16 Nov 2026 09:00:00 +0000\r\nContent-Type: text/plain; charset=x-no-such-charset\r\n\r\n"
           b"Arriv\xe9e : mardi 17 novembre\r\nCommande n\xb0 402-1234567-7654321\r\n")
    result = parse(raw)
    assert result.status is Status.PARSED
    assert result.message.subject == "Expédié : colis"
    [event] = result.events
    assert event.evidence == "Arrivée : mardi 17 novembre"  # the French text, accents and all
    assert event.promise is not None and event.promise.end == date(2026, 11, 17)
    assert event.order_ids == ("402-1234567-7654321",)


@settings(max_examples=300, deadline=None)
@given(sample=st.sampled_from(SAMPLES), data=st.data())
def test_mutated_real_shaped_emails_never_raise(sample: bytes, data: st.DataObject) -> None:
    start = data.draw(st.integers(0, len(sample)))
    length = data.draw(st.integers(0, 400))
    junk = data.draw(st.binary(max_size=400))
    mutated = sample[:start] + junk + sample[start + length:]
    assert_explained(parse(mutated))


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=3000))
def test_random_bytes_never_raise(raw: bytes) -> None:
    assert_explained(parse(raw))


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
