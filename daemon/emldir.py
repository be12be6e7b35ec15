"""A folder of .eml files read like a mailbox: the bundled demo mailbox, and offline imports.

Files sorted by name get UIDs 1, 2, 3...; the folder's UIDVALIDITY is fixed, so a second pass finds nothing new.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from pathlib import Path

from daemon.imap import FolderState

UIDVALIDITY = 1


class EmlDirMailbox:
    def __init__(self, path: Path) -> None:
        self.path = path
        self.files = sorted(p for p in path.iterdir() if p.suffix == ".eml")

    def folders_to_read(self) -> list[str]:
        return [self.path.name]

    def scan(self, folder: str, uidvalidity: int | None, last_uid: int, sender_domains: Sequence[str]) -> FolderState:
        start = last_uid if uidvalidity == UIDVALIDITY else 0
        return FolderState(folder, UIDVALIDITY, tuple(range(start + 1, len(self.files) + 1)))

    def fetch(self, folder: str, uids: Sequence[int], batch: int = 50) -> Iterator[tuple[int, bytes]]:
        for uid in uids:
            yield uid, self.files[uid - 1].read_bytes()
