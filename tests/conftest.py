"""Fixtures shared by the suite: a real Dovecot for the session, a fresh account per test."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.servers.dovecot import Account, Dovecot
from tests.servers.smtp import SmtpServer


@pytest.fixture(scope="session")
def dovecot(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Dovecot]:
    server = Dovecot(Path(tmp_path_factory.mktemp("dovecot"))).start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def imap_account(dovecot: Dovecot) -> Account:
    """A user of the session's Dovecot that no other test has touched."""
    return dovecot.new_account()


@pytest.fixture
def smtp_server(dovecot: Dovecot) -> Iterator[SmtpServer]:
    """An SMTP server on loopback (implicit TLS, AUTH), trusting the same test certificate as Dovecot."""
    server = SmtpServer(dovecot.ca_file, str(dovecot.root / "tls" / "key.pem")).start()
    try:
        yield server
    finally:
        server.stop()
