"""The law a track B letter cites, per country and language, kept as data (data/law.toml)."""

from __future__ import annotations

import tomllib
from functools import cache
from importlib.resources import files
from typing import Any

EU = "EU"


@cache
def _law() -> dict[str, Any]:
    return tomllib.loads((files("rules") / "data" / "law.toml").read_text(encoding="utf-8"))


def has_termination_law(country: str) -> bool:
    """True where the buyer may set a final deadline, then terminate and be refunded (EU directive, UK CRA)."""
    return country in _law()["countries_with_termination"]


def law_text(country: str, language: str, key: str) -> str:
    """The sentence `key` ("notice", "termination") for a country, in a language, with the nearest fallback:
    the country's own text, then the EU directive's (for a member state), then the country's in English."""
    law = _law()
    eu = country in law["eu_members"]
    for source, lang in ((country, language), (EU if eu else country, language), (country, "en"), (EU, "en")):
        text = law.get(source, {}).get(lang, {}).get(key)
        if text:
            return str(text)
    raise KeyError(f"no {key} text for {country} in {language}")
