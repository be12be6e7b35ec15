"""`lateclaim doctor --roundtrip` on a real Dovecot: a test draft in and out of Drafts, nothing else touched."""

from __future__ import annotations

from pathlib import Path

from tests import lateclaim_setup as setup
from tests.servers.dovecot import Account, Dovecot

DRAFTS = "[Gmail]/Drafts"


def users_draft(n: int) -> bytes:
    return (f"From: me@example.com\r\nTo: friend@example.org\r\nSubject: my own draft {n}\r\n"
            f"Message-ID: <own-{n}@example.com>\r\nDate: Mon, 23 Nov 2026 10:00:00 +0000\r\n\r\nHello {n}\r\n").encode()


def test_the_roundtrip_reads_its_draft_back_and_deletes_only_it(
    dovecot: Dovecot, imap_account: Account, tmp_path: Path
) -> None:
    user = imap_account.username
    for n in (1, 2):
        dovecot.deliver(user, users_draft(n), DRAFTS)
    # Another client marked the user's first draft \Deleted without expunging it: it must stay.
    dovecot.doveadm("flags", "add", "-u", user, "\\Deleted", "mailbox", DRAFTS, "uid", "1")
    config = str(setup.write_config(tmp_path, imap_account))
    done = setup.lateclaim("doctor", "--roundtrip", "--config", config)
    assert done.returncode == 0, done.stdout + done.stderr
    lines = [line for line in done.stdout.splitlines() if " roundtrip " in line]
    assert all(line.startswith("ok") for line in lines), lines
    said = "\n".join(lines)
    for what in ("APPENDUID", "found again by its Message-ID (Drafts listed, each header read)",
                 "found by its reference TEST-", "will be recognised in [Gmail]/Sent Mail", "was deleted"):
        assert what in said, what
    assert [m.replace(b"\n", b"\r\n") for m in dovecot.messages(user, DRAFTS)] == [users_draft(1), users_draft(2)]
    assert b"\\Deleted" in dovecot.flags(user, DRAFTS)[1]

