"""`lateclaim doctor`: checks everything lateclaim needs, and says what to fix.

Each check prints one line, "ok", "warn" or "FAIL", with what was found and, when something is wrong, what to
do. Checks that need an earlier one (login needs the password) are skipped when it failed.
"""

from __future__ import annotations

import os
import ssl
import stat
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from daemon.config import Config, Secret
from daemon.errors import ForeignFile, MailboxError, OAuthError, SecretError, SmtpError, StoreError
from daemon.mail.imap import ImapMailbox
from daemon.mail.oauth import access_token, read_client_secrets
from daemon.mail.secrets import read_secret, resolve_file
from daemon.mail.smtp import login_only
from daemon.passes.evaluate import policy_of
from daemon.passes.pipeline import imap_settings, smtp_settings
from daemon.state.statefile import check_state
from daemon.state.store import Store
from rules.letters import template_problems


@dataclass(frozen=True)
class Finding:
    level: str  # ok | warn | FAIL
    check: str
    detail: str


def credentials_hint(file: Path | None) -> str:
    """Why a relative credential file is missing outside the service, and what to do about it."""
    if file is None or file.is_absolute() or os.environ.get("CREDENTIALS_DIRECTORY"):
        return ""
    return (f" — {str(file)!r} is a relative name: lateclaim reads it from $CREDENTIALS_DIRECTORY, which systemd "
            "sets only for the service (LoadCredential= in its unit). Check the service itself "
            "(`sudo systemctl restart lateclaim; journalctl -u lateclaim`), or run doctor with a configuration "
            "whose password_file is a full path")


