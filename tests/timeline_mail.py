"""Realistic, anonymised Amazon emails written on demand for the day-by-day tests: one marketplace and language
each, laid out like the real ones (a plain text and an HTML part, the order number, the items), sent from the
marketplace's own addresses and signed as Gmail's receiving server reports it.

amazon.fr (French), amazon.co.uk (English), amazon.de (German), and beyond them amazon.it, amazon.es, amazon.com
(US English: month-first dates), amazon.ca (English and French) and amazon.nl. Subject prefixes, date markers and
sender addresses are those /work/shared/DOMAIN.md (§4.1-4.3) and the real mail of the corpus show for each
marketplace; where neither documents a wording (an Italian locker notice, say) the entry says so.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field, replace
from datetime import date, datetime
from email.message import EmailMessage
from email.policy import SMTP
from email.utils import format_datetime
from html import escape

_serial = itertools.count(1)


@dataclass(frozen=True)
class Language:
    domain: str
    brand: str
    weekdays: tuple[str, ...]
    months: tuple[str, ...]
    date_format: str  # with {weekday}, {day}, {month}
    order_label: str
    subjects: dict[str, str]  # kind -> subject, with {item} or {order} (and {place}, {until} for a pickup notice)
    bodies: dict[str, str]  # kind -> the sentence that says what happened
    promise_label: dict[str, str]  # kind -> the words before the date
    zone: str = "Europe/Paris"  # the recipient's zone (rules.timezone)
    senders: dict[str, str] = field(default_factory=dict)  # kind -> local part; else shipment-tracking@
    date_below_label: bool = False  # "Arriving:" on a line of its own, the date on the next, as real mail has it
    place: str = ""  # where a pickup notice says the parcel waits
    greeting: str = ""  # the first line of the body, as real mail opens ("Hi Camille,")
    quantity: str = ""  # "Quantity: {n}" below each title, as newer mail lays items out; else "* title" bullets

    def sender(self, kind: str) -> str:
        return f"{self.senders.get(kind, 'shipment-tracking')}@{self.domain}"


FR = Language(
    "amazon.fr", "Amazon.fr",
    ("lundi", "mardi", "mercredi", "jeudi", "vendredi", "samedi", "dimanche"),
    ("janvier", "février", "mars", "avril", "mai", "juin", "juillet", "août", "septembre", "octobre", "novembre",
     "décembre"),
    "{weekday} {day} {month}", "Commande n° {order}",
    {"ordered": "Commandé : « {item} »", "shipped": "Expédié : « {item} »", "delivered": "Livré : « {item} »",
     "delayed": "Votre colis est en retard", "pickup_ready": "Votre colis est prêt à être retiré",
     "attempted": "Tentative de livraison : « {item} »"},
    {"ordered": "Merci pour votre commande !", "shipped": "Votre colis est en route !",
     "delivered": "Votre colis a été livré.", "delayed": "Nous sommes désolés pour ce retard.",
     "pickup_ready": "Votre colis est prêt à être retiré au point relais Pickup, 12 rue des Lilas.",
     "attempted": "Nous n'avons pas pu livrer votre colis aujourd'hui. Votre colis vous attend au bureau de "
                  "poste, 3 place de la Mairie."},
    {"ordered": "Arrivée : ", "shipped": "Arrivée : ", "delayed": "Nouvelle date de livraison : "},
)
EN = Language(
    "amazon.co.uk", "Amazon.co.uk",
    ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"),
    ("January", "February", "March", "April", "May", "June", "July", "August", "September", "October",
     "November", "December"),
    "{weekday}, {day} {month}", "Order # {order}",
    {"ordered": 'Ordered: "{item}"', "shipped": 'Dispatched: "{item}"', "delivered": 'Delivered: "{item}"',
     "delayed": "Delivery update: your package is running late",
     "pickup_ready": "Your package is ready for pickup"},
    {"ordered": "Thanks for your order!", "shipped": "We've dispatched your item.",
     "delivered": "Your package has been delivered.", "delayed": "We're sorry for the delay.",
     "pickup_ready": "Your package is ready for pickup at the Amazon Locker - Station Road."},
    {"ordered": "Arriving: ", "shipped": "Arriving: ", "delayed": "It's now arriving "},
    zone="Europe/London",
)
DE = Language(
    "amazon.de", "Amazon.de",
    ("Montag", "Dienstag", "Mittwoch", "Donnerstag", "Freitag", "Samstag", "Sonntag"),
    ("Januar", "Februar", "März", "April", "Mai", "Juni", "Juli", "August", "September", "Oktober", "November",
     "Dezember"),
    "{weekday}, {day}. {month}", "Bestellnr. {order}",
    {"ordered": "Bestellt: „{item}“", "shipped": "Versandt: „{item}“", "delivered": "Zugestellt: „{item}“",
     "delayed": "Ihre Lieferung ist verspätet", "pickup_ready": "Ihr Paket ist abholbereit"},
    {"ordered": "Vielen Dank für Ihre Bestellung.", "shipped": "Ihr Paket ist unterwegs.",
     "delivered": "Ihr Paket wurde zugestellt.", "delayed": "Wir entschuldigen uns für die Verzögerung.",
     "pickup_ready": "Ihr Paket ist abholbereit in der Packstation 118."},
    {"ordered": "Zustellung: ", "shipped": "Zustellung: ", "delayed": "Neues Lieferdatum: "},
    zone="Europe/Berlin",
)
LANGUAGES = {"fr": FR, "en": EN, "de": DE}

# Beyond France, the UK and Germany. Only the kinds whose wording is documented for a marketplace are given: a
# scenario needing another one has no business running there.
IT = Language(
    domain="amazon.it", brand="Amazon.it", greeting="Gentile Camille,", zone="Europe/Rome",
    weekdays=("lunedì", "martedì", "mercoledì", "giovedì", "venerdì", "sabato", "domenica"),
    months=("gennaio", "febbraio", "marzo", "aprile", "maggio", "giugno", "luglio", "agosto", "settembre",
            "ottobre", "novembre", "dicembre"),
    date_format="{weekday} {day:02d} {month}",  # "martedì 01 dicembre", day zero-padded as in real mail
    order_label="Ordine n. {order}",
    # DOMAIN.md §4.2: "Spedito:", "Consegna effettuata:" (not "Consegnato:"). No Italian locker notice is
    # documented: its subject follows the US locker notice's shape, in the words of Amazon's Italian help pages.
    subjects={"shipped": "Spedito: “{item}”", "delivered": "Consegna effettuata: “{item}”",
              "pickup_ready": "Il tuo pacco è pronto per il ritiro presso {place}"},
    bodies={"shipped": "Il tuo ordine è stato spedito.", "delivered": "Il tuo pacco è stato consegnato.",
            "pickup_ready": "Il tuo pacco può essere ritirato presso {place} fino al {until}. "
                            "Codice di ritiro: 482913"},
    promise_label={"shipped": "Arriverà:"},  # DOMAIN.md §4.3, the date on the line below
    senders={"ordered": "conferma-ordine", "shipped": "conferma-spedizione", "delivered": "order-update",
             "pickup_ready": "order-update"},
    date_below_label=True, place="Amazon Hub Locker - Stazione Centrale", quantity="Quantità: {n}",
)
ES = Language(
    domain="amazon.es", brand="Amazon.es", greeting="Hola Camille,", zone="Europe/Madrid",
    weekdays=("lunes", "martes", "miércoles", "jueves", "viernes", "sábado", "domingo"),
    months=("enero", "febrero", "marzo", "abril", "mayo", "junio", "julio", "agosto", "septiembre", "octubre",
            "noviembre", "diciembre"),
    date_format="{weekday}, {day} de {month}",
    order_label="Pedido n.º {order}",
    # DOMAIN.md §4.2: "Enviado:", "Entregado:". No Spanish locker notice is documented (as for Italian).
    subjects={"shipped": "Enviado: «{item}»", "delivered": "Entregado: «{item}»",
              "pickup_ready": "Tu paquete está listo para recoger en {place}"},
    bodies={"shipped": "Tu pedido ya está en camino.", "delivered": "Tu paquete ha sido entregado.",
            "pickup_ready": "Puedes recoger tu paquete en {place} hasta el {until}. Código de recogida: 482913"},
    promise_label={"shipped": "Entrega: "},  # DOMAIN.md §4.3, the date on the same line
    senders={"ordered": "auto-confirm", "shipped": "confirmar-envio", "delivered": "order-update",
             "pickup_ready": "order-update"},
    place="Amazon Locker - Estación de Atocha", quantity="Cantidad: {n}",
)
US = Language(
    domain="amazon.com", brand="Amazon.com", greeting="Hi Camille,", zone="America/Los_Angeles",
    weekdays=EN.weekdays, months=EN.months,
    date_format="{weekday}, {month} {day}",  # "Tuesday, November 24": month first
    order_label="Order #{order}",
    # DOMAIN.md §4.2 and the corpus: "Ordered:", "Shipped:", "Delivered:", "Delivery update:" with "running late",
    # and the Hub Locker notice ("ready for pickup from Amazon Hub Locker - ...; please pick up until ...").
    subjects={"ordered": 'Ordered: "{item}"', "shipped": 'Shipped: "{item}"', "delivered": 'Delivered: "{item}"',
              "delayed": "Delivery update: {item}",
              "pickup_ready": "Your package is ready for pickup from {place}; please pick up until {until}"},
    bodies={"ordered": "Thanks for your order!", "shipped": "Your package is on the way.",
            "delivered": "Your package has been delivered!",
            "delayed": "Your package is on the way but running late. We're sorry for the delay.",
            "pickup_ready": "Your package is ready to be picked up from {place}. Your pickup code is 482913"},
    promise_label={"ordered": "Arriving:", "shipped": "Arriving:", "delayed": "Now expected "},
    senders={"ordered": "auto-confirm", "shipped": "shipment-tracking", "delivered": "order-update",
             "delayed": "order-update", "pickup_ready": "order-update"},
    date_below_label=True, place="Amazon Hub Locker - Maple", quantity="Quantity: {n}",
)
CA = replace(US, domain="amazon.ca", brand="Amazon.ca", zone="America/Toronto",
             place="Amazon Hub Locker - Bloor", quantity="")
# amazon.ca in French (marketplaces.toml: amazon.ca writes en and fr): amazon.fr's words, amazon.ca's addresses.
CA_FR = replace(FR, domain="amazon.ca", brand="Amazon.ca", zone="America/Montreal", greeting="Bonjour Camille,",
                senders={"ordered": "auto-confirm", "shipped": "shipment-tracking", "delivered": "order-update",
                         "pickup_ready": "order-update"})
NL = Language(
    domain="amazon.nl", brand="Amazon.nl", greeting="Hallo Camille,", zone="Europe/Amsterdam",
    weekdays=("maandag", "dinsdag", "woensdag", "donderdag", "vrijdag", "zaterdag", "zondag"),
    months=("januari", "februari", "maart", "april", "mei", "juni", "juli", "augustus", "september", "oktober",
            "november", "december"),
    date_format="{weekday} {day} {month}",
    order_label="Bestelnummer {order}",
    # DOMAIN.md §4.2: "Bezorgd:"; no Dutch shipment subject is documented, so the shipment notice says it in its
    # body and its marker, "Verwachte bezorgdatum:" (§4.3), under Amazon's plain "Je bestelling" subject.
    subjects={"shipped": "Je Amazon.nl-bestelling", "delivered": "Bezorgd: “{item}”"},
    bodies={"shipped": "Je pakket is verzonden en is onderweg.", "delivered": "Je pakket is bezorgd."},
    promise_label={"shipped": "Verwachte bezorgdatum: "},
    senders={"ordered": "auto-bevestiging", "shipped": "verzending-volgen", "delivered": "update-bestelling"},
)
# No source at hand documents amazon.co.jp's mail: its wording here is the parser's own phrase data (ja.toml) and
# its dates the common Japanese form, "11月19日(木)". Letters have no Japanese: they are written in English.
JP = Language(
    domain="amazon.co.jp", brand="Amazon.co.jp", greeting="カミーユ様", zone="Asia/Tokyo",
    weekdays=("月", "火", "水", "木", "金", "土", "日"),
    months=tuple(f"{n}月" for n in range(1, 13)),
    date_format="{month}{day}日({weekday})",
    order_label="注文番号: {order}",
    subjects={"shipped": "発送済み: 「{item}」", "delivered": "配達済み: 「{item}」",
              "pickup_ready": "受け取り可能: {place}"},
    bodies={"shipped": "ご注文の商品を発送しました。", "delivered": "お客様の商品を配達しました。",
            "pickup_ready": "お荷物は{place}で受け取り可能です。{until}までにお受け取りください。"},
    promise_label={"shipped": "お届け予定日:"},
    senders={"shipped": "shipment-tracking", "delivered": "order-update", "pickup_ready": "order-update"},
    date_below_label=True, place="Amazonロッカー - 新宿駅",
)
# The older templates, still in mailboxes: the subject names the order, a delivery notice lists no item ("1 item").
# DOMAIN.md §4.2 and the corpus (amazon.com, amazon.it).
US_BY_ORDER = replace(US, subjects={**US.subjects, "shipped": 'Your Amazon.com order of "{item}" has shipped!',
                                    "delivered": "Delivered: Your Amazon.com order #{order}"})
IT_BY_ORDER = replace(IT, subjects={**IT.subjects,
                                    "shipped": "Il tuo ordine Amazon.it n. {order} di 1 articolo è stato spedito",
                                    "delivered": "Consegna effettuata: Il tuo ordine Amazon.it #{order}"})
MARKETPLACES = {"amazon.it": IT, "amazon.es": ES, "amazon.com": US, "amazon.ca": CA, "amazon.ca/fr": CA_FR,
                "amazon.nl": NL,
                "amazon.co.jp": JP}


def written_date(language: Language, day: date) -> str:
    return language.date_format.format(weekday=language.weekdays[day.weekday()], day=day.day,
                                       month=language.months[day.month - 1])


def amazon_mail(language: Language, kind: str, order: str, sent: datetime, items: tuple[str, ...],
                promise: date | None = None, listed: bool = True) -> bytes:
    """One Amazon email of `kind` about `items` of `order`, sent at `sent` (timezone-aware); `listed=False`: the
    subject names the first item, the body none (as delivery notices often do)."""
    # A parcel waits three days at a locker (Amazon's help pages): the pickup notice names the last one.
    until = written_date(language, date.fromordinal(sent.date().toordinal() + 3))
    lines = [language.greeting] if language.greeting else []
    lines.append(language.bodies[kind].format(place=language.place, until=until))
    if promise is not None:
        label = language.promise_label[kind]
        if language.date_below_label:
            lines += [label.strip(), written_date(language, promise)]
        else:
            lines.append(label + written_date(language, promise))
    lines.append(language.order_label.format(order=order))
    for item in items if listed else ():
        lines += [item, language.quantity.format(n=1)] if language.quantity else [f"* {item}"]
    lines.append(language.brand)
    message = EmailMessage()
    # As Gmail's receiving server records it: the hop it received the mail on, then its verdict.
    message["Received"] = (f"from a8-30.smtp-out.amazonses.com (a8-30.smtp-out.amazonses.com. [54.240.8.30]) by "
                           f"mx.google.com with ESMTPS id t{next(_serial)}si; {format_datetime(sent)}")
    message["Authentication-Results"] = (
        f"mx.google.com; dkim=pass header.i=@{language.domain} header.s=test2026 header.b=VGVzdA; "
        f"spf=pass smtp.mailfrom=bounces.{language.domain}; dmarc=pass (p=QUARANTINE) header.from={language.domain}")
    message["Date"] = format_datetime(sent)
    message["From"] = f'"{language.brand}" <{language.sender(kind)}>'
    message["To"] = "camille.test@gmail.com"
    message["Subject"] = language.subjects[kind].format(item=items[0] if items else "", order=order,
                                                        place=language.place, until=until)
    message["Message-ID"] = f"<0102{next(_serial):010d}-{kind}@eu-west-1.amazonses.com>"
    message.set_content("\n\n".join(lines) + "\n")
    html = "".join(f"<p>{escape(line)}</p>" for line in lines)
    message.add_alternative(f"<!DOCTYPE html><html><body><table><tr><td>{html}</td></tr></table></body></html>",
                            subtype="html")
    return message.as_bytes(policy=SMTP)
