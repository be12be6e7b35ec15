"""The TOML configuration: read once, validated whole, frozen.

Every problem is collected before anything is raised, so a user fixes a broken file in one pass. Each problem
names the file, the key and what was expected. Unknown keys are errors: a typo must not silently fall back to
a default. Secrets never live in this file: `password_file` or `password_command` point to them.
"""

from __future__ import annotations

import ipaddress
import os
import re
import tomllib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from daemon.errors import ConfigError
from rules.law import CANADA_PROVINCES
from rules.policy import ASKS

SEARCH_PATH = (
    Path("~/.config/lateclaim/config.toml"),
    Path("/etc/lateclaim/config.toml"),
)
SECURITY_MODES = ("tls", "starttls", "plain")
CLAIM_MODES = ("draft", "review", "send")
LANGUAGES = ("auto", "fr", "en", "de", "it", "es", "nl", "pl", "sv", "ja")
LOG_FORMATS = ("auto", "json", "console")
LOG_LEVELS = ("debug", "info", "warning", "error")
CANADIAN_PROVINCES = {f"CA-{code}" for code in CANADA_PROVINCES.values()}


@dataclass(frozen=True)
class Secret:
    """Where a password comes from. The value is read only when a connection is made."""

    file: Path | None = None
    command: tuple[str, ...] = ()

    @property
    def configured(self) -> bool:
        return self.file is not None or bool(self.command)


@dataclass(frozen=True)
class OAuth2Config:
    """Gmail sign-in with OAuth2 (XOAUTH2) instead of a password: `lateclaim auth google` writes token_file."""

    client_secrets_file: Path | None = None  # the "installed app" JSON from Google Cloud (for `auth google`)
    token_file: Path = Path("~/.local/state/lateclaim/google-token.json").expanduser()  # noqa: RUF009 - immutable
    token_uri: str = "https://oauth2.googleapis.com/token"


@dataclass(frozen=True)
class MailboxConfig:
    """The [mailbox] table: the IMAP account to watch and how often."""
    host: str = "imap.gmail.com"
    port: int = 993
    security: str = "tls"
    username: str = ""
    password: Secret = field(default_factory=Secret)
    folders: tuple[str, ...] = ()
    poll_interval: int = 900  # seconds between two syncs in `lateclaim run`
    ca_file: Path | None = None  # an extra certificate authority to trust (a self-hosted server)
    oauth2: OAuth2Config | None = None  # [mailbox.oauth2]: sign in with XOAUTH2, no password


@dataclass(frozen=True)
class StateConfig:
    """The [state] table: where the SQLite state file lives."""
    path: Path = Path("~/.local/state/lateclaim/lateclaim.db").expanduser()  # noqa: RUF009 - immutable


@dataclass(frozen=True)
class RulesConfig:
    """The [rules] table: the user's time zone, the goodwill grace and what mail is trusted."""
    timezone: ZoneInfo = ZoneInfo("Europe/Paris")  # noqa: RUF009 - immutable and cached
    grace_days: int = 0
    trust_unauthenticated: bool = False
    authserv_ids: tuple[str, ...] = ("mx.google.com",)


@dataclass(frozen=True)
class ClaimsConfig:
    """The [claims] table: what is done with a claim (draft, review, send) and how it is written."""
    mode: str = "draft"
    language: str = "auto"
    sender: str = ""  # the `from` key: `from` is a Python keyword
    to: str = ""
    max_per_day: int = 3
    max_per_year: int = 12
    notice_days: int = 7
    ask: str = "gesture"
    signature: str = ""
    template_dir: Path | None = None
    max_age_days: int = 30
    postal_address: tuple[str, ...] = ()  # the user's address lines, for printed letters (`claims letter`)
    place: str = ""  # the town a printed letter is written from; "": the town in the address's last line
    # Where you live: its law is the one the letters cite ("BE"; a Canadian province as "CA-QC"). "": the country
    # the postal address names, else the marketplace's.
    country: str = ""


