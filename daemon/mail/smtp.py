"""Sending a claim by SMTP (mode = "send", or `lateclaim claims send`): TLS, STARTTLS, or plain on loopback."""

from __future__ import annotations

import smtplib
import ssl
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from daemon.config import is_loopback
from daemon.errors import SmtpError


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
    except smtplib.SMTPAuthenticationError:
        raise SmtpError(f"{where}: login failed for {settings.username}") from None
    except (smtplib.SMTPException, OSError) as exc:
        raise SmtpError(f"{where}: {exc}") from None


def _xoauth2(client: smtplib.SMTP, username: str, token: str) -> None:
    """SASL XOAUTH2, as Gmail's SMTP server takes it (smtplib base64-encodes the response)."""
    client.ehlo_or_helo_if_needed()
    client.auth("XOAUTH2", lambda challenge=None: f"user={username}\x01auth=Bearer {token}\x01\x01")


def send(settings: SmtpSettings, raw: bytes, sender: str, recipients: list[str],
         committing: Callable[[], None] = lambda: None) -> None:
    """Send one message. `committing` runs just before DATA: up to then the server cannot have the message, so a
    crash before it is safe to retry; from then on only the server's answer (or a Sent copy) says."""
    with _session(settings) as client:
        client.ehlo_or_helo_if_needed()
        code, reply = client.mail(sender)
        if code != 250:
            raise smtplib.SMTPSenderRefused(code, reply, sender)
        for recipient in recipients:
            code, reply = client.rcpt(recipient)
            if code not in (250, 251):
                raise smtplib.SMTPRecipientsRefused({recipient: (code, reply)})
        committing()
        try:
            client.data(raw)
        except smtplib.SMTPDataError as exc:  # the server answered with a refusal: it does not have the message
            raise SmtpError(f"SMTP {settings.host}:{settings.port}: message refused: {exc}") from None
        except (smtplib.SMTPException, OSError) as exc:  # no answer heard: it may have been accepted
            raise SmtpError(f"SMTP {settings.host}:{settings.port}: no answer to the message: {exc}",
                            may_have_reached=True) from None


def login_only(settings: SmtpSettings) -> None:
    """Connect and log in, send nothing (`lateclaim doctor`)."""
    with _session(settings):
        pass
