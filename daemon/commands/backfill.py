"""`lateclaim backfill --since DATE`: import the Amazon mail already in the mailbox, in batches.

It reads like a sync pass (daemon/passes/sync.py), from the first UID of the folder: memory stays bounded
(downloads in batches bounded in bytes, each batch recorded before the next is fetched), and it can be
interrupted and run again: messages already recorded are recognised by their Message-ID, read from the headers
alone, and not downloaded again. Claims about promises broken longer ago than
claims.max_age_days are not started.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from datetime import date, datetime
from typing import TextIO

from daemon.config import Config
from daemon.mail.imap import ImapMailbox
from daemon.passes.pipeline import PassResult, imap_settings, sync_with
from daemon.passes.sync import SyncSummary, read_folder
from daemon.state.store import Store
from parsers.marketplaces import sender_domains


@dataclass
class BackfillSummary:
    matching: int = 0
    downloaded: int = 0
    already_known: int = 0
    interrupted: bool = False
    final_pass: PassResult | None = None


class Progress:
    """A one-line bar on a terminal, a line every tenth otherwise (a log file, a pipe)."""

    def __init__(self, out: TextIO, folder: str, total: int) -> None:
        self.out, self.folder, self.total = out, folder, total
        self.tty = out.isatty()
        self.shown = -1

    def heard(self, reading: SyncSummary) -> None:
        self.update(reading.fetched)

    def update(self, done: int) -> None:
        share = done / self.total if self.total else 1.0
        if self.tty:
            bar = "#" * int(share * 30)
            self.out.write(f"\r{self.folder}: [{bar:<30}] {done}/{self.total}")
            if done == self.total:
                self.out.write("\n")
        elif int(share * 10) > self.shown:
            self.shown = int(share * 10)
            self.out.write(f"{self.folder}: {done}/{self.total} messages ({share:.0%})\n")
        self.out.flush()


def backfill(config: Config, since: date, now: datetime, out: TextIO,
             stop: threading.Event | None = None) -> BackfillSummary:
    summary = BackfillSummary()
    with ImapMailbox(imap_settings(config)) as mailbox, Store(config.state.path) as store:
        for folder in mailbox.folders_to_read():
            state = mailbox.scan(folder, None, 0, sender_domains(), since=since)
            summary.matching += len(state.uids)
            progress = Progress(out, folder, len(state.uids))
            progress.update(0)
            reading = SyncSummary()
            finished = read_folder(mailbox, store, config, now, state, 0, reading, stop, progress.heard)
            summary.downloaded += reading.fetched
            summary.already_known += len(state.uids) - reading.fetched - reading.refused
            progress.update(len(state.uids))
            if not finished:
                summary.interrupted = True
                return summary
        summary.final_pass = sync_with(mailbox, config, now, stop, store=store)  # the lock held all along
    return summary
