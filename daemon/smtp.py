"""Sending a claim by SMTP (mode = "send", or `lateclaim claims send`): TLS, STARTTLS, or plain on loopback."""

from __future__ import annotations

import smtplib
import ssl
from dataclasses import dataclass

from daemon.config import is_loopback


class SmtpError(Exception):
    pass


@dataclass(frozen=True)
class SmtpSettings:
    host: str
    port: int
    security: str  # tls | starttls | plain
    username: str
    password: str
    ca_file: str | None = None
    timeout: float = 60.0


def _context(settings: SmtpSettings) -> ssl.SSLContext:
    return ssl.create_default_context(cafile=settings.ca_file)


def send(settings: SmtpSettings, raw: bytes, sender: str, recipients: list[str]) -> None:
    """Hand one message to the server. Raises SmtpError saying what failed, never with the password."""
    where = f"{settings.host}:{settings.port}"
    if settings.security == "plain" and not is_loopback(settings.host):
        raise SmtpError(f"SMTP {where}: plain is refused for a non-loopback host (use tls or starttls)")
    try:
        client: smtplib.SMTP
        if settings.security == "tls":
            client = smtplib.SMTP_SSL(settings.host, settings.port, timeout=settings.timeout,
                                      context=_context(settings))
        else:
            client = smtplib.SMTP(settings.host, settings.port, timeout=settings.timeout)
        with client:
            if settings.security == "starttls":
                client.starttls(context=_context(settings))
            if settings.username:
                client.login(settings.username, settings.password)
            client.sendmail(sender, recipients, raw)
    except smtplib.SMTPAuthenticationError:
        raise SmtpError(f"SMTP {where}: login failed for {settings.username}") from None
    except (smtplib.SMTPException, OSError) as exc:
        raise SmtpError(f"SMTP {where}: {exc}") from None
