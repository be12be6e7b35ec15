"""What the user decided: the knobs the rules read, built by the daemon from the configuration."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from zoneinfo import ZoneInfo


@dataclass(frozen=True)
class Policy:
    timezone: ZoneInfo  # the user's zone: caps count days in it
    grace_days: int = 0  # days a parcel may come after the promise before it counts as late
    trust_unauthenticated: bool = False  # also claim on mail without an aligned Amazon DKIM pass
    max_per_day: int = 3
    max_per_year: int = 12  # over the last 365 days
    language: str = "auto"  # auto: the marketplace's language as the emails show it
    notice_days: int = 7  # the extra period a formal notice gives (track B, step 2)
    ask: str = "gesture"  # what track A asks for: gesture | shipping_refund | credit | prime_extension
    sender_name: str = ""  # signs the letters
    template_dir: Path | None = None  # the user's own templates, replacing bundled ones of the same name
