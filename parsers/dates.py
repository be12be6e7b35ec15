"""Dates as Amazon writes them, in each language, resolved against the email's own date.

Month and weekday names come from CLDR (babel), so a language needs no hand-typed table here. Relative words
("today", "demain") and the connectors of a range ("to", "au", "bis") are data in phrases/<language>.toml.
Dates without a year take the year that puts them nearest the email's date; a bare weekday is the next such
day after the email's date (Amazon says "today" for today). Everything is computed in the recipient's zone.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from functools import cache, partial
from zoneinfo import ZoneInfo

from babel import Locale
from babel.dates import get_day_names, get_month_names

from parsers.model import DateWindow
from parsers.phrases import Phrases, phrases

ORDINAL = r"(?:st|nd|rd|th|er|re|º|°|\.)?"


def _fold(text: str) -> str:
    """Lowercase, without dots, one kind of apostrophe: "Déc." and "déc" match, so do "aujourd’hui" spellings."""
    return text.lower().replace(".", "").replace("’", "'").strip()


@dataclass(frozen=True)
class Names:
    months: dict[str, int]  # every spelling (wide, abbreviated; format and stand-alone) -> 1..12
    weekdays: dict[str, int]  # -> 0 (Monday) .. 6

    @property
    def month_pattern(self) -> str:
        return "|".join(re.escape(n) for n in sorted(self.months, key=len, reverse=True))

    @property
    def weekday_pattern(self) -> str:
        return "|".join(re.escape(n) for n in sorted(self.weekdays, key=len, reverse=True))


@cache
def names(language: str) -> Names:
    locale = Locale.parse(language)
    months: dict[str, int] = {}
    weekdays: dict[str, int] = {}
    for width in ("wide", "abbreviated"):
        for context in ("format", "stand-alone"):
            for number, name in get_month_names(width, context, locale).items():
                if len(_fold(name)) >= 3:
                    months[_fold(name)] = number
            for number, name in get_day_names(width, context, locale).items():
                if len(_fold(name)) >= 2:
                    weekdays[_fold(name)] = number
    extra = phrases(language).month_aliases
    months.update({_fold(k): v for k, v in extra.items()})
    return Names(months, weekdays)


@dataclass(frozen=True)
class Found:
    """A date mention in a text: what it says (day/month/year or a relative offset) and where it ends."""

    start: int
    end: int
    day: int | None = None
    month: int | None = None
    year: int | None = None
    weekday: int | None = None
    relative_days: int | None = None  # today = 0, tomorrow = 1


class DateReader:
    """Finds date mentions in one language's text. Numeric dates (19/11/2026) follow the marketplace's order,
    not the language's: amazon.com writes 11/19/2026, amazon.co.uk 19/11/2026."""

    def __init__(self, language: str, month_first: bool = False) -> None:
        self.language = language
        self.phrases: Phrases = phrases(language)
        n = names(language)
        self.names = n
        wd = rf"(?P<wd>{n.weekday_pattern})\.?,?\s+"
        day = rf"(?P<d>\d{{1,2}}){ORDINAL}"
        month = rf"(?P<m>{n.month_pattern})\.?"
        year = r"(?:,?\s+(?:de\s+)?(?P<y>(?:19|20)\d\d))?"
        de = r"(?:\s+de)?"
        self.patterns = [
            re.compile(rf"(?:{wd})?(?:the\s+)?{day}\s+(?:of\s+|de\s+)?{month}{de}{year}", re.I),  # 16 novembre
            re.compile(rf"(?:{wd})?{month}\s+{day}{year}", re.I),  # November 16
            re.compile(r"(?P<y>(?:19|20)\d\d)-(?P<mn>\d\d)-(?P<d>\d\d)"),
            re.compile(r"(?P<a>\d{1,2})[/.](?P<b>\d{1,2})[/.](?P<y>(?:19|20)\d\d)"),
            # Year first, as Japanese notices write it: 2026/12/03[(木)]
            re.compile(r"(?P<y>(?:19|20)\d\d)/(?P<mn>\d{1,2})/(?P<d>\d{1,2})(?:\s*[(（](?P<cjk>[月火水木金土日])[)）])?"),
            # East Asian: [2026年]12月3日[(木)]
            re.compile(r"(?:(?P<y>(?:19|20)\d\d)年)?(?P<mn>\d{1,2})月(?P<d>\d{1,2})日(?:\s*[(（](?P<cjk>[月火水木金土日]))?"),
        ]
        self.relative = {_fold(word): offset for offset, key in enumerate(("today", "tomorrow"))
                         for word in self.phrases.words.get(key, [])}
        spellings = sorted({w for k in ("today", "tomorrow") for w in self.phrases.words.get(k, [])}, key=len,
                           reverse=True)
        rel = "|".join(re.escape(w).replace("'", "['’]") for w in spellings)
        before, after = (r"(?<!\w)", r"(?!\w)") if self.phrases.word_boundaries else ("", "")
        self.relative_pattern = re.compile(rf"{before}(?P<rel>{rel}){after}", re.I) if rel else None
        self.weekday_alone = re.compile(rf"{before}(?P<wd>{n.weekday_pattern}){after}", re.I)
        self.month_first = month_first

    def find(self, text: str) -> list[Found]:
        """Every date mention, in order, longest first where they overlap."""
        found: list[Found] = []
        taken: list[tuple[int, int]] = []
        for m, make in self._candidates(text):  # lazily: each candidate is checked against those taken before it
            if all(m.end() <= s or m.start() >= e for s, e in taken) and (item := make()) is not None:
                found.append(item)
                taken.append((m.start(), m.end()))
        return sorted(found, key=lambda f: f.start)

    def _candidates(self, text: str) -> Iterator[tuple[re.Match[str], Callable[[], Found | None]]]:
        """Each possible mention with what it would be, the most explicit kinds first: full dates, then words
        such as "tomorrow", then a weekday alone."""
        for index, pattern in enumerate(self.patterns):
            for m in pattern.finditer(text):
                yield m, partial(self._explicit, index, m)
        if self.relative_pattern is not None:
            for m in self.relative_pattern.finditer(text):
                yield m, partial(Found, m.start(), m.end(), relative_days=self.relative.get(_fold(m.group("rel")), 0))
        for m in self.weekday_alone.finditer(text):
            yield m, partial(Found, m.start(), m.end(), weekday=self.names.weekdays[_fold(m.group("wd"))])

    def _explicit(self, index: int, m: re.Match[str]) -> Found | None:
        groups = m.groupdict()
        weekday = self.names.weekdays.get(_fold(groups["wd"])) if groups.get("wd") else None
        year = int(groups["y"]) if groups.get("y") else None
        if index in (0, 1):
            month = self.names.months.get(_fold(groups["m"]))
            day = int(groups["d"])
        elif index in (2, 4, 5):
            month, day = int(groups["mn"]), int(groups["d"])
            if groups.get("cjk"):
                weekday = "月火水木金土日".index(groups["cjk"])
        else:
            a, b = int(groups["a"]), int(groups["b"])
            month, day = (a, b) if self.month_first else (b, a)
            if month > 12 >= day:  # the other order is the only possible one: 19/11 is never the 11th of month 19
                month, day = day, month
        if month is None or not 1 <= month <= 12 or not 1 <= day <= 31:
            return None
        return Found(m.start(), m.end(), day, month, year, weekday)