@dataclass(frozen=True)
class SmtpConfig:
    """The [smtp] table: the server that sends claims in send mode."""
    host: str = "smtp.gmail.com"
    port: int = 465
    security: str = "tls"
    username: str = ""
    password: Secret = field(default_factory=Secret)
    ca_file: Path | None = None
    # Whether the SMTP server files what it sends in the mailbox's Sent folder itself (smtp.gmail.com does;
    # "auto" says so for Google's hosts), and how long after sending its copy may take to show there.
    files_sent: str = "auto"
    sent_copy_wait: int = 180

    @property
    def server_files_sent(self) -> bool:
        if self.files_sent == "auto":
            return self.host.lower().rstrip(".") in ("smtp.gmail.com", "smtp.googlemail.com", "smtp-relay.gmail.com")
        return self.files_sent == "yes"


@dataclass(frozen=True)
class LogConfig:
    """The [log] table."""
    level: str = "info"
    format: str = "auto"


@dataclass(frozen=True)
class NoticesConfig:
    """The [notices] table: how lateclaim tells the user that something waits for them (daemon/passes/notices.py)."""
    enabled: bool = True
    inbox: bool = True  # an unread message in the INBOX (IMAP APPEND, no SMTP)
    apprise: tuple[str, ...] = ()  # push too, through these Apprise URLs (the optional `apprise` extra)
    language: str = "auto"  # auto: claims.language, else the one most claims use (notices.account_language)
    digest: str = "off"  # weekly: also a short summary of the week, on the first pass of each week


@dataclass(frozen=True)
class Config:
    """The whole config.toml, validated; `source` is the file it was read from."""
    mailbox: MailboxConfig = field(default_factory=MailboxConfig)
    state: StateConfig = field(default_factory=StateConfig)
    rules: RulesConfig = field(default_factory=RulesConfig)
    claims: ClaimsConfig = field(default_factory=ClaimsConfig)
    smtp: SmtpConfig = field(default_factory=SmtpConfig)
    log: LogConfig = field(default_factory=LogConfig)
    notices: NoticesConfig = field(default_factory=NoticesConfig)
    source: Path | None = None  # the file this came from, for messages


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def find_config(explicit: str | None) -> Path | None:
    """The file to read: --config, then $LATECLAIM_CONFIG, then the first existing file of SEARCH_PATH."""
    if explicit:
        return Path(explicit).expanduser()
    env = os.environ.get("LATECLAIM_CONFIG")
    if env:
        return Path(env).expanduser()
    for candidate in SEARCH_PATH:
        path = candidate.expanduser()
        if path.exists():
            return path
    return None


def load(path: Path) -> Config:
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError([f"{path}: no such file (`lateclaim init` writes one)"]) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError([f"{path}: cannot read it: {exc}"]) from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError([f"{path}: not valid TOML: {exc}"]) from None
    return parse(data, path)


T = TypeVar("T")


class _Reader:
    """Reads one table, recording problems instead of raising, and remembers which keys it used."""

    def __init__(self, problems: list[str], where: str, table: str, data: Any) -> None:
        self.problems = problems
        self.where = where
        self.table = table
        self.data: Mapping[str, Any] = data if isinstance(data, Mapping) else {}
        if not isinstance(data, Mapping):
            self.problem("", f"expected a table [{table}]")
        self.used: set[str] = set()

    def problem(self, key: str, message: str) -> None:
        name = f"{self.table}.{key}" if key else self.table
        self.problems.append(f"{self.where}: {name}: {message}")

    def get(self, key: str, default: T, check: Callable[[Any], T | None], expected: str) -> T:
        self.used.add(key)
        if key not in self.data:
            return default
        value = self.data[key]
        converted = check(value)
        if converted is None:
            self.problem(key, f"expected {expected}, got {value!r}")
            return default
        return converted

    def text(self, key: str, default: str) -> str:
        return self.get(key, default, lambda v: v if isinstance(v, str) else None, "a string")

    def choice(self, key: str, default: str, choices: tuple[str, ...]) -> str:
        expected = "one of " + ", ".join(f'"{c}"' for c in choices)
        return self.get(key, default, lambda v: v if v in choices else None, expected)

    def integer(self, key: str, default: int, low: int, high: int) -> int:
        def check(v: Any) -> int | None:
            ok = isinstance(v, int) and not isinstance(v, bool) and low <= v <= high
            return v if ok else None

        return self.get(key, default, check, f"a whole number from {low} to {high}")

    def boolean(self, key: str, default: bool) -> bool:
        return self.get(key, default, lambda v: v if isinstance(v, bool) else None, "true or false")

    def strings(self, key: str, default: tuple[str, ...]) -> tuple[str, ...]:
        def check(v: Any) -> tuple[str, ...] | None:
            if isinstance(v, list) and all(isinstance(s, str) and s for s in v):
                return tuple(v)
            return None

        return self.get(key, default, check, "a list of non-empty strings")

    def path(self, key: str, default: Path | None) -> Path | None:
        def check(v: Any) -> Path | None:
            return Path(v).expanduser() if isinstance(v, str) and v else None

        return self.get(key, default, check, "a file path")

    def zone(self, key: str, default: ZoneInfo) -> ZoneInfo:
        def check(v: Any) -> ZoneInfo | None:
            try:
                return ZoneInfo(v) if isinstance(v, str) and v else None
            except (ZoneInfoNotFoundError, ValueError):
                return None

        return self.get(key, default, check, 'an IANA time zone such as "Europe/Paris"')

    def secret(self) -> Secret:
        file = self.path("password_file", Secret().file)
        command = self.strings("password_command", Secret().command)
        if file is not None and command:
            self.problem("password_file", "set password_file or password_command, not both")
        return Secret(file, command)

    def finish(self) -> None:
        for key in sorted(set(self.data) - self.used):
            self.problem(key, "unknown key")


