"""Following claims on a real Dovecot that plays what a Gmail user does: a draft sent from the app with a new
Message-ID, a draft edited or deleted, answers that are answers and shipment mail that is not."""

from __future__ import annotations

import email
import json
import re
from dataclasses import replace
from datetime import UTC, datetime
from email import policy
from pathlib import Path

import pytest

from daemon.config import load
from daemon.passes.answers import looks_like_customer_service
from daemon.passes.outbox import compose
from daemon.passes.thread import checked_id, message_ids, references
from daemon.state.store import Claim
from tests import lateclaim_setup as setup
from tests.servers.dovecot import Account, Dovecot
from tests.servers.smtp import SmtpServer

AS_OF = "2026-11-24T12:00"
DRAFTS, SENT = "[Gmail]/Drafts", "[Gmail]/Sent Mail"
LATE, UNDELIVERED = "171-5302846-9915233", "203-8841957-6620374"
RETAILER = "claims@retailer.example"


def claims(config: str) -> dict[str, dict[str, object]]:
    done = setup.lateclaim("claims", "list", "--json", "--config", config)
    assert done.returncode == 0, done.stderr
    return {str(c["order_id"]): c for c in json.loads(done.stdout) if c["step"] == 1}


def shown(config: str, claim_id: object) -> dict[str, object]:
    done = setup.lateclaim("claims", "show", str(claim_id), "--json", "--config", config)
    assert done.returncode == 0, done.stderr
    return dict(json.loads(done.stdout))


def sync(config: str, as_of: str = AS_OF) -> None:
    done = setup.lateclaim("sync", "--once", "--config", config, "--as-of", as_of)
    assert done.returncode == 0, done.stderr


def draft_of(dovecot: Dovecot, account: Account, order_id: str) -> bytes:
    [draft] = [m for m in dovecot.messages(account.username, DRAFTS) if order_id.encode() in m]
    return draft


def sent_from_the_app(draft: bytes, new_id: str, date: str) -> bytes:
    """What Gmail's app files in Sent for a draft it sent: its own Message-ID and Date, our X- header gone."""
    message = email.message_from_bytes(draft, policy=policy.SMTP)
    for name in ("Message-ID", "Date", "X-Lateclaim-Claim"):
        del message[name]
    message["Message-ID"] = new_id
    message["Date"] = date
    return message.as_bytes()


def expunge_draft(dovecot: Dovecot, account: Account, order_id: str) -> None:
    dovecot.doveadm("expunge", "-u", account.username, "mailbox", DRAFTS, "text", order_id)


def test_a_draft_sent_from_the_app_with_a_new_message_id_is_sent_and_its_replies_answer_it(
    dovecot: Dovecot, imap_account: Account, tmp_path: Path
) -> None:
    setup.deliver_samples(dovecot, imap_account)
    config = str(setup.write_config(tmp_path, imap_account))
    sync(config)
    drafted = claims(config)[LATE]
    assert drafted["status"] == "drafted"
    draft = draft_of(dovecot, imap_account, LATE)
    reference = shown(config, drafted["id"])["reference"]
    assert re.fullmatch(r"[0-9A-Z]{4}-[0-9A-Z]{2}", str(reference)) and str(reference).encode() in draft
    # The user sends it from the Gmail app: the draft leaves Drafts, a copy with a new id shows in Sent.
    new_id = "<CAJx7Q2b9mNw4kd0Fq@mail.gmail.com>"
    dovecot.deliver(imap_account.username, sent_from_the_app(draft, new_id, "Wed, 25 Nov 2026 08:30:00 +0000"), SENT)
    expunge_draft(dovecot, imap_account, LATE)
    sync(config, "2026-11-25T12:00")
    found = shown(config, drafted["id"])
    assert found["status"] == "sent"
    assert found["sent_message_id"] == new_id.strip("<>")
    assert found["sent_at"] == "2026-11-25T08:30:00+00:00"  # when it really left, not when it was noticed
    history = setup.lateclaim("claims", "show", str(drafted["id"]), "--config", config).stdout
    assert f"by its reference {reference}" in history
    assert claims(config)[UNDELIVERED]["status"] == "drafted"  # its draft is still there
    # Amazon answers the id it received; our own never left.
    reply = (f"{setup.received('amazon.fr')}From: \"Amazon.fr\" <cs-reply@amazon.fr>\r\n"
             f"To: {imap_account.username}@example.com\r\n"
             f"Subject: Re: votre demande\r\nMessage-ID: <reply-7@amazon.fr>\r\nIn-Reply-To: {new_id}\r\n"
             f"Date: Thu, 26 Nov 2026 09:00:00 +0000\r\n\r\nBonjour, nous vous offrons un bon de 5 EUR.\r\n")
    dovecot.deliver(imap_account.username, reply.encode())
    sync(config, "2026-11-26T12:00")
    assert claims(config)[LATE]["status"] == "answered"


