"""No mail skipped: a message whose UID is below the cursor (Gmail's search index lagging behind IDLE) is still
recorded by the next pass, and what was recorded is not downloaded again.

IMAP cannot deliver a message with a chosen UID, so the lag is reproduced as it happens on Gmail: two Amazon
emails arrive (UIDs 1 and 2), the first pass's search shows only the newer one (here: a search narrowed to its
sender's domain, as an index that has not seen UID 1 yet would answer), records it and moves the cursor to 2.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import parsers
from daemon.config import load
from daemon.mail.imap import ImapMailbox
from daemon.passes.pipeline import imap_settings
from daemon.passes.sync import MARGIN, ingest
from daemon.state.store import Store
from tests import lateclaim_setup as setup
from tests.servers.dovecot import Account, Dovecot

NOW = datetime(2026, 11, 24, 12, 0, tzinfo=UTC)


def amazon(domain: str, message_id: str) -> bytes:
    return (f"From: Amazon <shipment-tracking@{domain}>\r\nTo: me@example.com\r\nSubject: Shipped\r\n"
            f"Date: Mon, 23 Nov 2026 10:00:00 +0000\r\nMessage-ID: <{message_id}>\r\n\r\nHello\r\n").encode()


def test_a_message_below_the_cursor_is_recorded_by_the_next_pass(
    tmp_path: Path, dovecot: Dovecot, imap_account: Account
) -> None:
    user = imap_account.username
    dovecot.deliver(user, amazon("amazon.fr", "late@example.com"))  # UID 1: not indexed yet, say
    dovecot.deliver(user, amazon("amazon.co.uk", "early@example.com"))  # UID 2
    config = load(setup.write_config(tmp_path, imap_account))
    with Store(config.state.path) as store, ImapMailbox(imap_settings(config)) as mailbox:
        lagging = mailbox.scan("INBOX", None, 0, ["amazon.co.uk"])
        assert lagging.uids == (2,)
        for uid, raw in mailbox.fetch("INBOX", lagging.uids):
            store.ingest("INBOX", lagging.uidvalidity, uid, parsers.parse(raw), parsers.PARSER_VERSION, NOW)
        assert store.cursor("INBOX").last_uid == 2

        summary = ingest(mailbox, store, config, NOW)

        assert store.has_message("late@example.com")
        assert summary.fetched == 1  # UID 1 only: UID 2 was recorded, it is not downloaded again
        assert store.cursor("INBOX").last_uid == 2  # the cursor never moves back
        again = ingest(mailbox, store, config, NOW)
        assert again.fetched == 0
    # One body for the narrow pass, one for the catching-up pass; the third one downloaded nothing.
    assert len(dovecot.bodies_sent(user)) == 2


def test_the_margin_is_bounded(tmp_path: Path, dovecot: Dovecot, imap_account: Account) -> None:
    """Only the margin is searched again, not the whole folder: a message far below the cursor is history, and
    `lateclaim backfill` reads history."""
    dovecot.deliver(imap_account.username, amazon("amazon.fr", "old@example.com"))  # UID 1
    for cursor, fetched in ((MARGIN + 1, 0), (MARGIN, 1)):
        home = tmp_path / str(cursor)
        home.mkdir()
        config = load(setup.write_config(home, imap_account))
        with Store(config.state.path) as store, ImapMailbox(imap_settings(config)) as mailbox:
            uidvalidity = mailbox.scan("INBOX", None, 0, ["amazon.fr"]).uidvalidity
            store.advance("INBOX", uidvalidity, cursor, NOW)
            assert ingest(mailbox, store, config, NOW).fetched == fetched
