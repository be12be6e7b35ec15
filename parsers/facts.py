"""Facts an email states besides its kind and promise: which parcel, sold and sent by whom, ordered when, for
how much, refunded how, waiting where since when. Every wording is data ([facts] in phrases/<language>.toml).

Markers are looked for with plain substring search over the lowercased text (a few KB: microseconds each), then
the value is read right after the marker, on its line or the next, as written. A value that does not look like
one (a seller in lowercase, a tracking id without digits) is left out: a missing fact is better than a wrong one.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from functools import cache
from itertools import accumulate

from parsers.html import Page
from parsers.model import DateWindow, Parcel, Price
from parsers.phrases import Phrases

MAX_HITS = 16  # occurrences of one marker looked at: a real email states a fact once or twice
VALUE = 120  # characters of a value read after its marker
CURRENCY = r"(?:€|£|\$|¥|￥|R\$|US\$|C\$|A\$|EUR|USD|GBP|CAD|AUD|JPY|BRL|MXN|PLN|SEK|CHF|INR|zł|kr|円)"
AMOUNT = r"\d{1,3}(?:[ .,\u00a0\u202f]\d{3}){0,3}(?:[.,]\d{1,2})?|\d{1,7}(?:[.,]\d{1,2})?"
PRICE = re.compile(rf"{CURRENCY}\s?(?:{AMOUNT})(?!\d)|(?<![\d.,])(?:{AMOUNT})\s?{CURRENCY}")
TRACKING_ID = re.compile(r"[A-Z0-9][A-Z0-9-]{7,34}(?![\w-])")
SENTENCE_END = re.compile(r"\.\s+(?=[A-ZÀ-ÖØ-Þ])|,\s|[。、]")  # "DPD. Your tracking...", not "Sp. z o.o."
SEPARATORS = re.compile(r"\s+[|·•]\s+|\s+-\s+|\s{3,}|\t|;")


@dataclass
class Text:
    """The lines of an email, lowercased once, with where each starts in their joined text."""

    lines: list[str]
    lower: list[str] = field(init=False)
    joined: str = field(init=False)
    starts: list[int] = field(init=False)

    def __post_init__(self) -> None:
        self.lower = [line.lower() for line in self.lines]
        self.joined = "\n".join(self.lower)
        self.starts = [0, *accumulate(len(line) + 1 for line in self.lower)]

    def hits(self, markers: tuple[str, ...], bounded: bool) -> list[tuple[int, int, str]]:
        """(line, end of the marker in the line, marker) for each occurrence, in reading order; where markers
        overlap the longest wins ("order total:" over "total:")."""
        found: dict[int, tuple[int, int, str]] = {}
        for marker in markers:
            at, seen = self.joined.find(marker), 0
            while at >= 0 and seen < MAX_HITS:
                end = at + len(marker)
                if not bounded or ((at == 0 or not self.joined[at - 1].isalnum())
                                   and (end == len(self.joined) or not self.joined[end].isalnum()
                                        or not marker[-1].isalnum())):
                    line = _line_of(self.starts, at)
                    previous = found.get(line)
                    if previous is None or len(marker) > len(previous[2]):
                        found[line] = (line, end - self.starts[line], marker)
                    seen += 1
                at = self.joined.find(marker, at + 1)
        return sorted(found.values())

    def after(self, line: int, end: int) -> str:
        """What follows a marker as written: the rest of its line, else the next line."""
        original = self.lines[line]
        rest = (original if len(original) == len(self.lower[line]) else self.lower[line])[end:]
        rest = rest.lstrip(" :：-–\u00a0").strip()
        if not rest and line + 1 < len(self.lines):
            rest = self.lines[line + 1].strip()
        return rest[:VALUE]


def _line_of(starts: list[int], offset: int) -> int:
    low, high = 0, len(starts) - 1
    while low < high - 1:
        middle = (low + high) // 2
        if starts[middle] <= offset:
            low = middle
        else:
            high = middle
    return low


@cache
def _parcel_patterns(templates: tuple[str, ...], bounded: bool) -> tuple[re.Pattern[str], ...]:
    before, after = (r"(?<!\w)", r"(?!\w)") if bounded else ("", "")
    return tuple(re.compile(before + re.escape(t).replace(r"\{n\}", r"(?P<n>\d{1,2})")
                            .replace(r"\{count\}", r"(?P<count>\d{1,2})") + after) for t in templates)


def parcel(text: Text, p: Phrases) -> Parcel | None:
    """Package "1 of 2", its tracking id and carrier when printed."""
    number = count = None
    for pattern in _parcel_patterns(p.facts.get("parcel", ()), p.word_boundaries):
        if (m := pattern.search(text.joined)) and 1 <= int(m["n"]) <= int(m["count"]) <= 50:
            number, count = int(m["n"]), int(m["count"])
            break
    tracking = next((m.group() for line, end, _ in text.hits(p.facts.get("tracking", ()), p.word_boundaries)
                     if (m := TRACKING_ID.match(text.after(line, end))) and any(c.isdigit() for c in m.group())),
                    None)
    carrier = next((name for line, end, _ in text.hits(p.facts.get("carrier", ()), p.word_boundaries)
                    if (name := _name(text.after(line, end), p, words=4))), None)
    if number is None and tracking is None and carrier is None:
        return None
    return Parcel(number, count, tracking, carrier)


def _name(value: str, p: Phrases, words: int = 8) -> str | None:
    """A name as written at the start of `value` (a seller, a carrier): up to a separator, a sentence's end or
    another fact's marker; None when it does not look like a name."""
    value = SEPARATORS.split(value, 1)[0]
    value = SENTENCE_END.split(value, maxsplit=1)[0]
    lower = value.lower()
    for marker in (*p.facts.get("fulfilled_by", ()), *p.facts.get("seller", ()), *p.facts.get("tracking", ())):
        if (at := lower.find(" " + marker)) > 0:
            value, lower = value[:at], lower[:at]
    value = value.strip(" :：,()\"'«»")
    if value.endswith(".") and "." not in value[:-1]:  # a sentence's full stop, not "Sp. z o.o."
        value = value[:-1].rstrip()
    if not value or not (value[0].isupper() or value[0].isdigit() or not value[0].isascii()) \
            or len(value.split()) > words:
        return None
    return value


