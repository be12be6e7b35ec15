"""Facts beyond kind and promise, in every language: "today" promises of out-for-delivery emails, delivery
attempts, the parcel's number, its seller. Each line is written as Amazon words it (our own examples)."""

from __future__ import annotations

from datetime import date

import pytest

from parsers import parse
from parsers.model import DateWindow, EventKind, Status

DOMAIN = {"en": "amazon.co.uk", "fr": "amazon.fr", "de": "amazon.de", "it": "amazon.it", "es": "amazon.es",
          "nl": "amazon.nl", "pl": "amazon.pl", "sv": "amazon.se", "pt": "amazon.com.br", "ja": "amazon.co.jp"}
SENT = "Thu, 03 Dec 2026 07:00:00 +0000"  # Thursday 3 December everywhere from the Americas to Japan


def _email(language: str, subject: str, text: str) -> bytes:
    return (f'From: "Amazon" <shipment-tracking@{DOMAIN[language]}>\r\nTo: alex@example.com\r\n'
            f"Subject: {subject}\r\nDate: {SENT}\r\nMessage-ID: <facts-{language}@example.com>\r\n"
            "MIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\n"
            f"{text}\r\nOrder 123-1234567-1234567\r\n").encode()


TODAY = {
    "en": "Your package will be delivered today.",
    "fr": "Votre colis sera livré aujourd'hui.",
    "de": "Ihr Paket wird heute zugestellt.",
    "it": "Il tuo pacco sarà consegnato oggi.",
    "es": "Tu paquete se entregará hoy.",
    "nl": "Je pakket wordt vandaag bezorgd.",
    "pl": "Twoja przesyłka zostanie dziś dostarczona.",
    "sv": "Ditt paket levereras i dag.",
    "pt": "Seu pacote será entregue hoje.",
    "ja": "ご注文の商品は本日お届け予定です。",
}


@pytest.mark.parametrize("language", sorted(TODAY))
def test_out_for_delivery_today_is_a_promise_for_the_emails_day(language: str) -> None:
    result = parse(_email(language, "Amazon", f"{TODAY[language]}\n"))
    assert result.status is Status.PARSED, result.reason
    [event] = result.events
    expected_day = date(2026, 12, 3)
    assert event.kind is EventKind.OUT_FOR_DELIVERY
    assert event.promise == DateWindow.on(expected_day)
    assert event.evidence == TODAY[language]


ATTEMPTED = {
    "en": ("We tried to deliver your package today, but nobody was home.", "Your package is now at:",
           "Post Office, 1 High Street"),
    "fr": ("Nous avons essayé de livrer votre colis aujourd'hui, sans succès.", "Votre colis vous attend au",
           "Tabac de la Place, 3 place du Marché"),
    "de": ("Wir haben versucht, Ihr Paket zuzustellen, leider ohne Erfolg.", "Abholort:", "Packstation 112, Berlin"),
    "it": ("Non siamo riusciti a consegnare il tuo pacco oggi.", "Punto di ritiro:", "Tabaccheria Rossi, Milano"),
    "es": ("No hemos podido entregar tu paquete hoy.", "Punto de recogida:", "Kiosco Sol, Madrid"),
    "nl": ("We konden je pakket vandaag niet bezorgen.", "Ophaalpunt:", "Boekhandel De Hoek, Utrecht"),
    "pl": ("Nie udało się doręczyć Twojej przesyłki.", "Punkt odbioru:", "Paczkomat WAW01M, Warszawa"),
    "sv": ("Vi kunde inte leverera ditt paket i dag.", "Utlämningsställe:", "ICA Nära, Uppsala"),
    "pt": ("Não foi possível entregar seu pacote hoje.", "Ponto de retirada:", "Agência Centro, São Paulo"),
    "ja": ("ご不在のため、お荷物を配達できませんでした。", "受取場所：", "ローソン新宿店"),
}


@pytest.mark.parametrize("language", sorted(ATTEMPTED))
def test_a_failed_attempt_says_when_and_where_the_parcel_waits(language: str) -> None:
    sentence, marker, place = ATTEMPTED[language]
    result = parse(_email(language, "Amazon", f"{sentence}\n{marker} {place}\n"))
    assert result.status is Status.PARSED, result.reason
    [event] = result.events
    assert event.kind is EventKind.ATTEMPTED
    assert event.available_on == date(2026, 12, 3)  # not stated: the email's day in the marketplace's zone
    assert event.waiting_at == place
    assert event.promise is None


