"""The clock only moves forward (issue 18, item 4): what writes acts as of now or the past; looking ahead writes
nothing anywhere; a parcel's arrival said again replaces the earlier word, which stays in the state file."""

from __future__ import annotations

import json
import sqlite3
from datetime import timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from daemon import clock
from tests import lateclaim_setup as setup
from tests.servers.dovecot import Account, Dovecot

DRAFTS = "[Gmail]/Drafts"
HEADPHONES = "203-8841957-6620374"


def test_a_future_as_of_is_refused_where_it_would_write_and_dry_run_writes_nothing(
    dovecot: Dovecot, imap_account: Account, tmp_path: Path
) -> None:
    setup.deliver_samples(dovecot, imap_account)
    config = str(setup.write_config(tmp_path, imap_account))
    state = tmp_path / "state" / "lateclaim.db"
    ahead = (clock.now() + timedelta(days=7)).isoformat()
    for command in (["sync", "--once"], ["sync"], ["backfill", "--since", "2026-01-01"]):
        refused = setup.lateclaim(*command, "--as-of", ahead, "--config", config)
        assert refused.returncode == 2, refused.stderr
        assert "is later than now" in refused.stderr and "--dry-run" in refused.stderr
    assert not state.exists() and dovecot.messages(imap_account.username, DRAFTS) == []
    flags = dovecot.flags(imap_account.username, "INBOX")

    looked = setup.lateclaim("sync", "--dry-run", "--as-of", "2026-11-24T12:00", "--config", config)
    assert looked.returncode == 0, looked.stderr
    assert "nothing was written" in looked.stdout and "would draft" in looked.stdout  # the lamp, the headphones
    looked_ahead = setup.lateclaim("sync", "--dry-run", "--as-of", ahead, "--config", config)
    assert looked_ahead.returncode == 0, looked_ahead.stderr
    assert not state.exists() and not list(state.parent.glob("*"))  # no state, no lock, nothing beside
    assert dovecot.messages(imap_account.username, DRAFTS) == []
    assert dovecot.flags(imap_account.username, "INBOX") == flags  # nothing marked read either

    today = clock.now().astimezone(ZoneInfo("Europe/Paris")).date().isoformat()  # the config's rules.timezone
    today_so_far = setup.lateclaim("sync", "--once", "--as-of", today, "--config", config)
    assert today_so_far.returncode == 0, today_so_far.stderr  # a date alone naming today: the day so far
    assert setup.lateclaim("sync", "--once", "--config", config).returncode == 0  # now: real
    past = setup.lateclaim("orders", "--json", "--as-of", ahead, "--config", config)  # read-only: may look ahead
    assert past.returncode == 0 and json.loads(past.stdout)


def test_an_arrival_in_the_future_is_refused_and_saying_it_again_replaces_it(
    dovecot: Dovecot, imap_account: Account, tmp_path: Path
) -> None:
    setup.deliver_samples(dovecot, imap_account)
    config = str(setup.write_config(tmp_path, imap_account))
    assert setup.lateclaim("sync", "--once", "--as-of", "2026-11-20T09:00", "--config", config).returncode == 0
    tomorrow = (clock.now() + timedelta(days=1)).date().isoformat()
    refused = setup.lateclaim("orders", "arrived", HEADPHONES, "--on", tomorrow, "--config", config)
    assert refused.returncode == 2 and "is in the future" in refused.stderr

    def arrived_on() -> str:
        rows = json.loads(setup.lateclaim("orders", "--json", "--as-of", "2026-12-01", "--config", config).stdout)
        return str(next(r["arrived_on"] for r in rows if r["order_id"] == HEADPHONES))

    wrong = setup.lateclaim("orders", "arrived", HEADPHONES, "--on", "2026-11-25", "--config", config)
    assert wrong.returncode == 0, wrong.stderr
    assert arrived_on() == "2026-11-25"
    right = setup.lateclaim("orders", "arrived", HEADPHONES, "--on", "2026-11-28", "--config", config)
    assert right.returncode == 0, right.stderr
    assert arrived_on() == "2026-11-28"  # the word said last counts, not the earliest day
    with sqlite3.connect(tmp_path / "state" / "lateclaim.db") as db:
        said = db.execute("SELECT status, subject, reason FROM messages WHERE parser_version = 'user' "
                          "ORDER BY ingested_at, identity").fetchall()
    assert [(status, subject) for status, subject, _ in said] == [
        ("ignored", "you said: parcel 1 delivered on 2026-11-25"),
        ("parsed", "you said: parcel 1 delivered on 2026-11-28")]
    assert "replaced by what you said" in said[0][2]
