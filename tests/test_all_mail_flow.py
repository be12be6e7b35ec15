"""Claims followed in the setup the README recommends: `folders = []`, so lateclaim reads All Mail, which also holds
the user's Drafts and Sent (a virtual \\All folder on Dovecot, as the hidden checks use). The user sends some letters
at once, some a day later, and pastes some into Amazon's chat. None of our own letters may ever pass for Amazon's
answer; and looking for answers costs an idle poll nothing, however many claims wait for one."""

from __future__ import annotations

import email
import json
from datetime import UTC, date, datetime
from email import policy
from email.message import EmailMessage
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from daemon.passes.thread import checked_id
from daemon.state.store import Store
from tests import lateclaim_setup as setup
from tests.servers.dovecot import Account, Dovecot
from tests.servers.smtp import SmtpServer
from tests.test_living_timelines import Life, days
from tests.timeline_mail import FR, amazon_mail

DRAFTS, SENT, ALL = "[Gmail]/Drafts", "[Gmail]/Sent Mail", "Virtual/All"
AT_ONCE, NEXT_DAY, CHAT, DELETED = (f"402-{n}{n}{n}{n}{n}{n}{n}-{n}{n}{n}{n}{n}{n}{n}" for n in range(1, 5))
PARIS = ZoneInfo("Europe/Paris")

pytestmark = pytest.mark.timeout(600)  # three weeks lived a day at a time


def moment(day: date, hour: int) -> datetime:
    return datetime(day.year, day.month, day.day, hour, tzinfo=PARIS)


def expunge(dovecot: Dovecot, user: str, message_id: str) -> None:
    dovecot.doveadm("expunge", "-u", user, "mailbox", DRAFTS, "header", "Message-ID", message_id)


def sent_to_myself(draft: EmailMessage, user: str, day: date) -> bytes:
    """What the draft's note asks after pasting a letter into Amazon's chat: send the draft to yourself. Gmail
    files the copy in Sent with a Message-ID of its own."""
    copy = email.message_from_bytes(draft.as_bytes(), policy=policy.SMTP)
    for name in ("To", "Message-ID", "Date"):
        del copy[name]
    copy["To"] = f"{user}@example.com"
    copy["Message-ID"] = f"<chat-{day:%m%d}-{abs(hash(draft['Message-ID'])) % 10**6}@mail.gmail.com>"
    copy["Date"] = email.utils.format_datetime(moment(day, 13))
    return copy.as_bytes()


def test_with_all_mail_holding_drafts_and_sent_our_own_letters_never_answer_a_claim(
    dovecot: Dovecot, all_mail_account: Account, tmp_path: Path
) -> None:
    life = Life(dovecot, all_mail_account, tmp_path, FR)
    life.config = str(setup.write_config(tmp_path, all_mail_account, mailbox={"folders": []},
                                         rules={"timezone": "Europe/Paris"},
                                         claims={"from": f"Camille <{all_mail_account.username}@example.com>"}))
    for order in (AT_ONCE, NEXT_DAY, CHAT, DELETED):  # parcels that never come
        dovecot.deliver(life.user, amazon_mail(FR, "shipped", order, moment(date(2026, 11, 16), 8),
                                               ("Tapis de salon",), date(2026, 11, 17)))
    seen: dict[str, date] = {}  # draft Message-ID -> the day the user first saw it
    for day in days(date(2026, 11, 18), date(2026, 12, 10)):
        life.sync(day)
        for draft in life.drafts():
            message_id, content = str(draft["Message-ID"]), draft.get_content()
            seen.setdefault(message_id, day)
            if DELETED in content:  # deleted, and nothing said
                expunge(dovecot, life.user, message_id)
            elif CHAT in content:  # pasted into Amazon's chat, then sent to myself as the note says
                assert "Envoyez ensuite ce brouillon à vous-même" in content  # the note says what to do
                copy = sent_to_myself(draft, life.user, day)
                dovecot.deliver(life.user, copy, SENT)
                dovecot.deliver(life.user, copy)  # and, sent to myself, it arrives in my INBOX too
                expunge(dovecot, life.user, message_id)
            elif AT_ONCE in content or day > seen[message_id]:  # sent at once, or the next day
                dovecot.deliver(life.user, draft.as_bytes(), SENT)
                expunge(dovecot, life.user, message_id)
        statuses = {c["status"] for c in life.claims()}
        assert "answered" not in statuses, (day, life.claims())
    claims = [c for c in life.claims() if c["status"] != "withdrawn"]
    deleted = [c for c in claims if c["order_id"] == DELETED]
    assert [c["status"] for c in deleted] == ["discarded"]  # never silently: its history says so
    vanished = life.run("claims", "show", str(deleted[0]["id"]))
    assert "vanished" in vanished and f"claims mark-sent {deleted[0]['id']}" in vanished
    steps = sorted((c["status"], c["step"]) for c in claims if c["order_id"] != DELETED)
    assert [s for s, _ in steps] == ["sent"] * len(steps), steps
    for order in (AT_ONCE, NEXT_DAY, CHAT):  # each ladder went on past its first letter
        assert max(c["step"] for c in claims if c["order_id"] == order) >= 2, (order, claims)
    chat_1 = next(c for c in claims if c["order_id"] == CHAT and c["step"] == 1)
    assert "sent by chat or post" in life.run("claims", "show", str(chat_1["id"]))
    sent = dovecot.messages(life.user, SENT)
    letters = [email.message_from_bytes(raw, policy=policy.default) for raw in sent]
    assert len(letters) == len(steps)
    assert any(letter["In-Reply-To"] for letter in letters)  # later steps reply to earlier ones, in All Mail too
    for letter in letters:
        assert isinstance(letter, EmailMessage)
        assert not [line for line in letter.get_content().splitlines() if line.startswith(">")]  # quotes nothing
    for claim in life.claims():
        shown = life.run("claims", "show", str(claim["id"]), "--json")
        assert "answer" not in shown["evidence"]
        assert checked_id(shown["message_id"]).endswith("@example.com")  # from the address, not "Camille <...>"


