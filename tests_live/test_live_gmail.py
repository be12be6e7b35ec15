"""The opt-in live tier: lateclaim's Gmail paths against a real Gmail account. Never run in CI: it lives outside
`tests/` (pytest's testpaths), so `make test` neither runs nor skips it; run it with `pytest -s tests_live/`.

Skipped unless LATECLAIM_LIVE_GMAIL_USER and LATECLAIM_LIVE_GMAIL_PASSWORD (an app password of a throwaway
account) are set: Gmail's own commands (X-GM-RAW, X-GM-MSGID, X-GM-THRID), its late Sent copies and what its apps
do to a sent draft cannot be played by the test Dovecot. README, "Trying it on a real Gmail account", gives the
steps; the interactive test waits for a person to send a draft from the Gmail app
(LATECLAIM_LIVE_GMAIL_WAIT seconds, default 600; run pytest with -s to see what to do).
"""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime
from email.message import EmailMessage
from email.policy import SMTP
from email.utils import format_datetime, make_msgid
from pathlib import Path

import pytest

from daemon.config import Config, load
from daemon.mail.imap import ImapMailbox
from daemon.mail.smtp import send
from daemon.passes.followup import follow_up
from daemon.passes.outbox import DraftsOutbox, deliver
from daemon.passes.pipeline import imap_settings, smtp_settings, sync_mailbox
from daemon.state.store import Store
from tests import lateclaim_setup as setup

USER = os.environ.get("LATECLAIM_LIVE_GMAIL_USER", "")
PASSWORD = os.environ.get("LATECLAIM_LIVE_GMAIL_PASSWORD", "")
WAIT = float(os.environ.get("LATECLAIM_LIVE_GMAIL_WAIT", "600"))

pytestmark = [
    pytest.mark.skipif(
        not (USER and PASSWORD),
        reason="live Gmail tier: set LATECLAIM_LIVE_GMAIL_USER and LATECLAIM_LIVE_GMAIL_PASSWORD (an app password of "
        "a test account) to run it; never in CI",
    ),
    # Its own timeout: the suite's 120 s (pyproject.toml) would end the interactive test long before a person can
    # send a draft from the Gmail app (WAIT seconds), and Gmail's late Sent copies take up to a minute each.
    pytest.mark.timeout(WAIT + 600),
]


def gmail_config(tmp_path: Path) -> Path:
    secret = tmp_path / "gmail-password"
    secret.write_text(PASSWORD)
    secret.chmod(0o600)
    path = tmp_path / "config.toml"
    path.write_text(
        f'[mailbox]\nhost = "imap.gmail.com"\nusername = "{USER}"\npassword_file = "{secret}"\n'
        f'[state]\npath = "{tmp_path / "state.db"}"\n'
        f'[claims]\nfrom = "{USER}"\nto = "{USER}"\n'
        f'[smtp]\nusername = "{USER}"\npassword_file = "{secret}"\n'
    )
    return path


def waited(condition: Callable[[], bool], timeout: float, every: float = 5.0) -> float | None:
    """Seconds until `condition` held, or None after `timeout`."""
    start = time.monotonic()
    while time.monotonic() - start < timeout:
        if condition():
            return time.monotonic() - start
        time.sleep(every)
    return None


def test_doctor_roundtrip_on_gmail(tmp_path: Path) -> None:
    done = setup.lateclaim("doctor", "--roundtrip", "--config", str(gmail_config(tmp_path)))
    print(done.stdout)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "Gmail's rfc822msgid: search" in done.stdout and "X-GM-THRID" in done.stdout


def test_smtp_gmail_files_its_own_sent_copy_and_how_late(tmp_path: Path) -> None:
    config = load(gmail_config(tmp_path))
    assert config.smtp.server_files_sent
    message = EmailMessage()
    message["From"] = message["To"] = USER
    message["Subject"] = "lateclaim live test: Sent copy delay"
    message["Date"] = format_datetime(datetime.now(UTC))
    message_id = make_msgid(domain=USER.rpartition("@")[2])
    message["Message-ID"] = message_id
    message.set_content("A test of how long Gmail takes to file what smtp.gmail.com sent.\n")
    send(smtp_settings(config), message.as_bytes(policy=SMTP), USER, [USER])
    with ImapMailbox(imap_settings(config)) as mailbox:
        sent = mailbox.sent_folder()
        assert sent is not None
        delay = waited(lambda: mailbox.contains_message_id(sent, message_id), config.smtp.sent_copy_wait, 1.0)
    print(f"\nGmail's Sent copy showed {delay} s after SMTP accepted the message", file=sys.stderr)
    assert delay is not None, "no Sent copy within smtp.sent_copy_wait: raise its default"


def test_a_draft_the_user_sends_from_the_app_is_followed(tmp_path: Path) -> None:
    config: Config = load(gmail_config(tmp_path))
    now = datetime.now(UTC)
    with Store(config.state.path) as store, ImapMailbox(imap_settings(config)) as mailbox:
        claim_id = store.add_claim(
            order_id="999-0000000-0000001", shipment="1", track="A", step=1, status="queued", held="",
            language="en", subject=f"lateclaim live test {now:%H%M%S}: please send me from the Gmail app",
            body="This draft is a lateclaim live test. Send it from the Gmail app (web or phone), unchanged.",
            message_id=make_msgid(domain=USER.rpartition("@")[2]), evidence={}, now=now)
        assert claim_id is not None
        claim = store.claim(claim_id)
        assert claim is not None
        deliver(store, DraftsOutbox(mailbox), claim, config, now, "drafted")
        drafted = store.claim(claim_id)
        assert drafted is not None and drafted.placed.get("gm_thrid"), drafted.placed
        print(f"\n>>> In the Gmail app, open Drafts, open '{claim.subject}' and send it as it is "
              f"(waiting up to {WAIT:.0f} s).", file=sys.stderr)

        def sent() -> bool:
            follow_up(store, mailbox, datetime.now(UTC))
            current = store.claim(claim_id)
            return current is not None and current.status == "sent"

        assert waited(sent, WAIT, 10.0) is not None, "the draft was not recognised as sent"
        after = store.claim(claim_id)
        assert after is not None
        print(f"recognised: {store.claim_history(claim_id)[-1][2]}; left with Message-ID {after.sent_message_id} "
              f"({'the same' if after.sent_message_id == claim.message_id.strip('<>') else 'a new one'})",
              file=sys.stderr)
        # A reply in its thread, to the id it really left with, but from the user's own address: never an answer
        # (with All Mail read, the user's own drafts and letters reply to earlier steps all the time).
        reply = EmailMessage()
        reply["From"] = reply["To"] = USER
        reply["Subject"] = f"Re: {claim.subject}"
        reply["Message-ID"] = make_msgid(domain=USER.rpartition("@")[2])
        reply["In-Reply-To"] = reply["References"] = f"<{after.sent_message_id}>"
        reply.set_content("Not an answer: my own reply.\n")
        send(smtp_settings(config), reply.as_bytes(policy=SMTP), USER, [USER])
        arrived = waited(lambda: bool(mailbox.find_message_id("INBOX", str(reply["Message-ID"]))), 300, 10.0)
        assert arrived is not None, "the reply never arrived"
    for _ in range(2):  # whole passes, which read the new mail and hear answers in it
        sync_mailbox(config, datetime.now(UTC))
    with Store(config.state.path) as store:
        current = store.claim(claim_id)
        assert current is not None and current.status == "sent", "the user's own reply was taken for an answer"
