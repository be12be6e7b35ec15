"""Sending a claim by SMTP (mode = "send", or `lateclaim claims send`): TLS, STARTTLS, or plain on loopback."""

from __future__ import annotations

import smtplib
import ssl
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from daemon.config import is_loopback
from daemon.errors import SmtpError


def _words(reply: bytes | str) -> str:
    """The server's reply text on one line, as it wrote it (Gmail's "5.7.9 Application-specific password
    required. Learn more at ..." included)."""
    text = reply.decode("utf-8", "replace") if isinstance(reply, bytes) else reply
    return " ".join(text.split())


def _refusal(where: str, what: str, code: int, reply: bytes | str) -> SmtpError:
    words = _words(reply)
    kind = "deferred (try again later)" if 400 <= code < 500 else "refused"
    return SmtpError(f"{where}: {what} {kind}: {code} {words}", code=code, server_says=f"{code} {words}")


@dataclass(frozen=True)
class SmtpSettings:
    """How to reach and sign in to the SMTP server, secrets already read."""
    host: str
    port: int
    security: str  # tls | starttls | plain
    username: str
    password: str
    ca_file: str | None = None
    timeout: float = 60.0
    oauth2_token: Callable[[], str] | None = None  # set: AUTH XOAUTH2 (Gmail) instead of the password


@contextmanager
def _session(settings: SmtpSettings) -> Iterator[smtplib.SMTP]:
    """A connected, logged-in client. Errors become SmtpError saying what failed, never with the password."""
    where = f"SMTP {settings.host}:{settings.port}"
    if settings.security == "plain" and not is_loopback(settings.host):
        raise SmtpError(f"{where}: plain is refused for a non-loopback host (use tls or starttls)")
    context = ssl.create_default_context(cafile=settings.ca_file)
    try:
        client: smtplib.SMTP
        if settings.security == "tls":
            client = smtplib.SMTP_SSL(settings.host, settings.port, timeout=settings.timeout, context=context)
        else:
            client = smtplib.SMTP(settings.host, settings.port, timeout=settings.timeout)
        with client:
            if settings.security == "starttls":
                client.starttls(context=context)
            if settings.oauth2_token is not None:
                _xoauth2(client, settings.username, settings.oauth2_token())
            elif settings.username:
                client.login(settings.username, settings.password)
            yield client
    except smtplib.SMTPAuthenticationError as exc:  # the server's words say why (Gmail: 534-5.7.9 ...)
        raise SmtpError(f"{where}: login failed for {settings.username}: {exc.smtp_code} {_words(exc.smtp_error)}",
                        server_says=f"{exc.smtp_code} {_words(exc.smtp_error)}") from None
    except SmtpError:
        raise
    except (smtplib.SMTPException, OSError) as exc:
        raise SmtpError(f"{where}: {exc}") from None


def _xoauth2(client: smtplib.SMTP, username: str, token: str) -> None:
    """SASL XOAUTH2, as Gmail's SMTP server takes it (smtplib base64-encodes the response). A refused token
    gets a 334 challenge holding the error as JSON, which the client answers with an empty line; the server then
    says 535 in its own words (never the token sent a second time)."""
    client.ehlo_or_helo_if_needed()
    client.auth("XOAUTH2", lambda challenge=None: "" if challenge is not None
                else f"user={username}\x01auth=Bearer {token}\x01\x01")


def send(settings: SmtpSettings, raw: bytes, sender: str, recipients: list[str],
         committing: Callable[[], None] = lambda: None) -> str:
    """Send one message; the server's acceptance ("250 ..."). `committing` runs just before DATA: up to then the
    server cannot have the message, so a crash before it is safe to retry; from then on only the server's answer
    (or a Sent copy) says. Sent means accepted: the reply to the message itself is read (smtplib's data() returns
    it, and raises only when the DATA command is refused), and anything but 250 is a refusal, in its words."""
    where = f"SMTP {settings.host}:{settings.port}"
    with _session(settings) as client:
        client.ehlo_or_helo_if_needed()
        code, reply = client.mail(sender)
        if code != 250:
            raise _refusal(where, f"the sender {sender}", code, reply)
        for recipient in recipients:
            code, reply = client.rcpt(recipient)
            if code not in (250, 251):
                raise _refusal(where, f"the recipient {recipient}", code, reply)
        committing()
        try:
            code, reply = client.data(raw)
        except smtplib.SMTPDataError as exc:  # DATA itself refused: the server does not have the message
            raise _refusal(where, "the message", exc.smtp_code, exc.smtp_error) from None
        except (smtplib.SMTPException, OSError) as exc:  # no answer heard: it may have been accepted
            raise SmtpError(f"{where}: no answer to the message: {exc}", may_have_reached=True) from None
        if code != 250:  # the reply to the message's last line: it was not accepted
            raise _refusal(where, "the message", code, reply)
        return f"{code} {_words(reply)}"


def login_only(settings: SmtpSettings) -> None:
    """Connect and log in, send nothing (`lateclaim doctor`)."""
    with _session(settings):
        pass
