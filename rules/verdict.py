"""Was the promise kept? Dates compared in the marketplace's own zone, where the promise was made."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from enum import StrEnum

from parsers.marketplaces import home_zone
from rules.policy import Policy
from rules.timeline import Shipment


class VerdictKind(StrEnum):
    PENDING = "pending"  # not due yet, or nothing to judge (no promise known, delivery date unknown, cancelled)
    ON_TIME = "on_time"
    LATE = "late"  # delivered after the promised window (and the grace days)
    OVERDUE = "overdue"  # the window and the grace days passed with no delivery email


@dataclass(frozen=True)
class Verdict:
    kind: VerdictKind
    days_late: int | None = None  # days after the promised window's end
    deadline: date | None = None  # the last day that still counts as on time (window end + grace days)


def verdict(shipment: Shipment, now: datetime, policy: Policy) -> Verdict:
    promise = shipment.promise
    if promise is None or shipment.closed:
        return Verdict(VerdictKind.PENDING)
    deadline = promise.end + timedelta(days=policy.grace_days)
    if shipment.delivered:
        if shipment.delivered_on is None:
            return Verdict(VerdictKind.PENDING, deadline=deadline)
        if shipment.delivered_on > deadline:
            return Verdict(VerdictKind.LATE, (shipment.delivered_on - promise.end).days, deadline)
        return Verdict(VerdictKind.ON_TIME, 0, deadline)
    today = now.astimezone(home_zone(shipment.marketplace)).date()
    if today > deadline:
        return Verdict(VerdictKind.OVERDUE, (today - promise.end).days, deadline)
    return Verdict(VerdictKind.PENDING, deadline=deadline)
