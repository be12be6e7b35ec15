"""Which day a delivered email says the parcel came: the one its sentence names, else the email's own day.

A delivery notice is sent when the parcel is handed over, so its own date is the day. A reminder, a review request
or a late copy can come days later and say "was delivered on Thursday": that Thursday is the day, or the lateness
would be overstated and a parcel that came on time could look late.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

import pytest

import parsers
from parsers.amazon import Reader
from parsers.mime import Mail
from parsers.model import EventKind, Status

SENT = datetime(2026, 11, 21, 9, tzinfo=UTC)  # Saturday 21 November 2026
EMAIL_DAY, THURSDAY = date(2026, 11, 21), date(2026, 11, 19)


@pytest.mark.parametrize(("language", "text", "expected"), [
    ("fr", "Votre commande n° 171-5302846-9915233 a été livrée le jeudi 19 novembre.", THURSDAY),
    ("fr", "Votre colis a été livré.", EMAIL_DAY),
    ("fr", "Votre colis a été livré aujourd'hui.", EMAIL_DAY),
    ("en", "Your package was delivered on Thursday.", THURSDAY),
    ("en", "Your package was delivered on Thursday, November 19.", THURSDAY),
    ("en", "Your package has been delivered.", EMAIL_DAY),
    ("de", "Ihr Paket wurde am Donnerstag, 19. November zugestellt.", EMAIL_DAY),  # the day comes before: not read
    # A day named before the delivered words is another fact (the order's day), not the delivery's.
    ("fr", "Votre commande du 10 novembre a été livrée.", EMAIL_DAY),
    # A day ahead of the email, or far behind it, cannot be when this parcel was delivered.
    ("en", "Your package was delivered. Next delivery: November 30", EMAIL_DAY),
    ("en", "Your package was delivered on September 2.", EMAIL_DAY),
])
def test_the_delivered_sentence_names_the_day(language: str, text: str, expected: date) -> None:
    mail = Mail("id", "subject", "shipment-tracking@amazon.fr", SENT, f"Hello\n{text}\nOrder 171-5302846-9915233", "")
    assert Reader(mail, language, ZoneInfo("Europe/Paris")).delivery_day() == expected


def test_a_late_reminder_of_a_delivery_gives_the_day_it_names_not_its_own() -> None:
    raw = (
        "From: \"Amazon.fr\" <vos-avis@amazon.fr>\r\nTo: camille@example.com\r\n"
        "Subject: Camille, comment évalueriez-vous Lampe de bureau LED orientable ?\r\n"
        "Date: Sat, 21 Nov 2026 10:00:00 +0100\r\nMessage-ID: <review-1@amazon.fr>\r\n"
        "Content-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\n"
        "Votre commande n° 171-5302846-9915233 a été livrée le jeudi 19 novembre.\r\n"
        "Donnez votre avis sur Lampe de bureau LED orientable.\r\n"
    ).encode()
    result = parsers.parse(raw, recipient_tz=ZoneInfo("Europe/Paris"))
    assert result.status is Status.PARSED
    [event] = result.events
    assert event.kind is EventKind.DELIVERED and event.delivered_on == THURSDAY
