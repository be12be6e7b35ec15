"""A folder of .eml files read like a mailbox: the bundled demo mailbox, and offline imports.

Files get UIDs 1, 2, 3... in the order they arrived (their Date header, then their name), as a mail server numbers
them; the folder's UIDVALIDITY is fixed, so a second pass finds nothing new. With `until`, the mailbox shows only
what had arrived by then: the demo lives through the days with it.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from datetime import UTC, datetime
from email.parser import BytesHeaderParser
from email.utils import parsedate_to_datetime
from pathlib import Path

from daemon.mail.imap import FolderState

UIDVALIDITY = 1


def _arrived(path: Path) -> datetime:
    with path.open("rb") as file:
        header = BytesHeaderParser().parse(file).get("Date", "")
    try:
        moment = parsedate_to_datetime(str(header))
    except (TypeError, ValueError):
        return datetime.min.replace(tzinfo=UTC)
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


class EmlDirMailbox:
    def __init__(self, path: Path, until: datetime | None = None) -> None:
        self.path = path
        dated = sorted((_arrived(p), p.name, p) for p in path.iterdir() if p.suffix == ".eml")
        self.files = [p for arrived, _, p in dated if until is None or arrived <= until]

    def folders_to_read(self) -> list[str]:
        return [self.path.name]

    def scan(self, folder: str, uidvalidity: int | None, last_uid: int, sender_domains: Sequence[str]) -> FolderState:
        start = last_uid if uidvalidity == UIDVALIDITY else 0
        return FolderState(folder, UIDVALIDITY, tuple(range(start + 1, len(self.files) + 1)))

    def fetch(self, folder: str, uids: Sequence[int], batch: int = 50) -> Iterator[tuple[int, bytes]]:
        for uid in uids:
            yield uid, self.files[uid - 1].read_bytes()
