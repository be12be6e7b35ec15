"""Promise wordings per language, read from a line as Amazon writes it (the email sent Tuesday 1 December 2026)."""

from __future__ import annotations

from datetime import UTC, date, datetime, time
from zoneinfo import ZoneInfo

import pytest

from parsers import parse
from parsers.amazon import Reader
from parsers.dates import DateReader
from parsers.mime import Mail
from parsers.model import DateWindow

SENT = datetime(2026, 12, 1, 9, tzinfo=UTC)
THU = DateWindow.on(date(2026, 12, 3))


@pytest.mark.parametrize(("language", "text", "expected"), [
    ("en", "Arriving Thursday", THU),
    ("en", "Arriving on Thursday", THU),
    ("en", "Arriving: Thursday, December 3 - Friday, December 4",
     DateWindow(date(2026, 12, 3), date(2026, 12, 4))),
    ("en", "Arriving by Thursday", DateWindow(None, date(2026, 12, 3))),
    ("en", "Arriving today by 10 p.m.", DateWindow.on(date(2026, 12, 1), time(22))),
    ("en", "Your guaranteed delivery date is: Thursday, December 3", THU),
    ("fr", "Arrivée : jeudi 3 décembre", THU),
    ("fr", "Livraison le jeudi 3 décembre", THU),
    ("fr", "Arrivée prévue : entre le jeudi 3 décembre et le vendredi 4 décembre",
     DateWindow(date(2026, 12, 3), date(2026, 12, 4))),
    ("fr", "Arrive demain", DateWindow.on(date(2026, 12, 2))),
    ("de", "Zustellung: Donnerstag, 3. Dezember", THU),
    ("de", "Zustellung am Donnerstag", THU),
    ("de", "Ankunft morgen", DateWindow.on(date(2026, 12, 2))),
    ("it", "Arriverà: giovedì 3 dicembre", THU),
    ("it", "Arrivo previsto: giovedì 3 dicembre", THU),
    ("it", "Arriverà: giovedì 03 dicembre", THU),  # the day zero-padded, as amazon.it writes it
    ("it", "Arriverà tra giovedì 3 dicembre e venerdì 4 dicembre", DateWindow(date(2026, 12, 3), date(2026, 12, 4))),
    ("es", "Entrega: entre jueves, 3 de diciembre y viernes, 4 de diciembre",
     DateWindow(date(2026, 12, 3), date(2026, 12, 4))),
    ("fr", "Arrivée : entre jeudi 3 décembre et vendredi 4 décembre",
     DateWindow(date(2026, 12, 3), date(2026, 12, 4))),
    ("es", "Llega el jueves", THU),
    ("es", "Llegada prevista: jueves, 3 de diciembre", THU),
    ("it", "Ora previsto giovedì 3 dicembre", THU),  # a delay notice's new date
    ("it", "Consegna: giovedì 3 dicembre", THU),
    ("it", "Arrivo: giovedì 3 dicembre", THU),
    ("en", "Estimated delivery: Thursday, December 3", THU),
    ("es", "Ahora prevista para el jueves, 3 de diciembre", THU),
    ("es", "Llegada: jueves, 3 de diciembre", THU),
    ("nl", "Verwachte bezorgdatum: donderdag 3 december", THU),
    ("nl", "Bezorgd tussen donderdag 3 december en vrijdag 4 december",
     DateWindow(date(2026, 12, 3), date(2026, 12, 4))),
    ("pl", "Dostawa: czwartek, 3 grudnia", THU),
    ("sv", "Ankommer: torsdag 3 december", THU),
    ("pt", "Chegará: quinta-feira, 3 de dezembro", THU),
    ("ja", "お届け予定日：12月3日(木)", THU),
])
def test_the_promise_is_read(language: str, text: str, expected: DateWindow) -> None:
    mail = Mail("id", "subject", "shipment-tracking@amazon.fr", SENT, f"Hello\n{text}\nOrder 123-1234567-1234567", "")
    promise = Reader(mail, language, ZoneInfo("Europe/Paris")).promise()
    assert promise is not None and promise.window == expected
    assert promise.evidence == text


@pytest.mark.parametrize("text", [
    "Your package is arriving earlier than we previously expected.",  # a marker, but no date after it
    "Arriving soon",
    "Track your package",
])
def test_no_promise_is_invented(text: str) -> None:
    mail = Mail("id", "subject", "shipment-tracking@amazon.com", SENT, text, "")
    assert Reader(mail, "en", ZoneInfo("Europe/Paris")).promise() is None


@pytest.mark.parametrize(("domain", "text"), [
    ("amazon.com", "Shipped: x\r\n\r\nArriving: 12/03/2026\r\nOrder # "),  # amazon.com: month first
    ("amazon.co.uk", "Dispatched: x\r\n\r\nArriving: 03/12/2026\r\nOrder # "),  # English, but day first
    ("amazon.co.uk", "Dispatched: x\r\n\r\nArriving: 3.12.2026\r\nOrder # "),
    ("amazon.it", "Spedito: x\r\n\r\nArriverà: 03/12/2026\r\nOrdine n. "),
])
def test_numeric_dates_follow_the_marketplaces_order_not_the_language(domain: str, text: str) -> None:
    raw = (f"From: <shipment-tracking@{domain}>\r\nDate: Tue, 01 Dec 2026 09:00:00 +0000\r\nMessage-ID: <n@example.com>"
           f"\r\nContent-Type: text/plain; charset=utf-8\r\nSubject: {text}123-1234567-1234567\r\n")
    (event,) = parse(raw.encode()).events
    assert event.promise == THU


@pytest.mark.parametrize(("month_first", "text"), [(True, "19/11/2026"), (False, "11/19/2026")])
def test_a_numeric_date_possible_in_one_order_only_is_read_in_that_order(month_first: bool, text: str) -> None:
    (found,) = DateReader("en", month_first).find(text)
    assert (found.day, found.month) == (19, 11)
