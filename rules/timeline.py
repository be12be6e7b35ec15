"""Events from many emails, grouped into one timeline per parcel: the promise, its revisions, the arrival.

Parcels, not orders. An order may travel in several parcels, each with its own shipped email, promise and
delivery email. Every event is tied to the parcel it names: its package number ("1 of 2") or tracking id, the
items it lists, or — when it names nothing — the only parcel it can be about (the only one, or the only one not
yet arrived). An email that could be about several parcels closes none of them on a guess: those parcels are
flagged `ambiguous`, and no claim is written about them until a later email or the user settles it.

Which date counts. The promise is the first one Amazon stated for the parcel (the order confirmation's, else
the shipped email's): a later delay notice does not excuse it and an "arriving early" update does not tighten
it. `expected` is the latest date Amazon itself announced, never earlier than the promise: "where is my
parcel?" waits for it.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime

from parsers.marketplaces import home_zone
from parsers.model import DateWindow, Event, EventKind, MessageInfo

ORIGINAL_PROMISE = (EventKind.ORDERED, EventKind.SHIPPED)  # what Amazon committed to
MADE_AVAILABLE = (EventKind.PICKUP_READY, EventKind.ATTEMPTED)  # offered to the buyer: the ladder ends
CLOSING = (EventKind.CANCELLED, EventKind.REFUNDED)
USER_PATTERN = "user"  # an event the user stated (`lateclaim orders arrived`): `shipment` is the parcel's key
ITEM_KEY_LENGTH = 32  # titles are cut at different lengths by different emails: compare their beginnings


@dataclass(frozen=True)
class Sighting:
    """One event with the email it came from."""

    message: MessageInfo
    event: Event


@dataclass(frozen=True)
class Shipment:
    """One parcel of an order (the name is kept from the days a shipment was an order)."""

    order_id: str
    shipment: str  # the parcel's key within the order: "1", "2", ... in the order they became known
    marketplace: str
    language: str
    promise: DateWindow | None  # the first promise stated for this parcel (see the module's docstring)
    promise_source: Sighting | None
    guaranteed: bool | None  # as the promise's email worded it: guaranteed, estimated, or not said
    revisions: tuple[Sighting, ...]  # later emails that changed the date (delays, early arrivals, "today")
    delivered_on: date | None  # in the marketplace's zone; None when not delivered or the date is unknown
    delivery_source: Sighting | None
    authenticated: bool  # the promise and the arrival (if any) come from authentic Amazon mail
    sightings: tuple[Sighting, ...]
    items: tuple[str, ...]
    cancelled: bool  # cancelled or refunded in full: nothing to claim
    expected: DateWindow | None = None  # the latest date Amazon announced, never before the promise
    expected_source: Sighting | None = None
    available_on: date | None = None  # pickup_ready / attempted: the day it was made available
    available_source: Sighting | None = None
    closed_by: Sighting | None = None  # the cancellation or full refund
    paused: str = ""  # why the ladder waits (a partial or goodwill refund), or ""
    ambiguous: str = ""  # why this parcel cannot be judged now (an email that may be about it names no parcel)
    parcels_in_order: int = 1

    @property
    def delivered(self) -> bool:
        """A delivery email was seen, even one whose date is unknown: it still ends the non-delivery ladder."""
        return self.delivery_source is not None

    @property
    def arrived(self) -> bool:
        """Delivered, or made available (a pickup point, a delivery attempt): the ladder ends either way."""
        return self.delivered or self.available_source is not None

    @property
    def arrival_source(self) -> Sighting | None:
        """The email of the first arrival: the delivery, or the pickup or attempt when that came earlier."""
        if self.available_source is not None and (self.delivery_source is None or (
                self.available_on and self.delivered_on and self.available_on < self.delivered_on)):
            return self.available_source
        return self.delivery_source

    @property
    def arrival(self) -> str | None:
        """How it arrived: "delivered", "pickup_ready", "attempted", or None."""
        first = self.arrival_source
        return first.event.kind.value if first else None

    @property
    def arrived_on(self) -> date | None:
        """The day the parcel reached the buyer or was made available to them, whichever came first."""
        days = [d for d in (self.delivered_on, self.available_on) if d is not None]
        return min(days) if days else None

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
    # not count as authentic even if some header says so. The user's own word counts as theirs.
    if sighting is not None and sighting.event.pattern == USER_PATTERN:
        return True
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


def _revises(event: Event) -> bool:
    """An email that changes the date of a parcel already announced ("arriving early", "delivery date updated", a
    delay): it attaches to that parcel and never makes one."""
    return event.kind is EventKind.DELAYED or event.revision or (
        event.kind in ORIGINAL_PROMISE and event.previous_promise is not None)


def _item_keys(items: Iterable[str]) -> set[str]:
    return {re.sub(r"\W+", " ", item.casefold()).strip()[:ITEM_KEY_LENGTH] for item in items if item.strip()}


# -- tying events to parcels -------------------------------------------------------------------------------

STRONG, NEUTRAL, SOFT_CONFLICT, CONFLICT = "strong", "neutral", "soft", "conflict"


@dataclass
class _Parcel:
    key: str
    sightings: list[Sighting] = field(default_factory=list)
    numbers: set[int] = field(default_factory=set)
    tracking: set[str] = field(default_factory=set)
    items: set[str] = field(default_factory=set)
    shipped: bool = False
    arrived: bool = False
    ambiguous: list[Sighting] = field(default_factory=list)

    def add(self, sighting: Sighting) -> None:
        event = sighting.event
        self.sightings.append(sighting)
        if event.parcel and event.parcel.number is not None:
            self.numbers.add(event.parcel.number)
        if event.parcel and event.parcel.tracking_id:
            self.tracking.add(event.parcel.tracking_id.upper())
        self.items |= _item_keys(event.items)
        self.shipped |= event.kind is EventKind.SHIPPED and not _revises(event)
        self.arrived |= event.kind is EventKind.DELIVERED or event.kind in MADE_AVAILABLE

    def match(self, event: Event) -> str:
        """How `event` relates to this parcel: it names it (strong), says nothing either way (neutral), names
        other items (soft: wordings differ between emails), or names another package or tracking id."""
        parcel = event.parcel
        if parcel and parcel.tracking_id and self.tracking:
            return STRONG if parcel.tracking_id.upper() in self.tracking else CONFLICT
        if parcel and parcel.number is not None and self.numbers:
            return STRONG if parcel.number in self.numbers else CONFLICT
        items = _item_keys(event.items)
        if items and self.items:
            overlap = any(a.startswith(b) or b.startswith(a) for a in items for b in self.items)
            return STRONG if overlap else SOFT_CONFLICT
        return NEUTRAL


def _choose(event: Event, parcels: list[_Parcel]) -> tuple[_Parcel | None, list[_Parcel]]:
    """The parcel `event` is about: (parcel, []) when it can be told, (None, candidates) when it cannot,
    (None, []) when it names a parcel not seen yet."""
    verdicts = [(p, p.match(event)) for p in parcels]
    candidates = [p for p, v in verdicts if v != CONFLICT]
    if not candidates:
        return None, []
    strong = [p for p, v in verdicts if v == STRONG]
    if len(strong) == 1:
        return strong[0], []
    if len(strong) > 1:
        candidates = strong
    elif len(candidates) > 1:
        candidates = [p for p, v in verdicts if v == NEUTRAL] or candidates
    if len(candidates) == 1:
        return candidates[0], []
    if event.kind is not EventKind.SHIPPED or _revises(event):
        # Each parcel arrives once: an arrival or an update names one of those still on their way.
        open_ones = [p for p in candidates if not p.arrived]
        if len(open_ones) == 1:
            return open_ones[0], []
        if _revises(event) and event.previous_promise is not None:
            revised = [p for p in open_ones if _expected_end(p) == event.previous_promise.end]
            if len(revised) == 1:
                return revised[0], []
        return None, open_ones or candidates
    return None, candidates


def _expected_end(parcel: _Parcel) -> date | None:
    promises = [s.event.promise for s in parcel.sightings if s.event.promise is not None]
    return promises[-1].end if promises else None


@dataclass
class _Order:
    main: str
    order_level: list[Sighting] = field(default_factory=list)  # order confirmations with one promise for all
    closing: list[Sighting] = field(default_factory=list)  # cancellations and refunds
    parcels: list[_Parcel] = field(default_factory=list)
    unsettled: list[tuple[Sighting, list[_Parcel]]] = field(default_factory=list)

    def new_parcel(self, sighting: Sighting | None = None) -> _Parcel:
        number = sighting.event.parcel.number if sighting and sighting.event.parcel else None
        taken = {p.key for p in self.parcels}
        key = str(number) if number is not None and str(number) not in taken else str(len(self.parcels) + 1)
        while key in taken:
            key = str(int(key) + 1)
        parcel = _Parcel(key)
        self.parcels.append(parcel)
        if sighting is not None:
            parcel.add(sighting)
        return parcel

    def _place_shipment(self, sighting: Sighting, chosen: _Parcel | None) -> None:
        """A shipped email is one parcel: the parcel it names (announced again), else the one parcel still
        waiting to ship (planned by the order confirmation, say), else a new one."""
        event = sighting.event
        if chosen is not None and chosen.match(event) == STRONG:
            chosen.add(sighting)
            return
        waiting = [p for p in self.parcels if not p.shipped and not p.arrived and p.match(event) == NEUTRAL]
        if len(waiting) > 1 and event.promise is not None:
            waiting = [p for p in waiting if _expected_end(p) == event.promise.end]
        if event.kind is EventKind.SHIPPED and len(waiting) == 1:
            waiting[0].add(sighting)
        else:
            self.new_parcel(sighting)

    def place(self, sighting: Sighting) -> None:
        event = sighting.event
        if event.kind in CLOSING:
            self.closing.append(sighting)
            return
        if event.kind is EventKind.ORDERED and event.shipment is None:
            self.order_level.append(sighting)
            return
        if event.pattern == USER_PATTERN:
            target = next((p for p in self.parcels if p.key == event.shipment), None)
            (target or self.new_parcel()).add(sighting)
            return
        if not self.parcels:
            self.new_parcel(sighting)
            return
        chosen, candidates = _choose(event, self.parcels)
        revision = _revises(event)
        if event.kind in (EventKind.SHIPPED, EventKind.ORDERED) and not revision:
            self._place_shipment(sighting, chosen)
            return
        if chosen is not None:
            chosen.add(sighting)
        elif candidates:
            self.unsettled.append((sighting, candidates))
        elif revision:  # it names a parcel none of the others is: still one of them, not a new one
            self.unsettled.append((sighting, [p for p in self.parcels if not p.arrived] or list(self.parcels)))
        else:
            self.new_parcel(sighting)

    def settle(self) -> None:
        """Events that could not be tied to one parcel, tried again now that every email has been placed:
        a later email may have told the parcels apart (each parcel arrives once)."""
        progress = True
        while progress and self.unsettled:
            progress = False
            for entry in list(self.unsettled):
                sighting, candidates = entry
                open_ones = [p for p in candidates if not p.arrived]  # (a shipped email is always placed)
                if len(open_ones) == 1:
                    open_ones[0].add(sighting)
                    self.unsettled.remove(entry)
                    progress = True
        # Arrivals that could still be about several parcels close none, however many there are: two vague
        # "delivered" emails for two parcels do not say which came when (a late one would pass for on time).
        for sighting, candidates in self.unsettled:
            for parcel in candidates:
                parcel.ambiguous.append(sighting)


def _orders(sightings: Iterable[Sighting]) -> list[_Order]:
    # A seller's message relayed by Amazon is the seller's word, not Amazon's: it states no fact about a parcel.
    facts = [s for s in sorted(sightings, key=_chronological) if not s.message.seller_relayed]
    ordered = [s for s in facts if s.event.order_ids]
    alias = _main_ids(ordered)
    orders: dict[str, _Order] = {}
    user_events = []
    for sighting in ordered:
        main = alias[sighting.event.order_ids[0]]
        order = orders.setdefault(main, _Order(main))
        if sighting.event.pattern == USER_PATTERN:
            user_events.append((order, sighting))  # after the emails: they name a parcel the emails made
        else:
            order.place(sighting)
    for order, sighting in user_events:
        order.place(sighting)
    for order in orders.values():
        if not order.parcels:
            order.new_parcel()
        order.settle()
    _eliminate([s for s in facts if not s.event.order_ids], list(orders.values()))
    return [orders[main] for main in sorted(orders)]


TIED_BY_ELIMINATION = (*MADE_AVAILABLE, EventKind.DELIVERED, EventKind.OUT_FOR_DELIVERY, EventKind.DELAYED, *CLOSING)


def _eliminate(unnamed: list[Sighting], orders: list[_Order]) -> None:
    """Emails that name no order (a pickup point's, a delivery attempt's, some deliveries and refunds), tied by
    elimination across the account: the one open parcel they can be about (the same marketplace, shipped before
    the email, not arrived, no other items or package named). Several candidates: an arrival closes none of them
    and they wait (`ambiguous`); anything else is left untied. Each tie can leave one candidate for the next."""
    waiting = [s for s in unnamed if s.event.kind in TIED_BY_ELIMINATION or (
        _revises(s.event) and s.event.kind is not EventKind.DELAYED)]
    progress = True
    while progress and waiting:
        progress = False
        for sighting in list(waiting):
            found = _candidates(sighting, orders)
            if len(found) == 1:
                order, parcel = found[0]
                if sighting.event.kind in CLOSING:
                    order.closing.append(sighting)
                else:
                    parcel.add(sighting)
                waiting.remove(sighting)
                progress = True
    for sighting in waiting:
        if sighting.event.kind is EventKind.DELIVERED or sighting.event.kind in MADE_AVAILABLE:
            found = _candidates(sighting, orders)
            for _, parcel in found if len(found) > 1 else ():
                parcel.ambiguous.append(sighting)


def _candidates(sighting: Sighting, orders: list[_Order]) -> list[tuple[_Order, _Parcel]]:
    event, sent = sighting.event, _chronological(sighting)[0]
    found: list[tuple[_Order, _Parcel, str]] = []
    for order in orders:
        for parcel in order.parcels:
            shipped = [s for s in parcel.sightings if s.event.kind is EventKind.SHIPPED and not _revises(s.event)]
            if parcel.arrived or not shipped or shipped[0].event.marketplace != event.marketplace:
                continue
            if _chronological(shipped[0])[0] > sent:
                continue  # shipped after this email was written
            if (verdict := parcel.match(event)) in (STRONG, NEUTRAL):
                found.append((order, parcel, verdict))
    strong = [(o, p) for o, p, v in found if v == STRONG]
    return strong if len(strong) == 1 else [(o, p) for o, p, _ in found]


# -- one parcel's story ------------------------------------------------------------------------------------


def _day_in_zone(sighting: Sighting) -> date | None:
    sent = sighting.message.sent_at
    return sent.astimezone(home_zone(sighting.event.marketplace)).date() if sent else None


def _delivery_date(sighting: Sighting) -> date | None:
    """The delivery date the email states, else the day the delivery email was sent, in the marketplace's zone
    (Amazon sends it when the parcel is handed over; 23:30 UTC is already the next day in Paris)."""
    return sighting.event.delivered_on or _day_in_zone(sighting)


def _available_date(sighting: Sighting) -> date | None:
    return sighting.event.available_on or _day_in_zone(sighting)


def _first_promise(statements: list[Sighting]) -> tuple[DateWindow | None, Sighting | None]:
    """The first promise made: an order confirmation's or a shipped email's, else the one a delay email says
    was made before ("previously expected"), else an out-for-delivery "today" when nothing earlier was said."""
    for s in statements:
        if _revises(s.event):  # a revision's own date is no promise; the one it says was made before is
            if s.event.previous_promise is not None:
                return s.event.previous_promise, s
        elif s.event.kind in ORIGINAL_PROMISE and s.event.promise is not None:
            return s.event.promise, s
    for s in statements:
        if s.event.kind is EventKind.OUT_FOR_DELIVERY and s.event.promise is not None:
            return s.event.promise, s
    return None, None


def _closing(order: _Order, parcel: _Parcel) -> tuple[Sighting | None, str]:
    """(the email that closed the parcel, or None; why its ladder is paused, or "")."""
    for s in order.closing:
        event = s.event
        named = _item_keys(event.items)
        kind = "cancellation" if event.kind is EventKind.CANCELLED else "refund"
        if event.refund_scope == "goodwill":
            return None, f"a goodwill {kind} ({event.total.amount if event.total else 'amount not stated'}) " \
                         f"on {_day_in_zone(s)}"
        if event.refund_scope == "order" or (not named and event.kind is EventKind.CANCELLED):
            return s, ""
        if not named:
            return None, f"a {kind} on {_day_in_zone(s)} that names no item"
        covered = {i for i in parcel.items if any(i.startswith(n) or n.startswith(i) for n in named)}
        if parcel.items and covered == parcel.items:
            return s, ""
        if covered or not parcel.items:
            return None, f"a partial {kind} on {_day_in_zone(s)}"
    return None, ""


def _shipment(order: _Order, parcel: _Parcel) -> Shipment:
    own = sorted(parcel.sightings, key=_chronological)
    statements = sorted([*order.order_level, *own], key=_chronological)
    promise, source = _first_promise(statements)
    revisions: list[Sighting] = []
    current = promise
    expected, expected_source = promise, source
    for s in statements:
        event = s.event
        window = event.promise if event.kind not in (EventKind.DELIVERED, *MADE_AVAILABLE) else None
        if s is source and not _revises(event):
            continue  # (a revision that states the earlier promise also states the new date: a revision)
        if window is None or promise is None or window == current:
            continue
        current = window
        revisions.append(s)
        # The latest date Amazon announced, but an earlier one never shortens the wait.
        expected, expected_source = (window, s) if window.end >= promise.end else (promise, source)
    delivery = next((s for s in own if s.event.kind is EventKind.DELIVERED), None)
    available = next((s for s in own if s.event.kind in MADE_AVAILABLE), None)
    closed_by, paused = _closing(order, parcel)
    arrived = [s for s in (delivery, available) if s is not None]
    first = next(iter([*own, *statements, *order.closing]), None)
    ambiguous = ""
    if parcel.ambiguous and not arrived:
        kinds = sorted({s.event.kind.value for s in parcel.ambiguous})
        ambiguous = f"{' and '.join(kinds)} email(s) of this order name no parcel"
    items: dict[str, None] = {}
    # The order confirmation lists the items of every parcel: it names this one's only when it is the only one.
    for s in statements if len(order.parcels) == 1 else own:
        items.update(dict.fromkeys(s.event.items))
    return Shipment(
        order_id=order.main,
        shipment=parcel.key,
        marketplace=first.event.marketplace if first else "",
        language=(source or first).event.language if first else "",
        promise=promise,
        promise_source=source,
        guaranteed=source.event.guaranteed if source else None,
        revisions=tuple(revisions),
        delivered_on=_delivery_date(delivery) if delivery else None,
        delivery_source=delivery,
        authenticated=_authentic(source) and all(_authentic(s) for s in arrived),
        sightings=tuple(sorted([*statements, *order.closing], key=_chronological)),
        items=tuple(items),
        cancelled=closed_by is not None,
        expected=expected,
        expected_source=expected_source,
        available_on=_available_date(available) if available else None,
        available_source=available,
        closed_by=closed_by,
        paused=paused,
        ambiguous=ambiguous,
        parcels_in_order=len(order.parcels),
    )


def timelines(sightings: Iterable[Sighting]) -> list[Shipment]:
    """One Shipment per parcel, sorted by order number then parcel key."""
    result: list[Shipment] = []
    for order in _orders(sightings):
        result.extend(_shipment(order, parcel) for parcel in order.parcels)
    return sorted(result, key=lambda s: (s.order_id, int(s.shipment) if s.shipment.isdigit() else 0, s.shipment))
