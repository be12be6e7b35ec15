"""The long fuzz run: mutated real-shaped emails through parse() and the state file (`make bench`).

Each message is one of the project's fixture emails with a random slice replaced by random bytes, or random
bytes alone. Every one must come out parsed, ignored or quarantined with a reason, and be recorded once; no
exception may escape. Prints the counts and the rate.

    python bench/fuzz_ingest.py [--messages 10000] [--seed 1]
"""

from __future__ import annotations

import argparse
import logging
import random
import sys
import tempfile
import time
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import parsers  # noqa: E402 - after the path set-up
from daemon.state.store import Store  # noqa: E402

NOW = datetime(2026, 11, 24, 12, tzinfo=UTC)


def mutate(rng: random.Random, samples: list[bytes]) -> bytes:
    if rng.random() < 0.1:
        return rng.randbytes(rng.randint(0, 4000))
    sample = rng.choice(samples)
    start = rng.randint(0, len(sample))
    cut = rng.randint(0, 600)
    return sample[:start] + rng.randbytes(rng.randint(0, 600)) + sample[start + cut:]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--messages", type=int, default=10_000)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    logging.getLogger("mailparser").setLevel(logging.ERROR)  # it quotes broken MIME parts: keep the output short
    rng = random.Random(args.seed)
    samples = [p.read_bytes() for p in sorted((ROOT / "tests" / "fixtures" / "amazon").rglob("*.eml"))]
    statuses: Counter[str] = Counter()
    unexplained = recorded = 0
    started = time.perf_counter()
    with tempfile.TemporaryDirectory() as tmp, Store(Path(tmp) / "fuzz.db") as store:
        for uid in range(1, args.messages + 1):
            result = parsers.parse(mutate(rng, samples))
            statuses[result.status.value] += 1
            unexplained += result.status.value != "parsed" and not result.reason
            recorded += store.ingest("INBOX", 1, uid, result, parsers.PARSER_VERSION, NOW)
        stored = sum(store.message_counts().values())
    elapsed = time.perf_counter() - started
    print(f"{args.messages} mutated messages in {elapsed:.1f} s ({args.messages / elapsed:.0f}/s): "
          + ", ".join(f"{k} {v}" for k, v in sorted(statuses.items())))
    print(f"recorded {recorded} (the rest were duplicates of an identity already stored), in the store {stored}; "
          f"without a reason: {unexplained}; exceptions: 0")
    return 0 if unexplained == 0 and stored == recorded else 1


if __name__ == "__main__":
    sys.exit(main())
