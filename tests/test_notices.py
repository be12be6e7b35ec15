"""Notices where the user already looks: one unread message in the INBOX per pass at most, in the user's language,
each event told once; the same notice pushed through Apprise to a loopback endpoint; never read back as mail."""

from __future__ import annotations

import email
import importlib.util
import json
import threading
from collections.abc import Iterator
from email import policy
from email.message import EmailMessage
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, ClassVar

import pytest

from daemon.mail.oauth import refresh_token_end, write_token_file
from daemon.passes.notices import Event, compose, message, parcel_root, phrases
from daemon.state.store import Store
from tests import lateclaim_setup as setup
from tests.servers.dovecot import Account, Dovecot
from tests.servers.oauth import FakeGoogle
from tests.servers.smtp import SmtpServer
from tests.test_followup import amazon_mail
from tests.test_oauth import oauth_config

AS_OF = "2026-11-24T12:00"
DRAFTS = "[Gmail]/Drafts"
LATE, UNDELIVERED, SPOOFED = "171-5302846-9915233", "203-8841957-6620374", "405-0000000-1234567"
KINDS = ("drafted", "review", "held", "discarded", "answered", "uncertain", "refused", "spoofed", "signin")


def sync(config: str, as_of: str = AS_OF) -> dict[str, Any]:
    done = setup.lateclaim("sync", "--once", "--config", config, "--as-of", as_of)
    assert done.returncode == 0, done.stderr
    [summary] = [json.loads(line[line.index("{"):]) for line in done.stderr.splitlines() if "\"sync_done\"" in line]
    return dict(summary)


def notices(dovecot: Dovecot, account: Account) -> list[EmailMessage]:
    inbox = dovecot.messages(account.username, "INBOX")
    found = [email.message_from_bytes(raw, policy=policy.default) for raw in inbox]
    return [m for m in found if m["X-Lateclaim-Notice"]]  # type: ignore[misc]


def body(notice: EmailMessage) -> str:
    part = notice.get_body(("plain",))
    assert part is not None
    return str(part.get_content())  # type: ignore[attr-defined]


def test_each_event_is_told_once_in_one_unread_message_per_pass(
    dovecot: Dovecot, imap_account: Account, tmp_path: Path
) -> None:
    setup.deliver_samples(dovecot, imap_account)
    # A daily cap of one: the lamp's request is drafted, the headphones' "where is my parcel?" waits.
    config = str(setup.write_config(tmp_path, imap_account, claims={"max_per_day": 1}))
    sync(config)
    [first] = notices(dovecot, imap_account)
    me = f"{imap_account.username}@example.com"
    assert first["From"].addresses[0].addr_spec == me and first["To"].addresses[0].addr_spec == me
    assert first["From"].addresses[0].display_name == "lateclaim"
    assert first["Auto-Submitted"] == "auto-generated" and first["Content-Language"] == "fr"
    text = body(first)
    # In the account's language: the draft to send, the claim held by the cap, the unauthenticated email.
    assert ("Le courrier « demande de geste commercial » pour Lampe de bureau LED orientable "
            "(commande 171-5302846-9915233)") in text and "est dans vos brouillons" in text
    assert "plafond de réclamations du jour" in text and UNDELIVERED in text
    assert f"commande {SPOOFED} ressemble à ceux du vendeur mais n'est pas authentifié" in text
    assert "lateclaim claims mark-sent" in text and "Bonjour" not in text  # the command, never the letter
    assert all(b"\\Seen" not in flags for flags in dovecot.flags(imap_account.username, "INBOX").values())
    assert parcel_root(LATE, "1") in first["References"]

    # The next pass has nothing new to tell, and never reads the notice back as Amazon mail.
    again = sync(config)
    assert again["fetched"] == 0 and len(notices(dovecot, imap_account)) == 1

    # The draft leaves Drafts unsent; days later it is discarded, and the held claim is written: a new notice.
    dovecot.doveadm("expunge", "-u", imap_account.username, "mailbox", DRAFTS, "text", LATE)
    sync(config, "2026-11-24T18:00")  # gone from Drafts: perhaps being sent, perhaps deleted; nothing to tell yet
    assert len(notices(dovecot, imap_account)) == 1
    sync(config, "2026-11-26T12:00")  # the next day's cap lets the headphones' letter be written
    second = notices(dovecot, imap_account)[1]
    text = body(second)
    assert "« où est mon colis ? » pour Wireless Over-Ear Headphones, Black (commande 203-8841957-6620374)" in text
    assert second["Subject"] == "lateclaim : Wireless Over-Ear Headphones, Black (commande 203-8841957-6620374)"
    assert second["References"] == second["In-Reply-To"] == parcel_root(UNDELIVERED, "1")  # its parcel's thread
    assert "plafond" not in text and SPOOFED not in text and LATE not in text  # told already
    sync(config, "2026-11-28T12:00")
    third = notices(dovecot, imap_account)[2]
    assert "a quitté vos brouillons sans être envoyé" in body(third) and LATE in body(third)
    assert third["References"] == parcel_root(LATE, "1")
    sync(config, "2026-11-28T13:00")
    assert len(notices(dovecot, imap_account)) == 3


