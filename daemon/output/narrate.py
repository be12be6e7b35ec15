"""What a pass did, in sentences for the person at the terminal (`lateclaim sync`, `lateclaim run` in the
foreground): which claims were written, for which item, where they are, what waits. The logs stay for the journal.
"""

from __future__ import annotations

from datetime import date
from typing import TYPE_CHECKING

from daemon.config import Config
from daemon.output.present import STEP_WORDS
from daemon.state.store import Claim, Store

if TYPE_CHECKING:
    from daemon.passes.pipeline import PassResult
    from daemon.passes.sync import SyncSummary

ITEM_WIDTH = 40
SHOWN = 5  # claims named one by one; beyond this, counted


def _item(claim: Claim) -> str:
    items = claim.evidence.get("items") or []
    if not items:
        return "your parcel"
    title = " ".join(str(items[0]).split())
    return title if len(title) <= ITEM_WIDTH else title[:ITEM_WIDTH - 1].rstrip(" ,;:-") + "…"


def _what(claim: Claim) -> str:
    """"a 'where is my parcel?' for Wireless Over-Ear Headphones (order 203-8841957-6620374)"."""
    step = f"{claim.track}{claim.step}"
    return f"a '{STEP_WORDS.get(step, step)}' for {_item(claim)} (order {claim.order_id})"


def _due(claim: Claim) -> str:
    due = claim.evidence.get("deadline") or claim.evidence.get("expected_end")
    if not isinstance(due, str):
        return ""
    return f", {'promised for' if claim.track == 'A' else 'due since'} {date.fromisoformat(due):%a %d %b}"


def _plural(count: int, one: str, many: str) -> str:
    return f"{count} {one if count == 1 else many}"


def _where(claim: Claim, config: Config) -> str:
    if claim.status == "drafted":
        return "it is in Drafts" if config.mailbox.username else "it is in the outbox folder"
    if claim.status == "sent":
        return f"sent to {config.claims.to}" if config.claims.to else "sent"
    if claim.status == "queued" and config.claims.mode == "review":
        return f"it waits for `lateclaim claims approve {claim.id}`"
    return f"it is {claim.status}"


def _mail_read(read: SyncSummary) -> str:
    if not read.new:
        return "No new mail."
    aside = read.statuses.get("quarantined", 0)
    return (f"Read {_plural(read.new, 'new email', 'new emails')}"
            + (f" ({_plural(aside, 'set aside', 'set aside')}: `lateclaim doctor` tells why)" if aside else "") + ".")


def sentences(result: PassResult, store: Store, config: Config) -> list[str]:
    """The pass in a few sentences: the mail read, each claim written (up to SHOWN), withdrawn or followed, the
    claims a cap holds, and what the user was told."""
    said = [_mail_read(result.sync)]
    claims = {c.id: c for c in store.claims()}
    written = [claims[i] for i in dict.fromkeys([*result.delivered, *result.evaluation.created])
               if i in claims and not claims[i].held]
    for claim in written[:SHOWN]:
        verb = {"drafted": "Drafted", "sent": "Sent"}.get(claim.status, "Wrote")
        said.append(f"{verb} {_what(claim)}{_due(claim)}; {_where(claim, config)}.")
    if len(written) > SHOWN:
        said.append(f"… and {_plural(len(written) - SHOWN, 'more claim', 'more claims')}: "
                    "`lateclaim claims list` shows them all.")
    for claim_id in result.evaluation.withdrawn:
        if claim_id in claims:
            said.append(f"Withdrew {_what(claims[claim_id])}: it no longer applies.")
    for followed in (claims[i] for i in result.followed if i in claims):
        what = _what(followed)
        said.append(f"{what[0].upper()}{what[1:]} is now {followed.status}.")
    held = [c for c in claims.values() if c.status == "queued" and c.held]
    if held:
        said.append(f"{_plural(len(held), 'claim waits', 'claims wait')} for the caps "
                    f"({config.claims.max_per_day} a day, {config.claims.max_per_year} a year): "
                    "each is written when the cap allows.")
    if len(said) == 1 and not held:
        said.append("No claim is due.")
    spoofed = [key for key in (result.notice.keys if result.notice else ()) if key.startswith("spoofed:")]
    if spoofed:
        said.append(f"{_plural(len(spoofed), 'parcel is', 'parcels are')} late or missing on the word of mail not "
                    "authenticated as Amazon's: no claim (`lateclaim orders` shows which).")
    if result.notice is not None:
        said.append(f"Left a note in your INBOX: “{result.notice.subject}”.")
    return said


def tell(result: PassResult, config: Config) -> None:
    """The pass in sentences on standard output, wrapped at the terminal's width on a terminal (never in the
    middle of an order number); the log line stays on standard error, for the journal."""
    import sys

    with Store(config.state.path, readonly=True) as store:
        said = sentences(result, store, config)
    if sys.stdout.isatty():
        import shutil
        import textwrap

        width = shutil.get_terminal_size().columns
        said = [textwrap.fill(line, width, subsequent_indent="  ", break_on_hyphens=False) for line in said]
    print("\n".join(said), flush=True)
