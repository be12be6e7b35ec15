"""`lateclaim init`: a first configuration written for the user, then checked.

It starts from the commented example that ships inside the package (daemon/config.example.toml, so that a pipx
install has it too), fills in the answers (the mail account, where its password is kept, the time zone, the
name that signs the letters), writes it 0600 and runs `doctor` on it: the sign-in and the folders are checked at
once. Questions are asked on a terminal; every answer can also be given as an option, for scripts.
"""

from __future__ import annotations

import getpass
import json
import os
import re
import sys
from collections.abc import Callable
from dataclasses import dataclass
from importlib.resources import files
from pathlib import Path

from daemon.errors import UsageError
from daemon.files import write_whole

GMAIL_HOST = "imap.gmail.com"
GMAIL_DOMAINS = ("gmail.com", "googlemail.com")
DEFAULT_PASSWORD_FILE = Path("~/.config/lateclaim/imap-password")


def example() -> str:
    """The commented example configuration, as shipped inside the package."""
    return files("daemon").joinpath("config.example.toml").read_text(encoding="utf-8")


@dataclass
class Answers:
    username: str = ""
    host: str = ""
    port: int = 993
    security: str = "tls"
    password_file: str = ""
    ca_file: str = ""
    timezone: str = ""
    signature: str = ""


def system_zone() -> str:
    """The machine's IANA time zone, as Debian and most Linux systems record it, else UTC."""
    try:
        return Path("/etc/timezone").read_text(encoding="utf-8").strip() or "UTC"
    except OSError:
        pass
    target = os.path.realpath("/etc/localtime")
    return target.split("zoneinfo/", 1)[1] if "zoneinfo/" in target else "UTC"


def is_gmail(address: str) -> bool:
    return address.rsplit("@", 1)[-1].lower() in GMAIL_DOMAINS


def ask(answers: Answers, prompt: Callable[[str, str], str], secret: Callable[[str], str]) -> str | None:
    """Fills in what the options left out, one question each with a default; returns a password typed to be
    stored, if the user typed one."""
    if not answers.username:
        answers.username = prompt("Your mail address (the IMAP login)", "")
    gmail = is_gmail(answers.username)
    if not answers.host:
        domain = answers.username.rsplit("@", 1)[-1]
        answers.host = prompt("IMAP server", GMAIL_HOST if gmail else f"imap.{domain}")
    typed = None
    if not answers.password_file:
        hint = (" (Gmail: an app password, https://myaccount.google.com/apppasswords)" if answers.host == GMAIL_HOST
                else "")
        answers.password_file = prompt(f"File holding the password{hint}", str(DEFAULT_PASSWORD_FILE))
        path = Path(answers.password_file).expanduser()
        if not path.exists():
            typed = secret(f"The password, to be kept in {path} (mode 0600; not shown as you type): ") or None
    if not answers.timezone:
        answers.timezone = prompt("Your time zone", system_zone())
    if not answers.signature:
        answers.signature = prompt("Your name, to sign the letters", "")
    return typed


def filled(text: str, answers: Answers) -> str:
    """The example with each answered key set in its table, commented-out keys brought in."""
    values = {("mailbox", "host"): answers.host, ("mailbox", "port"): answers.port,
              ("mailbox", "security"): answers.security, ("mailbox", "username"): answers.username,
              ("mailbox", "password_file"): answers.password_file, ("mailbox", "ca_file"): answers.ca_file,
              ("rules", "timezone"): answers.timezone, ("claims", "signature"): answers.signature}
    wanted = {key: value for key, value in values.items() if value not in ("", None)}
    table = ""
    lines = []
    for line in text.splitlines():
        header = re.match(r"#?\s*\[([\w.]+)\]\s*$", line)
        if header and not line.startswith("#"):
            table = header[1]
        setting = re.match(r"#?\s*(\w+) = ", line)
        if setting and (table, setting[1]) in wanted:
            line = f"{setting[1]} = {json.dumps(wanted.pop((table, setting[1])), ensure_ascii=False)}"
        lines.append(line)
    head = ("# Written by `lateclaim init`; every key is explained below, and `lateclaim doctor` checks the file.\n")
    return head + "\n".join(lines) + "\n"


def write_config(path: Path, text: str, force: bool) -> None:
    if path.exists() and not force:
        raise UsageError(f"{path} exists: lateclaim init never overwrites a configuration (--force replaces it, "
                         "or name another file with --config)")
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    write_whole(path, text.encode("utf-8"))


def interactive() -> bool:
    return sys.stdin.isatty() and sys.stdout.isatty()


def terminal_prompt(question: str, default: str) -> str:
    answer = input(f"{question}" + (f" [{default}]" if default else "") + ": ").strip()
    return answer or default


def terminal_secret(question: str) -> str:
    return getpass.getpass(question)


def store_password(path: Path, password: str) -> None:
    """The password typed at `init`, kept 0600 where the configuration says (never over an existing file)."""
    if path.exists():
        raise UsageError(f"{path} exists: lateclaim init does not replace it")
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    write_whole(path, password.encode("utf-8") + b"\n")
