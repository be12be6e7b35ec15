"""Was the promise kept? Dates compared in the marketplace's own zone, where the promise was made."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from enum import StrEnum

from parsers.marketplaces import home_zone
from rules.policy import Policy
from rules.timeline import Shipment


class VerdictKind(StrEnum):
    PENDING = "pending"  # on its way, its promise not yet passed (or no promise known yet)
    ON_TIME = "on_time"  # arrived (delivered or made available) within the promise and the grace days
    LATE = "late"  # arrived after the promised window and the grace days
    OVERDUE = "overdue"  # the first promise passed and nothing says the parcel arrived
    NO_PROMISE = "delivered_no_promise"  # arrived, but no promise was ever seen for it: nothing to judge
    DATE_UNKNOWN = "delivered_date_unknown"  # arrived, but the day it arrived cannot be told
    CANCELLED = "cancelled"  # cancelled or refunded in full: nothing left to deliver or to claim


@dataclass(frozen=True)
class Verdict:
    kind: VerdictKind
    days_late: int | None = None  # days after the first promised window's end (grace days not deducted)
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
    if shipment.cancelled:
        return Verdict(VerdictKind.CANCELLED)
    deadline = promise.end + timedelta(days=policy.grace_days) if promise else None
    if shipment.arrived:
        arrived_on = shipment.arrived_on
        if promise is None or deadline is None:
            return Verdict(VerdictKind.NO_PROMISE)
        if arrived_on is None:
            return Verdict(VerdictKind.DATE_UNKNOWN, deadline=deadline)
        if arrived_on > deadline:
            return Verdict(VerdictKind.LATE, (arrived_on - promise.end).days, deadline)
        return Verdict(VerdictKind.ON_TIME, 0, deadline)
    # The promise's latest time ("by 10 pm") is not used: delivery emails can lag the doorstep by hours, so a
    # parcel becomes overdue only once the promised day is over.
    if promise is not None and today > promise.end:
        return Verdict(VerdictKind.OVERDUE, (today - promise.end).days, deadline)
    return Verdict(VerdictKind.PENDING, deadline=deadline)
