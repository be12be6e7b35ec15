"""What Amazon (or a seller) receives, read as it arrives at a real SMTP server: nothing names the tool, and the
letters about one parcel make one conversation."""

from __future__ import annotations

import email
import re
from datetime import UTC, datetime, timedelta
from email import policy
from email.message import EmailMessage
from pathlib import Path
from typing import Any

from daemon.config import ClaimsConfig, Config
from daemon.mail.smtp import SmtpSettings
from daemon.passes.outbox import SmtpOutbox, deliver, new_message_id
from daemon.state.store import Store
from tests.servers.smtp import PASSWORD, USER, SmtpServer

NOW = datetime(2026, 12, 9, 10, tzinfo=UTC)
ORDER = "171-1234567-1234567"
CONFIG = Config(claims=ClaimsConfig(mode="send", sender="camille.martin@example.org", to="claims@retailer.example"))


def add(store: Store, track: str, step: int, subject: str, status: str = "queued", **kw: Any) -> int:
    claim_id = store.add_claim(order_id=ORDER, shipment=kw.get("shipment", "1"), track=track, step=step,
                               status=status, held="", language="fr", subject=subject,
                               body=f"Bonjour,\n\nCommande {ORDER}.\n\nCamille Martin\n",
                               message_id=new_message_id(CONFIG, ORDER, kw.get("shipment", "1"), track, step),
                               evidence={"marketplace": "amazon.fr"},
                               now=NOW + timedelta(days=step))
    assert claim_id is not None
    return claim_id


def send(store: Store, server: SmtpServer, ca_file: str, claim_id: int) -> EmailMessage:
    settings = SmtpSettings("127.0.0.1", server.port, "tls", USER, PASSWORD, ca_file=ca_file)
    outbox = SmtpOutbox(lambda: settings, CONFIG.claims.sender, [CONFIG.claims.to], None)
    claim = store.claim(claim_id)
    assert claim is not None
    before = len(server.messages)
    assert deliver(store, outbox, claim, CONFIG, NOW, status="sent")
    assert len(server.messages) == before + 1
    received = email.message_from_bytes(server.messages[-1].content, policy=policy.default)
    assert isinstance(received, EmailMessage)
    return received


def test_nothing_in_a_sent_claim_names_the_tool(smtp_server: SmtpServer, dovecot: Any, tmp_path: Path) -> None:
    with Store(tmp_path / "state.db") as store:
        received = send(store, smtp_server, dovecot.ca_file, add(store, "B", 1, f"Commande {ORDER} : colis non reçu"))
    raw = smtp_server.messages[-1].content.decode("utf-8", "replace")
    assert "lateclaim" not in raw.lower()
    assert not [name for name in received if name.lower().startswith("x-")]
    assert re.fullmatch(r"<[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}@example\.org>",
                        received["Message-ID"])
    assert received["In-Reply-To"] is None and received["References"] is None


def test_each_ladder_step_replies_to_the_one_before(smtp_server: SmtpServer, dovecot: Any, tmp_path: Path) -> None:
    with Store(tmp_path / "state.db") as store:
        first = send(store, smtp_server, dovecot.ca_file, add(store, "B", 1, f"Commande {ORDER} : colis non reçu"))
        add(store, "B", 1, "Autre colis", shipment="2", status="sent")  # another parcel: another conversation
        second = send(store, smtp_server, dovecot.ca_file, add(store, "B", 2, f"Mise en demeure de livrer – {ORDER}"))
        third = send(store, smtp_server, dovecot.ca_file, add(store, "B", 3, f"Résolution du contrat – {ORDER}"))
    assert second["In-Reply-To"] == first["Message-ID"] and second["References"] == first["Message-ID"]
    assert third["In-Reply-To"] == second["Message-ID"]
    assert third["References"].split() == [first["Message-ID"], second["Message-ID"]]
    assert second["Subject"] == f"Mise en demeure de livrer – {ORDER}"  # a formal notice keeps its title


def test_a_goodwill_request_after_a_sent_step_1_is_a_reply_to_it(smtp_server: SmtpServer, dovecot: Any,
                                                                 tmp_path: Path) -> None:
    with Store(tmp_path / "state.db") as store:
        where = add(store, "B", 1, f"Commande {ORDER} : colis non reçu", status="sent")
        add(store, "B", 2, "jamais parti", status="rejected")  # never went out: not in the thread
        goodwill = send(store, smtp_server, dovecot.ca_file, add(store, "A", 1, f"Commande {ORDER} : en retard"))
        step_1 = store.claim(where)
    assert step_1 is not None
    assert goodwill["In-Reply-To"] == step_1.message_id and goodwill["References"] == step_1.message_id
    assert goodwill["Subject"] == f"Re: Commande {ORDER} : colis non reçu"


def test_a_draft_starts_with_a_note_above_a_cut_line_and_a_sent_letter_never_does(
    smtp_server: SmtpServer, dovecot: Any, tmp_path: Path
) -> None:
    from daemon.passes.outbox import DirOutbox, claim_reference

    with Store(tmp_path / "state.db") as store:
        drafted = add(store, "B", 1, f"Commande {ORDER} : colis non reçu")
        claim = store.claim(drafted)
        assert claim is not None
        outbox = DirOutbox(tmp_path / "drafts")
        deliver(store, outbox, claim, CONFIG, NOW, status="drafted")
        draft = email.message_from_bytes(outbox.file_for(claim.message_id).read_bytes(), policy=policy.default)
        assert isinstance(draft, EmailMessage)
        note, _cut, letter = draft.get_content().replace("\r\n", "\n").partition("✂")
        assert note.startswith("NOTE POUR VOUS") and "Nous contacter" in note and "lateclaim" not in note.lower()
        # The letter, then its reference (daemon.passes.outbox.claim_reference), which finds it again once sent.
        assert letter.split("\n", 1)[1].strip() == f"{claim.body.strip()}\n\nMa référence : {claim_reference(claim)}"
        sent = send(store, smtp_server, dovecot.ca_file, add(store, "B", 2, f"Mise en demeure – {ORDER}"))
    assert "✂" not in sent.get_content() and "NOTE" not in sent.get_content()


def test_a_subject_near_the_folding_width_arrives_whole_without_a_leading_space(
    smtp_server: SmtpServer, dovecot: Any, tmp_path: Path
) -> None:
    subjects = [f"Order {ORDER} (parcel 2 of 2): cancellation and refund request",  # 75 characters
                f"Commande {ORDER} (colis 2 sur 2) : mise en demeure de livrer sous huit jours, à défaut "
                "résolution du contrat"]  # long, non-ASCII: folded, and read back as written
    with Store(tmp_path / "state.db") as store:
        for step, subject in enumerate(subjects, 1):
            received = send(store, smtp_server, dovecot.ca_file, add(store, "B", step, subject))
            assert received["Subject"] == subject
    raw = smtp_server.messages[0].content
    assert all(len(line) <= 998 for line in raw.split(b"\r\n"))
    assert f"Subject: {subjects[0]}".encode() in raw
