"""Each message downloaded once, ever: a message in two configured folders, a folder whose UIDVALIDITY changed,
and a message larger than the per-email limit all cost a header fetch, never a body, from the second pass on.

"Downloaded" is counted on the server's side: the `BODY[] {n}` literals in Dovecot's rawlog."""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from pathlib import Path

import parsers
from daemon.config import load
from daemon.mail.imap import Described, ImapMailbox
from daemon.passes.pipeline import imap_settings, sync_mailbox
from daemon.passes.sync import BATCH_BYTES, BATCH_MESSAGES, _batches
from daemon.state.store import Store
from tests import lateclaim_setup as setup
from tests.servers.dovecot import Account, Dovecot

AS_OF = datetime(2026, 11, 24, 12, 0, tzinfo=UTC)
SAMPLES = sorted(setup.SAMPLE_MAILBOX.glob("*.eml"))


def test_a_message_in_two_folders_is_downloaded_once(tmp_path: Path, dovecot: Dovecot, imap_account: Account) -> None:
    user = imap_account.username
    dovecot.doveadm("mailbox", "create", "-u", user, "Archive")
    for path in SAMPLES:
        dovecot.deliver(user, path.read_bytes())
        dovecot.deliver(user, path.read_bytes(), mailbox="Archive")  # the same message, filed twice
    config = load(setup.write_config(tmp_path, imap_account, mailbox={"folders": ["INBOX", "Archive"]}))

    first = sync_mailbox(config, AS_OF)
    downloaded = len(dovecot.bodies_sent(user))
    assert first.sync.fetched == downloaded  # INBOX's copies only...
    assert first.sync.known == downloaded  # ...Archive's were recognised from their Message-ID
    for _ in range(2):
        again = sync_mailbox(config, AS_OF)
        assert again.sync.fetched == again.sync.known == 0
    assert len(dovecot.bodies_sent(user)) == downloaded
    with Store(config.state.path) as store:  # each place is recorded (the same UIDs: filed in the same order)
        seen = {folder: store.seen_uids(folder, store.cursor(folder).uidvalidity or 0, range(1, 100))
                for folder in ("INBOX", "Archive")}
        assert len(seen["INBOX"]) == downloaded and seen["Archive"] == seen["INBOX"]


def test_after_a_uidvalidity_change_nothing_is_downloaded_again(
    tmp_path: Path, dovecot: Dovecot, imap_account: Account
) -> None:
    user = imap_account.username
    for path in SAMPLES:
        dovecot.deliver(user, path.read_bytes())
    config = load(setup.write_config(tmp_path, imap_account))
    first = sync_mailbox(config, AS_OF)
    dovecot.set_uidvalidity(user, "INBOX", 777)
    dovecot.deliver(user, SAMPLES[0].read_bytes().replace(b"Message-ID: <", b"Message-ID: <new-"))
    again = sync_mailbox(config, AS_OF)
    assert (again.sync.known, again.sync.fetched) == (first.sync.fetched, 1)  # only the new message
    for _ in range(2):
        later = sync_mailbox(config, AS_OF)
        assert later.sync.fetched == later.sync.known == 0
    assert len(dovecot.bodies_sent(user)) == first.sync.fetched + 1


def test_a_message_over_the_limit_is_quarantined_by_its_size_unread(
    tmp_path: Path, dovecot: Dovecot, imap_account: Account
) -> None:
    user = imap_account.username
    filler = b"A" * 76 + b"\r\n"
    huge = (b"From: Amazon <shipment-tracking@amazon.fr>\r\nTo: me@example.com\r\nSubject: Expedie\r\n"
            b"Message-ID: <huge@example.com>\r\nDate: Mon, 23 Nov 2026 10:00:00 +0000\r\n\r\n"
            + filler * (parsers.MAX_BYTES // len(filler) + 1000))
    dovecot.deliver(user, huge)
    dovecot.deliver(user, SAMPLES[1].read_bytes())
    config = load(setup.write_config(tmp_path, imap_account))
    first = sync_mailbox(config, AS_OF)
    assert first.sync.statuses["quarantined"] == 1 and first.sync.fetched == 1
    assert dovecot.bodies_sent(user) == [len(SAMPLES[1].read_bytes().replace(b"\n", b"\r\n"))]  # the small one
    with Store(config.state.path) as store:
        [(identity, reason)] = store.quarantined()
        assert identity == "huge@example.com" and reason.startswith("too large") and "not downloaded" in reason
    again = sync_mailbox(config, AS_OF)
    assert again.sync.fetched == again.sync.new == 0


def test_downloads_are_batched_by_bytes() -> None:
    sizes = {1: BATCH_BYTES // 2, 2: BATCH_BYTES // 2, 3: 1, 4: BATCH_BYTES * 2, 5: 10}
    described = {uid: Described(size, b"") for uid, size in sizes.items()}
    assert list(_batches([5, 4, 3, 2, 1], described)) == [[1, 2], [3], [4], [5]]  # one large message comes alone
    many = {uid: Described(1, b"") for uid in range(1, BATCH_MESSAGES * 2 + 2)}
    assert [len(c) for c in _batches(list(many), many)] == [BATCH_MESSAGES, BATCH_MESSAGES, 1]


def test_a_download_leaves_no_body_in_any_log(dovecot: Dovecot, imap_account: Account, tmp_path: Path) -> None:
    """imaplib's protocol trace (which imapclient turns on and routes to its logger) would carry whole bodies,
    and formatting it cost most of a download's CPU: it is off, whatever the logging level."""
    marker = "Colis-4417-secret-body-line"
    sample = SAMPLES[1].read_bytes()
    dovecot.deliver(imap_account.username, sample.replace(b"\n\n", f"\n\n{marker}\n".encode(), 1))
    config = load(setup.write_config(tmp_path, imap_account))
    heard: list[str] = []
    handler = logging.Handler(logging.DEBUG)
    handler.emit = lambda record: heard.append(record.getMessage())  # type: ignore[method-assign]
    loggers = [logging.getLogger(name) for name in ("imapclient", "imapclient.imaplib")]
    saved = [(lg.level, lg.disabled) for lg in loggers]
    for lg in loggers:  # listening at DEBUG, whatever an earlier test configured
        lg.setLevel(logging.DEBUG)
        lg.disabled = False
        lg.addHandler(handler)
    try:
        with ImapMailbox(imap_settings(config)) as mailbox:
            state = mailbox.scan("INBOX", None, 0, ["amazon.fr", "amazon.co.uk"])
            [(_, raw)] = list(mailbox.fetch("INBOX", state.uids))
    finally:
        for lg, (level, disabled) in zip(loggers, saved, strict=True):
            lg.removeHandler(handler)
            lg.setLevel(level)
            lg.disabled = disabled
    assert marker.encode() in raw
    assert heard and not any(marker in line for line in heard)  # the commands are traced; no response is
