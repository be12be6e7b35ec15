"""Fixtures shared by the suite: a real Dovecot for the session, a fresh account per test."""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.servers.dovecot import Account, Dovecot
from tests.servers.oauth import FakeGoogle
from tests.servers.smtp import IMPLICIT_TLS_WARNING, SmtpServer


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("filterwarnings", IMPLICIT_TLS_WARNING)


@pytest.fixture(scope="session")
def fake_google() -> Iterator[FakeGoogle]:
    """Google's token endpoint and Dovecot's token introspection, on loopback."""
    server = FakeGoogle().start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="session")
def dovecot(fake_google: FakeGoogle) -> Iterator[Dovecot]:
    # A directory of its own under /tmp, not pytest's: Dovecot's users must traverse every parent, and pytest
    # resets its own base directory to 0700 whenever another session starts.
    root = Path(tempfile.mkdtemp(prefix="lateclaim-dovecot-"))
    server = Dovecot(root, oauth_url=fake_google.url).start()
    try:
        yield server
    finally:
        server.stop()
        shutil.rmtree(root, ignore_errors=True)


@pytest.fixture
def imap_account(dovecot: Dovecot) -> Account:
    """A user of the session's Dovecot that no other test has touched (username, password, host, port for
    plain/STARTTLS, tls_port, ca_file). Its server has no \\All folder."""
    return dovecot.new_account()


@pytest.fixture
def all_mail_account(dovecot: Dovecot) -> Account:
    """The same, on a server that also offers a virtual \\All folder ("Virtual/All"), as Gmail's All Mail."""
    return dovecot.new_account(all_mail=True)


@pytest.fixture
def smtp_server(dovecot: Dovecot, fake_google: FakeGoogle) -> Iterator[SmtpServer]:
    """An SMTP server on loopback (implicit TLS, AUTH PLAIN/LOGIN and XOAUTH2), with Dovecot's certificate."""
    server = SmtpServer(dovecot.ca_file, str(dovecot.root / "tls" / "key.pem"),
                        oauth_tokens=lambda: dict(fake_google.access_tokens)).start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def smtp_starttls_server(dovecot: Dovecot) -> Iterator[SmtpServer]:
    """The same on a plain port that requires STARTTLS before AUTH (as port 587 servers do)."""
    server = SmtpServer(dovecot.ca_file, str(dovecot.root / "tls" / "key.pem"), security="starttls").start()
    try:
        yield server
    finally:
        server.stop()