def test_a_deleted_draft_is_discarded_after_a_few_days_and_can_still_be_marked_sent(
    dovecot: Dovecot, imap_account: Account, tmp_path: Path
) -> None:
    setup.deliver_samples(dovecot, imap_account)
    config = str(setup.write_config(tmp_path, imap_account))
    sync(config)
    claim_id = claims(config)[LATE]["id"]
    expunge_draft(dovecot, imap_account, LATE)
    sync(config, "2026-11-24T18:00")
    assert claims(config)[LATE]["status"] == "drafted"  # gone from Drafts: perhaps being sent, perhaps deleted
    assert "no longer in Drafts" in setup.lateclaim("claims", "show", str(claim_id), "--config", config).stdout
    sync(config, "2026-11-26T12:00")
    assert claims(config)[LATE]["status"] == "drafted"
    sync(config, "2026-11-28T12:00")
    assert claims(config)[LATE]["status"] == "discarded"
    assert claims(config)[UNDELIVERED]["status"] == "drafted"
    # It went by the retailer's chat after all.
    marked = setup.lateclaim("claims", "mark-sent", str(claim_id), "--on", "2026-11-27", "--config", config)
    assert marked.returncode == 0, marked.stderr
    after = shown(config, claim_id)
    assert after["status"] == "sent" and str(after["sent_at"]).startswith("2026-11-27")
    future = setup.lateclaim("claims", "mark-sent", str(claims(config)[UNDELIVERED]["id"]), "--on", "2999-01-01",
                             "--config", config)
    assert future.returncode == 2 and "future" in future.stderr


def test_an_edited_draft_under_a_new_uid_is_still_a_draft(
    dovecot: Dovecot, imap_account: Account, tmp_path: Path
) -> None:
    setup.deliver_samples(dovecot, imap_account)
    config = str(setup.write_config(tmp_path, imap_account))
    sync(config)
    draft = draft_of(dovecot, imap_account, LATE)
    # Editing a draft in Gmail stores a new message (new UID, perhaps a new Message-ID) and drops the old one.
    edited = sent_from_the_app(draft, "<CAedited9@mail.gmail.com>", "Tue, 24 Nov 2026 12:30:00 +0000")
    expunge_draft(dovecot, imap_account, LATE)
    dovecot.deliver(imap_account.username, edited, DRAFTS)
    for as_of in ("2026-11-24T18:00", "2026-11-29T12:00"):
        sync(config, as_of)
        assert claims(config)[LATE]["status"] == "drafted"
    history = setup.lateclaim("claims", "show", str(claims(config)[LATE]["id"]), "--config", config).stdout
    assert "no longer in Drafts" not in history


def without_message_id(raw: bytes, date: str) -> bytes:
    raw = re.sub(rb"(?im)^Message-ID:[^\r\n]*\r?\n", b"", raw, count=1)
    return re.sub(rb"(?im)^Date:[^\r\n]*", f"Date: {date}".encode(), raw, count=1)


def amazon_mail(sender: str, subject: str, date: str, message_id: str | None) -> bytes:
    header = f"Message-ID: <{message_id}>\r\n" if message_id else ""
    return (f"{setup.received('amazon.fr')}From: \"Amazon.fr\" <{sender}>\r\nTo: user@example.com\r\n"
            f"Subject: {subject}\r\n{header}"
            f"Date: {date}\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n"
            f"Concernant votre commande {LATE}.\r\n").encode()


