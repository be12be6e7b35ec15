"""CPU time of the rules per parcel: grouping a year's events into parcel timelines, then deciding every claim
(letters rendered) as a daily evaluation does. A mailbox of N orders over a year, a third of them shipped in two
parcels; two parcels in three come a day or two late, one in seven never comes.

    python bench/rules_speed.py [--orders 1000]
"""

from __future__ import annotations

import argparse
import sys
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from parsers.model import EventKind  # (after the path set-up above)
from rules.claims import decide_all
from rules.timeline import Sighting, timelines
from tests.rules_helpers import delivered, ordered, policy, sighting


def year_of_mail(orders: int) -> list[Sighting]:
    found = []
    for n in range(orders):
        order, promise = f"171-{n:07d}-0000000", date(2026, 1, 5) + timedelta(days=n * 360 // orders)
        items = [f"Item {n}-a", f"Item {n}-b"] if n % 3 == 0 else [f"Item {n}-a"]
        found.append(ordered(promise, order=order, items=tuple(items)))
        for k, item in enumerate(items):
            sent = datetime.combine(promise - timedelta(days=2), datetime.min.time(), UTC) + timedelta(hours=k)
            found.append(sighting(EventKind.SHIPPED, sent, order=order, promise=promise, items=(item,)))
            if (n + k) % 7:  # one parcel in seven never comes
                came = datetime.combine(promise + timedelta(days=(n + k) % 3), datetime.min.time(), UTC)
                found.append(delivered(came + timedelta(hours=15), order=order, items=(item,)))
    return found


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--orders", type=int, default=1000)
    args = parser.parse_args()
    mail = year_of_mail(args.orders)
    rules = policy(max_per_day=10**6, max_per_year=10**6, max_age_days=400)
    start = time.process_time()
    parcels = timelines(mail)
    grouped = time.process_time()
    decided = decide_all(parcels, datetime(2026, 12, 31, 12, tzinfo=UTC), rules, [])
    done = time.process_time()
    print(f"{len(mail)} events, {args.orders} orders, {len(parcels)} parcels, {len(decided.new)} claims decided")
    print(f"timelines:  {(grouped - start) * 1000 / len(parcels):.3f} ms CPU per parcel")
    print(f"decide_all: {(done - grouped) * 1000 / len(parcels):.3f} ms CPU per parcel "
          f"({(done - grouped) * 1000 / max(1, len(decided.new)):.3f} ms per claim, its letter rendered)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
