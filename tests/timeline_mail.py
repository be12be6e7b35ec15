"""Realistic, anonymised Amazon emails written on demand for the day-by-day tests: one marketplace and language
each (amazon.fr in French, amazon.co.uk in English, amazon.de in German), laid out like the real ones (a plain
text and an HTML part, the order number, the items), signed as Gmail's receiving server reports it."""

from __future__ import annotations

import itertools
from dataclasses import dataclass
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
    subjects: dict[str, str]  # kind -> subject, with {item}
    bodies: dict[str, str]  # kind -> the sentence that says what happened
    promise_label: dict[str, str]  # kind -> the words before the date


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
)
LANGUAGES = {"fr": FR, "en": EN, "de": DE}


def written_date(language: Language, day: date) -> str:
    return language.date_format.format(weekday=language.weekdays[day.weekday()], day=day.day,
                                       month=language.months[day.month - 1])


def amazon_mail(language: Language, kind: str, order: str, sent: datetime, items: tuple[str, ...],
                promise: date | None = None) -> bytes:
    """One Amazon email of `kind` about `items` of `order`, sent at `sent` (timezone-aware)."""
    lines = [language.bodies[kind]]
    if promise is not None:
        lines.append(language.promise_label[kind] + written_date(language, promise))
    lines.append(language.order_label.format(order=order))
    lines += [f"* {item}" for item in items]
    lines.append(language.brand)
    message = EmailMessage()
    # As Gmail's receiving server records it: the hop it received the mail on, then its verdict.
    message["Received"] = (f"from a8-30.smtp-out.amazonses.com (a8-30.smtp-out.amazonses.com. [54.240.8.30]) by "
                           f"mx.google.com with ESMTPS id t{next(_serial)}si; {format_datetime(sent)}")
    message["Authentication-Results"] = (
        f"mx.google.com; dkim=pass header.i=@{language.domain} header.s=test2026 header.b=VGVzdA; "
        f"spf=pass smtp.mailfrom=bounces.{language.domain}; dmarc=pass (p=QUARANTINE) header.from={language.domain}")
    message["Date"] = format_datetime(sent)
    message["From"] = f'"{language.brand}" <shipment-tracking@{language.domain}>'
    message["To"] = "camille.test@gmail.com"
    message["Subject"] = language.subjects[kind].format(item=items[0] if items else "")
    message["Message-ID"] = f"<0102{next(_serial):010d}-{kind}@eu-west-1.amazonses.com>"
    message.set_content("\n\n".join(lines) + "\n")
    html = "".join(f"<p>{escape(line)}</p>" for line in lines)
    message.add_alternative(f"<!DOCTYPE html><html><body><table><tr><td>{html}</td></tr></table></body></html>",
                            subtype="html")
    return message.as_bytes(policy=SMTP)
