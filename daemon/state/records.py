"""Events and message facts to JSON and back, exactly, for the state file.

`ParseResult.to_json` is the public contract of `lateclaim parse`; this is the private, lossless form the store
keeps (the previous promise, the latest time, the shipment key and the pattern are in it too).
"""

from __future__ import annotations

from datetime import date, time
from typing import Any

from parsers.model import DateWindow, Event, EventKind, Parcel, Price


def _window_to(window: DateWindow | None) -> dict[str, Any] | None:
    if window is None:
        return None
    return {
        "start": window.start.isoformat() if window.start else None,
        "end": window.end.isoformat(),
        "latest": window.latest.isoformat(timespec="minutes") if window.latest else None,
    }


def _window_from(data: dict[str, Any] | None) -> DateWindow | None:
    if data is None:
        return None
    return DateWindow(
        start=date.fromisoformat(data["start"]) if data["start"] else None,
        end=date.fromisoformat(data["end"]),
        latest=time.fromisoformat(data["latest"]) if data["latest"] else None,
    )


def event_to_record(event: Event) -> dict[str, Any]:
    return {
        "kind": event.kind.value,
        "marketplace": event.marketplace,
        "language": event.language,
        "order_ids": list(event.order_ids),
        "promise": _window_to(event.promise),
        "previous_promise": _window_to(event.previous_promise),
        "guaranteed": event.guaranteed,
        "delivered_on": event.delivered_on.isoformat() if event.delivered_on else None,
        "items": list(event.items),
        "shipment": event.shipment,
        "evidence": event.evidence,
        "pattern": event.pattern,
        "parcel": vars(event.parcel) if event.parcel else None,
        "available_on": event.available_on.isoformat() if event.available_on else None,
        "waiting_at": event.waiting_at,
        "seller": event.seller,
        "fulfilled_by": event.fulfilled_by,
        "order_date": event.order_date.isoformat() if event.order_date else None,
        "prices": [vars(p) for p in event.prices],
        "total": vars(event.total) if event.total else None,
        "refund_scope": event.refund_scope,
        "revision": event.revision,
    }


def event_from_record(data: dict[str, Any]) -> Event:
    return Event(
        kind=EventKind(data["kind"]),
        marketplace=data["marketplace"],
        language=data["language"],
        order_ids=tuple(data["order_ids"]),
        promise=_window_from(data["promise"]),
        previous_promise=_window_from(data["previous_promise"]),
        guaranteed=data["guaranteed"],
        delivered_on=date.fromisoformat(data["delivered_on"]) if data["delivered_on"] else None,
        items=tuple(data["items"]),
        shipment=data["shipment"],
        evidence=data["evidence"],
        pattern=data["pattern"],
        # Records written before these facts existed simply lack them.
        parcel=Parcel(**data["parcel"]) if data.get("parcel") else None,
        available_on=_day(data.get("available_on")),
        waiting_at=data.get("waiting_at", ""),
        seller=data.get("seller"),
        fulfilled_by=data.get("fulfilled_by"),
        order_date=_day(data.get("order_date")),
        prices=tuple(Price(**p) for p in data.get("prices", ())),
        total=Price(**data["total"]) if data.get("total") else None,
        refund_scope=data.get("refund_scope"),
        revision=data.get("revision", False),
    )


def _day(text: str | None) -> date | None:
    return date.fromisoformat(text) if text else None
