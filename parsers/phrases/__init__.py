"""Per-language phrase data (phrases/<language>.toml): adding a language is adding a file."""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass, field
from functools import cache
from importlib.resources import files
from typing import Any

KIND_ORDER = ("attempted", "delayed", "delivered", "out_for_delivery", "pickup_ready", "cancelled", "refunded",
              "shipped", "ordered")


@dataclass(frozen=True)
class Phrases:
    language: str
    detect: tuple[str, ...]  # words typical of the language, to tell which one an email is written in
    subject: dict[str, re.Pattern[str]]  # kind -> subject pattern
    body: dict[str, tuple[str, ...]]  # kind -> phrases that reveal it in the body, lowercase
    ignore: tuple[str, ...]  # subjects of Amazon mail that is not about a shipment
    promise: tuple[str, ...]  # markers a promised date follows, most specific first
    trailing: tuple[str, ...]  # markers a promised date comes just before (Japanese word order)
    previous: tuple[str, ...]  # markers of an earlier promise a delay or early arrival revises
    revised: tuple[str, ...]  # wording of an email that changes an announced parcel's date, lowercase
    guaranteed: tuple[str, ...]
    estimated: tuple[str, ...]
    words: dict[str, list[str]]  # today, tomorrow, by (a deadline), range (connectors), by_time
    quantity: tuple[str, ...]  # "Quantity" labels under an ordered item
    stop: tuple[str, ...]  # headings of recommendation blocks: no order item below them
    month_aliases: dict[str, int]
    word_boundaries: bool = True  # False for scripts written without spaces (Japanese)
    tracker: re.Pattern[str] | None = None  # the progress tracker's labels: a row of them states nothing
    footer: tuple[str, ...] = ()  # lines where the footer starts: nothing below states what the email is about
    facts: dict[str, tuple[str, ...]] = field(default_factory=dict)  # fact -> its markers, lowercase ([facts])


def _pattern(alternatives: list[str]) -> re.Pattern[str]:
    return re.compile("|".join(f"(?:{a})" for a in alternatives), re.I)


def _labels(labels: list[str], bounded: bool) -> re.Pattern[str] | None:
    if not labels:
        return None
    before, after = (r"(?<!\w)", r"(?!\w)") if bounded else ("", "")
    alternatives = "|".join(re.escape(x.lower()) for x in sorted(labels, key=len, reverse=True))
    return re.compile(rf"{before}(?:{alternatives}){after}")


@cache
def phrases(language: str) -> Phrases:
    data: dict[str, Any] = tomllib.loads((files("parsers") / "phrases" / f"{language}.toml").read_text("utf-8"))
    body = dict(data["body"])
    # Written below [body] in the files, so TOML files them under it: they are lists of their own, not kinds.
    ignore, tracker = body.pop("ignore", data.get("ignore", [])), body.pop("tracker", data.get("tracker", []))
    return Phrases(
        language=language,
        detect=tuple(data["detect"]),
        subject={kind: _pattern(p) for kind, p in data["subject"].items()},
        body={kind: tuple(x.lower() for x in p) for kind, p in body.items()},
        ignore=tuple(x.lower() for x in ignore),
        tracker=_labels(tracker, data.get("word_boundaries", True)),
        promise=tuple(data["promise"]["markers"]),
        trailing=tuple(data["promise"].get("trailing", [])),
        previous=tuple(data["promise"].get("previous", [])),
        revised=tuple(x.lower() for x in data["promise"].get("revised", [])),
        guaranteed=tuple(x.lower() for x in data["promise"].get("guaranteed", [])),
        estimated=tuple(x.lower() for x in data["promise"].get("estimated", [])),
        words=data["words"],
        quantity=tuple(x.lower() for x in data["items"]["quantity"]),
        stop=tuple(x.lower() for x in data["items"]["stop"]),
        month_aliases=data.get("month_aliases", {}),
        word_boundaries=data.get("word_boundaries", True),
        footer=tuple(x.lower() for x in data.get("footer", [])),
        facts={fact: tuple(x.lower() for x in markers) for fact, markers in data.get("facts", {}).items()},
    )


@cache
def languages() -> tuple[str, ...]:
    return tuple(sorted(p.name.removesuffix(".toml") for p in files("parsers").joinpath("phrases").iterdir()
                        if p.name.endswith(".toml")))