@cache
def date_reader(language: str, month_first: bool = False) -> DateReader:
    """One reader per language and numeric order: its patterns are compiled once."""
    return DateReader(language, month_first)


def resolve(found: Found, reference: date | None) -> date | None:
    """The calendar date a mention means, given the email's local date; None when it cannot be known."""
    if found.relative_days is not None:
        return reference + timedelta(days=found.relative_days) if reference else None
    if found.day is None or found.month is None:
        if found.weekday is None or reference is None:
            return None
        ahead = (found.weekday - reference.weekday()) % 7 or 7
        return reference + timedelta(days=ahead)
    if found.year is not None:
        return _safe_date(found.year, found.month, found.day)
    if reference is None:
        return None
    # The year that puts the date nearest a week after the email: promises look ahead, "previously" a little back.
    target = reference + timedelta(days=7)
    candidates = [d for y in (reference.year - 1, reference.year, reference.year + 1)
                  if (d := _safe_date(y, found.month, found.day)) is not None]
    if found.weekday is not None:
        matching = [d for d in candidates if d.weekday() == found.weekday]
        candidates = matching or candidates
    return min(candidates, key=lambda d: abs((d - target).days), default=None)


def year_from_weekday(found: Found, around: int) -> date | None:
    """For an email with no date at all: the year near `around` in which the stated weekday fits."""
    if found.day is None or found.month is None or found.weekday is None:
        return None
    for year in sorted(range(around - 6, around + 7), key=lambda y: abs(y - around)):
        d = _safe_date(year, found.month, found.day)
        if d is not None and d.weekday() == found.weekday:
            return d
    return None


def _safe_date(year: int, month: int, day: int) -> date | None:
    try:
        return date(year, month, day)
    except ValueError:
        return None


def local_date(moment: datetime | None, zone: ZoneInfo) -> date | None:
    return moment.astimezone(zone).date() if moment else None


CLOCK = re.compile(
    r"(?<![\d£$€,.])(?P<h>\d{1,2})(?:[:.h](?P<mi>\d\d))?\s*(?P<unit>[ap]\.?\s?m\b\.?|uhr\b|h\b)?", re.I)


def latest_time(text: str) -> time | None:
    """The time a promise ends, when the text states one: "by 10 pm", "5 p.m - 10 p.m.", "avant 20h",
    "10–14 Uhr", "17:00-22:00". A number counts as a time only with minutes or a unit; the last one wins."""
    latest = None
    for m in CLOCK.finditer(text):
        unit = (m.group("unit") or "").lower().replace(".", "").replace(" ", "")
        if not (unit or m.group("mi")):
            continue
        hour = int(m.group("h"))
        if unit == "pm" and hour < 12:
            hour += 12
        elif unit == "am" and hour == 12:
            hour = 0
        if hour <= 23:
            latest = time(hour, int(m.group("mi") or 0))
    return latest


def window(dates: list[date], by: bool, latest: time | None) -> DateWindow | None:
    if not dates:
        return None
    start, end = min(dates), max(dates)
    return DateWindow(None if by else start, end, latest)
