"""`lateclaim init`: a first configuration written from the example shipped in the package, then checked by
doctor against the real Dovecot; asked on a terminal (tmux), given as options without one."""

from __future__ import annotations

import shutil
import subprocess
import sys
import uuid
from pathlib import Path

from daemon.commands.init import example
from daemon.config import load
from tests import lateclaim_setup as setup
from tests.servers.dovecot import Account


def test_the_example_ships_inside_the_package() -> None:
    text = example()
    assert "[mailbox]" in text and "[notices]" in text
    assert text == (Path(__file__).parents[1] / "config.example.toml").read_text()  # the one the README shows


def test_init_with_options_writes_a_commented_config_and_signs_in(imap_account: Account, tmp_path: Path) -> None:
    (tmp_path / "pw").write_text(imap_account.password + "\n")
    (tmp_path / "pw").chmod(0o600)
    path = tmp_path / "lateclaim" / "config.toml"
    options = ["init", "--config", str(path), "--username", imap_account.username, "--host", "127.0.0.1",
               "--port", str(imap_account.tls_port), "--password-file", str(tmp_path / "pw"), "--ca-file",
               imap_account.ca_file, "--timezone", "Europe/Berlin", "--signature", "Camille Martin"]
    done = setup.lateclaim(*options)
    assert done.returncode == 0, done.stdout + done.stderr
    assert f"Wrote {path}" in done.stdout and "Ready. Next: `lateclaim sync`" in done.stdout
    assert any(line.startswith("ok") and "logged in" in line for line in done.stdout.splitlines()), done.stdout
    assert path.stat().st_mode & 0o777 == 0o600
    text = path.read_text()
    assert "# The IMAP server that receives your Amazon mail." in text  # the example's explanations kept
    config = load(path)
    assert (config.mailbox.host, config.mailbox.port, config.mailbox.username) == (
        "127.0.0.1", imap_account.tls_port, imap_account.username)
    assert config.rules.timezone.key == "Europe/Berlin" and config.claims.signature == "Camille Martin"
    assert str(config.mailbox.ca_file) == imap_account.ca_file
    again = setup.lateclaim(*options)
    assert again.returncode == 2 and "never overwrites" in again.stderr
    assert load(path) == config
    missing = setup.lateclaim("init", "--config", str(tmp_path / "other.toml"), "--username", "me@example.org")
    assert missing.returncode == 2 and "--host, --password-file" in missing.stderr


def test_init_on_a_terminal_asks_with_gmails_defaults(tmp_path: Path) -> None:
    tmux = shutil.which("tmux")
    assert tmux, "tmux is needed: apt-get install tmux (make test installs it)"
    path, password = tmp_path / "config.toml", tmp_path / "secrets" / "imap-password"
    session = f"lateclaim-init-{uuid.uuid4().hex[:8]}"
    subprocess.run([tmux, "new-session", "-d", "-s", session, "-x", "100", "-y", "40", sys.executable, "-m",
                    "daemon.cli", "init", "--config", str(path), "--no-check"], check=True, timeout=30,
                   cwd=Path(__file__).parents[1])
    questions = [("Your mail address", "camille@gmail.com"), ("IMAP server [imap.gmail.com]", ""),
                 ("File holding the password (Gmail: an app password", str(password)),
                 ("The password, to be kept in", "s3cret app pw"), ("Your time zone [", ""),
                 ("Your name, to sign the letters", "Camille Martin")]

    def screen() -> str:
        return subprocess.run([tmux, "capture-pane", "-t", session, "-p", "-J"], capture_output=True, text=True,
                              timeout=30).stdout

    try:
        for question, answer in questions:  # each answered once it is on the screen
            setup.wait_for(lambda q=question: q in screen(), 30, f"the question {question!r}")
            subprocess.run([tmux, "send-keys", "-t", session, answer, "Enter"], check=True, timeout=30)
        setup.wait_for(path.exists, 30, "the configuration written")
    finally:
        subprocess.run([tmux, "kill-session", "-t", session], check=False, timeout=30)
    config = load(path)
    assert config.mailbox.host == "imap.gmail.com" and config.mailbox.username == "camille@gmail.com"
    assert config.claims.signature == "Camille Martin"
    assert password.read_text() == "s3cret app pw\n" and password.stat().st_mode & 0o777 == 0o600
    assert "s3cret" not in path.read_text()  # the password stays in its own file


def test_init_with_starttls_writes_starttls_port(tmp_path: Path) -> None:
    """--security starttls without --port writes port 143: the default 993 is implicit TLS's, and a STARTTLS
    client on it would never get a greeting it understands."""
    path = tmp_path / "config.toml"
    done = setup.lateclaim("init", "--config", str(path), "--username", "me@example.org", "--host",
                           "mail.example.org", "--security", "starttls", "--password-file", str(tmp_path / "pw"),
                           "--timezone", "Europe/Berlin", "--no-check")
    assert done.returncode == 0, done.stdout + done.stderr
    assert (load(path).mailbox.security, load(path).mailbox.port) == ("starttls", 143)
    tls = setup.lateclaim("init", "--config", str(tmp_path / "tls.toml"), "--username", "me@example.org", "--host",
                          "mail.example.org", "--password-file", str(tmp_path / "pw"), "--no-check")
    assert tls.returncode == 0, tls.stdout + tls.stderr
    assert load(tmp_path / "tls.toml").mailbox.port == 993
