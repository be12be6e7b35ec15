"""`lateclaim sync --dry-run [--as-of ...]`: what a pass would do, writing nothing anywhere.

The pass runs whole, on a copy of the state file in a private temporary directory, reading the mailbox as a
pass does (read-only: EXAMINE and BODY.PEEK) and putting its letters in a temporary folder instead of Drafts or
SMTP. The copy and the folder are deleted at the end: the state file, the mailbox and the SMTP server are left
exactly as they were, and no lock is taken on the state file (its copy is read as SQLite's backup reads it).
It is the one way to act as of a moment later than now (the clock only moves forward for what really writes).
"""

from __future__ import annotations

import dataclasses
import sqlite3
import tempfile
from datetime import datetime
from pathlib import Path

from daemon.config import Config
from daemon.mail.imap import ImapMailbox
from daemon.passes.delivery import Channels
from daemon.passes.outbox import DirOutbox
from daemon.passes.pipeline import imap_settings, run_pass
from daemon.state.store import Store


def _copy_state(state: Path, copy: Path) -> None:
    if not state.exists():
        return  # a first run: the pass starts from nothing, as a real one would
    source = sqlite3.connect(f"{state.resolve().as_uri()}?mode=ro", uri=True)
    target = sqlite3.connect(copy)
    try:
        source.backup(target)
    finally:
        target.close()
        source.close()


def dry_run(config: Config, now: datetime) -> str:
    """One pass as of `now` on a throwaway copy; the lines that say what it would have done."""
    # No notice to the user's inbox either: a dry run tells only on standard output.
    config = dataclasses.replace(config, notices=dataclasses.replace(config.notices, enabled=False))
    with tempfile.TemporaryDirectory(prefix="lateclaim-dry-run-") as workdir:
        copy = Path(workdir) / "state.db"
        _copy_state(config.state.path, copy)
        letters = DirOutbox(Path(workdir) / "letters")
        with ImapMailbox(imap_settings(config)) as mailbox, Store(copy) as store:
            channels = Channels(drafts=letters, smtp=letters, mailbox=mailbox)  # letters already there: adopted
            result = run_pass(mailbox, channels, store, config, now, mailbox=mailbox)
            claims = {c.id: c for c in store.claims()}
    lines = [f"Dry run as of {now.isoformat(timespec='minutes')} (nothing was written: no draft, no email, "
             f"the state file untouched): {result.sync.new} new messages would be read."]
    for claim_id in result.evaluation.created:
        claim = claims[claim_id]
        lines.append(f"  would create claim for order {claim.order_id}, parcel {claim.shipment}: {claim.subject}")
    for claim_id in result.delivered:
        claim = claims[claim_id]
        where = "send" if claim.status == "sent" else "draft"
        lines.append(f"  would {where}: {claim.subject} (order {claim.order_id})")
    for claim_id in result.evaluation.withdrawn:
        lines.append(f"  would withdraw: {claims[claim_id].subject} (order {claims[claim_id].order_id})")
    if len(lines) == 1:
        lines.append("  nothing would be written or sent.")
    return "\n".join(lines)
