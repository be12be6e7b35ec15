"""Events from many emails, grouped into one timeline per shipment: the promise, its revisions, the delivery.

The promise that counts is the first one Amazon stated when the order was placed or shipped: a later delay
email revises it, it does not replace it (the broken promise is what a claim is about). A delay email that says
"previously expected ..." states an earlier promise, which counts as the original when nothing earlier was seen.
A delay email alone, with no earlier promise, gives no promise at all: the rules abstain rather than treat a
revision as the original.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime

from parsers.marketplaces import home_zone
from parsers.model import DateWindow, Event, EventKind, MessageInfo

ORIGINAL_PROMISE = (EventKind.ORDERED, EventKind.SHIPPED)  # what Amazon committed to
CLOSING = (EventKind.CANCELLED, EventKind.REFUNDED)  # nothing left to deliver, nothing left to claim
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
    promise: DateWindow | None  # the first promise stated (see the module's docstring)
    promise_source: Sighting | None
    guaranteed: bool | None  # as the promise's email worded it: guaranteed, estimated, or not said
    revisions: tuple[Sighting, ...]  # later emails that changed the promise (delays, new estimates)
    delivered_on: date | None  # in the marketplace's zone; None when not delivered or the date is unknown
    delivery_source: Sighting | None
    authenticated: bool  # the promise and the delivery (if any) come from authentic Amazon mail
    sightings: tuple[Sighting, ...]
    items: tuple[str, ...]
    cancelled: bool  # cancelled or refunded: nothing to claim

    @property
    def delivered(self) -> bool:
        """A delivery email was seen, even one whose date is unknown: it still ends the non-delivery ladder."""
        return self.delivery_source is not None

    @property
    def order_ids(self) -> tuple[str, ...]:
        ids: dict[str, None] = {self.order_id: None}
        for s in self.sightings:
            ids.update(dict.fromkeys(s.event.order_ids))
        return tuple(ids)


def _chronological(sighting: Sighting) -> tuple[datetime, str, str]:
    # An email without a usable date sorts first: it cannot be shown to come after anything. The message id
    # and kind break ties so that the result does not depend on the order the store returned rows in.
    sent = sighting.message.sent_at or datetime.min.replace(tzinfo=UTC)
    return sent, sighting.message.message_id, sighting.event.kind.value


def _authentic(sighting: Sighting | None) -> bool:
    # A forwarded copy carries the forwarder's signature, not Amazon's: the parsers report it, and it does
    # not count as authentic even if some header says so.
    return sighting is not None and sighting.message.authenticated is True and not sighting.message.forwarded


def _main_ids(sightings: list[Sighting]) -> dict[str, str]:
    """Every order id seen, mapped to the main id of its order. An email showing two ids (the main one first)
    joins them; an id seen first on its own stays the main one."""
    alias: dict[str, str] = {}
    for sighting in sightings:
        ids = sighting.event.order_ids
        if ids:
            main = next((alias[i] for i in ids if i in alias), ids[0])
            for order_id in ids:
                alias.setdefault(order_id, main)
    return alias


def _group(sightings: Iterable[Sighting]) -> dict[tuple[str, str], list[Sighting]]:
    """Sightings per (order, shipment), each list in chronological order.

    An email without a shipment key speaks about the whole order: when the order has keyed shipments, it joins
    each of them (a cancellation or a delivery without a key then closes them all, which can hide a claim but
    never invents one). Without keyed shipments, the order is one shipment, DEFAULT_SHIPMENT.
    """
    ordered = [s for s in sorted(sightings, key=_chronological) if s.event.order_ids]  # else: tied to no order
    alias = _main_ids(ordered)
    keyed: dict[str, dict[str, list[Sighting]]] = {}
    unkeyed: dict[str, list[Sighting]] = {}
    for sighting in ordered:
        main = alias[sighting.event.order_ids[0]]
        unkeyed.setdefault(main, [])
        if sighting.event.shipment:
            keyed.setdefault(main, {}).setdefault(sighting.event.shipment, []).append(sighting)
        else:
            unkeyed[main].append(sighting)
    groups: dict[tuple[str, str], list[Sighting]] = {}
    for main, whole in unkeyed.items():
        shipments = keyed.get(main)
        if not shipments:
            groups[main, DEFAULT_SHIPMENT] = whole
            continue
        for key, own in shipments.items():
            groups[main, key] = sorted([*own, *whole], key=_chronological)
    return groups


def _delivery_date(sighting: Sighting) -> date | None:
    """The delivery date the email states, else the day the delivery email was sent, in the marketplace's zone
    (Amazon sends it when the parcel is handed over; 23:30 UTC is already the next day in Paris)."""
    if sighting.event.delivered_on is not None:
        return sighting.event.delivered_on
    sent = sighting.message.sent_at
    return sent.astimezone(home_zone(sighting.event.marketplace)).date() if sent else None


def _shipment(order_id: str, shipment: str, sightings: list[Sighting]) -> Shipment:
    promise: DateWindow | None = None
    source: Sighting | None = None
    current: DateWindow | None = None  # the promise as last revised
    revisions: list[Sighting] = []
    delivery: Sighting | None = None
    items: dict[str, None] = {}
    for s in sightings:
        event = s.event
        items.update(dict.fromkeys(event.items))
        if event.kind is EventKind.DELIVERED and delivery is None:
            delivery = s
        if promise is None:
            if event.kind in ORIGINAL_PROMISE and event.promise is not None:
                promise = current = event.promise
                source = s
                continue
            if event.kind is EventKind.DELAYED and event.previous_promise is not None:
                # "Previously expected: ..." is the earliest statement of the promise we have.
                promise, source = event.previous_promise, s
                current = event.promise or event.previous_promise
                revisions.append(s)
                continue
        elif event.promise is not None and event.kind is not EventKind.DELIVERED and event.promise != current:
            current = event.promise
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
        delivered_on=_delivery_date(delivery) if delivery else None,
        delivery_source=delivery,
        authenticated=_authentic(source) and (delivery is None or _authentic(delivery)),
        sightings=tuple(sightings),
        items=tuple(items),
        cancelled=any(s.event.kind in CLOSING for s in sightings),
    )


def timelines(sightings: Iterable[Sighting]) -> list[Shipment]:
    """One Shipment per (order, shipment), sorted by order number then shipment key."""
    groups = _group(sightings)
    return [_shipment(order_id, shipment, groups[order_id, shipment]) for order_id, shipment in sorted(groups)]
