"""Was the promise kept? Dates compared in the marketplace's own zone, where the promise was made."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from enum import StrEnum

from parsers.marketplaces import home_zone
from rules.policy import Policy
from rules.timeline import Shipment


class VerdictKind(StrEnum):
    # PENDING also means "abstain": no promise known, a delivery of unknown date, a cancelled or refunded
    # order. The rules never claim on it.
    PENDING = "pending"
    ON_TIME = "on_time"
    LATE = "late"  # delivered after the promised window and the grace days
    OVERDUE = "overdue"  # the window and the grace days passed with no delivery email


@dataclass(frozen=True)
class Verdict:
    kind: VerdictKind
    days_late: int | None = None  # days after the promised window's end (grace days not deducted)
    deadline: date | None = None  # the last day that still counts as on time: window end + grace days


def local_day(moment: datetime, shipment: Shipment) -> date:
    """The calendar day `moment` falls on in the marketplace's zone."""
    if moment.tzinfo is None:
        # astimezone() would read the machine's own zone: a naive moment is a caller's bug, not a guess to make.
        raise ValueError(f"a timezone-aware datetime is required, got {moment!r}")
    return moment.astimezone(home_zone(shipment.marketplace)).date()


def verdict(shipment: Shipment, now: datetime, policy: Policy) -> Verdict:
    today = local_day(now, shipment)
    promise = shipment.promise
    if promise is None or shipment.cancelled:
        return Verdict(VerdictKind.PENDING)
    deadline = promise.end + timedelta(days=policy.grace_days)
    if shipment.delivered:
        if shipment.delivered_on is None:
            return Verdict(VerdictKind.PENDING, deadline=deadline)
        if shipment.delivered_on > deadline:
            return Verdict(VerdictKind.LATE, (shipment.delivered_on - promise.end).days, deadline)
        return Verdict(VerdictKind.ON_TIME, 0, deadline)
    # The promise's latest time ("by 10 pm") is not used: delivery emails can lag the doorstep by hours, so a
    # parcel becomes overdue only once the promised day (and the grace days) are over.
    if today > deadline:
        return Verdict(VerdictKind.OVERDUE, (today - promise.end).days, deadline)
    return Verdict(VerdictKind.PENDING, deadline=deadline)
