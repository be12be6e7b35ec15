"""The typed result of reading one email: what the rest of lateclaim builds on.

Everything here is plain, frozen data. `parsers.parse(raw)` produces a `ParseResult`; `rules/` turns the
events of many results into shipment timelines. Nothing here knows about IMAP, SQLite or the clock.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, time
from enum import StrEnum
from typing import Any


class EventKind(StrEnum):
    ORDERED = "ordered"
    SHIPPED = "shipped"
    OUT_FOR_DELIVERY = "out_for_delivery"
    DELIVERED = "delivered"
    DELAYED = "delayed"
    CANCELLED = "cancelled"
    REFUNDED = "refunded"
    PICKUP_READY = "pickup_ready"
    ATTEMPTED = "attempted"  # a delivery attempt failed; the parcel waits (depot, pickup point, next attempt)


class Status(StrEnum):
    PARSED = "parsed"  # an Amazon shipment email; events were read from it
    IGNORED = "ignored"  # not a shipment email (marketing, another sender, account notice): `reason` says why
    QUARANTINED = "quarantined"  # it should have been readable and was not: `reason` says why


@dataclass(frozen=True)
class DateWindow:
    """A promised delivery: calendar dates in the marketplace's zone, with an optional latest time.

    A single date has start == end. "by DATE" has start None. `latest` is the time of day the promise ends
    ("by 10 pm", "avant 20h"), when the email states one.
    """

    start: date | None
    end: date
    latest: time | None = None

    def __post_init__(self) -> None:
        if self.start is not None and self.start > self.end:
            raise ValueError(f"window starts after it ends: {self.start} > {self.end}")

    @classmethod
    def on(cls, day: date, latest: time | None = None) -> DateWindow:
        return cls(day, day, latest)


@dataclass(frozen=True)
class Parcel:
    """What tells one parcel of an order from the others, as the email states it. Every field may be missing."""

    number: int | None = None  # "package 1 of 2", "colis 1 sur 2": 1
    count: int | None = None  # ... of 2
    tracking_id: str | None = None  # the carrier's tracking number, when printed
    carrier: str | None = None  # "DPD", "Colissimo", "Amazon Logistics", as written


@dataclass(frozen=True)
class Price:
    """An amount as the email prints it ("12,99 €", "£7.50"), with what it is the price of ("" for a total)."""

    amount: str
    item: str = ""


@dataclass(frozen=True)
class Event:
    """One fact about one shipment, as one email states it."""

    kind: EventKind
    marketplace: str  # "amazon.fr", "amazon.co.uk", ...
    language: str  # "fr", "en", ... read from the content, not from the domain
    order_ids: tuple[str, ...]  # every order number the email shows for this shipment, the main one first
    promise: DateWindow | None = None  # the window this email promises (for `delayed`: the revised one)
    previous_promise: DateWindow | None = None  # `delayed` / "arriving early": the promise it revises, if stated
    guaranteed: bool | None = None  # True: "guaranteed delivery date"; False: estimated; None: not said
    delivered_on: date | None = None
    items: tuple[str, ...] = ()
    shipment: str | None = None  # a shipment key when the email tells parcels of one order apart
    evidence: str = ""  # the sentence that states the promise or the delivery, as written
    pattern: str = ""  # which pattern matched, for `lateclaim parse` explanations
    parcel: Parcel | None = None  # which parcel of the order the email is about, when it says
    available_on: date | None = None  # pickup_ready / attempted: the day the parcel was made available
    waiting_at: str = ""  # pickup_ready / attempted: where the parcel now waits, as written
    seller: str | None = None  # "Sold by ..." as written; None: not stated
    fulfilled_by: str | None = None  # "Dispatched from / Expédié par ..." as written; None: not stated
    order_date: date | None = None  # the day the order was placed, when the email states it
    prices: tuple[Price, ...] = ()  # item prices as printed, in the order of `items` where they pair up
    total: Price | None = None  # the order total (ordered) or the amount refunded (refunded)
    refund_scope: str | None = None  # refunded: "order" (all of it), "items" (the items named), "goodwill"; None
    revision: bool = False  # it changes the date of a parcel already announced ("arriving early", "date updated")

    @property
    def order_id(self) -> str | None:
        return self.order_ids[0] if self.order_ids else None


@dataclass(frozen=True)
class MessageInfo:
    """What identifies an email and dates it. For a forwarded email: the inner message's date and sender."""

    message_id: str  # the Message-ID header without angle brackets, or "sha256:<hex>" of the raw bytes
    subject: str = ""
    sent_at: datetime | None = None  # timezone-aware; None when the email has no usable Date
    sender: str = ""  # the From address, lowercased
    authenticated: bool | None = None  # aligned Amazon DKIM pass from the trusted receiving server; None: no header
    forwarded: bool = False

    @property
    def seller_relayed(self) -> bool:
        """A seller's message that Amazon relayed (…@marketplace.amazon.…): shown, never a fact about a parcel."""
        from parsers.marketplaces import seller_relayed

        return seller_relayed(self.sender)


@dataclass(frozen=True)
class ParseResult:
    """What parse() made of one email: its status, its facts, and the reason when it was refused."""
    status: Status
    message: MessageInfo
    events: tuple[Event, ...] = ()
    reason: str = ""  # why ignored or quarantined; empty when parsed
    diagnostics: tuple[str, ...] = field(default=())  # notes for `lateclaim parse` (which patterns were tried)

    def to_json(self) -> dict[str, Any]:
        """The `lateclaim parse --json` contract (README, "JSON output"), without the "file" key."""
        return {
            "message_id": self.message.message_id,
            "status": self.status.value,
            "reason": self.reason,
            "authenticated": self.message.authenticated,
            "seller_relayed": self.message.seller_relayed,
            "events": [event_to_json(e) for e in self.events],
        }


def _iso(d: date | None) -> str | None:
    return d.isoformat() if d else None


def event_to_json(event: Event) -> dict[str, Any]:
    promise = event.promise
    return {
        "kind": event.kind.value,
        "marketplace": event.marketplace,
        "language": event.language,
        "order_ids": list(event.order_ids),
        "promised_start": _iso(promise.start) if promise else None,
        "promised_end": _iso(promise.end) if promise else None,
        "promised_time": promise.latest.strftime("%H:%M") if promise and promise.latest else None,
        "guaranteed": event.guaranteed,
        "delivered_on": _iso(event.delivered_on),
        "items": list(event.items),
        "evidence": event.evidence,
        "parcel": _parcel_json(event.parcel),
        "available_on": _iso(event.available_on),
        "waiting_at": event.waiting_at,
        "seller": event.seller,
        "fulfilled_by": event.fulfilled_by,
        "order_date": _iso(event.order_date),
        "prices": [{"item": p.item, "amount": p.amount} for p in event.prices],
        "total": event.total.amount if event.total else None,
        "refund_scope": event.refund_scope,
        "revision": event.revision,
    }


def _parcel_json(parcel: Parcel | None) -> dict[str, Any] | None:
    if parcel is None:
        return None
    return {"number": parcel.number, "count": parcel.count, "tracking_id": parcel.tracking_id,
            "carrier": parcel.carrier}
