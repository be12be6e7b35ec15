"""Parser speed in CPU time per email (so that a loaded machine does not hide it), end to end: MIME, HTML,
extraction, authentication, in this one process; and in the same run, on the same emails, the cost of the
libraries alone (mail-parser's parse of the message, BeautifulSoup's parse of its HTML part with the same builder
and options parsers/html.py uses), so that the figure shows how much of the time is lateclaim's own.

Two sets: "realistic" (bench/_realistic.py: 20 Amazon-shaped emails of our own, 52-102 KB, 30-90 KB of HTML,
in the development corpus' proportions of kinds and languages) and, when present, the development corpus
(../shared/corpus: 20 real emails, mean 44 KB). Targets on the realistic set: >= 100 emails per CPU-second,
lateclaim's own share <= 25 % of the total, p95 <= 2.5 x the median.

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

TARGET_PER_CPU_SECOND = 100
TARGET_OWN_SHARE = 0.25
TARGET_P95_RATIO = 2.5


def libraries_alone(raw: bytes) -> None:
    """What the libraries cost on this email: mail-parser reads it, BeautifulSoup reads its HTML part."""
    import mailparser

    from parsers.html import soup

    parsed = mailparser.parse_from_bytes(raw)
    for part in parsed.message.walk():
        if part.get_content_type() == "text/html":
            payload = part.get_payload(decode=True)
            charset = part.get_content_charset()
            soup(payload.decode(charset, "replace") if charset else payload)
            break


def corpus_dir(given: Path | None) -> Path | None:
    """../shared/corpus from the project root (a worktree sits one level deeper)."""
    candidates = [given] if given else [ROOT.parent / "shared" / "corpus", ROOT.parent.parent / "shared" / "corpus"]
    return next((c for c in candidates if c is not None and (c / "emails").is_dir()), None)


def _cpu(emails: list[bytes], rounds: int) -> tuple[list[float], list[float]]:
    """CPU seconds of parse() and of the libraries alone, email by email, each measured right after the other so
    that a machine whose load changes during the run weighs on both alike."""
    for raw in emails:  # warm-up: phrase data, CLDR names, compiled patterns
        parse(raw)
        libraries_alone(raw)
    whole, libraries = [], []
    for _ in range(rounds):
        for raw in emails:
            started = time.process_time()
            parse(raw)
            middle = time.process_time()
            libraries_alone(raw)
            whole.append(middle - started)
            libraries.append(time.process_time() - middle)
    return sorted(whole), sorted(libraries)


def measure(name: str, emails: list[bytes], rounds: int) -> tuple[float, float, float]:
    """(emails per CPU-second, lateclaim's own share of the time, p95 / median)."""
    cpu, libraries = _cpu(emails, rounds)
    per_second = len(cpu) / sum(cpu)
    own = 1 - sum(libraries) / sum(cpu)
    median, p95 = statistics.median(cpu), cpu[int(len(cpu) * 0.95)]
    size = sum(map(len, emails)) / len(emails) / 1024
    print(f"{name}: {len(emails)} emails (mean {size:.1f} KiB, {min(map(len, emails)) // 1024}-"
          f"{max(map(len, emails)) // 1024} KiB) x {rounds} rounds")
    print(f"  CPU per email   median {median * 1000:6.2f} ms   p95 {p95 * 1000:6.2f} ms ({p95 / median:.1f} x the "
          f"median)   max {cpu[-1] * 1000:6.2f} ms")
    print(f"  throughput      {per_second:6.0f} emails per CPU-second")
    print(f"  libraries alone median {statistics.median(libraries) * 1000:6.2f} ms (mail-parser + BeautifulSoup/lxml), "
          f"{len(libraries) / sum(libraries):4.0f} emails per CPU-second: the ceiling on this machine as loaded now")
    print(f"  lateclaim's own work {own:4.0%} of the total")
    return per_second, own, p95 / median


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--corpus", type=Path)
    parser.add_argument("--rounds", type=int, default=20)
    args = parser.parse_args()
    rate, own, spread = measure("realistic set (bench/_realistic.py)", [raw for _, raw in realistic_emails()],
                                args.rounds)
    corpus = corpus_dir(args.corpus)
    if corpus is None:
        print("development corpus: not found (expected ../shared/corpus/emails); pass --corpus DIR")
    else:
        measure(f"development corpus ({corpus})", [f.read_bytes() for f in sorted((corpus / "emails").glob("*.eml"))],
                args.rounds)
    for target, met in ((f">= {TARGET_PER_CPU_SECOND} emails per CPU-second", rate >= TARGET_PER_CPU_SECOND),
                        (f"own work <= {TARGET_OWN_SHARE:.0%} of the total", own <= TARGET_OWN_SHARE),
                        (f"p95 <= {TARGET_P95_RATIO} x the median", spread <= TARGET_P95_RATIO)):
        print(f"target {target} on the realistic set: {'met' if met else 'NOT met'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
