"""The Amazon marketplaces lateclaim knows, read from data/marketplaces.toml."""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from functools import cache
from importlib.resources import files
from zoneinfo import ZoneInfo


@dataclass(frozen=True)
class Marketplace:
    """One Amazon site: its domain, country and languages."""
    domain: str
    country: str  # ISO 3166 code: which consumer law applies
    languages: tuple[str, ...]
    zone: ZoneInfo
    month_first: bool = False  # numeric dates read 11/19/2026 (amazon.com), not 19/11/2026


@cache
def all_marketplaces() -> dict[str, Marketplace]:
    data = tomllib.loads((files("parsers") / "data" / "marketplaces.toml").read_text(encoding="utf-8"))
    return {
        domain: Marketplace(domain, entry["country"], tuple(entry["languages"]), ZoneInfo(entry["zone"]),
                            entry.get("month_first", False))
        for domain, entry in data["marketplace"].items()
    }


def sender_domains() -> list[str]:
    """Every marketplace domain: what the IMAP search asks the server to filter on."""
    return list(all_marketplaces())


def marketplace_of(address_or_domain: str) -> Marketplace | None:
    """The marketplace an address belongs to: its domain or a subdomain of it (bounces.amazon.fr), exactly."""
    domain = address_or_domain.rpartition("@")[2].strip().lower().rstrip(".")
    known = all_marketplaces()
    while domain:
        if domain in known:
            return known[domain]
        _, _, domain = domain.partition(".")
    return None


def seller_relayed(address: str) -> bool:
    """Whether an address is one Amazon relays a seller's message from (…@marketplace.amazon.fr): the message is
    signed by Amazon, but its words are the seller's."""
    domain = address.rpartition("@")[2].strip().lower().rstrip(".")
    return domain.startswith("marketplace.") and marketplace_of(domain) is not None


def home_zone(domain: str) -> ZoneInfo:
    found = all_marketplaces().get(domain)
    return found.zone if found else ZoneInfo("UTC")


def country(domain: str) -> str:
    found = all_marketplaces().get(domain)
    return found.country if found else ""
