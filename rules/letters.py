"""Claim letters: a template per language, track and step, filled with the shipment's evidence.

Templates live in templates/<language>/<name>.txt: the first line is the subject (an optional "Subject:" prefix is
dropped), the rest is the body, with $placeholders (string.Template). A user's template_dir/<language>/<name>.txt
replaces the bundled one. Phrases (asks, date windows, quotation marks, month names) are data in
data/letters.toml; the law's wording is data in data/law.toml.
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from functools import cache
from importlib.resources import files
from pathlib import Path
from string import Template
from typing import Any

from parsers.marketplaces import country
from parsers.model import DateWindow
from rules.law import (
    choice_applies,
    choice_text,
    has_termination_law,
    has_text,
    law_country,
    law_text,
    notice_deadline,
)
from rules.policy import Policy
from rules.timeline import Shipment
from rules.verdict import Verdict

LANGUAGES = ("fr", "en", "de", "it", "es", "nl", "pl", "sv", "ja")
FALLBACK_LANGUAGE = "en"
# Every bundled template, by name. B_2_refund and C_2_refund are step 2 where no law gives a final deadline (see
# claims): the first asks to cancel an order that never came, the second a refund or a replacement for a parcel
# the carrier scanned as delivered. Track C ("delivered but not received") has texts of its own at every step:
# they answer the carrier's scan, which is Amazon's standard reply.
TEMPLATE_NAMES = ("A_1", "B_1", "B_2", "B_2_refund", "B_3", "C_1", "C_2", "C_2_refund", "C_3")
TRACKS = ("A", "B", "C")
REFUND_DAYS = 14  # the refund date a termination letter asks for: FR L216-7's fourteen days, a fair ask elsewhere
ITEM_TITLE_MAX = 60  # Amazon titles run to 200 characters; a letter needs only enough to recognise the item
FIELDS = frozenset({
    "order_id", "items_clause", "promise", "promise_label", "promise_quote", "promise_subject",
    "promise_email_date", "delivered", "days_late", "ask", "today", "deadline", "previous_step_date",
    "previous_deadline", "refund_deadline", "signature", "law_notice", "law_termination",
    "recipient", "order_facts", "promise_date", "delivery_subject", "delivery_email_date", "law_risk", "law_refund",
    "scope", "law_choice", "the_email",
})
_QUOTED = re.compile(r"«\s*(.+?)\s*»|„(.+?)[“”]|“(.+?)”|”(.+?)”|「(.+?)」|‘(.+?)’|\"(.+?)\"")


@dataclass(frozen=True)
class Letter:
    language: str
    subject: str
    body: str


@dataclass(frozen=True)
class LetterFacts:
    shipment: Shipment
    verdict: Verdict
    track: str
    step: int
    now: datetime
    policy: Policy
    previous_step_at: datetime | None = None  # when the step before this one went out (track B)
    previous_deadline: date | None = None  # the deadline the formal notice stated (for the termination)


@cache
def _phrases() -> dict[str, Any]:
    return tomllib.loads((files("rules") / "data" / "letters.toml").read_text(encoding="utf-8"))


def language_of(shipment: Shipment, policy: Policy) -> str:
    wanted = shipment.language if policy.language == "auto" else policy.language
    return wanted if wanted in LANGUAGES else FALLBACK_LANGUAGE


def jurisdiction(marketplace: str, policy: Policy) -> str:
    """Whose law the letters about a parcel bought on `marketplace` cite (rules.law.law_country)."""
    return law_country(country(marketplace), policy.consumer_country)


def is_formal(track: str, step: int) -> bool:
    """A formal notice or a termination (tracks B and C from step 2): the letters a country may want sent by
    registered post, and that are printed with the registered-post line."""
    return track in ("B", "C") and step >= 2


def stated_deadline(track: str, step: int, day: date, policy: Policy, marketplace: str, posted: bool) -> date | None:
    """The deadline a letter leaving on `day` sets, if it sets one: a formal notice where the law has a ladder."""
    place = jurisdiction(marketplace, policy)
    if (track, step) not in (("B", 2), ("C", 2)) or not has_termination_law(place):
        return None
    return notice_deadline(day, place, policy.notice_days, posted)


def template_name(track: str, step: int, place: str) -> str:
    """The template of a track's step, given the jurisdiction whose law applies."""
    if track in ("B", "C") and step == 2 and not has_termination_law(place):
        return f"{track}_2_refund"
    return f"{track}_{step}"


