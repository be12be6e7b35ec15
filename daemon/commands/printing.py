"""`lateclaim claims letter ID --pdf FILE`: a recorded claim as a printed letter, for registered post."""

from __future__ import annotations

import errno
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from daemon.config import Config
from daemon.errors import ConfigError
from daemon.files import write_whole
from daemon.passes.guidance import situation
from daemon.state.store import Claim, Store
from rules.contacts import retailer, uses_registered_post
from rules.printable import CREATOR, PrintedLetter, render_pdf, town


@dataclass(frozen=True)
class Printed:
    path: Path
    recipient: str
    dated: str
    warnings: list[str]


def _needs(config: Config) -> list[str]:
    where = str(config.source) if config.source else "config"
    problems = []
    if not config.claims.postal_address:
        problems.append(f'{where}: claims.postal_address: expected your postal address lines, such as '
                        '["12 rue des Lilas", "75011 Paris"] (a printed letter carries the sender\'s address)')
    if not config.claims.signature:
        problems.append(f"{where}: claims.signature: expected your name (a printed letter is signed)")
    return problems


def print_letter(store: Store, claim: Claim, config: Config, now: datetime, pdf: Path) -> Printed:
    """Write the claim as a PDF letter at `pdf` (0600: it carries your address). The letter is dated the day the
    claim was written, the day its deadlines count from."""
    if problems := _needs(config):
        raise ConfigError(problems)
    facts = situation(store, claim, config, now)
    warnings = []
    if facts.seller:
        recipient: tuple[str, ...] = (facts.seller,)
        warnings.append(f"{facts.seller} is a marketplace seller: add its postal address by hand (its seller page "
                        "on Amazon, \"Detailed Seller Information\" / Impressum, gives it)")
    else:
        entity = retailer(facts.marketplace)
        if entity is None:
            recipient = ("Amazon",)
            warnings.append(f"no postal address is known for {facts.marketplace or 'this marketplace'}: add it by "
                            "hand from the site's Conditions of Use")
        else:
            recipient = tuple(entity.lines(claim.language))
            if not entity.verified:
                warnings.append(f"{entity.name}'s address was not verified: check it in the Conditions of Sale "
                                f"of {facts.marketplace}")
    formal = claim.track in ("B", "C") and claim.step >= 2
    day = claim.created_at.astimezone(config.rules.timezone).date()
    letter = PrintedLetter(
        language=claim.language, marketplace=facts.marketplace,
        sender=(config.claims.signature, *config.claims.postal_address), recipient=recipient,
        place=config.claims.place or town(config.claims.postal_address[-1]), day=day, subject=claim.subject,
        order_id=claim.order_id, body=claim.body, registered=formal and uses_registered_post(facts.marketplace),
    )
    data = render_pdf(letter)
    if pdf.exists() and not _own_letter(pdf):
        raise OSError(errno.EEXIST, "it exists and is not a letter lateclaim printed; lateclaim replaces only its "
                      "own (name another file)")
    write_whole(pdf, data)
    return Printed(pdf, recipient[0], day.isoformat(), warnings)


def _own_letter(path: Path) -> bool:
    """A PDF that `claims letter` wrote (its creator field): the only existing file --pdf may replace."""
    if not path.is_file() or path.stat().st_size > 5_000_000:
        return False
    data = path.read_bytes()
    return data.startswith(b"%PDF-") and f"/Creator ({CREATOR})".encode() in data