class Doctor:
    def __init__(self, config: Config, now: datetime, say: Callable[[Finding], None], roundtrip: bool = False) -> None:
        self.config = config
        self.roundtrip = roundtrip  # --roundtrip: a test draft through Drafts and back (daemon/commands/roundtrip.py)
        self.now = now
        self.say = say
        self.failures = 0

    def report(self, level: str, check: str, detail: str) -> None:
        self.failures += level == "FAIL"
        self.say(Finding(level, check, detail))

    def run(self) -> int:
        """The configuration has passed the checks `sync` and `run` apply (the caller made sure of it)."""
        self.report("ok", "config", f"{self.config.source} is valid")
        self.check_state()
        self.check_clock()
        self.check_templates()
        mailbox_ca = self.check_ca_file("mailbox.ca_file", self.config.mailbox.ca_file)
        if self.config.mailbox.oauth2 is not None:
            self.check_client_secrets()
            signed_in = self.check_oauth2()
        else:
            signed_in = self.check_secret(self.config.mailbox.password, "mailbox password") is not None
        if signed_in and mailbox_ca:
            self.check_mailbox()
        if self.config.claims.mode == "send" or self.config.claims.to:  # then claims go out by SMTP
            smtp_ca = self.check_ca_file("smtp.ca_file", self.config.smtp.ca_file)
            if self.config.smtp.password.configured:
                ready = self.check_secret(self.config.smtp.password, "smtp password") is not None
            elif self.config.mailbox.oauth2 is not None:
                ready = signed_in  # SMTP signs in with the mailbox's OAuth2 token
            else:
                ready = False
                self.report("FAIL", "smtp password", "smtp.password_file or smtp.password_command: expected one "
                            "of them (claims are sent by SMTP)")
            if ready and smtp_ca:
                self.check_smtp()
        return 1 if self.failures else 0

    def check_ca_file(self, key: str, path: Path | None) -> bool:
        if path is None:
            return True
        try:
            ssl.create_default_context(cafile=str(path))
        except OSError as exc:  # ssl.SSLError is an OSError too
            what = exc.strerror if not isinstance(exc, ssl.SSLError) else "not PEM certificates"
            self.report("FAIL", key, f"{path}: {what or exc}")
            return False
        self.report("ok", key, f"{path} will be trusted as a certificate authority")
        return True

    def check_templates(self) -> None:
        folder = self.config.claims.template_dir
        if folder is None:
            return
        if not folder.is_dir():
            self.report("FAIL", "templates", f"claims.template_dir {folder}: no such directory")
            return
        problems = template_problems(policy_of(self.config))
        for problem in problems:
            self.report("FAIL", "templates", f"{folder / problem} (the bundled letter is used instead)")
        if not problems:
            self.report("ok", "templates", f"your templates in {folder} are valid")

    def check_client_secrets(self) -> None:
        oauth2 = self.config.mailbox.oauth2
        if oauth2 is None or oauth2.client_secrets_file is None:
            return
        try:
            read_client_secrets(oauth2.client_secrets_file)
        except OAuthError as exc:
            self.report("warn", "oauth2 client", f"{exc} (needed only by `lateclaim auth google`)")
            return
        self.report("ok", "oauth2 client", f"{oauth2.client_secrets_file} is a Desktop app client")

    def check_state(self) -> None:
        """Looks only: the state file is opened read-only, and a missing one is not created here."""
        path = self.config.state.path
        try:
            kind = check_state(path)
        except ForeignFile as exc:
            self.report("FAIL", "state", str(exc))
            return
        if kind == "missing":
            parent = next(p for p in path.parents if p.exists())
            if os.access(parent, os.W_OK | os.X_OK):
                self.report("ok", "state", f"{path} does not exist yet: the first sync creates it (mode 600)")
            else:
                self.report("FAIL", "state", f"{path} cannot be created: {parent} is not writable by this user")
            return
        try:
            with Store(path, readonly=True) as store:
                version = store.schema_version
        except StoreError as exc:
            self.report("FAIL", "state", str(exc))
            return
        mode = stat.S_IMODE(path.stat().st_mode)
        if mode & 0o077:
            self.report("warn", "state", f"{path} is readable by others (mode {mode:o}): chmod 600 {path}")
        else:
            self.report("ok", "state", f"{path} (schema {version}, mode {mode:o})")

    def check_clock(self) -> None:
        zone = self.config.rules.timezone
        local = self.now.astimezone(zone)
        self.report("ok", "clock", f"now {local:%Y-%m-%d %H:%M} {zone.key}; deadlines are evaluated in this zone")

    def check_secret(self, secret: Secret, what: str) -> str | None:
        try:
            value = read_secret(secret, what)
        except SecretError as exc:
            self.report("FAIL", what, str(exc) + credentials_hint(secret.file))
            return None
        if secret.file is not None:
            path = resolve_file(secret.file)
            mode = stat.S_IMODE(path.stat().st_mode)
            if mode & 0o077:
                self.report("warn", what, f"{path} is readable by others (mode {mode:o}): chmod 600 {path}")
                return value
            self.report("ok", what, f"read from {path}")
        else:
            self.report("ok", what, f"printed by {secret.command[0]!r}")
        return value

    def check_oauth2(self) -> bool:
        oauth2 = self.config.mailbox.oauth2
        assert oauth2 is not None
        try:
            access_token(oauth2)
        except OAuthError as exc:
            self.report("FAIL", "oauth2", str(exc) + credentials_hint(oauth2.token_file))
            return False
        self.report("ok", "oauth2", f"refresh token in {resolve_file(oauth2.token_file)} accepted by Google")
        return True

    def check_mailbox(self) -> None:
        box = self.config.mailbox
        where = f"{box.security} {box.host}:{box.port} as {box.username}"
        try:
            with ImapMailbox(imap_settings(self.config)) as mailbox:
                self.report("ok", "imap", f"connected and logged in ({where})")
                folders = mailbox.folders_to_read()
                if not box.folders and mailbox.all_mail_folder() is None:
                    self.report("warn", "folders", "no All Mail (\\All) folder is shown over IMAP, so only INBOX is "
                                "read and mail your filters archive is missed: on Gmail, tick \"Show in IMAP\" for "
                                "All Mail (Settings, Labels); elsewhere, list the folders in mailbox.folders")
                else:
                    self.report("ok", "folders", "will read " + ", ".join(folders))
                if self.config.claims.mode == "draft":
                    self.report("ok", "drafts", f"claims will be drafted in {mailbox.drafts_folder()}")
                sent = mailbox.sent_folder()
                if sent:
                    self.report("ok", "sent", f"sent claims will be recognised in {sent}")
                else:
                    self.report("warn", "sent", "no \\Sent folder: claims you send cannot be followed")
                if self.roundtrip:
                    self.check_roundtrip(mailbox)
        except MailboxError as exc:
            self.report("FAIL", "imap", f"{exc} ({where})")

    def check_roundtrip(self, mailbox: ImapMailbox) -> None:
        from daemon.commands.roundtrip import roundtrip

        try:
            roundtrip(mailbox, self.config, self.now, self.report)
        except MailboxError as exc:
            self.report("FAIL", "roundtrip", str(exc))

    def check_smtp(self) -> None:
        smtp = self.config.smtp
        try:
            login_only(smtp_settings(self.config))
        except (SmtpError, SecretError, OAuthError) as exc:
            self.report("FAIL", "smtp", str(exc))
            return
        self.report("ok", "smtp", f"connected and logged in ({smtp.security} {smtp.host}:{smtp.port})")
