"""One contract for every MailSource (daemon.passes.sync): what a sync relies on, run against each source.

As vdirsyncer's StorageTests do for its storages, the tests live in one class and each source's subclass says only
how to deliver a message to it and how to open it: the real Dovecot behind ImapMailbox, and the .eml folder
behind EmlDirMailbox (the demo, offline imports).
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from contextlib import AbstractContextManager
from pathlib import Path

import pytest

from daemon.mail.emldir import EmlDirMailbox
from daemon.mail.imap import ImapMailbox, ImapSettings
from daemon.passes.sync import MailSource
from parsers.marketplaces import sender_domains
from tests.servers.dovecot import Account, Dovecot

DOMAINS = sender_domains()


def email(n: int, sender: str = "\"Amazon.fr\" <shipment-tracking@amazon.fr>") -> bytes:
    """Message n, sent on day n of November: later mail has a later Date, as it does in a real mailbox."""
    return (f"From: {sender}\r\nTo: alex@example.com\r\nSubject: Colis {n}\r\n"
            f"Message-ID: <contract-{n}@example.com>\r\nDate: {n:02d} Nov 2026 09:00:00 +0000\r\n"
            f"MIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n"
            f"Arrivée : {n + 2} novembre\r\nCommande n° 402-{n:07d}-7654321\r\n").encode()


class MailSourceContract:
    """What every MailSource does. A subclass defines deliver(), open() and snapshot()."""

    def deliver(self, raw: bytes) -> None:
        raise NotImplementedError

    def open(self) -> AbstractContextManager[MailSource]:
        raise NotImplementedError

    def snapshot(self) -> object:
        """Everything reading could change, read around the source (server-side, or on disk)."""
        raise NotImplementedError

    def read_all(self, source: MailSource, uidvalidity: int | None = None, last_uid: int = 0
                 ) -> tuple[str, int, dict[int, bytes]]:
        [folder] = source.folders_to_read()
        state = source.scan(folder, uidvalidity, last_uid, DOMAINS)
        assert list(state.uids) == sorted(set(state.uids))  # ascending, each once
        return folder, state.uidvalidity, dict(source.fetch(folder, state.uids))

    def test_a_scan_lists_the_amazon_mail_in_arrival_order_and_fetch_gives_it_whole(self) -> None:
        for n in (1, 2, 3):
            self.deliver(email(n))
        with self.open() as source:
            _, _, found = self.read_all(source)
        assert [message_id(raw) for raw in found.values()] == ["contract-1", "contract-2", "contract-3"]
        assert [body(raw) for raw in found.values()] == [body(email(n)) for n in (1, 2, 3)]

    def test_mail_from_other_senders_is_never_listed(self) -> None:
        self.deliver(email(1, sender="Deals <news@example.com>"))
        self.deliver(email(2))
        self.deliver(email(3, sender="friend@example.org"))
        with self.open() as source:
            _, _, found = self.read_all(source)
            with pytest.raises(ValueError, match="no sender domains"):
                source.scan(source.folders_to_read()[0], None, 0, [])
        assert [message_id(raw) for raw in found.values()] == ["contract-2"]

    def test_from_its_cursor_a_scan_finds_only_the_newer_mail(self) -> None:
        self.deliver(email(1))
        self.deliver(email(2))
        with self.open() as source:
            folder, uidvalidity, first = self.read_all(source)
            assert self.read_all(source, uidvalidity, max(first))[2] == {}  # nothing new: nothing listed
        self.deliver(email(3))
        self.deliver(email(4))
        with self.open() as source:
            again, same_validity, newer = self.read_all(source, uidvalidity, max(first))
            assert (again, same_validity) == (folder, uidvalidity)
            assert min(newer) > max(first)
            assert [message_id(raw) for raw in newer.values()] == ["contract-3", "contract-4"]
            # The UIDs read before still name the same messages.
            assert dict(source.fetch(folder, sorted(first))) == first

    def test_a_cursor_of_another_uidvalidity_reads_everything_again(self) -> None:
        for n in (1, 2):
            self.deliver(email(n))
        with self.open() as source:
            _, uidvalidity, first = self.read_all(source)
            assert self.read_all(source, uidvalidity + 1, max(first))[2] == first

    def test_fetch_gives_each_message_once_whatever_the_batch(self) -> None:
        for n in (1, 2, 3, 4, 5):
            self.deliver(email(n))
        with self.open() as source:
            folder, _, found = self.read_all(source)
            for batch in (1, 2, 50):
                assert list(source.fetch(folder, sorted(found), batch=batch)) == sorted(found.items())
            assert list(source.fetch(folder, [])) == []

    def test_reading_changes_nothing(self) -> None:
        for n in (1, 2):
            self.deliver(email(n))
        before = self.snapshot()
        with self.open() as source:
            self.read_all(source)
            self.read_all(source)
        assert self.snapshot() == before


def message_id(raw: bytes) -> str:
    line = next(line for line in raw.splitlines() if line.startswith(b"Message-ID:"))
    return line.split(b"<")[1].split(b"@")[0].decode()


def body(raw: bytes) -> bytes:
    return raw.replace(b"\r\n", b"\n").split(b"\n\n", 1)[1]


class TestImapMailbox(MailSourceContract):
    @pytest.fixture(autouse=True)
    def account(self, dovecot: Dovecot, imap_account: Account) -> None:
        self.dovecot, self.user = dovecot, imap_account.username
        self.settings = ImapSettings("127.0.0.1", imap_account.tls_port, "tls", imap_account.username,
                                     imap_account.password, ca_file=imap_account.ca_file)

    def deliver(self, raw: bytes) -> None:
        self.dovecot.deliver(self.user, raw)

    def open(self) -> AbstractContextManager[MailSource]:
        return ImapMailbox(self.settings)

    def snapshot(self) -> object:
        return self.dovecot.flags(self.user, "INBOX"), self.dovecot.messages(self.user, "INBOX")


class TestEmlDirMailbox(MailSourceContract):
    @pytest.fixture(autouse=True)
    def folder(self, tmp_path: Path) -> Iterator[None]:
        self.path = tmp_path / "mail"
        self.path.mkdir()
        self.delivered = 0
        yield

    def deliver(self, raw: bytes) -> None:
        self.delivered += 1
        (self.path / f"{self.delivered:04d}.eml").write_bytes(raw)

    def open(self) -> AbstractContextManager[MailSource]:
        return contextlib.nullcontext(EmlDirMailbox(self.path))

    def snapshot(self) -> object:
        return {p.name: (p.read_bytes(), p.stat().st_mtime_ns) for p in sorted(self.path.iterdir())}
