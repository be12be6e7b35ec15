"""Reading a password at connection time, from a file or a command, never from the config itself."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

from daemon.config import Secret
from daemon.errors import SecretError


def resolve_file(path: Path) -> Path:
    """A relative path is looked up in systemd's $CREDENTIALS_DIRECTORY when the service runs with one."""
    credentials = os.environ.get("CREDENTIALS_DIRECTORY")
    if not path.is_absolute() and credentials:
        return Path(credentials) / path
    return path


def read_secret(secret: Secret, what: str) -> str:
    """The secret's value with one trailing newline removed. `what` names it in errors ("mailbox password")."""
    if secret.file is not None:
        path = resolve_file(secret.file)
        try:
            value = path.read_text(encoding="utf-8")
        except OSError as exc:
            raise SecretError(f"{what}: cannot read {path}: {exc.strerror or exc}") from None
    elif secret.command:
        try:
            done = subprocess.run(secret.command, capture_output=True, text=True, timeout=60, check=False)
        except (OSError, subprocess.TimeoutExpired) as exc:
            raise SecretError(f"{what}: password_command {secret.command[0]!r} failed: {exc}") from None
        if done.returncode != 0:
            raise SecretError(f"{what}: password_command {secret.command[0]!r} exited {done.returncode}")
        value = done.stdout
    else:
        raise SecretError(f"{what}: neither password_file nor password_command is set")
    value = value.removesuffix("\n")
    if not value:
        raise SecretError(f"{what}: the password is empty")
    return value