def _bundled(language: str, name: str) -> str:
    return (files("rules") / "templates" / language / f"{name}.txt").read_text(encoding="utf-8")


def _own(template_dir: Path | None, language: str, name: str) -> str | None:
    """The user's template replacing a bundled one, if there is one: the only file the rules read outside
    their own package, kept here so that the rest stays free of I/O."""
    if template_dir is None:
        return None
    path = template_dir / language / f"{name}.txt"
    return path.read_text(encoding="utf-8") if path.is_file() else None


def _problem(text: str) -> str | None:
    template = Template(text)
    if not template.is_valid():
        return "a '$' that starts no placeholder (write $$ for a dollar sign)"
    unknown = sorted(set(template.get_identifiers()) - FIELDS)
    if unknown:
        return f"unknown placeholders: {', '.join('$' + u for u in unknown)}"
    if "\n" not in text.strip():
        return "a subject line and a body are both needed"
    return None


def template_problems(policy: Policy) -> list[str]:
    """What is wrong with the user's templates, one line each (for `lateclaim doctor`). A broken template is
    never used: the bundled one of the same name takes its place."""
    problems = []
    for language in LANGUAGES:
        for name in TEMPLATE_NAMES:
            text = _own(policy.template_dir, language, name)
            problem = _problem(text) if text is not None else None
            if problem:
                problems.append(f"{language}/{name}.txt: {problem}")
    return problems


def _fill(language: str, name: str, policy: Policy, fields: dict[str, str]) -> str:
    own = _own(policy.template_dir, language, name)
    if own is not None and _problem(own) is None:
        try:
            return Template(own).substitute(fields)
        except KeyError:
            pass  # a field this letter does not have (the law's text in a track A letter): the bundled one it is
    return Template(_bundled(language, name)).substitute(fields)


class _Writer:
    """Dates, quotations and counts written the way the letter's language writes them."""

    def __init__(self, language: str, marketplace: str) -> None:
        self.phrases: dict[str, Any] = _phrases()[language]
        dates: dict[str, Any] = self.phrases["dates"]
        self.dates = {**dates, **dates.get("country", {}).get(country(marketplace), {})}

    def phrase(self, key: str, **values: str) -> str:
        return Template(self.phrases[key]).substitute(values)

    def day(self, d: date, weekday: bool = False, article: bool = True) -> str:
        """The date as the language writes it; `article=False` drops Italian's "il" ("Roma, 20 dicembre")."""
        pattern = self.dates["full" if weekday else "long"]
        elided = d.day in self.dates.get("elided_days", ())
        return Template(pattern).substitute(
            article=self.dates.get("article_elided" if elided else "article", "") if article else "",
            weekday=self.dates["weekdays"][d.weekday()],
            day=self.dates.get("first", "1") if d.day == 1 else str(d.day),
            month=self.dates["months"][d.month - 1],
            year=str(d.year),
        )

    def window(self, window: DateWindow) -> str:
        end = self.day(window.end, weekday=True)
        if window.start is None:
            return self.phrase("window_by", end=end)
        if window.start == window.end:
            return self.phrase("window_single", date=end)
        return self.phrase("window_range", start=self.day(window.start, weekday=True), end=end)

    def quote(self, text: str) -> str:
        # The sentence's own full stop would double the template's: « ... mardi 2 décembre. ». Quotation marks
        # inside (a subject quoting an item title) become the language's inner ones: never « ... « ... » ».
        text = " ".join(text.split()).rstrip(".")
        whole = _QUOTED.fullmatch(text)
        if whole:
            text = next(g for g in whole.groups() if g)
        inner = _QUOTED.sub(lambda m: self.phrase("quote_inner", text=next(g for g in m.groups() if g)), text)
        return self.phrase("quote", text=inner)

    def days(self, n: int) -> str:
        unit = self.phrases["day" if n == 1 else "days"]
        return Template(self.phrases.get("count", "$n $unit")).substitute(n=str(n), unit=unit)


def date_writer(language: str, marketplace: str) -> _Writer:
    """Dates written as a letter in `language` for `marketplace` writes them (for the notes and printed letters
    that go with a letter)."""
    return _Writer(language if language in LANGUAGES else FALLBACK_LANGUAGE, marketplace)


