"""Events from many emails, grouped into one timeline per shipment: the promise, its revisions, the delivery.

The promise that counts is the first one Amazon stated: a later delay email revises it, it does not replace
it (the broken promise is the claim). An email that says "previously expected ..." states an earlier promise,
which counts as such when nothing earlier was seen.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime

from parsers.model import DateWindow, Event, EventKind, MessageInfo

PROMISING = (EventKind.ORDERED, EventKind.SHIPPED, EventKind.OUT_FOR_DELIVERY, EventKind.DELAYED)
CLOSING = (EventKind.CANCELLED, EventKind.REFUNDED)
DEFAULT_SHIPMENT = "1"


@dataclass(frozen=True)
class Sighting:
    """One event with the email it came from."""

    message: MessageInfo
    event: Event


@dataclass(frozen=True)
class Shipment:
    order_id: str
    shipment: str
    marketplace: str
    language: str
    promise: DateWindow | None
    promise_source: Sighting | None
    guaranteed: bool | None
    revisions: tuple[Sighting, ...]  # later emails that changed the promise (delays, early arrivals)
    delivered: bool
    delivered_on: date | None
    delivery_source: Sighting | None
    authenticated: bool  # the promise and the delivery (if any) come from authentic Amazon mail
    sightings: tuple[Sighting, ...]
    items: tuple[str, ...]
    closed: bool  # cancelled or refunded: nothing to claim

    @property
    def order_ids(self) -> tuple[str, ...]:
        ids: dict[str, None] = {self.order_id: None}
        for s in self.sightings:
            ids.update(dict.fromkeys(s.event.order_ids))
        return tuple(ids)


def _sent(sighting: Sighting) -> datetime:
    return sighting.message.sent_at or datetime.min.replace(tzinfo=UTC)


def _authentic(sighting: Sighting | None) -> bool:
    return sighting is not None and sighting.message.authenticated is True and not sighting.message.forwarded


def _group(sightings: Iterable[Sighting]) -> dict[tuple[str, str], list[Sighting]]:
    """Sightings per (order, shipment). An email showing two ids of one order (a redacted part, say) joins the
    group of whichever id was seen first."""
    alias: dict[str, str] = {}
    groups: dict[tuple[str, str], list[Sighting]] = {}
    for sighting in sorted(sightings, key=_sent):
        ids = sighting.event.order_ids
        if not ids:
            continue
        main = next((alias[i] for i in ids if i in alias), ids[0])
        for order_id in ids:
            alias.setdefault(order_id, main)
        key = (main, sighting.event.shipment or DEFAULT_SHIPMENT)
        groups.setdefault(key, []).append(sighting)
    return groups


def _shipment(order_id: str, shipment: str, sightings: list[Sighting]) -> Shipment:
    promise: DateWindow | None = None
    source: Sighting | None = None
    revisions: list[Sighting] = []
    delivery: Sighting | None = None
    items: dict[str, None] = {}
    for s in sightings:
        event = s.event
        items.update(dict.fromkeys(event.items))
        if event.kind is EventKind.DELIVERED and delivery is None:
            delivery = s
        if event.kind not in PROMISING or event.promise is None:
            continue
        if promise is None:
            promise, source = event.previous_promise or event.promise, s
            if event.previous_promise is not None:
                revisions.append(s)
        elif event.promise != promise:
            revisions.append(s)
    first = sightings[0].event
    return Shipment(
        order_id=order_id,
        shipment=shipment,
        marketplace=first.marketplace,
        language=(source or sightings[0]).event.language,
        promise=promise,
        promise_source=source,
        guaranteed=source.event.guaranteed if source else None,
        revisions=tuple(revisions),
        delivered=delivery is not None,
        delivered_on=delivery.event.delivered_on if delivery else None,
        delivery_source=delivery,
        authenticated=_authentic(source) and (delivery is None or _authentic(delivery)),
        sightings=tuple(sightings),
        items=tuple(items),
        closed=any(s.event.kind in CLOSING for s in sightings),
    )


def timelines(sightings: Iterable[Sighting]) -> list[Shipment]:
    """One Shipment per (order, shipment), ordered by order number then shipment."""
    groups = _group(sightings)
    return [_shipment(order_id, shipment, groups[order_id, shipment]) for order_id, shipment in sorted(groups)]