def test_only_an_answer_answers_a_sent_claim_never_shipment_or_marketing_mail(
    dovecot: Dovecot, imap_account: Account, smtp_server: SmtpServer, tmp_path: Path
) -> None:
    setup.deliver_samples(dovecot, imap_account)
    config = str(setup.write_config(tmp_path, imap_account, smtp_server, claims={"mode": "send", "to": RETAILER}))
    sync(config)
    assert {c["status"] for c in claims(config).values()} == {"sent"}
    samples = setup.SAMPLE_MAILBOX
    later = "Wed, 25 Nov 2026 10:00:00 +0000"
    # Shipment mail about the order, without a Message-ID (the state file keys it by the hash of its bytes).
    for name in ("05_fr_expedie_lampe.eml", "06_fr_livre_lampe.eml"):
        dovecot.deliver(imap_account.username, without_message_id((samples / name).read_bytes(), later))
    dovecot.deliver(imap_account.username, amazon_mail("store-news@amazon.fr", "Nos offres du moment", later, None))
    dovecot.deliver(imap_account.username, amazon_mail("cs-reply@amazon.fr", "Votre demande", later, "cs-x@amazon.fr")
                    .replace(b"Date: Wed, 25 Nov 2026", b"Date: Mon, 23 Nov 2026"))  # before the claim left
    dovecot.deliver(imap_account.username, amazon_mail("payments-messages@amazon.fr", "Re: remboursement", later,
                                                       "pay-1@amazon.fr"))
    sync(config, "2026-11-25T12:00")
    assert claims(config)[LATE]["status"] == "sent"
    dovecot.deliver(imap_account.username, amazon_mail("cs-reply@amazon.fr", "Votre demande",
                                                       "Thu, 26 Nov 2026 09:00:00 +0000", "cs-1@amazon.fr"))
    sync(config, "2026-11-26T12:00")
    assert claims(config)[LATE]["status"] == "answered"
    assert claims(config)[UNDELIVERED]["status"] == "sent"  # the answer named the other order


@pytest.mark.parametrize(("sender", "subject", "answer"), [
    ("Amazon.fr <cs-reply@amazon.fr>", "Votre demande", True),
    ("Amazon.de <kundenservice@amazon.de>", "Ihre Anfrage", True),
    ("Amazon.co.uk <no-reply@amazon.co.uk>", "Re: your order", True),
    ("Amazon.co.uk <no-reply@amazon.co.uk>", "Amazon.co.uk", False),
    ("Amazon.com <auto-confirm@amazon.com>", "Re: your order", False),
    ("Amazon.fr <shipment-tracking@amazon.fr>", "Expédié : « Lampe »", False),
    ("Amazon.com <help@amazon.com>", "Delivered: your package", True),
    ("Amazon.it <x@amazon.it>", "R: la tua richiesta", True),
    ("Amazon.it <x@amazon.it>", "Rimborso emesso", False),
    ("Amazon.es <x@amazon.es>", "Tu consulta sobre el pedido", True),
    ("Amazon.fr <x@amazon.fr>", "Nos offres", False),
])
def test_customer_service_is_told_from_automatic_mail(sender: str, subject: str, answer: bool) -> None:
    assert looks_like_customer_service(sender, subject) is answer


def mail(sender: str, subject: str, date: str, message_id: str, text: str, *, auth: str = "",
         in_reply_to: str = "") -> bytes:
    """An email naming order UNDELIVERED; `auth`: the domain of a DKIM pass the receiving server recorded."""
    return ((setup.received(auth) if auth else "")
            + f"From: {sender}\r\nTo: user@example.com\r\nSubject: {subject}\r\nMessage-ID: {message_id}\r\n"
            + (f"In-Reply-To: {in_reply_to}\r\n" if in_reply_to else "")
            + f"Date: {date}\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n{text} ({UNDELIVERED}).\r\n").encode()


# "<a@b>\r\nBcc: victim@example.com" hidden in an encoded word: read back as a header, it would break a line.
HOSTILE_ID = "=?utf-8?b?PGFAYj4NCkJjYzogdmljdGltQGV4YW1wbGUuY29tDQo=?="


