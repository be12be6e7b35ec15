"""Header values as lateclaim compares them: Message-IDs without brackets, Date headers as moments."""

from __future__ import annotations

from datetime import datetime
from email.utils import parsedate_to_datetime


def bare_id(message_id: str) -> str:
    """A Message-ID without its angle brackets, as the state file keeps it."""
    return message_id.strip().strip("<>")


def header_date(value: object) -> datetime | None:
    """A Date header as a moment, or None: a date without a zone cannot be compared with one that has it."""
    try:
        moment = parsedate_to_datetime(str(value)) if value else None
    except (TypeError, ValueError):
        return None
    return moment if moment is not None and moment.tzinfo else None
