"""A real SMTP server (aiosmtpd) on 127.0.0.1 for the tests: implicit TLS or STARTTLS, with AUTH.

Like Gmail, it can file every message it accepts in the sender's \\Sent folder (on the test Dovecot), which is
what lateclaim relies on to recognise a message already sent after a crash.
"""

from __future__ import annotations

import ssl
import threading
from base64 import b64decode
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, AuthResult, LoginPassword

from tests.servers.dovecot import free_port

USER, PASSWORD = "sender@example.com", "smtp-secret-pw"
# aiosmtpd counts only STARTTLS as TLS, so the implicit-TLS server (auth_require_tls=False) draws this warning on
# every connection although its AUTH never travels in the clear; tests/conftest.py silences it.
IMPLICIT_TLS_WARNING = "ignore:Requiring AUTH while not requiring TLS:UserWarning"


@dataclass
class Received:
    mail_from: str
    rcpt_tos: list[str]
    content: bytes


@dataclass
class Sink:
    messages: list[Received] = field(default_factory=list)  # accepted (250)
    refused: list[Received] = field(default_factory=list)  # answered with `reply` after the message, not kept
    file_in_sent: Callable[[bytes], None] | None = None
    on_accept: Callable[[bytes], None] | None = None  # runs as the server decides to accept, before its 250
    reply: str = "250 OK"  # the reply to the message: "451 4.3.0 Try again later", "554 5.7.1 Rejected"...
    lock: threading.Lock = field(default_factory=threading.Lock)

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        content = bytes(envelope.original_content or envelope.content)
        if not self.reply.startswith("250"):  # the whole message came, and the server will not take it
            with self.lock:
                self.refused.append(Received(envelope.mail_from, list(envelope.rcpt_tos), content))
            return self.reply
        with self.lock:
            self.messages.append(Received(envelope.mail_from, list(envelope.rcpt_tos), content))
        if self.file_in_sent is not None:
            self.file_in_sent(content)  # before the 250: filed by the time the client hears "accepted"
        if self.on_accept is not None:
            self.on_accept(content)  # the crash tests: kill the client around the moment it is accepted
        return "250 OK"


# A user whose account, like a Gmail account with 2-step verification, refuses its ordinary password in Gmail's words.
APP_PASSWORD_USER = "two-step@example.com"
APP_PASSWORD_REFUSAL = ("534 5.7.9 Application-specific password required. Learn more at "
                        "https://support.google.com/mail/?p=InvalidSecondFactor")


def authenticator(server: Any, session: Any, envelope: Any, mechanism: str, auth_data: Any) -> AuthResult:
    if isinstance(auth_data, LoginPassword) and auth_data.login.decode() == APP_PASSWORD_USER:
        return AuthResult(success=False, handled=False, message=APP_PASSWORD_REFUSAL)
    ok = isinstance(auth_data, LoginPassword) and auth_data.login.decode() == USER and \
        auth_data.password.decode() == PASSWORD
    return AuthResult(success=ok, handled=False)


class XOAuth2SMTP(SMTP):
    """aiosmtpd with Gmail's AUTH XOAUTH2: the bearer token must be one the loopback Google issued."""

    tokens: Callable[[], dict[str, str]] = dict  # access token -> user, set per server

    async def auth_XOAUTH2(self, _: Any, args: list[str]) -> AuthResult:
        try:
            fields = dict(f.split("=", 1) for f in b64decode(args[1]).decode().split("\x01") if "=" in f)
        except (IndexError, ValueError):
            return AuthResult(success=False)
        token = fields.get("auth", "").removeprefix("Bearer ")
        return AuthResult(success=self.tokens().get(token) == fields.get("user"), handled=False)


class OAuthController(Controller):
    def __init__(self, *args: Any, tokens: Callable[[], dict[str, str]], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.tokens = tokens

    def factory(self) -> SMTP:
        server = XOAuth2SMTP(self.handler, **self.SMTP_kwargs)
        server.tokens = self.tokens
        return server


class SmtpServer:
    def __init__(self, cert: str, key: str, security: str = "tls",
                 oauth_tokens: Callable[[], dict[str, str]] = dict) -> None:
        self.sink = Sink()
        self.port = free_port()
        self.security = security
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        context.load_cert_chain(cert, key)
        options: dict[str, Any] = {"authenticator": authenticator, "auth_required": True}
        if security == "tls":
            # aiosmtpd counts only STARTTLS as TLS: with implicit TLS it must be told not to insist.
            options |= {"ssl_context": context, "auth_require_tls": False}
        else:
            options |= {"tls_context": context, "require_starttls": True, "auth_require_tls": True}
        self.controller = OAuthController(self.sink, hostname="127.0.0.1", port=self.port, tokens=oauth_tokens,
                                          **options)

    def start(self) -> SmtpServer:
        self.controller.start()
        return self

    def stop(self) -> None:
        self.controller.stop()

    @property
    def messages(self) -> list[Received]:
        with self.sink.lock:
            return list(self.sink.messages)
