"""What the user decided: the knobs the rules read, built by the daemon from the configuration."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from zoneinfo import ZoneInfo

ASKS = ("gesture", "shipping_refund", "credit", "prime_extension")  # what a track A letter may ask for


@dataclass(frozen=True)
class Policy:
    timezone: ZoneInfo  # the user's zone: caps count days in it, and letters date themselves in it
    grace_days: int = 0  # days a parcel may come after the promise before it counts as late
    trust_unauthenticated: bool = False  # also claim on mail without an aligned Amazon DKIM pass
    max_per_day: int = 3
    max_per_year: int = 12  # over the last 365 days
    language: str = "auto"  # auto: the marketplace's language as the emails show it
    notice_days: int = 7  # the extra period a formal notice gives (track B, step 2)
    ask: str = "gesture"  # what track A asks for: one of ASKS
    sender_name: str = ""  # signs the letters
    template_dir: Path | None = None  # the user's own templates, replacing bundled ones of the same name
    max_age_days: int = 30  # no new claim about a promise broken longer ago than this (history imports)
    # The consumer's country ("BE", or "CA-QC" for a Canadian province): its law is the one the letters cite.
    # "": the marketplace's country.
    consumer_country: str = ""
    posted: bool = False  # the letter goes by registered post: a notice's period counts from its arrival

    def __post_init__(self) -> None:
        # The daemon validates its configuration; this catches a Policy built by hand with a value the letters
        # could not honour (a notice with no period, an ask with no wording).
        if self.ask not in ASKS:
            raise ValueError(f"ask must be one of {', '.join(ASKS)}, not {self.ask!r}")
        if self.notice_days < 1:
            raise ValueError(f"notice_days must be at least 1, not {self.notice_days}")
        if min(self.grace_days, self.max_per_day, self.max_per_year) < 0:
            raise ValueError("grace_days, max_per_day and max_per_year cannot be negative")
