"""Realistic Amazon-shaped emails of the project's own making, for the speed benchmarks.

Real Amazon mail is 30-100 KB of HTML: a head of CSS, nested layout tables with long inline styles, a progress
tracker, the order and its items, "Buy it again" and recommendation blocks full of tracking links, and a
legal footer; plus a short text/plain part. These are built to that shape (anonymised wording of our own) in
the proportions of the development corpus: 8 shipped, 4 ordered, 3 delivered, 2 out for delivery, 2 ready for
pickup, 1 delayed; 17 in English, 2 in Italian, 1 in French.
"""

from __future__ import annotations

import quopri
import random
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime

WORDING = {
    "en": {
        "domain": "amazon.com", "sender": "shipment-tracking", "hello": "Hi Alex,", "order": "Order #",
        "tracker": ["Ordered", "Shipped", "Out for delivery", "Delivered"], "promise": "Arriving:",
        "day": "Thursday, December 3", "sold": "Sold by:", "total": "Order Total:", "stop": "Buy it again",
        "recommended": "Recommended for you", "footer": "This email was sent from a notification-only address.",
        "kinds": {
            "shipped": ("Your Amazon.com order #{oid} has shipped", "Shipped",
                        "We thought you'd like to know that we've shipped your item."),
            "ordered": ("Your Amazon.com order of \"{item}\" has been placed", "Ordered",
                        "Thank you for your order. We'll send a confirmation when your item ships."),
            "delivered": ("Delivered: Your Amazon.com order #{oid}", "Delivered",
                          "Your package has been delivered to your front door."),
            "out_for_delivery": ("Out for delivery: Your Amazon.com order #{oid}", "Out for delivery",
                                 "Your package is out for delivery and will be delivered today."),
            "pickup_ready": ("Your package is ready for pickup", "Ready for pickup",
                             "Your package is ready for pickup at the locker. Pick up until Monday, December 7."),
            "delayed": ("Delivery update: your package is running late", "Running late",
                        "We're sorry for the delay. Your package is running late."),
        },
    },
    "it": {
        "domain": "amazon.it", "sender": "conferma-spedizione", "hello": "Ciao Alex,", "order": "Ordine n°",
        "tracker": ["Ordinato", "Spedito", "In consegna", "Consegnato"], "promise": "Arrivo previsto:",
        "day": "giovedì 3 dicembre", "sold": "Venduto da:", "total": "Totale ordine:", "stop": "Acquista di nuovo",
        "recommended": "Consigliati per te", "footer": "Questa e-mail è stata inviata da un indirizzo che non "
                                                     "accetta risposte.",
        "kinds": {
            "shipped": ("Il tuo ordine Amazon.it #{oid} è stato spedito", "Spedito",
                        "Ti informiamo che il tuo articolo è stato spedito."),
            "delivered": ("Consegnato: il tuo ordine Amazon.it #{oid}", "Consegnato",
                          "Il tuo pacco è stato consegnato nella cassetta."),
        },
    },
    "fr": {
        "domain": "amazon.fr", "sender": "confirmation-commande", "hello": "Bonjour Alex,", "order": "Commande n°",
        "tracker": ["Commandé", "Expédié", "En cours de livraison", "Livré"], "promise": "Arrivée :",
        "day": "jeudi 3 décembre", "sold": "Vendu par :", "total": "Total de la commande :",
        "stop": "Acheter à nouveau", "recommended": "Recommandé pour vous",
        "footer": "Cet e-mail a été envoyé depuis une adresse qui ne peut pas recevoir de messages.",
        "kinds": {
            "ordered": ("Amazon.fr : Votre commande de « {item} »", "Commandé",
                        "Merci pour votre commande. Nous vous enverrons une confirmation lors de l'expédition."),
        },
    },
}
PROPORTIONS = ([("shipped", "en")] * 7 + [("shipped", "it")] + [("ordered", "en")] * 3 + [("ordered", "fr")]
               + [("delivered", "en")] * 2 + [("delivered", "it")] + [("out_for_delivery", "en")] * 2
               + [("pickup_ready", "en")] * 2 + [("delayed", "en")])
ITEMS = ["Stainless steel water bottle, 750 ml", "USB-C charging cable, 2 m, braided", "Paperback notebook, A5, dotted",
         "Wireless mouse with silent clicks", "LED desk lamp with dimmer", "Ceramic mug set of 4",
         "Cotton bath towels, grey, set of 2", "Kitchen scale, digital, 5 kg"]
STYLE = ("font-family:Arial,Helvetica,sans-serif;font-size:14px;line-height:20px;color:#0F1111;"
         "padding:0 0 0 0;margin:0;border-collapse:collapse;mso-table-lspace:0pt;mso-table-rspace:0pt;")


def _css(rng: random.Random) -> str:
    rules = [f".c{n} {{ font-size:{rng.randint(10, 20)}px; color:#{rng.randrange(16**6):06x}; "
             f"padding:{rng.randint(0, 12)}px {rng.randint(0, 12)}px; }}" for n in range(160)]
    return "<style type=\"text/css\">" + "\n".join(rules) + "</style>"


def _cell(content: str, cls: int) -> str:
    return (f'<table class="c{cls}" role="presentation" width="100%" style="{STYLE}"><tr><td class="c{cls + 1}" '
            f'style="{STYLE}" align="left" valign="top">{content}</td></tr></table>')


