"""Bytes of one email in, typed events out. Pure: no I/O, no clock, no logging.

`parse(raw)` never raises: a message it cannot read is returned QUARANTINED with the reason, mail that is not an
Amazon shipment email IGNORED with the reason.
"""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from parsers.model import Event, EventKind, MessageInfo, ParseResult, Status

if TYPE_CHECKING:
    from parsers import schema_org
    from parsers.mime import Mail

# The reading modules (MIME, HTML, CLDR dates) are imported by parse() on its first call, not with the package:
# parsers.model is imported by everything that stores events, and the daemon's start must not pay for a
# parser it does not call when no mail is new (bench/startup.py).

PARSER_VERSION = "2"  # 2: mail-parser and BeautifulSoup; revisions, link order ids, seller-relayed mail
# No shipment email comes near this (real ones: 20-200 KB); past it the mail parser's copies of a message would
# pass the per-email memory budget (bench/adversarial.py).
MAX_BYTES = 4 * 1024 * 1024


def readable_text(html: str | bytes) -> str:
    """The text a person sees in an HTML document (an email's HTML part, an answer from customer service), one
    line per text run: read by BeautifulSoup with the lxml builder, without head, title, style, script, comments
    or attribute values."""
    from parsers.html import visible_text

    return visible_text(html)


def _info(mail: Mail, auth: bool | None) -> MessageInfo:
    return MessageInfo(mail.message_id, mail.subject, mail.sent_at, mail.sender, auth, mail.forwarded)


def parse(raw: bytes, *, recipient_tz: ZoneInfo | None = None,
          authserv_ids: tuple[str, ...] = ("mx.google.com",)) -> ParseResult:
    from parsers.mime import identity, message_or_none, rejection

    if len(raw) > MAX_BYTES:
        return ParseResult(Status.QUARANTINED, MessageInfo(identity(raw, None)),
                           reason=f"too large: {len(raw)} bytes (the limit is {MAX_BYTES})")
    if (refused := rejection(raw)) is not None:  # decided on the first bytes: random data costs nothing
        return ParseResult(Status.QUARANTINED, MessageInfo(identity(raw, None)), reason=refused)
    try:
        return _parse(raw, recipient_tz, authserv_ids)
    except Exception as exc:  # noqa: BLE001 - the contract: bad input is quarantined, never raised
        return ParseResult(Status.QUARANTINED, MessageInfo(identity(raw, message_or_none(raw))),
                           reason=f"unreadable: {type(exc).__name__}: {exc}"[:300])


def _parse(raw: bytes, recipient_tz: ZoneInfo | None, authserv_ids: tuple[str, ...]) -> ParseResult:
    from parsers import schema_org
    from parsers.amazon import detect_language, events, kind_of
    from parsers.auth import authenticated, header_fields, lone_carriage_return
    from parsers.marketplaces import marketplace_of
    from parsers.mime import read, unwrap_forward
    from parsers.phrases import phrases

    mail = read(raw)
    # One header reader: the fields mail-parser read. A CR that ends no line is split by some readers and not
    # by others: such a header block gets no verdict.
    fields = header_fields(mail.message) if mail.message is not None else ()
    auth = None if lone_carriage_return(raw) else authenticated(mail.sender, fields, authserv_ids)
    marketplace = marketplace_of(mail.sender)
    if marketplace is None:
        inner = unwrap_forward(mail)
        for _ in range(3):  # a forward of a forward: the Amazon email is further in
            if inner is None or marketplace_of(inner.sender) is not None:
                break
            inner = unwrap_forward(inner)
        inner_marketplace = marketplace_of(inner.sender) if inner is not None else None
        if inner is not None and inner_marketplace is not None:
            # A forward is never authentic: the forwarder could have written anything.
            mail, marketplace, auth = inner, inner_marketplace, (False if auth is not None else None)
        elif markup := schema_org.parcels(mail.json_ld):
            return _from_markup(mail, auth, markup)
        else:
            reason = "sender is not an Amazon marketplace domain" if mail.sender else "no sender"
            return ParseResult(Status.IGNORED, _info(mail, auth), reason=reason)
    if mail.sent_at is not None and mail.sent_at.tzinfo is None:  # a forward's Date line without a zone
        mail = replace(mail, sent_at=mail.sent_at.replace(tzinfo=marketplace.zone))
    if not mail.text.strip():
        return ParseResult(Status.QUARANTINED, _info(mail, auth), reason="no readable text or HTML part",
                           diagnostics=mail.notes)
    language = detect_language(mail, marketplace)
    kind, rule = kind_of(mail, phrases(language))
    if kind is None:
        return ParseResult(Status.IGNORED, _info(mail, auth), reason=rule, diagnostics=mail.notes)
    zone = recipient_tz or marketplace.zone
    found, notes = events(mail, marketplace, language, zone, kind, rule)
    found = tuple(_with_markup_promise(e, schema_org.parcels(mail.json_ld)) for e in found)
    return ParseResult(Status.PARSED, _info(mail, auth), found, diagnostics=(*mail.notes, *notes))


def _with_markup_promise(event: Event, markup: list[schema_org.Parcel]) -> Event:
    """An Amazon email whose text states no promise, but whose schema.org markup does, for the same order."""
    if event.promise is not None or event.kind is EventKind.DELIVERED:
        return event
    for parcel in markup:
        if parcel.window is not None and parcel.order_id in event.order_ids:
            return replace(event, promise=parcel.window, pattern="schema.org ParcelDelivery",
                           evidence=f"expectedArrivalUntil {parcel.window.end.isoformat()}")
    return event


def _from_markup(mail: Mail, auth: bool | None, markup: list[schema_org.Parcel]) -> ParseResult:
    """Any retailer's shipment, read from its schema.org markup alone."""
    domain = mail.sender.rpartition("@")[2]
    found = tuple(
        Event(kind=p.kind, marketplace=domain, language="", order_ids=(p.order_id,) if p.order_id else (),
              promise=p.window if p.kind is not EventKind.DELIVERED else None,
              delivered_on=mail.sent_at.date() if p.kind is EventKind.DELIVERED and mail.sent_at else None,
              evidence=f"schema.org ParcelDelivery from {p.merchant or domain}", pattern="schema.org ParcelDelivery")
        for p in markup
    )
    return ParseResult(Status.PARSED, _info(mail, auth), found, diagnostics=("read from schema.org markup",))
