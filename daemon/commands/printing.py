"""`lateclaim claims letter ID --pdf FILE`: a recorded claim as a printed letter, for registered post.

The letter is written again as of the day it is printed, the day it leaves: its date, the date it says the parcel
is still missing on, and the deadline it sets (lengthened by the post's time when it goes by registered post) are
those of that day, never of the day the draft was first written. The deadline it states is recorded with the
claim, so that the termination waits for it.
"""

from __future__ import annotations

import errno
import hashlib
from dataclasses import dataclass, replace
from datetime import datetime
from pathlib import Path

from daemon.config import Config
from daemon.errors import ConfigError
from daemon.files import write_whole
from daemon.passes.evaluate import past_claim, policy_of
from daemon.passes.guidance import shipment_of, situation
from daemon.state.store import Claim, Store
from rules.contacts import retailer, uses_registered_post
from rules.letters import Letter, LetterFacts, is_formal, jurisdiction, printed, render, stated_deadline
from rules.printable import PrintedLetter, render_pdf, town
from rules.verdict import verdict


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


def _as_printed(store: Store, claim: Claim, config: Config, now: datetime, posted: bool) -> Letter:
    """The claim's letter written as of `now`, going by post or not. A claim whose parcel is no longer in the
    state (its mail was removed) keeps the words it was written with."""
    shipment = shipment_of(store, claim)
    if shipment is None:
        return Letter(claim.language, claim.subject, claim.body)
    policy = replace(policy_of(config), posted=posted)
    previous = next((c for c in store.claims() if (c.order_id, c.shipment, c.track, c.step)
                     == (claim.order_id, claim.shipment, claim.track, claim.step - 1)), None)
    before = past_claim(previous) if previous is not None and claim.track in ("B", "C") else None
    return render(LetterFacts(shipment, verdict(shipment, now, policy), claim.track, claim.step, now, policy,
                              before.went_out if before else None,
                              previous_deadline=before.deadline if before else None))


def print_letter(store: Store, claim: Claim, config: Config, now: datetime, pdf: Path) -> Printed:
    """Write the claim as a PDF letter at `pdf` (0600: it carries your address), written and dated as of `now`,
    the day it leaves; record the deadline it states with the claim."""
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
    registered = is_formal(claim.track, claim.step) and uses_registered_post(facts.marketplace)
    # Dated the day it leaves, and never before the day it was written (a replay with --as-of in the past).
    when = max(now, claim.created_at)
    words = printed(_as_printed(store, claim, config, when, registered))
    day = when.astimezone(config.rules.timezone).date()
    letter = PrintedLetter(
        language=words.language, marketplace=facts.marketplace,
        sender=(config.claims.signature, *config.claims.postal_address), recipient=recipient,
        place=config.claims.place or town(config.claims.postal_address[-1]), day=day, subject=words.subject,
        order_id=claim.order_id, body=words.body, registered=registered,
        email=config.claims.sender or config.mailbox.username,
        country=jurisdiction(facts.marketplace, policy_of(config)),
    )
    data = render_pdf(letter)
    if pdf.exists() and not _own_letter(pdf, store):
        raise OSError(errno.EEXIST, "it exists and is not a letter lateclaim printed; lateclaim replaces only its "
                      "own (name another file)")
    write_whole(pdf, data)
    deadline = stated_deadline(claim.track, claim.step, day, policy_of(config), facts.marketplace, registered)
    evidence = dict(claim.evidence)
    if deadline is not None and deadline.isoformat() > str(evidence.get("deadline_given", "")):
        evidence["deadline_given"] = deadline.isoformat()  # the termination waits for the later of the two
    evidence["printed_at"] = when.isoformat()
    # How a later `claims letter` knows the file is its own and may replace it: the PDF names no tool.
    evidence["printed_sha256"] = [*evidence.get("printed_sha256", []), hashlib.sha256(data).hexdigest()][-5:]
    store.update_claim(claim.id, now, evidence=evidence, note=f"printed, dated {day.isoformat()}")
    return Printed(pdf, recipient[0], day.isoformat(), warnings)


def _own_letter(path: Path, store: Store) -> bool:
    """A PDF that `claims letter` wrote (its digest is recorded with a claim): the only existing file --pdf may
    replace."""
    if not path.is_file() or path.stat().st_size > 20_000_000:
        return False
    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    return any(digest in c.evidence.get("printed_sha256", []) for c in store.claims())