def _without_greeting(sentence: str) -> str:
    """The sentence without an email greeting in front ("Bonjour Camille, votre colis..." -> "Votre colis...")."""
    words = "|".join(re.escape(g) for g in _phrases()["common"]["greetings"])
    # The greeting word, then at most a name, then its comma: "Hi-Fi speaker: arriving Tuesday" is no greeting.
    rest = re.sub(rf"^\s*(?:{words})(?:\s+[^,!:.\n]{{1,40}})?\s*[,!:]\s*", "", sentence, flags=re.IGNORECASE)
    return rest[:1].upper() + rest[1:] if rest != sentence else sentence


def third_party_seller(shipment: Shipment) -> str | None:
    """The marketplace seller named in the emails ("Vendu par X"), or None when Amazon sells or none is named."""
    for sighting in shipment.sightings:
        seller = (sighting.event.seller or "").strip()
        if seller:
            return None if "amazon" in seller.lower() else seller
    return None


def _order_facts(shipment: Shipment, w: _Writer) -> str:
    """" I placed it on 4 December 2026 and paid 29,99 €." when the emails say so, else "". The order's total
    is not this parcel's price when the order came in several parcels: then only an item's own price is said."""
    ordered_on = next((s.event.order_date for s in shipment.sightings if s.event.order_date), None)
    amount = None if shipment.parcels_in_order > 1 else \
        next((s.event.total.amount for s in shipment.sightings if s.event.total), None)
    if amount is None:
        prices = next((s.event.prices for s in shipment.sightings if s.event.prices), ())
        amount = prices[0].amount if len(prices) == 1 else None
    gap = str(w.phrases.get("gap", " "))  # between two sentences: a space, none in Japanese
    if ordered_on and amount:
        return gap + w.phrase("order_both", date=w.day(ordered_on), amount=amount)
    if ordered_on:
        return gap + w.phrase("order_placed", date=w.day(ordered_on))
    return gap + w.phrase("order_paid", amount=amount) if amount else ""


def _short(title: str) -> str:
    return title if len(title) <= ITEM_TITLE_MAX else title[: ITEM_TITLE_MAX - 1].rstrip() + "…"


def _fields(facts: LetterFacts, language: str) -> dict[str, str]:
    shipment, policy = facts.shipment, facts.policy
    w = _Writer(language, shipment.marketplace)
    source = shipment.promise_source
    sent_at = source.message.sent_at if source else None
    label = {True: "guaranteed", False: "estimated", None: "stated"}[shipment.guaranteed]
    # Letters are dated in the user's zone: the user writes them, and the deadlines they set are the user's days.
    today = facts.now.astimezone(policy.timezone).date()
    place = jurisdiction(shipment.marketplace, policy)
    previous = facts.previous_step_at.astimezone(policy.timezone).date() if facts.previous_step_at else today
    promise = w.window(shipment.promise) if shipment.promise else ""
    fields = {
        "order_id": shipment.order_id,
        "items_clause": w.phrase("items", items=", ".join(w.quote(_short(i)) for i in shipment.items))
        if shipment.items else "",
        "promise": promise,
        "promise_label": w.phrases[label],
        # Without the sentence itself, the promise is restated plainly rather than quoted as if Amazon wrote it.
        "promise_quote": w.quote(_without_greeting(source.event.evidence)) if source and source.event.evidence
        else promise,
        "promise_date": w.day(shipment.promise.end, weekday=True) if shipment.promise else "",
        "promise_subject": w.quote(source.message.subject) if source and source.message.subject
        else w.phrases["no_subject"],
        "promise_email_date": w.day(sent_at.astimezone(policy.timezone).date()) if sent_at else "",
        "delivered": w.day(shipment.delivered_on) if shipment.delivered_on else "",
        "days_late": w.days(facts.verdict.days_late or 0),
        "ask": _ask(shipment, policy, w),
        "today": w.day(today),
        "deadline": w.day(notice_deadline(today, place, policy.notice_days, policy.posted)),
        "previous_step_date": w.day(previous),
        "previous_deadline": w.day(facts.previous_deadline or notice_deadline(previous, place, policy.notice_days)),
        "refund_deadline": w.day(today + timedelta(days=REFUND_DAYS)),
        "signature": policy.sender_name,
        "recipient": third_party_seller(shipment) or w.phrases["recipient"],
        # Amazon's emails are "your email" to Amazon, never to a marketplace seller.
        "the_email": w.phrases["email_amazons" if third_party_seller(shipment) else "email_yours"],
        "order_facts": _order_facts(shipment, w),
        # One parcel of several: the law's words ("the order", "all sums paid") are to be read as that parcel's.
        "scope": w.phrase("scope", count=str(shipment.parcels_in_order)) if shipment.parcels_in_order > 1 else "",
    }
    delivery = shipment.delivery_source
    delivered_at = delivery.message.sent_at if delivery else None
    fields["delivery_subject"] = w.quote(delivery.message.subject) if delivery and delivery.message.subject \
        else w.phrases["no_subject"]
    fields["delivery_email_date"] = w.day(delivered_at.astimezone(policy.timezone).date()) if delivered_at else ""
    fields["law_choice"] = ""
    if facts.track in ("B", "C"):
        for key in ("notice", "termination", "risk", "refund"):
            usable = has_text(place, key) and (key in ("risk", "refund") or has_termination_law(place))
            fields[f"law_{key}"] = Template(law_text(place, language, key)).substitute(fields) if usable else ""
        if choice_applies(place, country(shipment.marketplace)):
            fields["law_choice"] = choice_text(place, language, shipment.marketplace)
    return fields