def test_only_authentic_mail_from_amazon_itself_answers_and_a_hostile_header_never_fails_a_pass(
    dovecot: Dovecot, imap_account: Account, smtp_server: SmtpServer, tmp_path: Path
) -> None:
    setup.deliver_samples(dovecot, imap_account)
    config = str(setup.write_config(tmp_path, imap_account, smtp_server, claims={"mode": "send", "to": RETAILER}))
    sync(config)
    later = "Wed, 25 Nov 2026 10:00:00 +0000"
    words = "Nous avons bien reçu votre message concernant votre commande"
    for forged in (
        mail("Amazon.fr <cs-reply@amazon.fr>", "Re: votre demande", later, "<f1@x.example>", words),  # no verdict
        mail("Amazon.fr <cs-reply@amazon.fr>", "Re: votre demande", later, "<f2@x.example>", words,
             auth="amazonses.com"),  # a pass, but not for Amazon.fr
        mail("Vendeur <ab12@marketplace.amazon.fr>", "Re: votre demande", later, "<f3@x.example>", words,
             auth="marketplace.amazon.fr"),  # a seller's words, relayed and signed by Amazon
        mail('"cs-reply@amazon.fr" <cs@evil.example>', "Re: votre demande", later, "<f4@x.example>", words,
             auth="amazon.fr"),  # Amazon's address in the display name only
    ):
        dovecot.deliver(imap_account.username, forged)
    dovecot.deliver(imap_account.username, setup.received("amazon.fr", "fail").encode()
                    + mail("Amazon.fr <cs-reply@amazon.fr>", "Votre demande", later, "<f5@x.example>", words))
    sync(config, "2026-11-25T12:00")
    assert {c["status"] for c in claims(config).values()} == {"sent"}
    # Amazon answers from no-reply@, its subject tells nothing, its Message-ID is hostile: it counts, and the id
    # is not kept for the next letter.
    dovecot.deliver(imap_account.username, mail(
        "Amazon.fr <no-reply@amazon.fr>", "Amazon.fr", "Thu, 26 Nov 2026 09:00:00 +0000", HOSTILE_ID,
        "Bonjour, merci d'avoir contacté le service client au sujet de votre commande", auth="amazon.fr"))
    sync(config, "2026-11-26T12:00")
    answered = claims(config)[UNDELIVERED]
    assert answered["status"] == "answered"
    answer = shown(config, answered["id"])["evidence"]["answer"]  # type: ignore[index]
    assert answer["message_id"] == "" and "merci d'avoir contacté" in answer["text"]
    assert claims(config)[LATE]["status"] == "sent"
    # A reply of the retailer the letters went to answers only the letter it replies to.
    [letter] = [m for m in (email.message_from_bytes(s.content) for s in smtp_server.messages) if LATE in str(m)]
    dovecot.deliver(imap_account.username, mail(
        f"Retailer <{RETAILER}>", "Re: ma commande", "Fri, 27 Nov 2026 09:00:00 +0000", "<r1@retailer.example>",
        "Nous regardons", in_reply_to=str(letter["Message-ID"])))
    sync(config, "2026-11-27T12:00")
    assert claims(config)[LATE]["status"] == "answered"


def test_header_values_are_read_strictly_before_any_is_reused() -> None:
    assert checked_id("<CAJx7Q2b9mNw4kd0Fq@mail.gmail.com>") == "CAJx7Q2b9mNw4kd0Fq@mail.gmail.com"
    assert checked_id("0102019fab13d77cf2c-demo@eu-west-1.amazonses.com") != ""
    for bad in (HOSTILE_ID, "<a@b>\r\nBcc: x@y", "<a b@c>", "<=?utf-8?q?a?=@b>", "no-at-sign", "<a@b> <c@d>", ""):
        assert checked_id(bad) == "", bad
    assert message_ids(f"<a@b.example> {HOSTILE_ID} <c@d.example>\r\n <e@f.example>") == [
        "a@b.example", "c@d.example", "e@f.example"]


def test_customer_service_wording_in_the_text_counts_for_a_no_reply_sender() -> None:
    text = "Hello, thank you for contacting Amazon about your order."
    assert looks_like_customer_service("Amazon.com <no-reply@amazon.com>", "Your Amazon.com order", text)
    assert not looks_like_customer_service("Amazon.com <no-reply@amazon.com>", "Your Amazon.com order", "Deals!")


def test_a_letter_replying_to_a_hostile_answer_repeats_only_checked_ids() -> None:
    now = datetime(2026, 11, 26, 12, tzinfo=UTC)
    earlier = Claim(id=1, order_id=UNDELIVERED, shipment="", track="B", step=1, status="answered", held="",
                    delivery="done", language="fr", subject="Ma commande", body="Bonjour",
                    message_id="<c1@example.com>",
                    evidence={"answer": {"message_id": "a@b>\r\nBcc: victim@example.com", "date": None,
                                         "sender": "no-reply@amazon.fr", "text": "Bonjour"}},
                    created_at=now, updated_at=now, sent_at=now, sent_message_id=HOSTILE_ID)
    assert references([earlier]) == ["<c1@example.com>"]
    step_2 = replace(earlier, id=2, step=2, status="queued", message_id="<c2@example.com>", evidence={})
    config = load(Path(__file__).parents[1] / "config.example.toml")
    letter = email.message_from_bytes(compose(step_2, config, now, [earlier]))
    assert letter["References"] == "<c1@example.com>" and "Bcc" not in letter
