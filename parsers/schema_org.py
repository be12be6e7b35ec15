"""schema.org ParcelDelivery markup (JSON-LD), which some retailers embed for Gmail: a bonus signal.

Amazon has not been seen to send it; any retailer that does gets its shipment read from it. Only JSON-LD is
read; a malformed block is skipped.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from parsers.model import DateWindow, EventKind

STATUS = {
    "orderdelivered": EventKind.DELIVERED,
    "orderintransit": EventKind.SHIPPED,
    "ordershipped": EventKind.SHIPPED,
    "orderoutfordelivery": EventKind.OUT_FOR_DELIVERY,
    "orderpickupavailable": EventKind.PICKUP_READY,
    "ordercancelled": EventKind.CANCELLED,
    "orderreturned": EventKind.REFUNDED,
    "orderprocessing": EventKind.ORDERED,
}


@dataclass(frozen=True)
class Parcel:
    kind: EventKind
    order_id: str
    window: DateWindow | None
    merchant: str


def _objects(value: Any) -> Iterator[dict[str, Any]]:
    if isinstance(value, dict):
        yield value
        for key in ("@graph", "itemListElement"):
            yield from _objects(value.get(key))
    elif isinstance(value, list):
        for item in value:
            yield from _objects(item)


def _day(value: Any) -> date | None:
    if not isinstance(value, str):
        return None
    try:
        return datetime.fromisoformat(value.replace("Z", "+00:00")).date()
    except ValueError:
        return None


def parcels(blocks: tuple[str, ...]) -> list[Parcel]:
    """The parcels of the email's JSON-LD blocks (`Mail.json_ld`)."""
    found = []
    for block in blocks:
        try:
            data = json.loads(block)
        except ValueError:
            continue
        for obj in _objects(data):
            if obj.get("@type") != "ParcelDelivery":
                continue
            status = str(obj.get("deliveryStatus", "")).rsplit("/", 1)[-1].lower()
            part_of = obj.get("partOfOrder")
            order: dict[str, Any] = part_of if isinstance(part_of, dict) else {}
            until, start = _day(obj.get("expectedArrivalUntil")), _day(obj.get("expectedArrivalFrom"))
            merchant = order.get("merchant", {}) if isinstance(order.get("merchant"), dict) else {}
            found.append(Parcel(
                kind=STATUS.get(status, EventKind.SHIPPED),
                order_id=str(order.get("orderNumber", "")),
                window=DateWindow(start if start and start <= until else until, until) if until else None,
                merchant=str(merchant.get("name", "")),
            ))
    return found