PARCEL_AND_SELLER = {
    "en": "We've shipped package 2 of 3.\nSold by: Acme Goods Ltd",
    "fr": "Nous avons expédié le colis 2 sur 3.\nVendu par : Acme Goods SARL",
    "de": "Paket 2 von 3 wurde versandt.\nVerkauf durch: Acme Goods GmbH",
    "it": "Il pacco 2 di 3 è stato spedito.\nVenduto da: Acme Goods Srl",
    "es": "El paquete 2 de 3 ha sido enviado.\nVendido por: Acme Goods SL",
    "nl": "Pakket 2 van 3 is verzonden.\nVerkocht door: Acme Goods BV",
    "pl": "Paczka 2 z 3 została wysłana.\nSprzedawca: Acme Goods Sp. z o.o.",
    "sv": "Paket 2 av 3 har skickats.\nSäljs av: Acme Goods AB",
    "pt": "O pacote 2 de 3 foi enviado.\nVendido por: Acme Goods Ltda",
    "ja": "荷物2/3を発送しました。\n販売者：アクメ株式会社",
}


@pytest.mark.parametrize("language", sorted(PARCEL_AND_SELLER))
def test_the_parcels_number_and_its_seller_are_read(language: str) -> None:
    text = PARCEL_AND_SELLER[language]
    [event] = parse(_email(language, "Amazon", text)).events
    assert event.kind is EventKind.SHIPPED
    assert event.parcel is not None and (event.parcel.number, event.parcel.count) == (2, 3)
    assert event.seller == text.split("\n")[1].split(":", 1)[-1].split("：", 1)[-1].strip()


def test_several_sellers_are_not_guessed_between() -> None:
    text = "We've shipped your items.\n* Kettle\nSold by: Acme Ltd\n* Toaster\nSold by: Other Shop Ltd"
    result = parse(_email("en", "Amazon", text))
    assert result.events[0].seller is None
    assert any("several sellers" in note for note in result.diagnostics)


def test_the_order_total_is_the_most_specific_total_stated() -> None:
    text = "We've shipped your item.\n* Kettle\n$10.00\nTotal before tax: $10.00\nOrder Total: $10.80"
    [event] = parse(_email("en", "Amazon", text)).events
    assert event.total is not None and event.total.amount == "$10.80"


@pytest.mark.parametrize(("language", "subject", "text", "items"), [
    # The subject alone names it: a delivery notice listing no item (the "1 item" tally is no title)
    ("en", 'Delivered: "Electric Kettle 1.7 L, Stainless..."', "Your package has been delivered!\n1 item",
     ["Electric Kettle 1.7 L, Stainless"]),
    ("it", "Consegna effettuata: “Bollitore elettrico”", "Il tuo pacco è stato consegnato.", ["Bollitore elettrico"]),
    ("ja", "配達済み: 「ステンレス水筒」", "お客様の荷物を配達しました。", ["ステンレス水筒"]),
    # A title with its quantity below it, as newer mail lists items
    ("es", "Enviado: «Hervidor»", "Tu paquete ha sido enviado.\nHervidor eléctrico 1,7 L\nCantidad: 1\n"
     "Taza de cerámica\nCantidad: 2", ["Hervidor eléctrico 1,7 L", "Taza de cerámica"]),
    # 1 "Title", then its format, stock and seller (an older order confirmation: "En stock" is no title)
    ("fr", "Amazon.fr : votre commande", 'Merci de votre commande.\n1 "Recettes du marché"\nBroché; EUR 9,41\n'
     "En stock\nVendu par : Amazon EU S.a.r.L.", ["Recettes du marché"]),
    # Title, seller, quantity: the seller's line is no title
    ("en", "Shipped: x", "Your package has shipped.\nTravel Mug 350 ml\nSold by: Mug Makers Ltd\nQuantity: 1",
     ["Travel Mug 350 ml"]),
    # A delay notice: the order number, the title alone, then the closing rule
    ("en", "Delivery update: your package is running late", "Your package is running late.\n"
     "Order #123-7654321-7654321\nErgonomic Wireless Trackball Mouse\n--------------------\nDo not reply.",
     ["Ergonomic Wireless Trackball Mouse"]),
])
def test_the_items_are_read_from_each_layout(language: str, subject: str, text: str, items: list[str]) -> None:
    (event,) = parse(_email(language, subject, text)).events
    assert list(event.items) == items
