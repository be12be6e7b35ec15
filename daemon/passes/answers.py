"""What the retailer answered to a claim, kept so that the next letter of the thread can quote it.

Only the answer's own words are kept: the history it quotes (the user's letter, "On ... wrote:") is cut, and the
excerpt is bounded. It is stored with the claim in the private state file, never logged.
"""

from __future__ import annotations

import email
import re
from email import policy
from email.message import EmailMessage
from email.utils import parsedate_to_datetime
from typing import Any

from parsers.mime import html_to_text

MAX_LINES = 25
MAX_CHARS = 1500
# Where a reply's own words end: the quoted history, a mail client's attribution line, a forwarded original.
HISTORY = re.compile(
    r"^\s*(>|-{2,}\s*(original message|message d'origine|ursprüngliche nachricht|messaggio originale|"
    r"mensaje original)|(on|le|am|il giorno|el)\b.{0,200}\b(wrote|écrit|schrieb|scritto|escribió)\s*:)",
    re.IGNORECASE,
)


def _text(message: EmailMessage) -> str:
    body = message.get_body(preferencelist=("plain", "html"))
    if body is None:
        return ""
    try:
        content = body.get_content()
    except (LookupError, ValueError):  # an unknown charset or a broken encoding: nothing to quote
        return ""
    text = str(content)
    return html_to_text(text) if body.get_content_type() == "text/html" else text


def excerpt(raw: bytes) -> dict[str, Any]:
    """The answer's Message-ID, date, sender and own words (bounded), JSON-ready."""
    message = email.message_from_bytes(raw, policy=policy.default)
    assert isinstance(message, EmailMessage)
    lines: list[str] = []
    for line in _text(message).splitlines():
        if HISTORY.match(line):
            break
        if line.strip() or (lines and lines[-1]):
            lines.append(line.rstrip())
    words = "\n".join(lines).strip()[:MAX_CHARS]
    try:
        sent = parsedate_to_datetime(str(message.get("Date", ""))).isoformat()
    except (TypeError, ValueError):
        sent = None
    return {
        "message_id": str(message.get("Message-ID", "")).strip().strip("<>"),
        "date": sent,
        "sender": str(message.get("From", "")),
        "text": "\n".join(words.splitlines()[:MAX_LINES]),
    }
