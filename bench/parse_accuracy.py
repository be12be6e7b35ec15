"""Scores `lateclaim parse --json` on the development corpus (../shared/corpus) against its manifest.

Field by field: kind, order id (the manifest's id must be among those reported), promised start and end,
delivery date, items (every item the manifest lists is reported, and nothing else: the items tie a delivery
notice to its parcel when an order comes in several); and the two costly errors, which must both stay at 0:
wrong promises (a promise reported that differs from the manifest's: a claim on a promise never made) and false
deliveries (a `delivered` event from an email that does not state a delivery: it closes a parcel that never
came and kills a rightful claim).
Prints a table per email and the totals.

    python bench/parse_accuracy.py [--corpus DIR] [--timezone TZ]
"""

from __future__ import annotations

import argparse
import json
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
CORPUS_CANDIDATES = (ROOT.parent / "shared" / "corpus", ROOT.parent.parent / "shared" / "corpus")  # main, worktree
FIELDS = ("kind", "order_id", "promised_start", "promised_end", "delivered", "items")


def parse_all(files: list[Path], timezone: str | None) -> dict[str, dict[str, Any]]:
    command = [sys.executable, "-m", "daemon.cli", "parse", "--json", *map(str, files)]
    if timezone:
        command += ["--timezone", timezone]
    done = subprocess.run(command, capture_output=True, text=True, cwd=ROOT, check=False)
    return {Path(obj["file"]).name: obj for obj in map(json.loads, done.stdout.splitlines())}


def _same_items(expected: list[str], got: list[str]) -> bool:
    """The same titles, up to case, punctuation and truncation ("Logitech ERGO M575 Wireless..." is the title)."""
    def key(title: str) -> str:
        return re.sub(r"\W+", " ", title.casefold()).strip()

    def matches(a: str, b: str) -> bool:
        return bool(a) and bool(b) and (a.startswith(b) or b.startswith(a))

    want, have = [key(t) for t in expected], [key(t) for t in got]
    return all(any(matches(w, h) for h in have) for w in want) and all(any(matches(h, w) for w in want) for h in have)


def score(expected: dict[str, Any], got: dict[str, Any]) -> dict[str, bool | None]:
    events = got.get("events") or []
    event = events[0] if events else {}
    kind = event.get("kind") if got["status"] == "parsed" else "other"
    ids = {i for e in events for i in e.get("order_ids", [])}
    marks: dict[str, bool | None] = {
        "kind": kind == expected["kind"],
        "order_id": (expected["order_id"] in ids) if expected["order_id"] else (not ids or None),
        "promised_start": event.get("promised_start") == expected["promised_start"],
        "promised_end": event.get("promised_end") == expected["promised_end"],
        "delivered": event.get("delivered_on") == expected["delivered_date"],
        "items": _same_items(expected.get("items") or [], [i for e in events for i in e.get("items", [])]),
    }
    promised = event.get("promised_end")
    marks["wrong_promise"] = promised is not None and (
        promised != expected["promised_end"] or event.get("promised_start") != expected["promised_start"])
    marks["false_delivery"] = expected["kind"] != "delivered" and any(e.get("kind") == "delivered" for e in events)
    return marks


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--corpus", type=Path,
                        default=next((c for c in CORPUS_CANDIDATES if c.exists()), CORPUS_CANDIDATES[0]))
    parser.add_argument("--timezone", help="the recipient's zone (default: each marketplace's home zone)")
    args = parser.parse_args()
    manifest_file = args.corpus / "manifest.json"
    if not manifest_file.exists():
        print(f"no corpus at {args.corpus} (expected {manifest_file}); pass --corpus DIR", file=sys.stderr)
        return 2
    manifest = json.loads(manifest_file.read_text())
    files = [args.corpus / entry["file"] for entry in manifest]
    results = parse_all(files, args.timezone)
    totals = dict.fromkeys((*FIELDS, "wrong_promise", "false_delivery"), 0)
    counted = dict.fromkeys(FIELDS, 0)
    print(f"{'email':<28} {'conf':<6} {'kind':<5} {'order':<6} {'start':<6} {'end':<6} {'deliv':<6} {'items':<6} "
          "errors")
    for entry in manifest:
        name = Path(entry["file"]).name
        got = results.get(name, {"status": "missing", "events": []})
        marks = score(entry, got)
        cells = []
        for f in FIELDS:
            mark = marks[f]
            cells.append("-" if mark is None else ("ok" if mark else "NO"))
            if mark is not None:
                counted[f] += 1
                totals[f] += bool(mark)
        totals["wrong_promise"] += bool(marks["wrong_promise"])
        totals["false_delivery"] += bool(marks["false_delivery"])
        flags = ("WRONG PROMISE" if marks["wrong_promise"] else "", "FALSE DELIVERY" if marks["false_delivery"] else "")
        print(f"{name:<28} {entry['confidence']:<6} " + " ".join(f"{c:<5}" for c in cells)
              + "  " + " ".join(f for f in flags if f))
    print()
    for f in FIELDS:
        print(f"{f:<16} {totals[f]:>3} / {counted[f]} right")
    print(f"{'wrong promises':<16} {totals['wrong_promise']:>3}   (must be 0)")
    print(f"{'false deliveries':<16} {totals['false_delivery']:>3}   (must be 0)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
