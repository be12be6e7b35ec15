"""The kind comes from what the email states (subject, heading, sentences), never from a progress tracker's
labels, a footer, a recommendation block or a link: a false "delivered" closes a parcel that never came."""

from __future__ import annotations

import pytest

from parsers import parse
from parsers.model import EventKind, Status

# Per language: the marketplace, a shipment sentence of the body, and the tracker's four labels as Amazon lays
# them out (ordered, shipped, out for delivery, delivered). The subject says nothing about the kind.
SHIPPED = {
    "en": ("amazon.com", "Hi Alex, your package has shipped and is on its way.",
           ["Ordered", "Shipped", "Out for delivery", "Delivered"]),
    "fr": ("amazon.fr", "Bonjour Alex, votre colis a été expédié et arrive bientôt.",
           ["Commandé", "Expédié", "En cours de livraison", "Livré"]),
    "de": ("amazon.de", "Hallo Alex, Ihre Bestellung wurde versandt und ist unterwegs.",
           ["Bestellt", "Versandt", "In Zustellung", "Zugestellt"]),
    "it": ("amazon.it", "Ciao Alex, il tuo articolo è stato spedito ed è in viaggio.",
           ["Ordinato", "Spedito", "In consegna", "Consegnato"]),
    "es": ("amazon.es", "Hola Alex, tu paquete ha sido enviado y llegará pronto.",
           ["Pedido realizado", "Enviado", "En reparto", "Entregado"]),
    "nl": ("amazon.nl", "Hallo Alex, je bestelling is verzonden en komt eraan.",
           ["Besteld", "Verzonden", "Onderweg", "Bezorgd"]),
    "pl": ("amazon.pl", "Witaj Alex, twoje zamówienie zostało wysłane do ciebie.",
           ["Zamówiono", "Wysłano", "W doręczeniu", "Dostarczono"]),
    "sv": ("amazon.se", "Hej Alex, din beställning har skickats till dig.",
           ["Beställd", "Skickad", "Ute för leverans", "Levererad"]),
    "pt": ("amazon.com.br", "Olá Alex, seu pedido foi enviado para o seu endereço.",
           ["Pedido", "Enviado", "Saiu para entrega", "Entregue"]),
    "ja": ("amazon.co.jp", "アレックス様、ご注文の商品を発送しました。お届けまでお待ちください。",
           ["注文済み", "発送済み", "配達中", "配達済み"]),
}


def _email(domain: str, text: str, html: str = "") -> bytes:
    head = (f'From: "Amazon" <shipment-tracking@{domain}>\r\nTo: alex@example.com\r\nSubject: Amazon\r\n'
            "Date: Tue, 01 Dec 2026 09:00:00 +0000\r\nMessage-ID: <kind-test@example.com>\r\nMIME-Version: 1.0\r\n")
    if not html:
        return (head + "Content-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\n"
                + text).encode()
    return (head + 'Content-Type: multipart/alternative; boundary="b"\r\n\r\n--b\r\n'
            "Content-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\n" + text
            + "\r\n--b\r\nContent-Type: text/html; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\n" + html
            + "\r\n--b--\r\n").encode()


@pytest.mark.parametrize("language", sorted(SHIPPED))
def test_a_tracker_in_a_shipped_email_never_makes_it_delivered(language: str) -> None:
    domain, sentence, labels = SHIPPED[language]
    one_per_line = "\n".join(labels)
    one_row = " > ".join(labels)
    for text in (f"{one_per_line}\n\n{sentence}\n", f"{sentence}\n\n{one_row}\n", f"{one_row}\n{sentence}\n"):
        result = parse(_email(domain, text))
        assert result.status is Status.PARSED, result.reason
        assert [e.kind for e in result.events] == [EventKind.SHIPPED], text


@pytest.mark.parametrize("language", sorted(SHIPPED))
def test_tracker_labels_alone_state_no_kind(language: str) -> None:
    domain, _, labels = SHIPPED[language]
    result = parse(_email(domain, "\n".join(labels) + "\n" + " · ".join(labels) + "\n"))
    assert all(e.kind is not EventKind.DELIVERED for e in result.events)
    assert result.status is Status.IGNORED


def test_a_delivery_sentence_in_a_footer_or_recommendation_block_is_not_a_delivery() -> None:
    text = ("Hi Alex, your package has shipped and is on its way.\n\nBuy it again\n"
            "Customers say this kettle has been delivered quickly every time.\n")
    assert [e.kind for e in parse(_email("amazon.com", text)).events] == [EventKind.SHIPPED]


def test_a_link_states_nothing() -> None:
    text = ("Hi Alex, your package has shipped and is on its way.\n"
            "https://www.amazon.com/gp/css/your-package-has-been-delivered?orderId=112-1234567-7654321\n")
    result = parse(_email("amazon.com", text))
    assert [e.kind for e in result.events] == [EventKind.SHIPPED]
    assert result.events[0].order_ids == ()


def test_the_main_heading_decides_before_the_body() -> None:
    html = ("<html><body><h1>Your package has been delivered</h1><p>Hi Alex,</p>"
            "<table><tr><td>Ordered</td><td>Shipped</td><td>Delivered</td></tr></table></body></html>")
    result = parse(_email("amazon.com", "Hi Alex,\nwe hope you enjoy it. It has shipped and will be with you.", html))
    assert [e.kind for e in result.events] == [EventKind.DELIVERED]
    assert result.diagnostics[0] == "kind from heading: delivered"


