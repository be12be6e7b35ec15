"""Where each letter goes, per marketplace, kept as data (data/contacts.toml): the site's contact path in its own
words, a marketplace seller's messages and Amazon's A-to-z Guarantee, the retailer's postal address for a
registered letter, and the note a draft carries above its cut line.

Pure: the caller gives the facts (seller, dates, `today`); nothing here reads the clock or the state.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from datetime import date, timedelta
from functools import cache
from importlib.resources import files
from string import Template
from typing import Any

from rules.letters import FALLBACK_LANGUAGE, LANGUAGES, date_writer

ARROW = " → "
DEFAULT_MARKETPLACE = "amazon.co.uk"  # an unknown marketplace gets the English labels, the likeliest to match


@cache
def _data() -> dict[str, Any]:
    return tomllib.loads((files("rules") / "data" / "contacts.toml").read_text(encoding="utf-8"))


@dataclass(frozen=True)
class Retailer:
    name: str
    address: tuple[str, ...]
    country: str  # ISO code of the address
    verified: bool  # False: the entity or address was not seen in a stored copy of the site's terms

    def lines(self, language: str) -> list[str]:
        return [self.name, *self.address, _text(language)["country"].get(self.country, self.country)]


@dataclass(frozen=True)
class Situation:
    """What decides where a letter goes."""

    marketplace: str
    language: str
    order_id: str
    track: str  # A | B | C
    step: int
    seller: str | None = None  # a marketplace seller ("Vendu par X"); None: Amazon sells
    fulfilled_by_amazon: bool = False  # "Expédié par Amazon": Amazon's customer service handles the delivery
    promise_end: date | None = None  # the latest estimated delivery date
    today: date | None = None
    country: str = ""  # the sender's country (rules.letters.jurisdiction): its post's words for registered mail


def _site(marketplace: str) -> dict[str, Any]:
    sites: dict[str, Any] = _data()["marketplace"]
    return dict(sites.get(marketplace) or sites[DEFAULT_MARKETPLACE])


def _text(language: str) -> dict[str, Any]:
    texts: dict[str, Any] = _data()["text"]
    return dict(texts[language if language in LANGUAGES else FALLBACK_LANGUAGE])


def retailer(marketplace: str) -> Retailer | None:
    site = _data()["marketplace"].get(marketplace)
    if site is None:
        return None
    return Retailer(site["retailer"], tuple(site["address"]), site["address_country"], site["retailer_verified"])


def window_side(country: str) -> str:
    """Where the window of the envelopes sold in `country` is, "left" or "right" (data/contacts.toml)."""
    return "left" if country in _data()["envelope"]["left"] else "right"


def uses_registered_post(marketplace: str) -> bool:
    return bool(_data()["marketplace"].get(marketplace, {}).get("registered", False))


def path(marketplace: str, key: str = "path", language: str = "") -> str:
    """The steps on the site, as one line: "Service client → ... → Chat ou e-mail". A site in several languages
    (amazon.ca in English and French) shows the labels of the language the user reads it in."""
    site = _site(marketplace)
    return ARROW.join(site.get(language, {}).get(key) or site[key])


def a_to_z_from(promise_end: date) -> date:
    """The first day Amazon's A-to-z Guarantee covers an item that has not arrived."""
    return promise_end + timedelta(days=int(_data()["a_to_z"]["days_after_latest_date"]))


def guidance(s: Situation) -> list[str]:
    """The paragraphs that tell the user where this letter goes, in the letter's language."""
    text, w = _text(s.language), date_writer(s.language, s.marketplace)

    def say(key: str, **values: str) -> str:
        return Template(text[key]).substitute(values)

    lines: list[str] = []
    if s.seller:
        lines.append(say("seller", seller=s.seller, path=path(s.marketplace, "seller", s.language)))
        if s.fulfilled_by_amazon:
            lines.append(say("fulfilled", path=path(s.marketplace, "not_received" if s.track == "C" else "path",
                                                    s.language)))
        elif s.track in ("B", "C") and s.promise_end and s.today:
            start = a_to_z_from(s.promise_end)
            if s.today >= start:
                lines.append(say("a_to_z", date=w.day(start, weekday=True),
                                 path=path(s.marketplace, "a_to_z", s.language)))
                lines.append(say("a_to_z_text", order_id=s.order_id, promise_date=w.day(s.promise_end, weekday=True)))
    else:
        lines.append(say("no_mailbox", path=path(s.marketplace, "not_received" if s.track == "C" else "path",
                                                 s.language)))
    if s.track in ("B", "C") and s.step >= 2 and uses_registered_post(s.marketplace):
        lines.append(phrase(s.language, "registered", country=s.country))
    return lines


def draft_note(s: Situation) -> str:
    """The block a draft starts with: a note to the user (where to paste the letter; how to record one sent by
    chat or by post: send the draft to oneself), then the cut line. It never names the tool, so that, pasted or
    sent by mistake, it shows only the user's own note."""
    text = _text(s.language)
    return "\n\n".join([text["head"], *guidance(s), text["recorded"], text["cut"]]) + "\n\n"


def phrase(language: str, key: str, country: str = "", **values: str) -> str:
    """A printable letter's fixed words (registered_line, place_date, subject, order, reference) in a language,
    in the sender's country's own words where it has them ("Royal Mail Signed For" in the UK)."""
    text = _text(language)
    return Template(text.get(f"{key}_{country}") or text[key]).substitute(values)
