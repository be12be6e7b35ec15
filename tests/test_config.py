from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from daemon.config import Config, OAuth2Config, load, require_mailbox
from daemon.errors import ConfigError, SecretError
from daemon.mail.secrets import read_secret
from daemon.passes.evaluate import policy_of

ROOT = Path(__file__).resolve().parents[1]


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "config.toml"
    path.write_text(text, encoding="utf-8")
    return path


def problems(tmp_path: Path, text: str) -> list[str]:
    with pytest.raises(ConfigError) as info:
        load(write(tmp_path, text))
    return info.value.problems


def test_the_example_file_loads_and_documents_every_key() -> None:
    config = load(ROOT / "config.example.toml")
    assert config.mailbox.host == "imap.gmail.com"
    assert config.claims.mode == "draft"
    assert config.claims.max_per_year == 12
    assert str(config.rules.timezone) == "Europe/Paris"
    example = (ROOT / "config.example.toml").read_text()
    for key in ("poll_interval", "ca_file", "authserv_ids", "notice_days", "ask", "signature", "template_dir"):
        assert key in example


def test_an_empty_file_gives_the_defaults(tmp_path: Path) -> None:
    path = write(tmp_path, "")
    config = load(path)
    assert config == replace(Config(), source=path)  # every table, every key: the dataclasses' defaults
    oauth2 = load(write(tmp_path, "[mailbox.oauth2]\n")).mailbox.oauth2
    assert oauth2 == OAuth2Config()
    assert require_mailbox(config)  # username and password are still needed to talk to a server


def test_every_problem_is_reported_at_once_with_file_and_key(tmp_path: Path) -> None:
    found = problems(tmp_path, """
[mailbox]
port = "993"
security = "ssl"
usernme = "typo@example.com"

[rules]
timezone = "Europe/Pariss"

[claims]
mode = "send"

[colour]
""")
    text = "\n".join(found)
    assert all(p.startswith(str(tmp_path / "config.toml")) for p in found)
    assert "mailbox.port: expected a whole number from 1 to 65535, got '993'" in text
    assert 'mailbox.security: expected one of "tls", "starttls", "plain"' in text
    assert "mailbox.usernme: unknown key" in text
    assert "rules.timezone: expected an IANA time zone" in text
    assert "claims.to: mode = \"send\" needs" in text
    assert "colour: unknown table" in text
    assert len(found) == 7  # the six above and claims.from


def test_plain_imap_is_refused_unless_loopback(tmp_path: Path) -> None:
    found = problems(tmp_path, '[mailbox]\nhost = "imap.example.com"\nsecurity = "plain"\n')
    assert any("mailbox.security" in p and "loopback" in p for p in found)
    for host in ("127.0.0.1", "::1", "localhost"):
        assert load(write(tmp_path, f'[mailbox]\nhost = "{host}"\nsecurity = "plain"\n')).mailbox.host == host


def test_broken_toml_names_the_file(tmp_path: Path) -> None:
    found = problems(tmp_path, "[mailbox\nhost=")
    assert found[0].startswith(f"{tmp_path / 'config.toml'}: not valid TOML")


def test_a_missing_file_says_what_to_do(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="no such file"):
        load(tmp_path / "absent.toml")


def test_password_file_and_command_exclude_each_other(tmp_path: Path) -> None:
    found = problems(tmp_path, '[mailbox]\npassword_file = "/x"\npassword_command = ["echo", "x"]\n')
    assert any("not both" in p for p in found)


def test_secrets_come_from_a_file_or_a_command(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    secret_file = tmp_path / "imap"
    secret_file.write_text("app-password-123\n")
    config = load(write(tmp_path, f'[mailbox]\nusername = "u@example.com"\npassword_file = "{secret_file}"\n'))
    assert read_secret(config.mailbox.password, "mailbox password") == "app-password-123"
    assert require_mailbox(config) == []

    config = load(write(tmp_path, '[mailbox]\npassword_command = ["printf", "from-command"]\n'))
    assert read_secret(config.mailbox.password, "mailbox password") == "from-command"

    monkeypatch.setenv("CREDENTIALS_DIRECTORY", str(tmp_path))
    config = load(write(tmp_path, '[mailbox]\npassword_file = "imap"\n'))
    assert read_secret(config.mailbox.password, "mailbox password") == "app-password-123"


def test_secret_errors_never_show_the_secret(tmp_path: Path) -> None:
    config = load(write(tmp_path, '[mailbox]\npassword_command = ["sh", "-c", "echo hunter2; exit 3"]\n'))
    with pytest.raises(SecretError) as info:
        read_secret(config.mailbox.password, "mailbox password")
    assert "exited 3" in str(info.value)
    assert "hunter2" not in str(info.value)
    config = load(write(tmp_path, f'[mailbox]\npassword_file = "{tmp_path / "nope"}"\n'))
    with pytest.raises(SecretError, match="cannot read"):
        read_secret(config.mailbox.password, "mailbox password")


def test_the_consumers_country_is_a_country_code_or_a_canadian_province(tmp_path: Path) -> None:
    assert load(write(tmp_path, '[claims]\ncountry = "be"\n')).claims.country == "BE"
    assert load(write(tmp_path, '[claims]\ncountry = "CA-QC"\n')).claims.country == "CA-QC"
    for wrong in ('"Belgium"', '"CA-XX"', "32"):
        text = "\n".join(problems(tmp_path, f"[claims]\ncountry = {wrong}\n"))
        assert 'claims.country: expected a two-letter country code such as "BE", or "CA-QC"' in text, wrong


def test_the_letters_follow_the_address_country_unless_one_is_set(tmp_path: Path) -> None:
    belgian = '[claims]\npostal_address = ["Rue Haute 1", "1000 Bruxelles", "Belgique"]\n'
    assert policy_of(load(write(tmp_path, belgian))).consumer_country == "BE"
    assert policy_of(load(write(tmp_path, belgian + 'country = "LU"\n'))).consumer_country == "LU"
    montreal = '[claims]\npostal_address = ["1 rue Sainte-Catherine", "Montréal QC H2X 1Y4"]\n'
    assert policy_of(load(write(tmp_path, montreal))).consumer_country == "CA-QC"
    assert policy_of(load(write(tmp_path, '[claims]\npostal_address = ["1 rue X", "75011 Paris"]\n'))) \
        .consumer_country == ""
