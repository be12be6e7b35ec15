"""The mailbox is the memory of last resort (issue 18, item 3): a state file lost (or a new one, moving from the
home directory's to the service's) is rebuilt from the same mailbox without a second letter, in the recommended
setup (folders = [], a Gmail-like All Mail holding Drafts and Sent)."""

from __future__ import annotations

import email
import json
import re
from email import policy
from pathlib import Path

from daemon.config import ClaimsConfig, Config
from daemon.passes.outbox import new_message_id
from tests import lateclaim_setup as setup
from tests.servers.dovecot import Account, Dovecot
from tests.servers.smtp import SmtpServer

AS_OF = "2026-11-24T12:00"
DRAFTS, SENT = "[Gmail]/Drafts", "[Gmail]/Sent Mail"
RETAILER = "claims@retailer.example"


def statuses(config: str) -> list[tuple[str, str]]:
    done = setup.lateclaim("claims", "list", "--json", "--config", config)
    assert done.returncode == 0, done.stderr
    return sorted((c["order_id"], c["status"]) for c in json.loads(done.stdout))


def sync(config: str) -> None:
    done = setup.lateclaim("sync", "--once", "--config", config, "--as-of", AS_OF)
    assert done.returncode == 0, done.stderr


def lose_the_state(tmp_path: Path) -> None:
    for path in (tmp_path / "state").iterdir():
        path.unlink()


def test_a_lost_state_file_in_draft_mode_drafts_nothing_again(
    dovecot: Dovecot, all_mail_account: Account, tmp_path: Path
) -> None:
    user = all_mail_account.username
    setup.deliver_samples(dovecot, all_mail_account)
    config = str(setup.write_config(tmp_path, all_mail_account, mailbox={"folders": []}))
    sync(config)
    drafts = dovecot.messages(user, DRAFTS)
    assert len(drafts) == 2
    # The user sends one from Gmail's app, which gives it a Message-ID of its own: only its reference is left.
    sent = email.message_from_bytes(drafts[0], policy=policy.default)
    sent.replace_header("Message-ID", "<CAgmail-app-1@mail.gmail.com>")
    dovecot.deliver(user, sent.as_bytes(), SENT)
    dovecot.doveadm("expunge", "-u", user, "mailbox", DRAFTS, "uid", "1")
    lose_the_state(tmp_path)

    sync(config)  # a new state file: the same claims, found where their letters are
    assert len(dovecot.messages(user, DRAFTS)) == 1 and len(dovecot.messages(user, SENT)) == 1  # no second letter
    assert sorted(status for _, status in statuses(config)) == ["drafted", "sent"]  # the sent one by its reference
    sync(config)
    assert len(dovecot.messages(user, DRAFTS)) == 1


def test_a_lost_state_file_in_send_mode_sends_nothing_again(
    dovecot: Dovecot, all_mail_account: Account, smtp_server: SmtpServer, tmp_path: Path
) -> None:
    setup.deliver_samples(dovecot, all_mail_account)
    config = str(setup.write_config(tmp_path, all_mail_account, smtp_server, mailbox={"folders": []},
                                    claims={"from": f"{all_mail_account.username}@example.com", "mode": "send",
                                            "to": RETAILER}))
    sync(config)
    assert len(smtp_server.messages) == 2  # each filed in Sent by lateclaim (the relay is not Gmail's)
    lose_the_state(tmp_path)
    sync(config)
    assert len(smtp_server.messages) == 2  # not a second time
    assert [status for _, status in statuses(config)] == ["sent", "sent"]


def test_a_claims_message_id_is_derived_from_the_claim_and_the_address_only() -> None:
    named = Config(claims=ClaimsConfig(sender="Camille Martin <Camille.Martin@example.org>"))
    plain = Config(claims=ClaimsConfig(sender="camille.martin@example.org"))
    first = new_message_id(named, "171-1234567-1234567", "1", "B", 1)
    assert re.fullmatch(r"<[0-9a-f]{8}-[0-9a-f]{4}-5[0-9a-f]{3}-[0-9a-f]{4}-[0-9a-f]{12}@example\.org>", first)
    assert first == new_message_id(plain, "171-1234567-1234567", "1", "B", 1)  # a new state file: the same one
    others = {new_message_id(plain, "171-1234567-1234567", "2", "B", 1),
              new_message_id(plain, "171-1234567-1234567", "1", "B", 2),
              new_message_id(plain, "171-1234567-1234567", "1", "A", 1),
              new_message_id(plain, "171-7654321-1234567", "1", "B", 1),
              new_message_id(Config(claims=ClaimsConfig(sender="someone@example.org")), "171-1234567-1234567", "1",
                             "B", 1)}
    assert first not in others and len(others) == 5
