"""A folder of .eml files read like a mailbox: the bundled demo mailbox, and offline imports.

Files get UIDs 1, 2, 3... in the order they arrived (their Date header, then their name), as a mail server numbers
them; the folder's UIDVALIDITY is fixed, so a second pass finds nothing new. A scan lists only mail whose From
header names one of the sender domains, as the IMAP search does (FROM is a substring match there too). With
`until`, the mailbox shows only what had arrived by then: the demo lives through the days with it.

A UID stays with its file while files are only added after the others (the demo's days, a folder filled in date
order); a file added later with an older Date moves the UIDs after it, so an import is best made in one go.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from datetime import UTC, datetime
from email.parser import BytesHeaderParser
from email.utils import parsedate_to_datetime
from pathlib import Path

from daemon.mail.imap import Described, FolderState

UIDVALIDITY = 1


def _headers(path: Path) -> tuple[datetime, str]:
    """When the file's message arrived (its Date; the earliest moment without one) and its From header."""
    with path.open("rb") as file:
        headers = BytesHeaderParser().parse(file)
    sender = str(headers.get("From", ""))
    try:
        moment = parsedate_to_datetime(str(headers.get("Date", "")))
    except (TypeError, ValueError):
        return datetime.min.replace(tzinfo=UTC), sender
    return (moment if moment.tzinfo else moment.replace(tzinfo=UTC)), sender


class EmlDirMailbox:
    def __init__(self, path: Path, until: datetime | None = None) -> None:
        self.path = path
        dated = sorted((*_headers(p), p.name, p) for p in path.iterdir() if p.suffix == ".eml")
        kept = [(sender.lower(), p) for arrived, sender, _, p in dated if until is None or arrived <= until]
        self.senders = [sender for sender, _ in kept]
        self.files = [p for _, p in kept]

    def folders_to_read(self) -> list[str]:
        return [self.path.name]

    def scan(self, folder: str, uidvalidity: int | None, last_uid: int, sender_domains: Sequence[str]) -> FolderState:
        if not sender_domains:
            raise ValueError("no sender domains: a search without them would match every message")
        start = last_uid if uidvalidity == UIDVALIDITY else 0
        domains = [d.lower() for d in sender_domains]
        return FolderState(folder, UIDVALIDITY, tuple(
            uid for uid in range(start + 1, len(self.files) + 1) if any(d in self.senders[uid - 1] for d in domains)))

    def fetch(self, folder: str, uids: Sequence[int], batch: int = 50) -> Iterator[tuple[int, bytes]]:
        for uid in uids:
            yield uid, self.files[uid - 1].read_bytes()

    def describe(self, folder: str, uids: Sequence[int]) -> dict[int, Described]:
        found = {}
        for uid in uids:
            path = self.files[uid - 1]
            with path.open("rb") as file:
                message_id = BytesHeaderParser().parse(file).get("Message-ID", "")
            found[uid] = Described(path.stat().st_size, f"Message-ID: {message_id}\r\n\r\n".encode()
                                   if message_id else b"")
        return found
