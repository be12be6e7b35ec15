"""Amazon shipment emails, in every supported language: kind, order numbers, promise, delivery, items.

The language is read from the content (an amazon.de account can be set to English); the kind from the subject,
else from the body; the promise from the line a marker ("Arriving:", "Arrivée :", "Zustellung:") introduces,
quoted as evidence. When a date cannot be pinned down the promise is left out: abstaining is better than a
wrong claim.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, timedelta
from functools import cache
from itertools import islice
from typing import Any
from zoneinfo import ZoneInfo

from parsers import facts
from parsers.dates import Found, date_reader, latest_time, local_date, resolve, window, year_from_weekday
from parsers.marketplaces import Marketplace
from parsers.mime import Mail
from parsers.model import DateWindow, Event, EventKind
from parsers.phrases import KIND_ORDER, Phrases, languages, phrases

ORDER_TAIL = re.compile(r"-[0-9]{7}-[0-9]{7}(?![\w-])")
NOT_BEFORE_ORDER_ID = "_%/=&+-\"'"  # inside a link (orderId=..., %2F143-...) or an attribute value
LINK = re.compile(r"https?://|www\.|<a\s")
WORD = re.compile(r"\w+")
NON_WORD = re.compile(r"\W+")
COPYRIGHT_YEAR = re.compile(r"(?:©|\(c\)|&copy;)\s*((?:19|20)\d\d)", re.I)
SPACES = re.compile(r"\s+")
ITEM_COUNT = re.compile(r"^\d+\s+[xX×]\s+(.+)$")
ITEM_QUOTED = re.compile(r"^\d+\s+[\"“«„](.+)[\"”»“]$")  # 1 "Title", as older order confirmations list items
SEPARATOR = re.compile(r"^[-=_*~]{5,}$")
ITEM_TALLY = re.compile(r"^\d+\s+\S+$")  # "1 item", "2 articoli": how many, not which
# The item a subject names: "Delivered: “Title”", "Shipped: "Title..." and 1 more item", "Versandt: „Title“".
SUBJECT_ITEM = re.compile(r"[\"“«„「](.{3,}?)[\"”»“」]")
# Kinds whose email is about one parcel: the item its subject names is that parcel's.
ONE_PARCEL = (EventKind.SHIPPED, EventKind.OUT_FOR_DELIVERY, EventKind.DELIVERED, EventKind.DELAYED,
              EventKind.PICKUP_READY, EventKind.ATTEMPTED)
MAX_LINE = 2000
SEGMENT = 200  # a promise's date follows its marker closely: no date search looks further
# Kinds whose evidence is the sentence stating them (they carry no promise, or not one to quote).
STATED_WITHOUT_PROMISE = (EventKind.ATTEMPTED, EventKind.PICKUP_READY, EventKind.REFUNDED, EventKind.CANCELLED)
MAX_STATEMENT_LINES = 400  # the email states its kind near its top; real ones have 100-600 lines in all
DELIVERY_DAY_REACH = 30  # characters after the delivered words where the day they name may begin: " le jeudi 19"
PAST_REACH = timedelta(days=30)  # a delivered sentence naming an older day is about something else
MAX_MARKERS = 64  # more promise markers than any real email holds: the email is not read for a promise


@dataclass(frozen=True)
class Promise:
    window: DateWindow
    evidence: str
    pattern: str
    guaranteed: bool | None
    previous: DateWindow | None = None


def clean(text: str) -> str:
    return SPACES.sub(" ", text).strip()


def detect_language(mail: Mail, marketplace: Marketplace) -> str:
    sample = f"{mail.subject}\n{mail.text[:4000]}".lower()
    scores = {lang: sum(sample.count(w) for w in phrases(lang).detect) for lang in languages()}
    best = max(scores.values())
    if best == 0:
        return next((lang for lang in marketplace.languages if lang in scores), "en")
    leaders = [lang for lang, score in scores.items() if score == best]
    return next((lang for lang in marketplace.languages if lang in leaders), leaders[0])


def kind_of(mail: Mail, p: Phrases) -> tuple[EventKind | None, str]:  # noqa: C901 - the evidence in its order, one rule each
    """The email's kind and the rule that said so; (None, reason) for Amazon mail that is not a shipment's.

    Decided by what the email itself states, in this order: the subject, the main heading, the body's
    sentences. Labels (a progress tracker's "Shipped · Out for delivery · Delivered"), links, footers and
    recommendation blocks never decide it: a false "delivered" would close a parcel that never came."""
    statements = body_statements(mail, p)
    delayed = any(_states(line, ph, p, 2) for line in statements for ph in p.body.get("delayed", ())
                  if ph in line)
    if (kind := _subject_kind(mail.subject, p)) is not None:
        if kind == "shipped" and delayed:
            return EventKind.DELAYED, "body: delay wording in a shipment email"
        return EventKind(kind), f"subject: {kind}"
    for heading in mail.headings:
        if (kind_ := _stated_kind([heading.lower()], p, 1)) is not None:
            return kind_, f"heading: {kind_.value}"
    if (kind_ := _stated_kind(statements, p, 2)) is not None:
        return kind_, f"body: {kind_.value}"
    # The subject follows the account's language setting, the text need not (DOMAIN.md §4.1: amazon.es and
    # amazon.fr shipments "has been dispatched!" above text in Spanish or French): another language's subject.
    for other in sorted(languages(), key=lambda lang: (lang != "en", lang)):
        if other != p.language and (kind := _subject_kind(mail.subject, phrases(other))) is not None:
            if kind == "shipped" and delayed:
                return EventKind.DELAYED, "body: delay wording in a shipment email"
            return EventKind(kind), f"subject ({other}): {kind}"
    if revised(mail, p, statements):
        return EventKind.SHIPPED, "body: a revised date (a parcel on its way)"
    subject = mail.subject.lower()
    if any(word in subject for word in p.ignore):
        return None, "Amazon email that is not about a shipment (marketing, account or review)"
    return None, "Amazon email with no order, shipment or delivery wording"


def revised(mail: Mail, p: Phrases, statements: list[str] | None = None) -> bool:
    """Whether the email changes the date of a parcel already announced ("arriving early", "delivery date
    updated"), in its subject or its statements."""
    lines = [mail.subject.lower(), *(body_statements(mail, p) if statements is None else statements)]
    return any(phrase in line for line in lines for phrase in p.revised)


def _subject_kind(subject: str, p: Phrases) -> str | None:
    """The kind a subject states in `p`'s words, the most telling kind first (KIND_ORDER)."""
    for kind in KIND_ORDER:
        pattern = p.subject.get(kind)
        if pattern is not None and pattern.search(subject):
            return kind
    return None


def recommendations_at(mail: Mail, lines: list[str], p: Phrases) -> int:
    """The index of the line that opens the first recommendation block ("Buy it again", "Acheter à nouveau"),
    len(lines) when none does. Found by structure where the text is the HTML's: a heading, not a link's text
    (newer templates put the same words in the navigation bar above the order)."""
    flags = mail.page.link_flags if mail.page is not None and mail.text_from_html else {}
    seen: dict[str, int] = {}
    for index, line in enumerate(lines):
        lower = line.lower()
        if not lower.startswith(p.stop):
            continue
        nth = seen[lower] = seen.get(lower, -1) + 1
        occurrences = flags.get(lower, ())
        if nth < len(occurrences) and occurrences[nth]:
            continue  # a link: a navigation bar, not a heading above products
        return index
    return len(lines)


def body_statements(mail: Mail, p: Phrases) -> list[str]:
    """The body's lines that can state what the email is about, lowercased: those above the first
    recommendation heading or footer, without the ones carrying a link, among the first 400."""
    found = []
    lines = _lines(mail.text)[:MAX_STATEMENT_LINES]
    for line in lines[:recommendations_at(mail, lines, p)]:
        lower = line.lower()
        if lower.startswith("©") or any(f in lower for f in p.footer):
            break
        if not LINK.search(lower):
            found.append(lower)
    return found


def _states(line: str, phrase: str, p: Phrases, words: int) -> bool:
    """Whether `line` (holding `phrase`) is a statement rather than a label: `words` words besides the
    phrase and the tracker's labels, or a day ("Livré aujourd'hui", "Delivered Friday 4 December")."""
    rest = line.replace(phrase, " ", 1)
    if p.tracker is not None:
        rest = p.tracker.sub(" ", rest)
    enough = len(WORD.findall(rest)) >= words if p.word_boundaries else len(NON_WORD.sub("", rest)) >= 2 * words
    return enough or bool(date_reader(p.language).find(line))


def _stated_kind(lines: list[str], p: Phrases, words: int) -> EventKind | None:
    """The kind of the first line stating one; within a line the longest phrase wins ("sera livré aujourd'hui"
    is out for delivery, not "livré aujourd'hui"). A delay stated anywhere wins over the other statements."""
    delays = p.body.get("delayed", ())
    if any(ph in line and _states(line, ph, p, words) for line in lines for ph in delays):
        return EventKind.DELAYED
    for line in lines:
        best: tuple[int, str] | None = None
        for kind in KIND_ORDER:
            for phrase in p.body.get(kind, ()) if kind != "delayed" else ():
                if phrase in line and (best is None or len(phrase) > best[0]) and _states(line, phrase, p, words):
                    best = (len(phrase), kind)
        if best is not None:
            return EventKind(best[1])
    return None


def order_ids(mail: Mail, p: Phrases) -> tuple[str, ...]:
    """Every order number, the printed ones first (subject, text, the HTML's text: contributors and templates
    differ between parts), then those of Amazon's own order and returns links above the recommendations (refund
    and pickup emails print none). Never a number inside another link, such as a recommendation's tracking
    reference."""
    seen: dict[str, None] = {}
    for source in (mail.subject, mail.text, mail.html_text):
        for found in _order_numbers(source):
            seen.setdefault(found, None)
    if mail.page is not None:
        end = mail.page.recommendations_at(p.stop)
        seen.update(dict.fromkeys(found for found, before in mail.page.order_links if before <= end))
    return tuple(seen)


def _order_numbers(text: str) -> Iterator[str]:
    """Order numbers (123-1234567-1234567) in `text`. The search starts from the literal "-" of the number's
    tail, which the regex engine finds at memchr speed (a pattern starting with a digit class is tried at every
    position: 1 ms per email, 14 % of the parse); what comes before the tail is then checked by hand."""
    for m in ORDER_TAIL.finditer(text):
        start = m.start() - 3
        if start < 0 or not text[start:m.start()].isdigit() or not text[start:m.start()].isascii():
            continue
        if start > 0 and (text[start - 1].isalnum() or text[start - 1] in NOT_BEFORE_ORDER_ID):
            continue
        yield text[start:m.end()]


def _lines(text: str) -> list[str]:
    """The non-empty lines, each cut to MAX_LINE characters (Amazon's are short; a longer one is padding)."""
    return [line[:MAX_LINE] for line in (raw.strip() for raw in text.splitlines()) if line]


@cache
def _marker_pattern(markers: tuple[str, ...], bounded: bool) -> re.Pattern[str]:
    """One pattern for all markers, longest first, so that "it's now arriving" wins over "arriving"."""
    before, after = (r"(?<!\w)", r"(?!\w)") if bounded else ("", "")
    alternatives = "|".join(re.escape(m) for m in sorted(markers, key=len, reverse=True))
    return re.compile(rf"{before}(?:{alternatives}){after}", re.I)


def _marker_hits(lines: list[str], markers: tuple[str, ...], bounded: bool = True) -> Iterator[tuple[int, int, str]]:
    """(line index, end of the marker in the line, marker) for every marker occurrence, line by line."""
    if not markers:
        return
    pattern = _marker_pattern(markers, bounded)
    by_text = {m.lower(): m for m in markers}
    for index, line in enumerate(lines):
        for hit in pattern.finditer(line):
            yield index, hit.end(), by_text.get(hit.group().lower(), hit.group())


def _segment(lines: list[str], index: int, end: int) -> tuple[str, str]:
    """The text a marker introduces: the rest of its line, or the next line when the marker ends its line.
    Returns (segment, evidence) where evidence is the marker's line(s) as written."""
    rest = lines[index][end:].lstrip(" :：-–\u00a0")[:SEGMENT]
    if rest:
        return rest, lines[index]
    if index + 1 < len(lines):
        return lines[index + 1][:SEGMENT], f"{lines[index]} {lines[index + 1]}"
    return "", lines[index]


class Reader:
    def __init__(self, mail: Mail, language: str, zone: ZoneInfo, month_first: bool = False) -> None:
        self.mail = mail
        self.p = phrases(language)
        self.dates = date_reader(language, month_first)
        self.lines = _lines(mail.text)
        self.reference = local_date(mail.sent_at, zone)
        self.fallback_year: int | None = None
        self.notes: list[str] = []
        self._promises: list[tuple[int, Promise]] | None = None
        self._numbered: set[str] | None = None
        self.recommendations = recommendations_at(mail, self.lines, self.p)  # the first line of the first block
        if self.reference is None:
            years = COPYRIGHT_YEAR.findall(mail.text) or COPYRIGHT_YEAR.findall(mail.html_text)
            self.fallback_year = mail.year_hint or (int(years[0]) if years else None)

    def _date(self, found: Found) -> date | None:
        if self.reference is not None:
            return resolve(found, self.reference)
        if found.year is not None:
            return resolve(found, None)
        return year_from_weekday(found, self.fallback_year) if self.fallback_year else None

    def read_window(self, segment: str) -> tuple[DateWindow | None, bool]:
        """The window at the start of `segment`: (window, whether it is a "by DATE" deadline)."""
        text = segment
        by = False
        for key in ("by", "from", "on"):
            for word in sorted(self.p.words.get(key, []), key=len, reverse=True):
                if text.lower().startswith(word.lower() + " "):
                    text, by = text[len(word) + 1:], by or key == "by"
                    break
        mentions = self.dates.find(text)
        if not mentions or mentions[0].start > 2:
            return None, by
        chosen = [mentions[0]]
        if len(mentions) > 1:
            between = text[mentions[0].end:mentions[1].start].strip().lower().removeprefix("le ").strip()
            connectors = [c.lower() for c in self.p.words.get("range", [])]
            if between in connectors or between.rstrip(" le") in connectors:
                chosen.append(mentions[1])
        days = [d for f in chosen if (d := self._date(f)) is not None]
        if len(days) != len(chosen):
            return None, by
        latest = latest_time(text[chosen[-1].end:chosen[-1].end + 40])
        return window(days, by, latest), by

    def promises(self) -> list[tuple[int, Promise]]:
        """Every promise stated, one per line, in order, with the line it is on."""
        if self._promises is None:
            self._promises = self._read_promises()
        return self._promises

    def _read_promises(self) -> list[tuple[int, Promise]]:
        hits = list(islice(_marker_hits(self.lines, self.p.promise, self.p.word_boundaries), MAX_MARKERS + 1))
        if len(hits) > MAX_MARKERS:
            self.notes.append(f"more than {MAX_MARKERS} promise markers: no promise read (not a real email's shape)")
            return []
        previous = self._first_window(self.p.previous)
        found: list[tuple[int, Promise]] = []
        for index, end, marker in hits:
            if found and found[-1][0] == index:
                continue
            segment, evidence = _segment(self.lines, index, end)
            window_, _ = self.read_window(segment)
            if window_ is None or (previous is not None and window_ == previous[0]):
                continue
            wording = " ".join(self.lines[max(0, index - 1):index + 1]).lower()
            guaranteed = (True if any(g in wording for g in self.p.guaranteed)
                          else False if any(e in wording for e in self.p.estimated) else None)
            found.append((index, Promise(window_, clean(evidence), f"{self.p.language}.promise[{marker}]",
                                         guaranteed, previous[0] if previous else None)))
        if not found:
            found = self._trailing_promises(previous[0] if previous else None)
        if not found and previous is not None:
            return [(0, Promise(previous[0], previous[1], f"{self.p.language}.previous", None, previous[0]))]
        return found

    def _trailing_promises(self, previous: DateWindow | None) -> list[tuple[int, Promise]]:
        """Promises whose date comes just before their marker ("12月3日(木)にお届け予定"), one per line."""
        found: list[tuple[int, Promise]] = []
        for index, end, marker in islice(_marker_hits(self.lines, self.p.trailing, self.p.word_boundaries),
                                         MAX_MARKERS):
            if found and found[-1][0] == index:
                continue
            before = self.lines[index][max(0, end - len(marker) - SEGMENT):end - len(marker)]
            mentions = self.dates.find(before)
            if not mentions or len(before.rstrip(" 　:：")) - mentions[-1].end > 1:
                continue  # the marker does not follow a date
            for first in mentions[-2:]:  # a range ending at the marker first, then the last date alone
                window_, _ = self.read_window(before[first.start:])
                ranged = window_ is not None and window_.start != window_.end
                if window_ is not None and window_ != previous and (first is mentions[-1] or ranged):
                    found.append((index, Promise(window_, clean(self.lines[index]),
                                                 f"{self.p.language}.promise[{marker}]", None, previous)))
                    break
        return found

    def promise(self) -> Promise | None:
        found = self.promises()
        return found[0][1] if found else None

    def order_lines(self) -> list[tuple[int, str]]:
        """(line, order id) for each order number shown as text (not inside a link)."""
        return [(i, found) for i, line in enumerate(self.lines) if "http" not in line
                for found in _order_numbers(line)]

    def _first_window(self, markers: tuple[str, ...]) -> tuple[DateWindow, str] | None:
        for index, end, _ in islice(_marker_hits(self.lines, markers, self.p.word_boundaries), MAX_MARKERS):
            segment, evidence = _segment(self.lines, index, end)
            found, _ = self.read_window(segment)
            if found is not None:
                return found, clean(evidence)
        return None

    def evidence_for(self, kind: EventKind) -> str:
        """The first line stating `kind` in the body's words, else the subject."""
        phrases_ = self.p.body.get(kind.value, ())
        for line in self.lines:
            if any(ph in line.lower() for ph in phrases_):
                return clean(line)
        return clean(self.mail.subject)

    def today_promise(self) -> Promise | None:
        """Out for delivery "today" (in any language's words): a promise for the email's own day."""
        if self.reference is None:
            return None
        today = self.dates.relative_pattern
        subject = self.p.subject.get("out_for_delivery")
        for line in [self.mail.subject, *self.content_lines()]:
            lower = line.lower()
            hit = today.search(line) if today is not None else None
            if hit is None or self.dates.relative.get(hit.group().lower().replace("’", "'"), -1) != 0:
                continue
            if (any(ph in lower for ph in self.p.body.get("out_for_delivery", ()))
                    or any(m.lower() in lower for m in self.p.promise)
                    or (subject is not None and line is self.mail.subject and subject.search(line))
                    or lower.strip(" :.!") == hit.group().lower()):  # "Today" alone: a newer layout's heading
                return Promise(DateWindow.on(self.reference, latest_time(line[hit.end():hit.end() + 60])),
                               clean(line), f"{self.p.language}.today", None)
        return None

    def delivery_day(self) -> date | None:
        """The day the parcel was delivered: the one the delivered sentence names right after its words ("a été
        livrée le jeudi 19 novembre", "was delivered on Thursday"), else the email's own day, as a delivery notice
        is sent when it happens. A reminder, a review request or a late copy can come days later."""
        reference = self.reference
        if reference is None:
            return None
        for line in self.content_lines():
            lower = line.lower()
            for phrase in self.p.body.get(EventKind.DELIVERED.value, ()):
                if (at := lower.find(phrase)) < 0:
                    continue
                after = at + len(phrase)
                for found in self.dates.find(line):
                    if not after <= found.start <= after + DELIVERY_DAY_REACH:
                        continue
                    if (day := self._past(found, reference)) is not None:
                        return day
        return reference

    def _past(self, found: Found, reference: date) -> date | None:
        """The day a mention means when it tells of the past, up to PAST_REACH days before `reference`."""
        if found.weekday is not None and found.day is None and found.relative_days is None:
            return reference - timedelta(days=(reference.weekday() - found.weekday) % 7)
        day = self._date(found)
        if day is None or not timedelta(0) <= reference - day <= PAST_REACH:
            return None
        return day

    def content_lines(self) -> list[str]:
        """The lines above the first recommendation heading: what the email says about this order."""
        return self.lines[:self.recommendations]

    def item_lines(self, start: int = 0, end: int | None = None) -> list[tuple[int, str]]:
        """(line, title) of the ordered items between lines `start` and `end`, from the shapes Amazon uses;
        nothing below a recommendations heading."""
        found: dict[str, int] = {}
        sellers = self.p.facts.get("seller", ())
        for index, line in enumerate(self.lines[start:end], start):
            lower = line.lower()
            if index >= self.recommendations:
                break
            following = self.lines[index + 1].lower() if index + 1 < len(self.lines) else None
            title = None
            if line.startswith(("* ", "• ")):
                title = line[2:].strip()
            elif m := ITEM_COUNT.match(line) or ITEM_QUOTED.match(line):
                title = m.group(1).strip()
            elif following is not None and following.startswith(self.p.quantity) and self._plain(line):
                title = line  # a title, then "Quantity: 1" on the next line
            elif (following is not None and following.startswith(sellers) and not lower.startswith(sellers)
                  and self._plain(line) and not any(i >= index - 3 for i in found.values())):
                title = line  # the classic layout: a title, then "Sold by ..." (not its stock status, below one)
            elif (following is not None and SEPARATOR.match(following) and index > 0
                  and self.lines[index - 1] in self._order_number_lines() and self._plain(line)):
                title = line  # a delivery update's layout: "Order #...", the title alone, then the closing rule
            if title and not title.lower().startswith(("http", "<http")) and len(title) > 2:
                found.setdefault(title, index)
        return [(index, title) for title, index in found.items()]

    def _plain(self, line: str) -> bool:
        """A line that can be a title: no amount, link, date, label ("Quantity: 1", "Sold by X", "Track your
        package:") or rule."""
        lower = line.lower()
        labels = (*self.p.quantity, *self.p.facts.get("seller", ()), *self.p.facts.get("fulfilled_by", ()))
        return (facts.amount(line) is None and not LINK.search(lower) and not SEPARATOR.match(line)
                and not lower.startswith(labels) and not line.rstrip().endswith((":", "：")) and len(line) > 2
                and not ITEM_TALLY.match(line) and not self.dates.find(line))

    def _order_number_lines(self) -> set[str]:
        """The lines that hold an order number and little else ("Order #123-1234567-1234567")."""
        if self._numbered is None:
            self._numbered = {self.lines[i] for i, _ in self.order_lines() if len(self.lines[i]) <= 40}
        return self._numbered

    def subject_items(self) -> tuple[str, ...]:
        """The item the subject names between quotation marks, without the ellipsis of a cut title."""
        found = SUBJECT_ITEM.search(self.mail.subject)
        title = found.group(1).strip().rstrip(".…").strip() if found else ""
        return (title,) if len(title) > 2 and ORDER_TAIL.search(title) is None else ()

    def items(self, start: int = 0, end: int | None = None) -> tuple[str, ...]:
        return tuple(title for _, title in self.item_lines(start, end))


@dataclass(frozen=True)
class Part:
    """One order or shipment of an email covering several: its order ids, shipment key, promise, and the lines
    [start, end) that speak of it (its items, seller, prices)."""

    order_ids: tuple[str, ...]
    shipment: str | None
    promise: Promise
    start: int
    end: int | None


def _split(reader: Reader, ids: tuple[str, ...]) -> list[Part] | None:
    """An email covering several orders or shipments: one Part each, or None.

    Several orders: each promise goes with the order number nearest it, after it ("Arriving Tuesday ... Order #")
    or before it ("Order # ... Arriving:"), whichever layout gives every promise its own order; a part's lines
    run from its promise (or, in the second layout, its order number) to the next part's. Several promises
    and one order: one shipment each, numbered in order. Anything less clear-cut stays one event."""
    found = reader.promises()
    if len({p.window for _, p in found}) < 2:
        return None
    orders = reader.order_lines()
    distinct = list(dict.fromkeys(order for _, order in orders))
    ends = [index for index, _ in found[1:]] + [None]
    if len(distinct) <= 1:
        return [Part(ids, str(n), p, index, end)
                for n, ((index, p), end) in enumerate(zip(found, ends, strict=True), 1)]
    for after in (True, False):
        pairs: list[tuple[str, int, Promise, int]] = []  # order, its line, promise, promise's line
        for index, promise in found:
            near = ([(o, i) for i, o in orders if i >= index] if after
                    else [(o, i) for i, o in orders if i <= index][::-1])
            if not near:
                break
            pairs.append((near[0][0], near[0][1], promise, index))
        if len(pairs) == len(found) and len({order for order, _, _, _ in pairs}) == len(pairs):
            starts = [promise_line if after else order_line for _, order_line, _, promise_line in pairs]
            return [Part((order,), None, promise, start, end)
                    for (order, _, promise, _), start, end in zip(pairs, starts, [*starts[1:], None], strict=True)]
    return None


def events(mail: Mail, marketplace: Marketplace, language: str, zone: ZoneInfo, kind: EventKind,
           rule: str) -> tuple[tuple[Event, ...], tuple[str, ...]]:
    reader = Reader(mail, language, zone, marketplace.month_first)
    if kind in (EventKind.ORDERED, EventKind.SHIPPED) and (parts := _split(reader, order_ids(mail, reader.p))):
        found, notes = [], [f"kind from {rule}", f"{len(parts)} orders or shipments"]
        for part in parts:
            stated, part_notes = _facts(reader, marketplace, kind, reader.item_lines(part.start, part.end),
                                        reader.lines[part.start:part.end])
            notes += [f"{part.order_ids[0]}: {note}" for note in part_notes]
            p = part.promise
            found.append(Event(kind=kind, marketplace=marketplace.domain, language=language,
                               order_ids=part.order_ids, promise=p.window, previous_promise=p.previous,
                               guaranteed=p.guaranteed, shipment=part.shipment, evidence=p.evidence,
                               pattern=p.pattern, **stated))
        return tuple(found), tuple(notes)
    ids = order_ids(mail, reader.p)
    notes = [f"kind from {rule}", f"language {language}"]
    revision = kind in (EventKind.SHIPPED, EventKind.ORDERED) and revised(mail, reader.p)
    if revision:
        notes.append("a revised date: it changes a parcel already announced")
    promise = reader.promise() if kind is not EventKind.DELIVERED else None
    if promise is None and kind is EventKind.OUT_FOR_DELIVERY:
        promise = reader.today_promise()
    delivered_on = None
    evidence, pattern = "", ""
    if kind is EventKind.DELIVERED:
        delivered_on = reader.delivery_day()
        evidence, pattern = reader.evidence_for(kind), f"{language}.delivered[{rule}]"
        if delivered_on is None:
            notes.append("no usable Date header: the delivery date is unknown")
    elif kind in STATED_WITHOUT_PROMISE and (promise is None or kind is EventKind.PICKUP_READY):
        evidence, pattern = reader.evidence_for(kind), f"{language}.{kind.value}[{rule}]"
    elif promise is not None:
        evidence, pattern = promise.evidence, promise.pattern
    else:
        notes.append("no promised date found")
    if not ids:
        notes.append("no order number in the email")
    titles = reader.item_lines()
    stated, fact_notes = _facts(reader, marketplace, kind, titles)
    event = Event(
        kind=kind,
        marketplace=marketplace.domain,
        language=language,
        order_ids=ids,
        promise=promise.window if promise and kind is not EventKind.PICKUP_READY else None,
        previous_promise=promise.previous if promise else None,
        guaranteed=promise.guaranteed if promise else None,
        delivered_on=delivered_on,
        evidence=evidence,
        pattern=pattern,
        revision=revision,
        **stated,
    )
    return (event,), (*notes, *fact_notes, *reader.notes)


def _facts(reader: Reader, marketplace: Marketplace, kind: EventKind, titles: list[tuple[int, str]],
           lines: list[str] | None = None) -> tuple[dict[str, Any], list[str]]:
    """The Event fields beyond kind and promise, as these lines (default: the email's above its recommendations)
    state them, and notes on what was left out."""
    p = reader.p
    text = facts.Text(reader.content_lines() if lines is None else lines)
    notes: list[str] = []
    items = tuple(title for _, title in titles)
    if not items and reader.mail.page is not None and lines is None:
        items = facts.image_titles(reader.mail.page, p)
        if items:
            notes.append("items read from image alt texts")
    if not items and lines is None and kind in ONE_PARCEL:
        items = reader.subject_items()
        if items:
            notes.append("item read from the subject")
    sellers, senders = facts.names(text, p, "seller"), facts.names(text, p, "fulfilled_by")
    for fact, found in (("sellers", sellers), ("senders", senders)):
        if len(found) > 1:
            notes.append(f"several {fact} ({'; '.join(found)}): none reported")
    stated: dict[str, Any] = {
        "items": items,
        "parcel": facts.parcel(text, p),
        "seller": sellers[0] if len(sellers) == 1 else None,
        "fulfilled_by": senders[0] if len(senders) == 1 else None,
        "order_date": facts.day_after(text, p, "order_date", reader.read_window),
        "prices": facts.prices(reader.lines, titles),
        "total": facts.total(text, p, refund=kind is EventKind.REFUNDED),
    }
    if kind in (EventKind.PICKUP_READY, EventKind.ATTEMPTED):
        stated["available_on"] = (facts.day_after(text, p, "available_on", reader.read_window)
                                  or local_date(reader.mail.sent_at, marketplace.zone))
        stated["waiting_at"] = facts.waiting_at(text, p)
    if kind is EventKind.REFUNDED:
        stated["refund_scope"] = facts.refund_scope(text, p, items)
    return stated, notes
