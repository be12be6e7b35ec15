"""The whole pipeline against a real Dovecot: what is read, what is drafted, what is never touched.

These prove the architecture's invariants 1 (a message is ingested once), 2 (reading changes nothing),
3 for drafts (a claim is appended once, also across a crash) and 6 (bad input never stops a sync).
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from daemon.commands.demo import SAMPLE_MAILBOX
from daemon.config import Config, load
from daemon.mail.imap import ImapMailbox
from daemon.passes.evaluate import record_decisions
from daemon.passes.outbox import DraftsOutbox, compose
from daemon.passes.pipeline import imap_settings, sync_mailbox
from daemon.state.store import Store
from tests import lateclaim_setup as setup
from tests.servers.dovecot import Account, Dovecot

AS_OF = datetime(2026, 11, 24, 12, 0, tzinfo=ZoneInfo("Europe/Paris"))
DRAFTS = "[Gmail]/Drafts"
LATE, UNDELIVERED = "171-5302846-9915233", "203-8841957-6620374"
AMAZON_SAMPLES = [p for p in sorted(SAMPLE_MAILBOX.glob("*.eml")) if "newsletter" not in p.name]


def write_config(tmp_path: Path, account: Account) -> Path:
    # `lateclaim run` reads the real clock: max_age_days keeps the 2026 samples claimable whenever this runs.
    return setup.write_config(tmp_path, account, mailbox={"poll_interval": 10}, claims={"max_age_days": 3650})


@pytest.fixture
def mailbox_with_samples(dovecot: Dovecot, imap_account: Account) -> Account:
    setup.deliver_samples(dovecot, imap_account)
    return imap_account


def drafts(dovecot, account) -> list[bytes]:  # type: ignore[no-untyped-def]
    return list(dovecot.messages(account.username, DRAFTS))


def test_a_sync_reads_amazon_mail_only_and_drafts_one_claim_per_broken_promise(
    dovecot, mailbox_with_samples, tmp_path: Path  # type: ignore[no-untyped-def]
) -> None:
    account = mailbox_with_samples
    config = load(write_config(tmp_path, account))
    result = sync_mailbox(config, AS_OF)
    assert result.sync.fetched == len(AMAZON_SAMPLES)  # the newsletter never left the server
    assert result.sync.statuses["parsed"] == len(AMAZON_SAMPLES)
    with Store(config.state.path) as store:
        claims = store.claims()
    assert sorted((c.order_id, c.track, c.step, c.status) for c in claims) == [
        (LATE, "A", 1, "drafted"), (UNDELIVERED, "B", 1, "drafted")]
    drafted = drafts(dovecot, account)
    assert len(drafted) == 2
    assert {c.message_id.encode() in b"".join(drafted) for c in claims} == {True}
    assert all(b"\\Draft" in flags for flags in dovecot.flags(account.username, DRAFTS).values())

    # Invariant 2: nothing read was marked \Seen.
    assert not [uid for uid, flags in dovecot.flags(account.username, "INBOX").items() if b"\\Seen" in flags]

    # Invariant 1: a second pass downloads nothing, drafts nothing.
    again = sync_mailbox(config, AS_OF)
    assert again.sync.fetched == 0 and again.evaluation.created == [] and again.delivered == []
    assert len(drafts(dovecot, account)) == 2


def test_a_malformed_message_is_quarantined_and_the_sync_goes_on(
    dovecot, imap_account, tmp_path: Path  # type: ignore[no-untyped-def]
) -> None:
    broken = (b"From: \"Amazon.fr\" <shipment-tracking@amazon.fr>\r\nSubject: =?utf-8?B?broken\r\n"
              b"Message-ID: <broken-1@example.invalid>\r\nContent-Type: multipart/alternative; boundary=\"b\"\r\n"
              b"Content-Transfer-Encoding: base64\r\n\r\n--b\r\nContent-Type: text/html; charset=x-unknown\r\n\r\n"
              b"\xff\xfe\x00<html><body>Arriv\xe9e : 31 f\xe9vrier</bo")
    dovecot.deliver(imap_account.username, (SAMPLE_MAILBOX / "04_fr_commande_lampe.eml").read_bytes())
    dovecot.deliver(imap_account.username, broken)
    dovecot.deliver(imap_account.username, (SAMPLE_MAILBOX / "05_fr_expedie_lampe.eml").read_bytes())
    config = load(write_config(tmp_path, imap_account))
    result = sync_mailbox(config, AS_OF)
    assert result.sync.fetched == 3
    assert result.sync.statuses["parsed"] == 2
    with Store(config.state.path) as store:
        assert store.cursor("INBOX").last_uid == 3  # past the broken message: it is not retried forever
        statuses = store.message_counts()
    assert statuses.get("quarantined", 0) + statuses.get("ignored", 0) == 1


def test_a_draft_found_after_a_crash_is_not_appended_again(
    dovecot, mailbox_with_samples, tmp_path: Path  # type: ignore[no-untyped-def]
) -> None:
    config = load(write_config(tmp_path, mailbox_with_samples))
    with Store(config.state.path) as store, ImapMailbox(imap_settings(config)) as mailbox:
        from daemon.passes.sync import ingest

        ingest(mailbox, store, config, AS_OF)
        record_decisions(store, config, AS_OF)
        claim = store.claims()[0]
        # The crash: the append happened, the process died before recording it.
        store.update_claim(claim.id, AS_OF, delivery="pending")
        DraftsOutbox(mailbox).put(compose(claim, config, AS_OF), claim.message_id, lambda: None)
    sync_mailbox(config, AS_OF)
    assert len(drafts(dovecot, mailbox_with_samples)) == 2  # one per claim, the recovered one included
    with Store(config.state.path) as store:
        recovered = store.claim(claim.id)
    assert recovered is not None and recovered.status == "drafted"
    assert "found in the Drafts folder" in store_history_notes(config, claim.id)


def store_history_notes(config: Config, claim_id: int) -> str:
    with Store(config.state.path) as store:
        return " ".join(note for _, _, note in store.claim_history(claim_id))


def test_the_command_line_sync_tells_the_parcels_apart(
    dovecot, mailbox_with_samples, tmp_path: Path  # type: ignore[no-untyped-def]
) -> None:
    config = str(write_config(tmp_path, mailbox_with_samples))
    done = setup.lateclaim("sync", "--once", "--config", config, "--as-of", "2026-11-24T12:00")
    assert done.returncode == 0, done.stderr
    orders = json.loads(setup.lateclaim("orders", "--json", "--config", config, "--as-of", "2026-11-24T12:00").stdout)
    verdicts = {o["order_id"]: o["verdict"] for o in orders if o["authenticated"]}
    assert verdicts == {"402-7461938-2058316": "on_time", LATE: "late", UNDELIVERED: "overdue"}
    claims = json.loads(setup.lateclaim("claims", "list", "--json", "--config", config).stdout)
    assert sorted(c["order_id"] for c in claims) == sorted([LATE, UNDELIVERED])
    # The log carries ids, never the password or the mail's words.
    assert mailbox_with_samples.password not in done.stderr
    assert "Lampe de bureau" not in done.stderr and "sync_done" in done.stderr


def test_run_syncs_then_stops_cleanly_on_sigterm(
    dovecot, mailbox_with_samples, tmp_path: Path  # type: ignore[no-untyped-def]
) -> None:
    config = str(write_config(tmp_path, mailbox_with_samples))
    process = subprocess.Popen([sys.executable, "-m", "daemon.cli", "run", "--config", config],
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        setup.wait_for(lambda: len(drafts(dovecot, mailbox_with_samples)) == 2, 30, "the first sync's drafts")
        process.send_signal(signal.SIGTERM)
        _, err = process.communicate(timeout=30)
    finally:
        if process.poll() is None:
            os.kill(process.pid, signal.SIGKILL)
    assert process.returncode == 0, err
    assert '"event": "stopped"' in err


def test_a_uidvalidity_change_resyncs_without_duplicates(
    dovecot, mailbox_with_samples, tmp_path: Path  # type: ignore[no-untyped-def]
) -> None:
    account = mailbox_with_samples
    config = load(write_config(tmp_path, account))
    first = sync_mailbox(config, AS_OF)
    dovecot.set_uidvalidity(account.username, "INBOX", 4242)
    bodies = len(dovecot.bodies_sent(account.username))
    again = sync_mailbox(config, AS_OF)
    assert again.sync.fetched == 0  # every message is recognised from its Message-ID, none downloaded again
    assert again.sync.known == first.sync.fetched and again.sync.new == 0
    assert again.evaluation.created == [] and again.delivered == []
    third = sync_mailbox(config, AS_OF)
    assert third.sync.fetched == third.sync.known == 0  # each place it was seen is recorded: not even looked at
    assert len(dovecot.bodies_sent(account.username)) == bodies
    with Store(config.state.path) as store:
        assert store.cursor("INBOX").uidvalidity == 4242
        assert len(store.sightings()) == len(AMAZON_SAMPLES)
    assert len(drafts(dovecot, account)) == 2


def test_doctor_checks_everything_and_names_what_fails(
    dovecot, imap_account, tmp_path: Path  # type: ignore[no-untyped-def]
) -> None:
    config = str(write_config(tmp_path, imap_account))
    done = setup.lateclaim("doctor", "--config", config)
    assert done.returncode == 0, done.stdout + done.stderr
    for check in ("config", "state", "clock", "mailbox password", "imap", "folders", "drafts", "sent"):
        assert any(line.startswith("ok") and f" {check} " in line for line in done.stdout.splitlines()), check
    (tmp_path / "imap-password").write_text("not-it-987")
    failed = setup.lateclaim("doctor", "--config", config)
    assert failed.returncode == 1
    assert "FAIL  imap" in failed.stdout and "login failed" in failed.stdout
    assert "not-it-987" not in failed.stdout + failed.stderr


def test_debug_logs_carry_no_password_subject_or_body(
    dovecot, mailbox_with_samples, tmp_path: Path  # type: ignore[no-untyped-def]
) -> None:
    path = setup.write_config(tmp_path, mailbox_with_samples, log={"level": "debug"})
    done = setup.lateclaim("sync", "--once", "--config", str(path), "--as-of", "2026-11-24T12:00")
    assert done.returncode == 0, done.stderr
    assert '"event": "message_ingested"' in done.stderr  # debug lines were written...
    secrets_and_words = [mailbox_with_samples.password, "Lampe de bureau", "Bouilloire", "Headphones",
                         "Camille", "Arrivée", "Votre colis"]
    for text in secrets_and_words:  # ...and none of them carries these
        assert text not in done.stderr, text