def test_a_review_queue_is_told_and_notices_can_be_turned_off(
    dovecot: Dovecot, imap_account: Account, all_mail_account: Account, tmp_path: Path
) -> None:
    setup.deliver_samples(dovecot, imap_account)
    config = str(setup.write_config(tmp_path, imap_account, claims={"mode": "review", "language": "de"}))
    sync(config)
    [notice] = notices(dovecot, imap_account)
    assert notice["Subject"] == "lateclaim: 3 Pakete brauchen Sie"
    assert "wartet auf Ihre Freigabe" in body(notice) and "lateclaim claims approve" in body(notice)

    # Gmail's layout (All Mail holds the INBOX; folders = [] reads it) with notices off: nothing is appended.
    setup.deliver_samples(dovecot, all_mail_account)
    other = tmp_path / "off"
    other.mkdir()
    quiet = setup.write_config(other, all_mail_account, notices={"enabled": False})
    quiet.write_text(quiet.read_text().replace('folders = ["INBOX"]\n', ""))
    sync(str(quiet))
    assert notices(dovecot, all_mail_account) == []


def test_in_gmails_layout_a_notice_in_the_inbox_is_never_read_as_amazon_mail(
    dovecot: Dovecot, all_mail_account: Account, tmp_path: Path
) -> None:
    setup.deliver_samples(dovecot, all_mail_account)
    path = setup.write_config(tmp_path, all_mail_account)
    path.write_text(path.read_text().replace('folders = ["INBOX"]\n', ""))  # the default: \All, INBOX in it
    sync(str(path))
    [notice] = notices(dovecot, all_mail_account)
    assert sync(str(path), "2026-11-24T13:00")["fetched"] == 0
    # Forwards from the user's own address are read too when unauthenticated mail is trusted: ours are not them.
    path.write_text(path.read_text().replace("[rules]\n", "[rules]\ntrust_unauthenticated = true\n"))
    sync(str(path), "2026-11-24T14:00")
    sync(str(path), "2026-11-24T15:00")
    with Store(tmp_path / "state" / "lateclaim.db", readonly=True) as store:
        assert store.message_counts()  # it did read mail
        assert not store.has_message(notice["Message-ID"].strip("<>"))


class _Hook(BaseHTTPRequestHandler):
    received: ClassVar[list[dict[str, Any]]]

    def do_POST(self) -> None:
        length = int(self.headers["Content-Length"])
        self.received.append(json.loads(self.rfile.read(length)))
        self.send_response(200)
        self.end_headers()

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def hook() -> Iterator[tuple[str, list[dict[str, Any]]]]:
    """An HTTP endpoint on loopback that keeps what Apprise's json:// posts to it."""
    received: list[dict[str, Any]] = []
    handler = type("Hook", (_Hook,), {"received": received})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"json://127.0.0.1:{server.server_address[1]}/lateclaim", received
    finally:
        server.shutdown()
        server.server_close()


def test_apprise_receives_the_same_notice_once(
    dovecot: Dovecot, imap_account: Account, tmp_path: Path, hook: tuple[str, list[dict[str, Any]]]
) -> None:
    url, received = hook
    assert importlib.util.find_spec("apprise"), "the push tests need apprise: pip install -e '.[dev]'"
    setup.deliver_samples(dovecot, imap_account)
    config = str(setup.write_config(tmp_path, imap_account, notices={"apprise": [url]}))
    sync(config)
    [pushed] = received
    [notice] = notices(dovecot, imap_account)
    assert pushed["title"] == notice["Subject"]
    assert pushed["message"].strip() == body(notice).strip()
    sync(config, "2026-11-24T13:00")
    assert len(received) == 1


@pytest.mark.parametrize("language", ["en", "fr", "de", "it", "es", "nl", "sv", "pl", "ja"])
def test_every_kind_is_worded_in_every_language(language: str) -> None:
    fields = {"step": "B1", "item": "desk lamp", "order": LATE, "due": "2026-11-17", "id": "3", "why": "held_day",
              "day": "2026-11-30"}
    events = [Event(f"{kind}:1", kind, LATE, "1", language, fields) for kind in KINDS]
    notice = compose(events)
    assert notice.language == language
    assert notice.subject.startswith("lateclaim") and LATE in notice.subject
    assert notice.body.count("desk lamp") == len(KINDS) - 2  # each kind's sentence names the item but two
    assert "{" not in notice.body and "amazon" not in notice.body.lower()
    assert set(phrases(language)["steps"]) >= {"A1", "B1", "B2", "B3", "C1"}
    raw = message(notice, "me@example.com", __import__("datetime").datetime(2026, 11, 24, 12, 0).astimezone())
    assert b"X-Lateclaim-Notice: 1" in raw and b"Content-Type: text/plain; charset=\"utf-8\"" in raw


