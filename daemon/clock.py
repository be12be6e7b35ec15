"""The only place lateclaim reads the clock; everything else is given `now`.

LATECLAIM_NOW (an ISO moment with its offset) stands in for the clock: the tests and replays that live through
days which have not come yet use it, since commands that write refuse an --as-of later than now.
"""

from __future__ import annotations

import os
from datetime import UTC, datetime


def now() -> datetime:
    fixed = os.environ.get("LATECLAIM_NOW")
    if fixed:
        moment = datetime.fromisoformat(fixed)
        return moment if moment.tzinfo else moment.replace(tzinfo=UTC)
    return datetime.now(UTC)
