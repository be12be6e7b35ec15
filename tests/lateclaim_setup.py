"""What the integration tests share: a configuration for a test account, the real command line, bounded waits."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from daemon.commands.demo import SAMPLE_MAILBOX
from tests.servers.dovecot import Account, Dovecot
from tests.servers.smtp import PASSWORD, USER, SmtpServer


def write_config(tmp_path: Path, account: Account, smtp: SmtpServer | None = None,
                 smtp_options: dict[str, Any] | None = None, **tables: dict[str, Any]) -> Path:
    """A config.toml for `account` on the test Dovecot (and `smtp`, with `smtp_options` in its table), with
    `tables` merged over the defaults."""
    (tmp_path / "imap-password").write_text(account.password + "\n")
    (tmp_path / "imap-password").chmod(0o600)
    config: dict[str, dict[str, Any]] = {
        "mailbox": {"host": "127.0.0.1", "port": account.tls_port, "security": "tls",
                    "username": account.username, "password_file": str(tmp_path / "imap-password"),
                    "folders": ["INBOX"], "ca_file": account.ca_file},
        "state": {"path": str(tmp_path / "state" / "lateclaim.db")},
        "rules": {"timezone": "Europe/Paris"},
        "claims": {"from": f"{account.username}@example.com"},
        "log": {"format": "json"},
    }
    if smtp is not None:
        (tmp_path / "smtp-password").write_text(PASSWORD)
        config["smtp"] = {"host": "127.0.0.1", "port": smtp.port, "security": "tls", "username": USER,
                          "password_file": str(tmp_path / "smtp-password"), "ca_file": account.ca_file,
                          **(smtp_options or {})}
    for table, values in tables.items():
        config.setdefault(table, {}).update(values)
    # JSON's strings, numbers, booleans and lists of strings are valid TOML values.
    text = "".join(f"[{table}]\n" + "".join(f"{k} = {json.dumps(v)}\n" for k, v in values.items()) + "\n"
                   for table, values in config.items())
    path = tmp_path / "config.toml"
    path.write_text(text)
    return path


def received(domain: str, dkim: str = "pass") -> str:
    """The header block Gmail's receiving server writes: an Amazon email authenticated as any Amazon fact must be."""
    return ("Received: from a13-41.smtp-out.amazonses.com (a13-41.smtp-out.amazonses.com. [54.240.13.41])\r\n"
            "        by mx.google.com with ESMTPS id fx37si1.2026;\r\n        Wed, 25 Nov 2026 09:00:00 +0000\r\n"
            f"Authentication-Results: mx.google.com; dkim={dkim} header.i=@{domain} header.s=s1 header.b=Q2xh\r\n")


def deliver_samples(dovecot: Dovecot, account: Account) -> None:
    """The bundled demo mailbox, delivered server-side into the account's INBOX."""
    for path in sorted(SAMPLE_MAILBOX.glob("*.eml")):
        dovecot.deliver(account.username, path.read_bytes())


def lateclaim(*args: str, crash_at: str | None = None) -> subprocess.CompletedProcess[str]:
    """The real command line in a process of its own; `crash_at` names a daemon.faults crash point."""
    env = {k: v for k, v in os.environ.items() if k != "LATECLAIM_CRASH_AT"}
    if crash_at:
        env["LATECLAIM_CRASH_AT"] = crash_at
    return subprocess.run([sys.executable, "-m", "daemon.cli", *args], capture_output=True, text=True, timeout=60,
                          env=env, check=False)


def wait_for(condition: Callable[[], bool], timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout} s waiting for {what}")
        time.sleep(0.05)