def test_an_answer_from_the_retailer_is_told_once(
    dovecot: Dovecot, imap_account: Account, smtp_server: SmtpServer, tmp_path: Path
) -> None:
    setup.deliver_samples(dovecot, imap_account)
    config = str(setup.write_config(tmp_path, imap_account, smtp_server,
                                    claims={"mode": "send", "to": "claims@retailer.example", "language": "en"}))
    sync(config)
    [first] = notices(dovecot, imap_account)  # sent: nothing waits for the user but the unauthenticated email
    assert "is not authenticated" in body(first) and "Drafts" not in body(first)
    dovecot.deliver(imap_account.username, amazon_mail("cs-reply@amazon.fr", "Votre demande",
                                                       "Thu, 26 Nov 2026 09:00:00 +0000", "cs-1@amazon.fr"))
    sync(config, "2026-11-26T12:00")
    [_, answered] = notices(dovecot, imap_account)
    text = body(answered)
    assert "The retailer answered your 'goodwill request' for Lampe de bureau LED orientable" in text
    assert "lateclaim claims resolve" in text and "lateclaim claims next" in text
    assert "Concernant votre commande" not in text  # never the answer itself
    assert answered["References"] == parcel_root(LATE, "1")
    sync(config, "2026-11-26T13:00")
    assert len(notices(dovecot, imap_account)) == 2


def test_a_weekly_digest_once_a_week(dovecot: Dovecot, imap_account: Account, tmp_path: Path) -> None:
    setup.deliver_samples(dovecot, imap_account)
    config = str(setup.write_config(tmp_path, imap_account, notices={"digest": "weekly"}))
    sync(config)  # Tuesday 24 November
    digests = [m for m in notices(dovecot, imap_account) if m["Subject"] == "lateclaim : votre semaine"]
    assert len(digests) == 1 and len(notices(dovecot, imap_account)) == 2  # the week, and what waits
    # Under way or arrived this week: the lamp, the headphones and the unverified phone; the kettle came long ago.
    assert "3 colis suivis, 2 en retard ou manquants, 2 réclamations en cours." in body(digests[0])
    sync(config, "2026-11-29T20:00")  # Sunday: the same week
    assert len([m for m in notices(dovecot, imap_account) if m["Subject"] == "lateclaim : votre semaine"]) == 1
    sync(config, "2026-11-30T08:00")  # Monday: a new week
    digests = [m for m in notices(dovecot, imap_account) if m["Subject"] == "lateclaim : votre semaine"]
    assert len(digests) == 2 and digests[1]["References"] == digests[0]["References"]  # one thread of digests


def test_a_sign_in_google_ends_soon_is_told_before_it_ends(
    dovecot: Dovecot, imap_account: Account, fake_google: FakeGoogle, tmp_path: Path
) -> None:
    setup.deliver_samples(dovecot, imap_account)
    config = oauth_config(tmp_path, imap_account, fake_google, fake_google.grant(imap_account.username))
    token = tmp_path / "google-token.json"
    data = json.loads(token.read_text())
    write_token_file(token, {**data, "refresh_token_expires_at": "2026-11-30T10:00:00+00:00"})
    sync(str(config), "2026-11-20T12:00")  # ten days before: nothing to say about it yet
    assert not any("connexion" in body(m) for m in notices(dovecot, imap_account))
    sync(str(config), "2026-11-28T12:00")
    told = [m for m in notices(dovecot, imap_account) if "la connexion de lateclaim prend fin le" in body(m)]
    assert len(told) == 1 and "lun. 30 nov." in body(told[0]) and "`lateclaim auth google`" in body(told[0])
    assert data["refresh_token"] not in body(told[0])  # never a secret
    sync(str(config), "2026-11-29T12:00")
    assert len([m for m in notices(dovecot, imap_account) if "prend fin le" in body(m)]) == 1


def test_the_end_of_a_sign_in_is_kept_only_when_google_states_it() -> None:
    assert "refresh_token_expires_at" in refresh_token_end({"refresh_token_expires_in": 604799})
    assert refresh_token_end({}) == {} and refresh_token_end({"refresh_token_expires_in": "soon"}) == {}