def _address_lines(value: Any) -> tuple[str, ...] | None:
    ok = isinstance(value, list) and 2 <= len(value) <= 6 and all(
        isinstance(line, str) and line.strip() and len(line) <= 60 and "\n" not in line for line in value)
    return tuple(line.strip() for line in value) if ok else None


def _country_code(value: Any) -> str | None:
    """An ISO 3166-1 code ("BE"), or a Canadian province's ISO 3166-2 code ("CA-QC"), in capitals."""
    if not isinstance(value, str):
        return None
    code = value.strip().upper()
    if re.fullmatch(r"[A-Z]{2}", code) or code in CANADIAN_PROVINCES:
        return code
    return None


def _apprise_urls(value: Any) -> tuple[str, ...] | None:
    ok = isinstance(value, list) and all(isinstance(url, str) and "://" in url for url in value)
    return tuple(value) if ok else None


def parse(data: Mapping[str, Any], path: Path) -> Config:
    """Validate a decoded TOML document into a Config, or raise ConfigError listing every problem. A key left out
    takes its dataclass field's default (`d`, `cd`... below): each default is written once, in the dataclass."""
    problems: list[str] = []
    where = str(path)
    known = {"mailbox", "state", "rules", "claims", "smtp", "log", "notices"}
    for table in sorted(set(data) - known):
        problems.append(f"{where}: {table}: unknown table (expected one of {', '.join(sorted(known))})")

    def reader(table: str) -> _Reader:
        return _Reader(problems, where, table, data.get(table, {}))

    r, d = reader("mailbox"), MailboxConfig()
    oauth2 = None
    if "oauth2" in r.data:
        r.used.add("oauth2")
        o, od = _Reader(problems, where, "mailbox.oauth2", r.data["oauth2"]), OAuth2Config()
        oauth2 = OAuth2Config(
            client_secrets_file=o.path("client_secrets_file", od.client_secrets_file),
            token_file=o.path("token_file", od.token_file) or od.token_file,
            token_uri=o.text("token_uri", od.token_uri),
        )
        o.finish()
    mailbox = MailboxConfig(
        host=r.text("host", d.host),
        port=r.integer("port", d.port, 1, 65535),
        security=r.choice("security", d.security, SECURITY_MODES),
        username=r.text("username", d.username),
        password=r.secret(),
        folders=r.strings("folders", d.folders),
        poll_interval=r.integer("poll_interval", d.poll_interval, 10, 86400),
        ca_file=r.path("ca_file", d.ca_file),
        oauth2=oauth2,
    )
    if oauth2 is not None and mailbox.password.configured:
        r.problem("oauth2", "sign in with OAuth2 or with a password (password_file, password_command), not both")
    if mailbox.security == "plain" and not is_loopback(mailbox.host):
        r.problem("security", f'"plain" sends the password unencrypted: refused for {mailbox.host!r}, '
                  "allowed only for a loopback address (use tls or starttls)")
    r.finish()

    r, sd = reader("state"), StateConfig()
    state = StateConfig(path=r.path("path", sd.path) or sd.path)
    r.finish()

    r, rd = reader("rules"), RulesConfig()
    rules = RulesConfig(
        timezone=r.zone("timezone", rd.timezone),
        grace_days=r.integer("grace_days", rd.grace_days, 0, 60),
        trust_unauthenticated=r.boolean("trust_unauthenticated", rd.trust_unauthenticated),
        authserv_ids=r.strings("authserv_ids", rd.authserv_ids),
    )
    r.finish()

    r, cd = reader("claims"), ClaimsConfig()
    claims = ClaimsConfig(
        mode=r.choice("mode", cd.mode, CLAIM_MODES),
        language=r.choice("language", cd.language, LANGUAGES),
        sender=r.text("from", cd.sender) or mailbox.username,  # your own address, typed once
        to=r.text("to", cd.to),
        max_per_day=r.integer("max_per_day", cd.max_per_day, 0, 100),
        max_per_year=r.integer("max_per_year", cd.max_per_year, 0, 1000),
        notice_days=r.integer("notice_days", cd.notice_days, 1, 60),
        ask=r.choice("ask", cd.ask, ASKS),
        signature=r.text("signature", cd.signature),
        template_dir=r.path("template_dir", cd.template_dir),
        max_age_days=r.integer("max_age_days", cd.max_age_days, 1, 3650),
        postal_address=r.get("postal_address", cd.postal_address, _address_lines,
                             'a list of 2 to 6 non-empty address lines of at most 60 characters, such as '
                             '["12 rue des Lilas", "75011 Paris"]'),
        place=r.text("place", cd.place),
        country=r.get("country", cd.country, _country_code,
                      'a two-letter country code such as "BE", or "CA-QC" for a Canadian province'),
    )
    if claims.mode == "send" and not claims.to:
        r.problem("to", 'mode = "send" needs the address claims are sent to')
    if claims.mode == "send" and not claims.sender:
        r.problem("from", 'mode = "send" needs your own address')
    r.finish()

    r, md = reader("smtp"), SmtpConfig()
    smtp_password = r.secret()
    smtp = SmtpConfig(
        host=r.text("host", md.host),
        port=r.integer("port", md.port, 1, 65535),
        security=r.choice("security", md.security, SECURITY_MODES),
        # With a password of its own, SMTP logs in as the mailbox does unless told otherwise.
        username=r.text("username", md.username) or (mailbox.username if smtp_password.configured else ""),
        password=smtp_password,
        ca_file=r.path("ca_file", md.ca_file),
        files_sent=r.choice("files_sent", md.files_sent, ("auto", "yes", "no")),
        sent_copy_wait=r.integer("sent_copy_wait", md.sent_copy_wait, 0, 3600),
    )
    if smtp.security == "plain" and not is_loopback(smtp.host):
        r.problem("security", f'"plain" is refused for {smtp.host!r}: allowed only for a loopback address')
    r.finish()

    r, ld = reader("log"), LogConfig()
    log = LogConfig(level=r.choice("level", ld.level, LOG_LEVELS), format=r.choice("format", ld.format, LOG_FORMATS))
    r.finish()

    r, nd = reader("notices"), NoticesConfig()
    notices = NoticesConfig(
        enabled=r.boolean("enabled", nd.enabled),
        inbox=r.boolean("inbox", nd.inbox),
        apprise=r.get("apprise", nd.apprise, _apprise_urls,
                      'a list of Apprise URLs such as ["ntfy://my-topic", "tgram://bottoken/chatid"]'),
        language=r.choice("language", nd.language, LANGUAGES),
        digest=r.choice("digest", nd.digest, ("off", "weekly")),
    )
    r.finish()

    if problems:
        raise ConfigError(problems)
    return Config(mailbox, state, rules, claims, smtp, log, notices, source=path)


def require_mailbox(config: Config) -> list[str]:
    """What a command that talks to the mailbox still needs; empty when it is all there."""
    where = str(config.source) if config.source else "config"
    missing = []
    if not config.mailbox.username:
        missing.append(f"{where}: mailbox.username: expected your mail address (the IMAP login)")
    if not config.mailbox.password.configured and config.mailbox.oauth2 is None:
        missing.append(f"{where}: mailbox.password_file, mailbox.password_command or [mailbox.oauth2]: "
                       "expected one of them")
    return missing
