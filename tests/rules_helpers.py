"""Small builders for the rules' tests: emails and events as plain values, no parsing involved."""

from __future__ import annotations

import itertools
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from parsers.model import DateWindow, Event, EventKind, MessageInfo
from rules.claims import ClaimDecision, PastClaim
from rules.policy import Policy
from rules.timeline import Shipment, Sighting, timelines

ORDER = "171-1234567-1234567"
PARIS = ZoneInfo("Europe/Paris")
_ids = itertools.count(1)

SUBJECTS = {
    EventKind.ORDERED: "Votre commande Amazon.fr",
    EventKind.SHIPPED: "Votre colis a été expédié",
    EventKind.DELAYED: "Votre colis est en retard",
    EventKind.DELIVERED: "Votre colis a été livré",
    EventKind.CANCELLED: "Commande annulée",
}


def at(year: int, month: int, day: int, hour: int = 9, minute: int = 0, tz: Any = UTC) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=tz)


def sighting(
    kind: EventKind,
    sent: datetime | None,
    *,
    order: str | tuple[str, ...] = ORDER,
    marketplace: str = "amazon.fr",
    language: str = "fr",
    promise: DateWindow | date | None = None,
    previous: DateWindow | date | None = None,
    guaranteed: bool | None = None,
    delivered_on: date | None = None,
    items: tuple[str, ...] = (),
    shipment: str | None = None,
    evidence: str | None = None,  # None: a plausible sentence; "" none at all
    authenticated: bool | None = True,
    forwarded: bool = False,
    subject: str | None = None,
) -> Sighting:
    window = DateWindow.on(promise) if isinstance(promise, date) else promise
    earlier = DateWindow.on(previous) if isinstance(previous, date) else previous
    message = MessageInfo(
        message_id=f"m{next(_ids)}@amazon.fr",
        subject=SUBJECTS.get(kind, kind.value) if subject is None else subject,
        sent_at=sent,
        sender=f"confirmation@{marketplace}",
        authenticated=authenticated,
        forwarded=forwarded,
    )
    event = Event(
        kind=kind,
        marketplace=marketplace,
        language=language,
        order_ids=(order,) if isinstance(order, str) else order,
        promise=window,
        previous_promise=earlier,
        guaranteed=guaranteed,
        delivered_on=delivered_on,
        items=items,
        shipment=shipment,
        evidence=evidence if evidence is not None else (f"Livraison estimée : {window.end.isoformat()}" if window
                                                        else ""),
    )
    return Sighting(message, event)


def ordered(end: date, sent: datetime | None = None, **kw: Any) -> Sighting:
    """An order confirmation promising `end`, sent four days before it unless told otherwise."""
    sent = sent or datetime.combine(end - timedelta(days=4), time(9), UTC)
    return sighting(EventKind.ORDERED, sent, promise=end, **kw)


def delivered(sent: datetime | None, delivered_on: date | None = None, **kw: Any) -> Sighting:
    return sighting(EventKind.DELIVERED, sent, delivered_on=delivered_on, **kw)


def one(*sightings: Sighting) -> Shipment:
    (shipment,) = timelines(sightings)
    return shipment


def policy(**kw: Any) -> Policy:
    return Policy(timezone=kw.pop("timezone", PARIS), **kw)


def recorded(decisions: list[ClaimDecision], now: datetime, status: str = "sent") -> list[PastClaim]:
    """What the daemon keeps of the decisions that went out (by default the user sent each letter the moment it
    was written): those a cap holds are not history yet."""
    return [PastClaim(d.order_id, d.shipment, d.track, d.step, now, status,
                      now if status in ("sent", "answered") else None, written_at=now,
                      deadline=date.fromisoformat(d.evidence["deadline_given"]) if "deadline_given" in d.evidence
                      else None)
            for d in decisions if d.held is None]
