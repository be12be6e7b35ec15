"""What a letter costs (`make bench`): rendering every template for every marketplace x language x step, and
writing the printed (PDF) letter, in CPU time per letter.

    python bench/letters_speed.py [--rounds 3]
"""

from __future__ import annotations

import argparse
import sys
import time
from datetime import UTC, date, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from rules.letters import LANGUAGES, LetterFacts, render  # noqa: E402 - after the path set-up
from rules.printable import PrintedLetter, render_pdf  # noqa: E402
from rules.verdict import verdict  # noqa: E402
from tests.rules_helpers import at, delivered, one, ordered, policy  # noqa: E402

MARKETPLACES = ["amazon.fr", "amazon.co.uk", "amazon.de", "amazon.it", "amazon.es", "amazon.com", "amazon.ca",
                "amazon.nl", "amazon.com.be", "amazon.pl", "amazon.se", "amazon.co.jp"]
NOW = datetime(2026, 12, 20, 12, tzinfo=UTC)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rounds", type=int, default=3)
    rounds = parser.parse_args().rounds
    cases = []
    for marketplace in MARKETPLACES:
        missing = one(ordered(date(2026, 12, 8), marketplace=marketplace, items=("Bouilloire",)))
        arrived = one(ordered(date(2026, 12, 8), marketplace=marketplace, items=("Bouilloire",)),
                      delivered(at(2026, 12, 11, 10), marketplace=marketplace))
        steps = [("A", 1, arrived), ("B", 1, missing), ("B", 2, missing), ("C", 1, arrived)]
        cases += [(language, *step) for language in LANGUAGES for step in steps]
    letters = []
    start = time.process_time()
    for _ in range(rounds):
        letters = []
        for language, track, step, shipment in cases:
            rules = policy(language=language, sender_name="Camille Martin")
            facts = LetterFacts(shipment, verdict(shipment, NOW, rules), track, step, NOW, rules, at(2026, 12, 9))
            letters.append((shipment.marketplace, render(facts)))
    per_letter = (time.process_time() - start) / (rounds * len(cases))
    print(f"letters rendered: {len(cases)} per round x {rounds}; CPU {per_letter * 1000:.2f} ms per letter")

    sample = letters[:: max(1, len(letters) // 40)]  # every language's script, Japanese included
    start = time.process_time()
    size = 0
    for marketplace, letter in sample:
        pdf = render_pdf(PrintedLetter(letter.language, marketplace, ("Camille Martin", "12 rue des Lilas",
                                                                      "75011 Paris"),
                                       ("Amazon EU S.à r.l.", "38 avenue John F. Kennedy", "L-1855 Luxembourg"),
                                       "Paris", date(2026, 12, 20), letter.subject, "171-1234567-1234567",
                                       letter.body, True))
        size += len(pdf)
    per_pdf = (time.process_time() - start) / len(sample)
    kilobytes = size / len(sample) / 1024
    print(f"printed letters: {len(sample)}; CPU {per_pdf * 1000:.1f} ms per PDF, {kilobytes:.1f} KB each")
    return 0


if __name__ == "__main__":
    sys.exit(main())