def amazon_answer(order: str, day: date, in_reply_to: str = "") -> bytes:
    answer = EmailMessage()
    answer["From"] = "Amazon.fr <cs-reply@amazon.fr>"
    answer["To"] = "user@example.com"
    answer["Subject"] = "Re: votre demande"
    answer["Date"] = email.utils.format_datetime(moment(day, 9))
    answer["Message-ID"] = f"<answer-{order}@cs.amazon.fr>"
    if in_reply_to:
        answer["In-Reply-To"] = in_reply_to
    answer.set_content(f"Bonjour, nous avons ouvert une enquête pour votre commande {order}.\n")
    return setup.received("amazon.fr").encode() + answer.as_bytes()


def idle_poll(dovecot: Dovecot, user: str, config: str, day: str) -> list[str]:
    """The IMAP commands of one `sync --once` that finds nothing new."""
    before = len(dovecot.commands(user))
    done = setup.lateclaim("sync", "--once", "--config", config, "--as-of", day)
    assert done.returncode == 0, done.stderr
    return dovecot.commands(user)[before:]


def test_an_idle_poll_costs_the_same_with_ten_claims_awaiting_an_answer_as_with_none(
    dovecot: Dovecot, all_mail_account: Account, smtp_server: SmtpServer, tmp_path: Path
) -> None:
    config = str(setup.write_config(tmp_path, all_mail_account, smtp_server, mailbox={"folders": []},
                                    claims={"mode": "send", "to": "claims@retailer.example"}))
    state = tmp_path / "state" / "lateclaim.db"
    for as_of in ("2026-11-10T12:00", "2026-11-10T13:00"):  # no claim at all
        none_waiting = idle_poll(dovecot, all_mail_account.username, config, as_of)
    setup.deliver_samples(dovecot, all_mail_account)
    assert setup.lateclaim("sync", "--once", "--config", config, "--as-of", "2026-11-24T12:00").returncode == 0
    now = datetime(2026, 11, 24, 12, tzinfo=UTC)
    with Store(state) as store:
        for n in range(8):  # ten sent claims in all
            claim_id = store.add_claim(order_id=f"999-0000000-000000{n}", shipment="", track="B", step=1,
                                       status="drafted", held="", language="fr", subject=f"Commande {n}", body="",
                                       message_id=f"<claim-{n}@example.com>", evidence={}, now=now)
            assert claim_id is not None
            store.update_claim(claim_id, now, status="sent", sent_at=now, sent_message_id=f"claim-{n}@example.com")
        assert len(store.claims(["sent"])) == 10
    ten_waiting = idle_poll(dovecot, all_mail_account.username, config, "2026-11-24T13:00")
    assert ten_waiting == none_waiting, (none_waiting, ten_waiting)
    # An answer arriving is still found, by the poll that reads it anyway.
    dovecot.deliver(all_mail_account.username, amazon_answer("999-0000000-0000003", date(2026, 11, 25),
                                                             "<claim-3@example.com>"))
    done = setup.lateclaim("sync", "--once", "--config", config, "--as-of", "2026-11-25T12:00")
    assert done.returncode == 0, done.stderr
    listed = json.loads(setup.lateclaim("claims", "list", "--json", "--config", config).stdout)
    assert [c["order_id"] for c in listed if c["status"] == "answered"] == ["999-0000000-0000003"]
