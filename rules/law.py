"""The law a letter cites, per marketplace country and letter language, kept as data (data/law.toml).

The citation follows the marketplace's country; the language only decides the words. There is no fallback to
another language: a text missing in one of the five letter languages is an error (the tests render them all).
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from functools import cache
from importlib.resources import files
from typing import Any

EU = "EU"
KEYS = ("notice", "termination", "risk", "refund")


@dataclass(frozen=True)
class Citation:
    country: str  # whose table the text comes from ("EU" for the directive)
    cites: str  # what it cites, for people: "Codice del consumo, art. 61 co. 3"
    source: str
    checked: str  # ISO date the wording was last checked against the source


@cache
def _law() -> dict[str, Any]:
    return tomllib.loads((files("rules") / "data" / "law.toml").read_text(encoding="utf-8"))


def has_termination_law(country: str) -> bool:
    """True where the buyer may set a final deadline, then terminate and be refunded (EU member states, UK)."""
    return country in _law()["countries_with_termination"]


def _entry(country: str, key: str) -> tuple[str, dict[str, Any]] | None:
    """The table holding `key` for a country: its own, the one it points to (`same_as`), or, for an EU member
    without one, the directive's."""
    law = _law()
    place = country
    for _ in range(3):  # same_as chains are short; a loop would be a data error
        table = law.get(place, {})
        if key in table and "same_as" not in table[key]:
            return place, table[key]
        target = table.get(key, {}).get("same_as") or table.get("same_as")
        if target:
            place = target
            continue
        if place in law["eu_members"] and place != EU:
            place = EU
            continue
        return None
    raise ValueError(f"law.toml: same_as loop at {country}/{key}")


def has_text(country: str, key: str) -> bool:
    return _entry(country, key) is not None


def citation(country: str, key: str) -> Citation | None:
    found = _entry(country, key)
    if found is None:
        return None
    place, entry = found
    return Citation(place, str(entry["cites"]), str(entry["source"]), str(entry["checked"]))


def law_text(country: str, language: str, key: str) -> str:
    """The paragraph `key` (one of KEYS) for a country, in a language. KeyError when there is none."""
    found = _entry(country, key)
    if found is None or language not in found[1]:
        raise KeyError(f"law.toml: no {key} text for {country or 'an unknown country'} in {language}")
    return str(found[1][language])
