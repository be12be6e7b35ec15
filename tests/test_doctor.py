"""`lateclaim doctor` refuses what `sync` refuses, and checks every file the configuration names."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from daemon.cli import main
from daemon.config import load
from tests import lateclaim_setup as setup
from tests.servers.dovecot import Account


def doctor(capsys: pytest.CaptureFixture[str], config: Path) -> tuple[int, str, str]:
    status = main(["doctor", "--config", str(config)])
    out, err = capsys.readouterr()
    return status, out, err


def write(tmp_path: Path, text: str) -> Path:
    (tmp_path / "pw").write_text("secret\n")
    (tmp_path / "pw").chmod(0o600)
    path = tmp_path / "config.toml"
    path.write_text(f'[mailbox]\nhost = "127.0.0.1"\nport = 9\nusername = "me@example.com"\n'
                    f'password_file = "{tmp_path / "pw"}"\n[state]\npath = "{tmp_path / "state.db"}"\n' + text)
    return path


def test_an_empty_config_is_refused_as_sync_refuses_it(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    config = tmp_path / "empty.toml"
    config.write_text("")
    status, _, doctor_err = doctor(capsys, config)
    sync_status = main(["sync", "--once", "--config", str(config)])
    assert (status, doctor_err) == (sync_status, capsys.readouterr().err)
    assert status == 2 and "mailbox.username" in doctor_err


def test_every_file_the_config_names_is_checked_by_its_key(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "garbage.pem").write_text("not a certificate\n")
    templates = tmp_path / "templates"
    (templates / "fr").mkdir(parents=True)
    (templates / "fr" / "A_1.txt").write_text("Subject: Colis $order_id\n\nBonjour, $bogus\n")
    config = write(tmp_path, f'[claims]\ntemplate_dir = "{templates}"\nto = "cs@example.com"\n'
                   f'[smtp]\nca_file = "{tmp_path / "garbage.pem"}"\npassword_file = "{tmp_path / "pw"}"\n')
    config.write_text(config.read_text().replace("[state]", f'ca_file = "{tmp_path / "missing-ca.pem"}"\n[state]'))
    status, out, err = doctor(capsys, config)
    assert status == 1, err
    findings = {tuple(line.split(maxsplit=2)[:2]): line.split(maxsplit=2)[2] for line in out.splitlines()}
    assert findings["FAIL", "mailbox.ca_file"] == f"{tmp_path / 'missing-ca.pem'}: No such file or directory"
    assert findings["FAIL", "smtp.ca_file"] == f"{tmp_path / 'garbage.pem'}: not PEM certificates"
    assert findings["FAIL", "templates"].startswith(f"{templates / 'fr' / 'A_1.txt'}: unknown placeholders: $bogus")
    assert "imap" not in out  # not tried without its certificate authority

    config.write_text(config.read_text().replace(str(templates), str(tmp_path / "nowhere")))
    _, out, _ = doctor(capsys, config)
    assert f"claims.template_dir {tmp_path / 'nowhere'}: no such directory" in out


@pytest.mark.parametrize(("content", "words"), [
    (None, "no such file"), ("{", "not JSON"), (json.dumps({"web": {}}), '"Web application" client')])
def test_the_oauth_client_secrets_file_is_checked(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], content: str | None, words: str
) -> None:
    secrets = tmp_path / "client.json"
    if content is not None:
        secrets.write_text(content)
    config = tmp_path / "config.toml"
    config.write_text(f'[mailbox]\nusername = "me@gmail.com"\n[mailbox.oauth2]\nclient_secrets_file = "{secrets}"\n'
                      f'token_file = "{tmp_path / "token.json"}"\n[state]\npath = "{tmp_path / "s.db"}"\n')
    status, out, _ = doctor(capsys, config)
    assert status == 1  # no token yet
    line = next(line for line in out.splitlines() if "oauth2 client" in line)
    assert line.startswith("warn") and words in line and "client_secrets_file" in line


def test_the_address_is_typed_once(tmp_path: Path) -> None:
    config = load(write(tmp_path, f'[smtp]\npassword_file = "{tmp_path / "pw"}"\n'))
    assert config.claims.sender == config.smtp.username == "me@example.com"
    config = load(write(tmp_path, '[claims]\nfrom = "other@example.com"\n[smtp]\nusername = "login"\n'))
    assert (config.claims.sender, config.smtp.username) == ("other@example.com", "login")


def test_a_relative_credential_outside_the_service_is_explained(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("CREDENTIALS_DIRECTORY", raising=False)
    path = write(tmp_path, "")
    path.write_text(path.read_text().replace(f'password_file = "{tmp_path / "pw"}"', 'password_file = "imap"'))
    status, out, _ = doctor(capsys, path)
    assert status == 1
    [line] = [line for line in out.splitlines() if "mailbox password" in line]
    assert "cannot read imap" in line and "$CREDENTIALS_DIRECTORY" in line and "LoadCredential=" in line


def test_doctor_warns_when_all_mail_is_hidden_and_only_inbox_would_be_read(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], imap_account: Account, all_mail_account: Account
) -> None:
    (tmp_path / "hidden").mkdir()
    (tmp_path / "shown").mkdir()
    hidden = setup.write_config(tmp_path / "hidden", imap_account, mailbox={"folders": []})  # no \All folder
    _, out, _ = doctor(capsys, hidden)
    assert "only INBOX is read" in out and 'tick "Show in IMAP" for All Mail' in out
    shown = setup.write_config(tmp_path / "shown", all_mail_account, mailbox={"folders": []})
    _, out, _ = doctor(capsys, shown)
    assert "will read Virtual/All" in out and "only INBOX" not in out
