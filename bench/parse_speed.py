"""Parser speed on the development corpus: emails per second and per-email latency, end to end (MIME, HTML,
extraction, authentication), in this one process, so on one core.

    python bench/parse_speed.py [--corpus DIR] [--rounds N]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from parsers import parse  # noqa: E402 - after the path set-up, so the bench runs from a checkout

DEFAULT_CORPUS = ROOT.parent / "shared" / "corpus"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--corpus", type=Path, default=DEFAULT_CORPUS)
    parser.add_argument("--rounds", type=int, default=20)
    args = parser.parse_args()
    files = sorted((args.corpus / "emails").glob("*.eml"))
    if not files:
        print(f"no corpus at {args.corpus} (expected {args.corpus / 'emails'}/*.eml); pass --corpus DIR",
              file=sys.stderr)
        return 2
    emails = [f.read_bytes() for f in files]
    for raw in emails:  # warm-up: phrase data, CLDR names, compiled patterns
        parse(raw)
    latencies = []
    started = time.perf_counter()
    for _ in range(args.rounds):
        for raw in emails:
            t = time.perf_counter()
            parse(raw)
            latencies.append(time.perf_counter() - t)
    elapsed = time.perf_counter() - started
    latencies.sort()
    size = sum(map(len, emails)) / len(emails)
    print(f"{len(emails)} emails (mean {size / 1024:.1f} KiB) x {args.rounds} rounds, one core")
    print(f"throughput      {len(latencies) / elapsed:8.0f} emails/s")
    print(f"latency median  {statistics.median(latencies) * 1000:8.2f} ms")
    print(f"latency p95     {latencies[int(len(latencies) * 0.95)] * 1000:8.2f} ms")
    print(f"latency max     {latencies[-1] * 1000:8.2f} ms")
    return 0


if __name__ == "__main__":
    sys.exit(main())
