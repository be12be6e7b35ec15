"""Parser speed in CPU time per email (so that a loaded machine does not hide it), end to end: MIME, HTML,
extraction, authentication, in this one process.

Two sets: "realistic" (bench/_realistic.py: 20 Amazon-shaped emails of our own, 52-102 KB, 30-90 KB of HTML,
in the development corpus' proportions of kinds and languages) and, when present, the development corpus
(../shared/corpus: 20 real emails, mean 44 KB). Target: >= 300 emails per CPU-second on the realistic set.

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

from bench._realistic import emails as realistic_emails  # noqa: E402 - after the path set-up
from parsers import parse  # noqa: E402

TARGET_PER_CPU_SECOND = 300


def corpus_dir(given: Path | None) -> Path | None:
    """../shared/corpus from the project root (a worktree sits one level deeper)."""
    candidates = [given] if given else [ROOT.parent / "shared" / "corpus", ROOT.parent.parent / "shared" / "corpus"]
    return next((c for c in candidates if c is not None and (c / "emails").is_dir()), None)


def measure(name: str, emails: list[bytes], rounds: int) -> float:
    for raw in emails:  # warm-up: phrase data, CLDR names, compiled patterns
        parse(raw)
    cpu = []
    for _ in range(rounds):
        for raw in emails:
            started = time.process_time()
            parse(raw)
            cpu.append(time.process_time() - started)
    cpu.sort()
    per_second = len(cpu) / sum(cpu)
    size = sum(map(len, emails)) / len(emails) / 1024
    print(f"{name}: {len(emails)} emails (mean {size:.1f} KiB, {min(map(len, emails)) // 1024}-"
          f"{max(map(len, emails)) // 1024} KiB) x {rounds} rounds")
    print(f"  CPU per email   median {statistics.median(cpu) * 1000:6.2f} ms   p95 "
          f"{cpu[int(len(cpu) * 0.95)] * 1000:6.2f} ms   max {cpu[-1] * 1000:6.2f} ms")
    print(f"  throughput      {per_second:6.0f} emails per CPU-second")
    return per_second


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--corpus", type=Path)
    parser.add_argument("--rounds", type=int, default=20)
    args = parser.parse_args()
    rate = measure("realistic set (bench/_realistic.py)", [raw for _, raw in realistic_emails()], args.rounds)
    corpus = corpus_dir(args.corpus)
    if corpus is None:
        print("development corpus: not found (expected ../shared/corpus/emails); pass --corpus DIR")
    else:
        measure(f"development corpus ({corpus})", [f.read_bytes() for f in sorted((corpus / "emails").glob("*.eml"))],
                args.rounds)
    print(f"target >= {TARGET_PER_CPU_SECOND} emails per CPU-second on the realistic set: "
          f"{'met' if rate >= TARGET_PER_CPU_SECOND else 'NOT met'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