def _ask(shipment: Shipment, policy: Policy, w: _Writer) -> str:
    """What a goodwill request asks. A missed guaranteed date on a marketplace whose published terms refund the
    shipping fee for it (amazon.com) asks for that refund, quoting those terms: Amazon's own promise, no right."""
    if shipment.guaranteed and shipment.marketplace in _phrases()["common"]["guarantee_terms"]:
        return str(w.phrases["ask_guarantee_terms"])
    return str(w.phrases["ask"][policy.ask])


def render(facts: LetterFacts) -> Letter:
    place = jurisdiction(facts.shipment.marketplace, facts.policy)
    if facts.track in ("B", "C") and facts.step == 3 and not has_termination_law(place):
        raise ValueError(f"no termination letter under the law of {place or 'an unknown country'}: "
                         "its ladder ends at step 2")
    language = language_of(facts.shipment, facts.policy)
    name = template_name(facts.track, facts.step, place)
    text = _fill(language, name, facts.policy, _fields(facts, language))
    head, _, body = text.strip().partition("\n")
    subject = head.removeprefix("Subject:").strip()
    body = re.sub(r"\n{3,}", "\n\n", body.strip())  # a paragraph left empty (no law text here) leaves no gap
    # Words a country writes otherwise in the same language (Québec's "courriel" for "e-mail").
    for word, local in _phrases()[language].get("country", {}).get(country(facts.shipment.marketplace), {}).items():
        subject, body = subject.replace(word, local), body.replace(word, local)
    # A date ending a sentence with its own abbreviation's full stop (Polish "2026 r.") takes no second one.
    body = re.sub(r"(?<=\br)\.\.(?!\.)", ".", body)
    return Letter(language, subject, body + "\n")


def printed(letter: Letter) -> Letter:
    """The letter as it is printed: a chat's greeting ("Bonjour,") becomes a letter's ("Madame, Monsieur,")."""
    language = letter.language if letter.language in LANGUAGES else FALLBACK_LANGUAGE
    informal, formal = _phrases()[language].get("printed_opening", ("", ""))
    if informal and letter.body.startswith(informal + "\n"):
        return Letter(letter.language, letter.subject, formal + letter.body[len(informal):])
    return letter


def quoted_answer(language: str, marketplace: str, day: date | None, sender: str, text: str) -> str:
    """The retailer's answer quoted below the letter that follows it, as a mail client quotes what it replies to:
    an attribution line in the letter's language, then the answer's lines after "> "."""
    w = _Writer(language if language in LANGUAGES else FALLBACK_LANGUAGE, marketplace)
    head = w.phrase("answer_attribution", date=w.day(day) if day else "", sender=sender)
    return " ".join(head.split()) + "\n" + "\n".join(f"> {line}" if line else ">" for line in text.splitlines())


def reply_subject(track: str, subject: str, earlier: list[str]) -> str:
    """The subject a claim goes out with, given the subjects of the claims it replies to (oldest first).

    A goodwill request after a "where is my parcel?" letter is a plain reply: "Re: <that letter's subject>". A
    ladder step keeps its own subject even when it replies: "Mise en demeure de livrer", "Fristsetzung",
    "Diffida ad adempiere" name the act the letter performs, and that title is part of what it proves; the
    In-Reply-To and References headers keep it in the conversation.
    """
    if track != "A" or not earlier:
        return subject
    prefix = str(_phrases()["common"]["reply_prefix"])
    root = re.sub(r"^(?:re|aw|r|rif|sv|fw|tr)\s*:\s*", "", earlier[0], flags=re.IGNORECASE)
    return f"{prefix} {root}"
