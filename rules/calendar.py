"""Working days in a marketplace's country: weekends and public holidays, from the `holidays` library.

A question sent on a Sunday or a public holiday reaches nobody sooner and reads as impatient; the ladder's
first step therefore waits for a working day of the country whose customer service it writes to.
"""

from __future__ import annotations

from datetime import date, timedelta
from functools import cache
from typing import Any

SATURDAY, SUNDAY = 5, 6


@cache
def _calendar(country: str, year: int) -> tuple[frozenset[int], dict[date, str]]:
    import holidays  # imported here: a few hundred country modules that most commands never need

    try:
        found: Any = holidays.country_holidays(country, years=year)
    except NotImplementedError:  # a country the library does not know (or none): weekends only
        return frozenset({SATURDAY, SUNDAY}), {}
    weekend = frozenset(getattr(found, "weekend", {SATURDAY, SUNDAY}))
    return weekend, {day: str(name) for day, name in found.items()}


def day_off(day: date, country: str) -> str | None:
    """Why `day` is not a working day in `country` ("Sun", "Armistice 1918"), or None when it is one."""
    weekend, holidays = _calendar(country, day.year)
    if day.weekday() in weekend:
        return day.strftime("%a")
    return holidays.get(day)


def next_working_day(after: date, country: str) -> tuple[date, list[str]]:
    """The first working day after `after`, and why each day skipped before it was not one."""
    skipped = []
    day = after + timedelta(days=1)
    while (reason := day_off(day, country)) is not None:
        skipped.append(f"{day.strftime('%a')} {day.day} {day.strftime('%b')}: {reason}"
                       if reason != day.strftime("%a") else f"{reason} not a working day")
        day += timedelta(days=1)
    return day, skipped