def names(text: Text, p: Phrases, fact: str) -> list[str]:
    """Every distinct name a fact's markers introduce ("Sold by: ..."), in order."""
    found: dict[str, None] = {}
    for line, end, _ in text.hits(p.facts.get(fact, ()), p.word_boundaries):
        if name := _name(text.after(line, end), p):
            found.setdefault(name, None)
    return list(found)


def amount(value: str) -> str | None:
    """The first amount with its currency in `value`, as printed."""
    m = PRICE.search(value)
    return m.group().strip() if m else None


def total(text: Text, p: Phrases, refund: bool) -> Price | None:
    """The order total, or for a refund the amount refunded."""
    for marker in p.facts.get("refund_total" if refund else "total", ()):  # the most specific wording first
        for line, end, _ in text.hits((marker,), p.word_boundaries):
            if found := amount(text.after(line, end)[:60]):
                return Price(found)
    return None


def prices(lines: list[str], titles: list[tuple[int, str]]) -> tuple[Price, ...]:
    """Each item's price: the first amount on its line or the three lines after it, before the next item."""
    found: list[Price] = []
    following = [index for index, _ in titles[1:]] + [len(lines)] if titles else []
    for (index, title), next_item in zip(titles, following, strict=True):
        for line in lines[index:min(index + 4, next_item)]:
            if found_amount := amount(line.replace(title, " ")):
                found.append(Price(found_amount, title))
                break
    return tuple(found)


def waiting_at(text: Text, p: Phrases) -> str:
    for line, end, _ in text.hits(p.facts.get("waiting_at", ()), p.word_boundaries):
        value = text.after(line, end).strip(" .")
        if len(value) >= 3:
            return value
    return ""


def stated(text: Text, p: Phrases, fact: str) -> bool:
    return bool(text.hits(p.facts.get(fact, ()), p.word_boundaries))


def refund_scope(text: Text, p: Phrases, items: tuple[str, ...]) -> str | None:
    """goodwill (a shipping or courtesy credit), items (the items it names), order (no item named, the order
    refunded in full); None when the email does not say."""
    if stated(text, p, "goodwill"):
        return "goodwill"
    if items:
        return "items"
    if stated(text, p, "full_refund"):
        return "order"
    return None


def image_titles(page: Page, p: Phrases) -> tuple[str, ...]:
    """Item titles from product images' alt texts above the first recommendation heading (templates such as
    the French "Livré" one name the items only there). Product images live under Amazon's /images/I/; logos,
    buttons and delivery photos elsewhere. The heading is text that is not a link's: a navigation bar's
    "Buy it again" above the order is not one."""
    end = page.recommendations_at(p.stop)
    found: dict[str, None] = {}
    for image in page.images:
        if image.before > end:  # (`before` counts the runs above the image: the heading is run `end`)
            break
        if "/images/I/" in image.src and len(image.alt) > 2:
            found.setdefault(image.alt[:300], None)
        if len(found) == 20:
            break
    return tuple(found)


def day_after(text: Text, p: Phrases, fact: str,
              read: Callable[[str], tuple[DateWindow | None, bool]]) -> date | None:
    """The day a fact's marker introduces ("Order placed: 12 November 2026"), read by `read` (the Reader's
    window reader); None unless it is one day."""
    for line, end, _ in text.hits(p.facts.get(fact, ()), p.word_boundaries):
        window, by = read(text.after(line, end))
        if window is not None and not by and window.start == window.end:
            return window.end
    return None
