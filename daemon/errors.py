"""Every error lateclaim explains to its user, and the one place that turns one into a message and an exit status.

An error the user can act on (a bad option, a refused password, a state file that is not ours) is a
LateclaimError: its text is the whole message, and its branch of the tree says the exit status. Two branches:
UsageError (exit 2: the command or the configuration asks what cannot be done; fix the request) and ResourceError
(exit 1: something lateclaim needs, a server, a secret, the state file, failed or refused; the service retries
these). Any other exception is a bug and keeps its traceback.

Every command and the service's start import this module: it imports nothing beyond the standard library's
lightest (bench/startup.py).
"""

from __future__ import annotations

import re
import sys
from typing import TextIO

EXIT_OK, EXIT_FAILED, EXIT_USAGE = 0, 1, 2


class LateclaimError(Exception):
    """An error whose message the user can act on. `exit_code` is the command's exit status."""

    exit_code = EXIT_FAILED

    def lines(self) -> list[str]:
        """The message as shown, one line each (most errors have one)."""
        return [str(self)]


# -- exit 2: the request cannot be done as asked ----------------------------------------------------------


class UsageError(LateclaimError):
    """The command cannot do what it was asked: a missing argument, an unknown claim, an unwritable --output."""

    exit_code = EXIT_USAGE


class ConfigError(UsageError):
    """The configuration cannot be used; `problems` lists every reason, one line each."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("\n".join(problems))
        self.problems = problems

    def lines(self) -> list[str]:
        return ["the configuration has problems:", *(f"  - {problem}" for problem in self.problems)]


class ClaimActionError(UsageError):
    """A claim action that the claim's status does not allow, or a claim that does not exist."""


class NotReceivedError(UsageError):
    """`claims open --not-received` names an order or parcel that cannot be claimed as not received."""


class DemoError(UsageError):
    """The demo's --keep directory cannot be used; the message says why."""


# -- exit 1: something lateclaim needs failed or refused (the service retries) --------------------------


class ResourceError(LateclaimError):
    """A server, a secret or the state file failed or refused; trying again later may succeed."""


# Refusals that retrying soon only makes worse: Gmail's bandwidth and quota limits, and its 15-connection cap
# (the words come with [ALERT] or no code at all, so they are matched too).
LONG_REFUSAL_CODES = frozenset({"OVERQUOTA", "THROTTLED", "LIMIT"})
TOO_MANY_CONNECTIONS = re.compile(r"too many (?:simultaneous |concurrent )?connections|connection limit|"
                                  r"maximum number of connections", re.I)


class MailboxError(ResourceError):
    """The mailbox cannot be used; the message says which server and what failed, never the password.

    `code` is the server's response code when it gave one ("AUTHENTICATIONFAILED", "ALERT", "OVERQUOTA"...),
    `server_says` its own words, shown to the user as they are, and `lost` whether the connection was gone."""

    def __init__(self, message: str, code: str = "", server_says: str = "", lost: bool = False) -> None:
        super().__init__(message)
        self.code = code
        self.server_says = server_says
        self.lost = lost  # the connection itself was gone (closed by the server, a dead socket)

    @property
    def refused_for_long(self) -> bool:
        """A quota or connection-limit refusal: the next attempt should wait an hour or more."""
        return self.code in LONG_REFUSAL_CODES or bool(TOO_MANY_CONNECTIONS.search(self.server_says))


class SmtpError(ResourceError):
    """`may_have_reached`: the failure came after the message's last byte may have reached the server (a lost
    connection while it answered), so the message may have been accepted although we never heard it.
    `code` and `server_says`: the server's reply, when it refused this message (to MAIL, RCPT or DATA, or after
    the message itself): a 4xx is `deferred` (try again later), a 5xx `refused` (it will not take it)."""

    def __init__(self, message: str, may_have_reached: bool = False, code: int = 0, server_says: str = "") -> None:
        super().__init__(message)
        self.may_have_reached = may_have_reached
        self.code = code
        self.server_says = server_says

    @property
    def deferred(self) -> bool:
        return 400 <= self.code < 500

    @property
    def refused(self) -> bool:
        return 500 <= self.code < 600


class SecretError(ResourceError):
    """A password file or command that gives no password."""


class OAuthError(ResourceError):
    """An OAuth2 token or client-secrets file that is missing or unreadable, or a refresh the provider refused."""


class StoreError(ResourceError):
    """The state file cannot be opened, migrated or written."""


class StateBusy(StoreError):
    """Another lateclaim is writing the state file and did not finish within the wait (daemon.state.lock)."""


class ForeignFile(ResourceError):
    """What is at state.path is not lateclaim's: the message says what it is, for "state file PATH: ..."."""


def handle(exc: LateclaimError, stream: TextIO | None = None) -> int:
    """The one place an error becomes what the user sees: "lateclaim: " and its message, and the exit status."""
    out = stream or sys.stderr
    first, *rest = exc.lines()
    print(f"lateclaim: {first}", file=out)
    for line in rest:
        print(line, file=out)
    return exc.exit_code
