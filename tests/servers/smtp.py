"""A real SMTP server (aiosmtpd) on 127.0.0.1 for the tests: implicit TLS or STARTTLS, with AUTH.

Like Gmail, it can file every message it accepts in the sender's \\Sent folder (on the test Dovecot), which is
what lateclaim relies on to recognise a message already sent after a crash.
"""

from __future__ import annotations

import ssl
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword

from tests.servers.dovecot import free_port

USER, PASSWORD = "sender@example.com", "smtp-secret-pw"


@dataclass
class Received:
    mail_from: str
    rcpt_tos: list[str]
    content: bytes


@dataclass
class Sink:
    messages: list[Received] = field(default_factory=list)
    file_in_sent: Callable[[bytes], None] | None = None
    lock: threading.Lock = field(default_factory=threading.Lock)

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        content = bytes(envelope.original_content or envelope.content)
        with self.lock:
            self.messages.append(Received(envelope.mail_from, list(envelope.rcpt_tos), content))
        if self.file_in_sent is not None:
            self.file_in_sent(content)  # before the 250: filed by the time the client hears "accepted"
        return "250 OK"


def authenticator(server: Any, session: Any, envelope: Any, mechanism: str, auth_data: Any) -> AuthResult:
    ok = isinstance(auth_data, LoginPassword) and auth_data.login.decode() == USER and \
        auth_data.password.decode() == PASSWORD
    return AuthResult(success=ok, handled=False)


class SmtpServer:
    def __init__(self, cert: str, key: str, security: str = "tls") -> None:
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
        self.controller = Controller(self.sink, hostname="127.0.0.1", port=self.port, **options)

    def start(self) -> SmtpServer:
        self.controller.start()
        return self

    def stop(self) -> None:
        self.controller.stop()

    @property
    def messages(self) -> list[Received]:
        with self.sink.lock:
            return list(self.sink.messages)