def _product(rng: random.Random, domain: str) -> str:
    asin = "B0" + "".join(rng.choice("ABCDEFGHJKLMNPQRSTUVWXYZ0123456789") for _ in range(8))
    fake_order = f"{rng.randint(100, 999)}-{rng.randint(10**6, 10**7 - 1)}-{rng.randint(10**6, 10**7 - 1)}"
    link = (f"https://www.{domain}/gp/r.html?C=2A7Y0L{rng.randint(10**5, 10**6)}&K=3UJ&M=urn:rtn:msg:{asin}"
            f"&R=1X2Y3Z&T=C&U=https%3A%2F%2Fwww.{domain}%2Fdp%2F{asin}%2Fref%3Dpd_te_s_rp_im%2F{fake_order}"
            f"&H=QWERTYUIOPASDFGHJKL&ref_=pe_{rng.randint(10**6, 10**7)}")
    title = rng.choice(ITEMS)
    return _cell(f'<a href="{link}"><img src="https://m.media-amazon.com/images/I/{asin}._SS135_.jpg" '
                 f'alt="{title}" width="135" height="135" style="{STYLE}"></a><br><a href="{link}" '
                 f'style="{STYLE}">{title}</a><br><span style="{STYLE}">{rng.randint(5, 90)},99</span>', 10)


def email(kind: str, language: str, seed: int) -> bytes:
    rng = random.Random(seed)
    w = WORDING[language]
    subject, heading, statement = w["kinds"][kind]
    oid = f"{rng.randint(100, 999)}-{rng.randint(10**6, 10**7 - 1)}-{rng.randint(10**6, 10**7 - 1)}"
    items = rng.sample(ITEMS, rng.randint(1, 3))
    subject = subject.format(oid=oid, item=items[0])
    promise = f"{w['promise']} {w['day']}" if kind in ("shipped", "ordered", "delayed") else ""
    tracker = "".join(f'<td class="c20" style="{STYLE}">{label}</td>' for label in w["tracker"])
    order_link = f"https://www.{w['domain']}/gp/your-account/order-details?ie=UTF8&orderID={oid}&ref_=sh_od"
    rows = "".join(_cell(f'<img src="https://m.media-amazon.com/images/I/x{n}.jpg" alt="{title}" width="100">'
                         f'<a href="https://www.{w["domain"]}/dp/B0X{n}">{title}</a><br>{w["sold"]} Shop {n}'
                         f'<br>{rng.randint(5, 90)},99 €', 30) for n, title in enumerate(items))
    recommendations = "".join(_product(rng, w["domain"]) for _ in range(rng.randint(10, 40)))
    legal = _cell(" ".join([w["footer"]] * 8) + " © 1996-2026, Amazon.com, Inc. or its affiliates", 40)
    body = (f'<!DOCTYPE html><html><head><meta http-equiv="Content-Type" content="text/html; charset=utf-8">'
            f'{_css(rng)}</head><body style="{STYLE}">'
            + _cell('<img src="https://m.media-amazon.com/images/G/logo.png" alt="Amazon" width="120">', 1)
            + _cell(f"<h2>{heading}</h2><p>{w['hello']}</p><p>{statement}</p>", 2)
            + _cell(f"<table><tr>{tracker}</tr></table>", 4)
            + _cell(f"<p><b>{promise}</b></p>" if promise else "", 6)
            + _cell(f'{w["order"]} <a href="{order_link}">{oid}</a>', 8)
            + rows + _cell(f"{w['total']} {rng.randint(20, 200)},98 €", 32)
            + _cell(f"<h3>{w['stop']}</h3>", 34) + recommendations
            + _cell(f"<h3>{w['recommended']}</h3>", 36) + "".join(_product(rng, w["domain"]) for _ in range(8))
            + legal + "</body></html>")
    text = "\n\n".join([w["hello"], statement, promise, f"{w['order']} {oid}", order_link,
                        *(f"* {title}" for title in items), w["footer"]])
    sent = datetime(2026, 12, 1, 9, tzinfo=UTC) - timedelta(minutes=rng.randint(0, 600))
    boundary = f"----=_Part_{seed}_{rng.randint(10**8, 10**9)}.1764579600000"
    head = (f'From: "Amazon" <{w["sender"]}@{w["domain"]}>\r\nTo: alex@example.com\r\nSubject: {subject}\r\n'
            f"Date: {format_datetime(sent)}\r\nMessage-ID: <realistic-{seed}@{w['domain']}>\r\nMIME-Version: 1.0\r\n"
            f'Content-Type: multipart/alternative; boundary="{boundary}"\r\n\r\n')
    parts = []
    for subtype, content in (("plain", text), ("html", body)):
        encoded = quopri.encodestring(content.encode("utf-8")).decode("ascii")
        parts.append(f"--{boundary}\r\nContent-Type: text/{subtype}; charset=UTF-8\r\n"
                     f"Content-Transfer-Encoding: quoted-printable\r\n\r\n{encoded}\r\n")
    subject_header = head.replace(f"Subject: {subject}", "Subject: " + _encoded_word(subject))
    return (subject_header + "".join(parts) + f"--{boundary}--\r\n").encode("ascii")


def _encoded_word(text: str) -> str:
    from email.header import Header
    return Header(text, "utf-8").encode()


def emails() -> list[tuple[str, bytes]]:
    """(expected kind, raw email) for the set, in the corpus' proportions."""
    return [(kind, email(kind, language, seed)) for seed, (kind, language) in enumerate(PROPORTIONS)]