def test_order_ids_come_from_text_not_from_recommendation_links() -> None:
    html = ('<p>Your package has shipped.</p><p>Order #<a href="https://www.amazon.com/gp/css/order-details?'
            'orderID=112-1234567-7654321">112-1234567-7654321</a></p><h3>Buy it again</h3>'
            '<a href="https://www.amazon.com/gp/r.html?U=https%3A%2F%2Fwww.amazon.com%2Fdp%2FB0ABCDEFGH%2Fref%3D'
            'pd_te_s_rp_im%2F143-4316046-7858437&H=x"><img alt="Kettle"></a>')
    result = parse(_email("amazon.com", "Hi Alex, your package has shipped and is on its way.", html))
    assert result.events[0].order_ids == ("112-1234567-7654321",)


@pytest.mark.parametrize(("domain", "subject", "text", "language"), [
    ("amazon.es", 'Your Amazon.es order of "Hervidor eléctrico 1,7 L" has been dispatched!',
     "Hola Alex,\nEntrega: jueves, 3 de diciembre\nPedido n.º 405-1234567-7654321\n", "es"),
    ("amazon.fr", 'Dispatched: "Bouilloire électrique 1,7 L"',
     "Bonjour Alex,\nArrivée : jeudi 3 décembre\nCommande n° 405-1234567-7654321\n", "fr"),
    ("amazon.it", "Spedito: “Bollitore elettrico 1,7 L”",
     "Hi Alex,\nArriving: Thursday, 3 December\nOrder # 405-1234567-7654321\n", "en"),
])
def test_a_subject_in_the_accounts_language_over_text_in_another_still_states_the_kind(
    domain: str, subject: str, text: str, language: str
) -> None:
    """The subject follows the account's language setting, the text may not (DOMAIN.md §4.1: amazon.es
    shipments "has been dispatched!"): the kind comes from the subject, the promise from the text's language."""
    raw = _email(domain, text).replace(b"Subject: Amazon", f"Subject: {subject}".encode())
    (event,) = parse(raw).events
    assert (event.kind, event.language, event.order_ids) == (EventKind.SHIPPED, language, ("405-1234567-7654321",))
    assert event.promise is not None and event.promise.end.isoformat() == "2026-12-03"


def test_a_foreign_subject_that_states_no_shipment_makes_none() -> None:
    raw = _email("amazon.es", "Hola Alex,\nTenemos ofertas para ti esta semana.\n")
    raw = raw.replace(b"Subject: Amazon", b"Subject: Deals picked for you")
    assert parse(raw).status is Status.IGNORED


@pytest.mark.parametrize(("domain", "subject", "text"), [
    # Amazon Hub lockers (HA Mail and Packages: "(You have a package to pick up)(.*)(\\d{6})", corpus 007)
    ("amazon.com", "You have a package to pick up at the Maple Hub - 482913",
     "Enter code 482913 at the Maple Hub to collect it.\n"),
    ("amazon.it", "Il tuo pacco è pronto al ritiro", "Ciao Alex,\nlo trovi presso Amazon Locker - Centrale.\n"),
    ("amazon.it", "Aggiornamento: “Bollitore”", "Ciao Alex,\nil pacco è disponibile per il ritiro da oggi.\n"),
    ("amazon.es", "Tu paquete está listo para su recogida", "Hola Alex,\nte espera en Amazon Locker - Sol.\n"),
    ("amazon.es", "Actualización: «Hervidor»", "Hola Alex,\ntu paquete está disponible para recoger desde hoy.\n"),
])
def test_a_parcel_waiting_for_its_buyer_is_recognised_in_each_wording(domain: str, subject: str, text: str) -> None:
    raw = _email(domain, text + "Order 405-1234567-7654321\n")
    raw = raw.replace(b"Subject: Amazon", f"Subject: {subject}".encode())
    assert [e.kind for e in parse(raw).events] == [EventKind.PICKUP_READY]


@pytest.mark.parametrize(("domain", "subject", "kind"), [
    ("amazon.it", "Ordine effettuato: “Bollitore elettrico”", EventKind.ORDERED),
    ("amazon.es", "Tu paquete está en camino", EventKind.SHIPPED),
    ("amazon.nl", "Bestelling geplaatst: “Waterkoker”", EventKind.ORDERED),
])
def test_the_other_marketplaces_subjects_state_their_kind(domain: str, subject: str, kind: EventKind) -> None:
    raw = _email(domain, "Order 405-1234567-7654321\n").replace(b"Subject: Amazon", f"Subject: {subject}".encode())
    assert [e.kind for e in parse(raw).events] == [kind]


@pytest.mark.parametrize(("domain", "text"), [
    ("amazon.es", "Hola Alex,\nTu pedido ha sido enviado.\n"),  # "pedido" is the order, not a tracker label
    ("amazon.com.br", "Olá Alex,\nSeu pedido foi enviado.\n"),
])
def test_a_short_sentence_about_the_order_states_its_kind(domain: str, text: str) -> None:
    assert [e.kind for e in parse(_email(domain, text)).events] == [EventKind.SHIPPED]
