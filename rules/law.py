"""The law a letter cites, per jurisdiction and letter language, kept as data (data/law.toml).

The consumer's country decides (Rome I art. 6: a choice of law in Amazon's terms cannot take its mandatory
protection away; CJEU C-191/15); the marketplace's country stands in when the consumer's is not known, or when it
has no table here (a Portuguese buyer on amazon.es cites Spain's law rather than none). Canada is cited per
province ("CA-QC"). The letter's language only decides the words: a provision without a text of its own in that
language is quoted as its country writes it inside the language's generic sentence.
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass
from datetime import date, timedelta
from functools import cache
from importlib.resources import files
from string import Template
from typing import Any

KEYS = ("notice", "termination", "risk", "refund")
# Canadian postal codes start with a letter that names the province (Canada Post's forward sortation areas).
CANADA_PROVINCES = {"A": "NL", "B": "NS", "C": "PE", "E": "NB", "G": "QC", "H": "QC", "J": "QC", "K": "ON",
                    "L": "ON", "M": "ON", "N": "ON", "P": "ON", "R": "MB", "S": "SK", "T": "AB", "V": "BC",
                    "X": "NT", "Y": "YT"}
_CANADIAN_CODE = re.compile(r"\b([ABCEGHJ-NPRSTVXY])\d[A-Z] ?\d[A-Z]\d\b")
_UK_POSTCODE = re.compile(r"\b[A-Z]{1,2}\d[A-Z\d]? ?\d[A-Z]{2}\b")
_US_ZIP = re.compile(r",\s*[A-Z]{2}\s+\d{5}(?:-\d{4})?\s*$")


@dataclass(frozen=True)
class Citation:
    country: str  # the jurisdiction whose table the text comes from ("FR", "CA-QC")
    cites: str  # what it cites, for people: "Codice del consumo, art. 61 co. 3"
    source: str
    checked: str  # ISO date the citation was last checked against the source
    verified: str  # primary | review | chapter (see data/law.toml)


@cache
def _law() -> dict[str, Any]:
    return tomllib.loads((files("rules") / "data" / "law.toml").read_text(encoding="utf-8"))


def law_country(marketplace_country: str, consumer: str = "") -> str:
    """The jurisdiction whose law a letter cites: the consumer's (`claims.country`, or the postal address's),
    unless it is unknown, or an EU country this table does not cover, where the marketplace's stands in."""
    if not consumer:
        return marketplace_country
    covered = any(key in _law().get(consumer, {}) for key in KEYS)
    return consumer if covered or consumer not in _law()["rome_i"] else marketplace_country


def has_termination_law(country: str) -> bool:
    """True where the buyer may set a final deadline, then terminate and be refunded (EU member states, UK)."""
    return country in _law()["countries_with_termination"]


def has_text(country: str, key: str) -> bool:
    return key in _law().get(country, {})


def citation(country: str, key: str) -> Citation | None:
    entry = _law().get(country, {}).get(key)
    if entry is None:
        return None
    return Citation(country, str(entry["cites"]), str(entry["source"]), str(entry["checked"]),
                    str(entry["verified"]))


def country_name(country: str, language: str) -> str:
    return str(_law()["names"][language].get(country, country))


def law_text(country: str, language: str, key: str) -> str:
    """The paragraph `key` (one of KEYS) for a jurisdiction, in a language: its own wording, else the language's
    generic sentence quoting the provision. KeyError when the jurisdiction has no such provision."""
    entry = _law().get(country, {}).get(key)
    if entry is None:
        raise KeyError(f"law.toml: no {key} text for {country or 'an unknown country'}")
    if language in entry:
        return str(entry[language])
    generic = _law()["generic"]
    basis = Template(generic["basis"][language]).substitute(country=country_name(country, language),
                                                            provision=entry["provision"])
    # $deadline and $refund_deadline stay for the letter to fill.
    return Template(generic[key][language]).safe_substitute(basis=basis)


def choice_applies(country: str, marketplace_country: str) -> bool:
    """Whether the letter must say that the consumer's own law is the one it relies on: the consumer lives in
    another country than the marketplace's, and Rome I protects both sides of that choice."""
    rome_i = _law()["rome_i"]
    return country != marketplace_country and country in rome_i and marketplace_country in rome_i


def choice_text(country: str, language: str, marketplace: str) -> str:
    return Template(_law()["choice"][language]).substitute(marketplace=marketplace,
                                                           country=country_name(country, language))


def notice_deadline(day: date, country: str, notice_days: int, posted: bool = False) -> date:
    """The last day of the extra period a formal notice leaving on `day` gives: at least the country's minimum
    (Italy's diffida: 15 days), and counted from the day a registered letter arrives when it goes by post."""
    days = max(notice_days, int(_law()["min_notice_days"].get(country, 0)))
    return day + timedelta(days=days + (int(_law()["post"]["days"]) if posted else 0))


def country_of_address(lines: tuple[str, ...] | list[str]) -> str:
    """The consumer's country as the postal address shows it, or "": a last line naming a country ("Belgique",
    "Belgium", "BE"), a Canadian postal code (its province: "CA-QC"), a UK postcode, a US state and ZIP code.
    A domestic address without any of these ("75011 Paris") says nothing: the marketplace's country stands in."""
    if not lines:
        return ""
    last = lines[-1].strip()
    named = _law()["address_countries"].get(last.casefold().strip(" ."))
    if named == "CA" or (named is None and _CANADIAN_CODE.search(" ".join(lines[-2:]).upper())):
        found = _CANADIAN_CODE.search(" ".join(lines[-2:]).upper())
        return f"CA-{CANADA_PROVINCES[found.group(1)]}" if found else "CA"
    if named:
        return str(named)
    if _UK_POSTCODE.search(last.upper()):
        return "GB"
    return "US" if _US_ZIP.search(last) else ""
