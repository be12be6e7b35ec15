"""Crash windows closed (issue 19, item 6): `lateclaim sync` killed (SIGKILL, LATECLAIM_CRASH_AT) inside a
delivery, and the next pass falling on a later day, with the mail of that day already in the mailbox.

- A replacement interrupted between taking the old notice out of Drafts and putting the new one in is finished
  the next day (before: the mark was overwritten, the notice never put back, and `discarded` three days later).
- A letter that may have left just before the crash is settled (found in Drafts or Sent, or held `uncertain`)
  before the parcel's delivery email, read in the same pass, can withdraw it: in draft mode its obsolete draft is
  taken out of Drafts; in send mode it stays `sent` (or `uncertain`), never `withdrawn`.
"""

from __future__ import annotations

import email
import json
import os
from datetime import date
from pathlib import Path

import pytest

from daemon.commands.demo import SAMPLE_MAILBOX
from tests import lateclaim_setup as setup
from tests.servers.dovecot import Account, Dovecot
from tests.servers.smtp import SmtpServer
from tests.test_living_timelines import FR, Life, days, interrupt_a_notice_being_replaced

DRAFTS = "[Gmail]/Drafts"
LAMP = "171-5302846-9915233"  # promised for Mon 16 Nov, delivered Thu 19 Nov
RETAILER = "claims@retailer.example"


def test_a_replacement_interrupted_on_one_day_is_finished_on_the_next(
    dovecot: Dovecot, imap_account: Account, tmp_path: Path
) -> None:
    life = Life(dovecot, imap_account, tmp_path, FR)
    interrupt_a_notice_being_replaced(life)
    life.sync(date(2026, 11, 24))  # the next pass falls on the next day, when the notice is rewritten
    (notice,) = life.drafts()  # put back once, written as of the 24th: seven days from then
    assert "décembre 2026" in notice.get_content() and "30 novembre 2026" not in notice.get_content()
    assert life.live() == [("B", 1, "sent"), ("B", 2, "drafted")]
    for day in days(date(2026, 11, 25), date(2026, 11, 28)):  # and never taken for a draft the user deleted
        life.sync(day)
        assert ("B", 2, "drafted") in life.live()


def lamp_mail(dovecot: Dovecot, account: Account, *names: str) -> None:
    for name in names:
        dovecot.deliver(account.username, (SAMPLE_MAILBOX / name).read_bytes())


def sync_at(config: str, moment: str, crash_at: str | None = None) -> int:
    os.environ["LATECLAIM_NOW"] = moment
    try:
        return setup.lateclaim("sync", "--once", "--config", config, "--as-of", moment, crash_at=crash_at).returncode
    finally:
        del os.environ["LATECLAIM_NOW"]


def lamp_claims(config: str) -> list[tuple[str, int, str]]:
    done = setup.lateclaim("claims", "list", "--json", "--config", config)
    return [(c["track"], c["step"], c["status"]) for c in json.loads(done.stdout) if c["order_id"] == LAMP]


@pytest.mark.parametrize("crash_at", ["delivery_done"])
def test_a_draft_that_landed_before_a_crash_is_settled_before_the_delivery_email_withdraws_it(
    dovecot: Dovecot, all_mail_account: Account, tmp_path: Path, crash_at: str
) -> None:
    lamp_mail(dovecot, all_mail_account, "04_fr_commande_lampe.eml", "05_fr_expedie_lampe.eml")
    config = str(setup.write_config(tmp_path, all_mail_account, mailbox={"folders": []}))
    assert sync_at(config, "2026-11-17T14:00:00+01:00", crash_at) == -9  # "where is my parcel?" landed, unrecorded
    (question,) = dovecot.messages(all_mail_account.username, DRAFTS)
    lamp_mail(dovecot, all_mail_account, "06_fr_livre_lampe.eml")  # the lamp came on the 19th
    assert sync_at(config, "2026-11-19T18:00:00+01:00") == 0  # two days later
    left = dovecot.messages(all_mail_account.username, DRAFTS)
    assert question not in left  # the obsolete question was taken out of Drafts, not left there
    assert lamp_claims(config) == [("B", 1, "withdrawn"), ("A", 1, "drafted")]
    assert len(left) == 1  # only the goodwill request


@pytest.mark.parametrize("crash_at", ["smtp_accepted", "delivery_done"])
def test_a_letter_sent_before_a_crash_is_never_recorded_withdrawn(
    dovecot: Dovecot, imap_account: Account, smtp_server: SmtpServer, tmp_path: Path, crash_at: str
) -> None:
    lamp_mail(dovecot, imap_account, "04_fr_commande_lampe.eml", "05_fr_expedie_lampe.eml")
    config = str(setup.write_config(tmp_path, imap_account, smtp_server,
                                    claims={"from": f"{imap_account.username}@example.com", "mode": "send",
                                            "to": RETAILER}))
    assert sync_at(config, "2026-11-17T14:00:00+01:00", crash_at) == -9
    assert len(smtp_server.messages) == 1  # the question went out
    lamp_mail(dovecot, imap_account, "06_fr_livre_lampe.eml")
    assert sync_at(config, "2026-11-19T18:00:00+01:00") == 0
    # Filed in Sent before the crash (delivery_done): sent. Killed right after the server's 250, before the Sent
    # copy (smtp_accepted): uncertain, for the user to check. Never withdrawn, and never sent a second time.
    step_1 = lamp_claims(config)[0]
    assert step_1 == ("B", 1, "sent" if crash_at == "delivery_done" else "uncertain")
    first = email.message_from_bytes(smtp_server.messages[0].content)["Message-ID"]
    assert [email.message_from_bytes(m.content)["Message-ID"] for m in smtp_server.messages].count(first) == 1
