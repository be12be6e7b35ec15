"""Gmail OAuth2 (XOAUTH2) sign-in against the real Dovecot, with a loopback stand-in for Google's endpoints.

The browser part of `lateclaim auth google` cannot run here (it needs a person at a browser); what it writes
is tested through the same writer, and everything after it (refresh, XOAUTH2 login, sync) runs for real.
"""

from __future__ import annotations

import contextlib
import io
import json
import re
import socket
import stat
import threading
from pathlib import Path
from urllib.parse import parse_qs, urlsplit
from urllib.request import urlopen

import pytest

from daemon.config import OAuth2Config, load
from daemon.errors import ConfigError, MailboxError
from daemon.mail.imap import ImapMailbox, ImapSettings
from daemon.mail.oauth import run_installed_app_flow, write_token_file
from tests import lateclaim_setup as setup
from tests.servers.dovecot import Account, Dovecot
from tests.servers.oauth import FakeGoogle
from tests.servers.smtp import SmtpServer


def oauth_config(tmp_path: Path, account: Account, fake_google: FakeGoogle, refresh_token: str) -> Path:
    token_file = tmp_path / "google-token.json"
    write_token_file(token_file, {"client_id": "lateclaim-test.apps.googleusercontent.com",
                                  "client_secret": "test-client-secret", "refresh_token": refresh_token,
                                  "token_uri": f"{fake_google.url}/token"})
    path = setup.write_config(tmp_path, account)
    text = path.read_text().replace(f'password_file = "{tmp_path / "imap-password"}"\n', "")
    path.write_text(text + f'[mailbox.oauth2]\ntoken_file = "{token_file}"\n')
    return path


def test_a_sync_signs_in_with_xoauth2(
    dovecot: Dovecot, imap_account: Account, fake_google: FakeGoogle, tmp_path: Path
) -> None:
    setup.deliver_samples(dovecot, imap_account)
    refresh = fake_google.grant(imap_account.username)
    config = oauth_config(tmp_path, imap_account, fake_google, refresh)
    done = setup.lateclaim("sync", "--once", "--config", str(config), "--as-of", "2026-11-24T12:00")
    assert done.returncode == 0, done.stderr
    assert '"fetched": 9' in done.stderr
    assert refresh not in done.stderr + done.stdout
    assert not any(token in done.stderr for token in fake_google.access_tokens)


def test_a_refused_refresh_token_explains_the_seven_day_trap(
    imap_account: Account, fake_google: FakeGoogle, tmp_path: Path
) -> None:
    config = oauth_config(tmp_path, imap_account, fake_google, "1//revoked-or-expired")
    done = setup.lateclaim("sync", "--once", "--config", str(config))
    assert done.returncode == 1
    assert "invalid_grant" in done.stderr and "7 days" in done.stderr and "lateclaim auth google" in done.stderr
    assert "1//revoked-or-expired" not in done.stderr


def test_the_token_file_is_private_and_complete(tmp_path: Path) -> None:
    path = tmp_path / "state" / "google-token.json"
    write_token_file(path, {"client_id": "c", "client_secret": "s", "refresh_token": "r"})
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert json.loads(path.read_text())["refresh_token"] == "r"


def test_oauth2_and_a_password_exclude_each_other(tmp_path: Path) -> None:
    path = tmp_path / "config.toml"
    path.write_text('[mailbox]\npassword_file = "/x"\n[mailbox.oauth2]\ntoken_file = "/t"\ncolour = 1\n')
    with pytest.raises(ConfigError) as info:
        load(path)
    text = "\n".join(info.value.problems)
    assert "mailbox.oauth2: sign in with OAuth2 or with a password" in text
    assert "mailbox.oauth2.colour: unknown key" in text


def test_doctor_checks_the_oauth2_sign_in(
    imap_account: Account, fake_google: FakeGoogle, tmp_path: Path
) -> None:
    config = oauth_config(tmp_path, imap_account, fake_google, fake_google.grant(imap_account.username))
    done = setup.lateclaim("doctor", "--config", str(config))
    assert done.returncode == 0, done.stdout + done.stderr
    assert "ok    oauth2" in done.stdout and "ok    imap" in done.stdout


def test_smtp_signs_in_with_the_same_oauth2_token(
    dovecot: Dovecot, imap_account: Account, fake_google: FakeGoogle, smtp_server: SmtpServer, tmp_path: Path
) -> None:
    setup.deliver_samples(dovecot, imap_account)
    config = oauth_config(tmp_path, imap_account, fake_google, fake_google.grant(imap_account.username))
    text = config.read_text().replace('[claims]\n', '[claims]\nmode = "send"\nto = "claims@retailer.example"\n')
    config.write_text(text + f'[smtp]\nhost = "127.0.0.1"\nport = {smtp_server.port}\n'
                             f'ca_file = "{imap_account.ca_file}"\n')
    done = setup.lateclaim("sync", "--once", "--config", str(config), "--as-of", "2026-11-24T12:00")
    assert done.returncode == 0, done.stderr
    assert len(smtp_server.messages) == 2


def test_a_refused_xoauth2_token_answers_the_error_challenge_and_keeps_the_servers_words(
    imap_account: Account, fake_google: FakeGoogle
) -> None:
    settings = ImapSettings("127.0.0.1", imap_account.tls_port, "tls", imap_account.username, "",
                            ca_file=imap_account.ca_file, oauth2_token=lambda: "a-token-google-never-gave")
    with pytest.raises(MailboxError) as refused:
        ImapMailbox(settings).__enter__()
    # The error challenge (base64 JSON) was answered with an empty line, so the server ended the exchange with
    # its own NO; both are in the message the user reads.
    assert refused.value.code == "AUTHENTICATIONFAILED"
    assert '"status":"401"' in str(refused.value) and "a-token-google-never-gave" not in str(refused.value)


def test_signing_in_again_asks_google_for_consent_so_that_a_refresh_token_comes_back(tmp_path: Path) -> None:
    secrets = tmp_path / "client_secret.json"
    secrets.write_text(json.dumps({"installed": {
        "client_id": "lateclaim-test.apps.googleusercontent.com", "client_secret": "test-client-secret",
        # Google's addresses only build the sign-in URL: the refused redirect below ends the flow before any
        # request leaves the machine.
        "auth_uri": "https://accounts.google.com/o/oauth2/auth", "token_uri": "https://oauth2.googleapis.com/token",
        "redirect_uris": ["http://localhost"]}}))
    config = OAuth2Config(client_secrets_file=secrets, token_file=tmp_path / "token.json")
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    printed = io.StringIO()
    errors: list[BaseException] = []

    def sign_in() -> None:
        try:
            with contextlib.redirect_stdout(printed):
                run_installed_app_flow(config, port, open_browser=False)
        except Exception as exc:  # noqa: BLE001 - the fake Google refuses the code: the URL is what is checked
            errors.append(exc)

    thread = threading.Thread(target=sign_in, daemon=True)
    thread.start()
    setup.wait_for(lambda: "Open this address" in printed.getvalue() or bool(errors), 20, "the sign-in address")
    assert not errors, errors
    [url] = re.findall(r"https?://\S+", printed.getvalue())
    query = parse_qs(urlsplit(url).query)
    assert query["prompt"] == ["consent"] and query["access_type"] == ["offline"]
    # Google's redirect, refused: the flow ends.
    with contextlib.suppress(OSError):
        urlopen(f"http://localhost:{port}/?error=access_denied&state={query['state'][0]}", timeout=10).read()
    thread.join(timeout=20)
    assert not thread.is_alive() and errors and not (tmp_path / "token.json").exists()
