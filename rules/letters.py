"""Claim letters: a template per language, track and step, filled with the shipment's evidence.

Templates live in templates/<language>/<name>.txt: the first line is "Subject: ...", then a blank line, then the
body, with $placeholders (string.Template). A user's template_dir/<language>/<name>.txt replaces the bundled
one. Phrases (ask wordings, date windows) are data in data/letters.toml; the law's wording in data/law.toml.
Dates are written in the letter's language from CLDR (babel).
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from functools import cache
from importlib.resources import files
from string import Template
from typing import Any

from babel import Locale, UnknownLocaleError
from babel.dates import format_date

from parsers.marketplaces import country
from parsers.model import DateWindow
from rules.law import has_termination_law, law_text
from rules.policy import Policy
from rules.timeline import Shipment
from rules.verdict import Verdict

LANGUAGES = ("fr", "en", "de", "it", "es")
REFUND_DAYS = 14  # the refund date a termination letter asks for (FR L216-7's fourteen days; a fair ask elsewhere)


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
    previous_step_at: datetime | None = None  # when the step before this one was drafted (track B)


@cache
def _phrases() -> dict[str, Any]:
    return tomllib.loads((files("rules") / "data" / "letters.toml").read_text(encoding="utf-8"))


def language_of(shipment: Shipment, policy: Policy) -> str:
    if policy.language != "auto":
        return policy.language
    return shipment.language if shipment.language in LANGUAGES else "en"


def template_name(track: str, step: int, marketplace: str) -> str:
    if track == "B" and step == 2 and not has_termination_law(country(marketplace)):
        return "B_2_refund"
    return f"{track}_{step}"


def load_template(language: str, name: str, policy: Policy) -> str:
    if policy.template_dir is not None:
        own = policy.template_dir / language / f"{name}.txt"
        if own.is_file():
            return own.read_text(encoding="utf-8")
    return (files("rules") / "templates" / language / f"{name}.txt").read_text(encoding="utf-8")


def _locale(language: str, marketplace: str) -> Locale:
    try:
        return Locale.parse(f"{language}_{country(marketplace)}")
    except (UnknownLocaleError, ValueError):
        return Locale.parse(language)


class _Writer:
    def __init__(self, language: str, marketplace: str) -> None:
        self.phrases: dict[str, Any] = _phrases()[language]
        self.locale = _locale(language, marketplace)

    def day(self, d: date, weekday: bool = False) -> str:
        return format_date(d, "full" if weekday else "long", locale=self.locale)

    def window(self, window: DateWindow | None) -> str:
        if window is None:
            return ""
        end = self.day(window.end, weekday=True)
        if window.start is None:
            return Template(self.phrases["window_by"]).substitute(end=end)
        if window.start == window.end:
            return Template(self.phrases["window_single"]).substitute(date=end)
        start = self.day(window.start, weekday=True)
        return Template(self.phrases["window_range"]).substitute(start=start, end=end)

    def days(self, n: int) -> str:
        return f"{n} {self.phrases['day' if n == 1 else 'days']}"


def _fields(facts: LetterFacts, language: str) -> dict[str, str]:
    shipment, policy = facts.shipment, facts.policy
    w = _Writer(language, shipment.marketplace)
    source = shipment.promise_source
    sent_at = source.message.sent_at if source else None
    label = {True: "guaranteed", False: "estimated", None: "stated"}[shipment.guaranteed]
    today = facts.now.astimezone(policy.timezone).date()
    deadline = today + timedelta(days=policy.notice_days)
    previous = facts.previous_step_at.astimezone(policy.timezone).date() if facts.previous_step_at else today
    refund_deadline = today + timedelta(days=REFUND_DAYS)
    items = "», «".join(shipment.items) if language in ("fr", "it", "es") else '", "'.join(shipment.items)
    fields = {
        "order_id": shipment.order_id,
        "items_clause": Template(w.phrases["items"]).substitute(items=items) if shipment.items else "",
        "promise": w.window(shipment.promise),
        "promise_label": w.phrases[label],
        "promise_quote": source.event.evidence if source and source.event.evidence else w.phrases["no_quote"],
        "promise_subject": source.message.subject if source else "",
        "promise_email_date": w.day(sent_at.astimezone(policy.timezone).date()) if sent_at else "",
        "delivered": w.day(shipment.delivered_on) if shipment.delivered_on else "",
        "days_late": w.days(facts.verdict.days_late or 0),
        "ask": w.phrases["ask"][policy.ask],
        "today": w.day(today),
        "deadline": w.day(deadline),
        "previous_step_date": w.day(previous),
        "previous_deadline": w.day(previous + timedelta(days=policy.notice_days)),
        "refund_deadline": w.day(refund_deadline),
        "signature": policy.sender_name,
    }
    place = country(shipment.marketplace)
    if facts.track == "B" and has_termination_law(place):
        for key in ("notice", "termination"):
            fields[f"law_{key}"] = Template(law_text(place, language, key)).substitute(fields)
    return fields


def render(facts: LetterFacts) -> Letter:
    language = language_of(facts.shipment, facts.policy)
    name = template_name(facts.track, facts.step, facts.shipment.marketplace)
    text = Template(load_template(language, name, facts.policy)).substitute(_fields(facts, language))
    head, _, body = text.partition("\n\n")
    subject = head.removeprefix("Subject:").strip()
    return Letter(language, subject, body.strip() + "\n")
