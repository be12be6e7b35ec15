from __future__ import annotations

import re
from dataclasses import replace
from datetime import date
from pathlib import Path

import pytest

from parsers.marketplaces import all_marketplaces, country
from parsers.model import EventKind, Price
from rules.claims import PastClaim, letter_at_release
from rules.law import (
    KEYS,
    choice_applies,
    citation,
    has_termination_law,
    has_text,
    law_country,
    law_text,
    notice_deadline,
)
from rules.letters import LANGUAGES, Letter, LetterFacts, date_writer, render, template_problems
from rules.policy import ASKS, Policy
from rules.timeline import Shipment, timelines
from rules.verdict import verdict
from tests.rules_helpers import ORDER, at, delivered, one, ordered, policy, sighting

# Every marketplace the parsers read, with the language its emails come in first.
MARKETPLACES = {domain: m.languages[0] for domain, m in all_marketplaces().items()}
# Consumers' countries: none set (the marketplace's law), each jurisdiction with a table, provinces, no-law ones,
# and an EU country without a table (Portugal: the marketplace's law stands in).
CONSUMERS = ("", "FR", "GB", "DE", "IT", "ES", "NL", "BE", "PL", "SE", "AT", "IE", "CA-QC", "CA-ON", "CA", "US",
             "JP", "PT")
DEADLINE = {"fr": "27 décembre 2026", "en": "27 December 2026", "de": "27. Dezember 2026", "it": "il 27 dicembre 2026",
            "es": "27 de diciembre de 2026"}
DECEMBER = {"fr": "décembre", "en": "December", "de": "Dezember", "it": "dicembre", "es": "diciembre",
            "nl": "december", "pl": "grudnia", "sv": "december", "ja": "12月"}
# Function words that tell the letter languages apart in a paragraph of legal prose.
STOPWORDS = {
    "fr": {"le", "la", "les", "de", "du", "des", "je", "vous", "et", "au", "ne", "à", "me", "est"},
    "en": {"the", "of", "to", "i", "you", "and", "by", "is", "it", "under", "please", "my", "me"},
    "de": {"der", "die", "das", "und", "ich", "sie", "zu", "bis", "den", "des", "mir", "nach", "ist", "gemäß"},
    "it": {"il", "di", "del", "che", "vi", "la", "entro", "ai", "sensi", "dello", "non", "mi", "è", "della"},
    "es": {"el", "de", "la", "que", "les", "y", "del", "en", "conforme", "al", "los", "me", "se", "las"},
    "nl": {"de", "het", "een", "ik", "u", "van", "en", "op", "te", "dat", "niet", "mij", "zijn", "die", "grond"},
    "pl": {"w", "z", "i", "na", "do", "nie", "się", "mnie", "mi", "państwa", "od", "że", "przez", "tego", "zgodnie"},
    "sv": {"och", "att", "jag", "ni", "den", "det", "på", "inte", "för", "med", "av", "enligt", "mig", "till", "är"},
}
BRACKETED_PREPOSITION = re.compile(r"\((?:on|le|du|am|vom|il|del|el|entre|between|by|bis|zwischen|tra|entro|of|"
                                   r"au plus|a más)\b", re.IGNORECASE)
NOW = at(2026, 12, 20, 12)
STEP_1_AT = at(2026, 12, 9, 10)
STEP_2_AT = at(2026, 12, 12, 10)


def late(marketplace: str = "amazon.fr", language: str = "fr", guaranteed: bool | None = False,
         evidence: str = "Livraison estimée : mardi 8 décembre.") -> Shipment:
    return one(ordered(date(2026, 12, 8), marketplace=marketplace, language=language, guaranteed=guaranteed,
                       items=("Bouilloire",), evidence=evidence),
               delivered(at(2026, 12, 11, 10), marketplace=marketplace))


def missing(marketplace: str = "amazon.fr", language: str = "fr") -> Shipment:
    return one(ordered(date(2026, 12, 8), marketplace=marketplace, language=language, items=("Bouilloire",)))


def letter(shipment: Shipment, track: str, step: int, rules: Policy | None = None) -> Letter:
    rules = rules or policy(sender_name="Camille Martin")
    previous = {1: None, 2: STEP_1_AT, 3: STEP_2_AT}[step] if track == "B" else None
    return render(LetterFacts(shipment, verdict(shipment, NOW, rules), track, step, NOW, rules, previous))


def steps_of(place: str) -> list[tuple[str, int]]:
    ladder = 3 if has_termination_law(place) else 2
    return [("A", 1), *(("B", n) for n in range(1, ladder + 1)), *(("C", n) for n in range(1, ladder + 1))]


def language_of(text: str) -> str:
    if re.search(r"[\u3040-\u30ff]", text):  # hiragana or katakana
        return "ja"
    words = re.findall(r"[^\W\d_]+", text.lower())
    return max(STOPWORDS, key=lambda lang: sum(w in STOPWORDS[lang] for w in words))


def neutral(marketplace: str, track: str) -> Shipment:
    """A shipment whose quoted sentences name no month, so that every month name in a letter is the letter's."""
    promise = ordered(date(2026, 12, 8), marketplace=marketplace, items=("Bouilloire",), evidence="→ 08/12/2026",
                      subject="Commande 08/12")
    if track == "B":
        return one(promise)
    return one(promise, delivered(at(2026, 12, 11, 10), marketplace=marketplace, subject="Livré 11/12"))


def _check_letter(result: Letter, marketplace: str, consumer: str, language: str, track: str, step: int) -> None:
    text = f"{result.subject}\n{result.body}"
    assert result.language == language
    assert "$" not in text and "{" not in text
    assert not result.subject.startswith("Subject") and ORDER in result.subject
    assert ORDER in result.body and "Bouilloire" in result.body and result.body.rstrip().endswith("Camille Martin")
    assert not re.search(r"\b(?!TRLGDCU\b|KSCHG\b)[A-ZÄÖÜÉ]{6,}\b", text), "no shouting"
    assert "  " not in text and " ," not in text and ".." not in text and "\n\n\n" not in text and "((" not in text
    assert not BRACKETED_PREPOSITION.search(text), "a date or a preposition in brackets"
    assert "« «" not in text and "»»" not in text and "“ “" not in text
    assert "2011/83" not in text, "a directive is never cited against a company"
    assert DECEMBER[language] in result.body
    assert not any(month in result.body for lang, month in DECEMBER.items() if lang != language and
                   month.lower() not in DECEMBER[language].lower())
    place = law_country(country(marketplace), consumer)
    key = {2: "notice", 3: "termination"}.get(step) if track != "A" else None
    if key and has_termination_law(place):
        assert law_text(place, language, key).split("$")[0] in result.body, "the consumer's law, in the letter's"
        if key == "notice":
            deadline = notice_deadline(NOW.date(), place, 7)
            assert date_writer(language, marketplace).day(deadline) in result.body
    if track == "C" and has_text(place, "risk"):
        assert law_text(place, language, "risk") in result.body, "track C answers the carrier's scan"
    if track == "A" or (track, step) == ("B", 1):
        assert "Rome I" not in text and "Regulation" not in text
        for other in ("BGB", "L. 216", "Consumer Rights Act", "Codice", "TRLGDCU", "Burgerlijk", "VI.4", "543",
                      "konsumentköplagen", "KSchG"):
            assert other not in result.body, f"{marketplace} {track}{step} cites {other}"
    elif (track in ("B", "C") and step >= 2) or track == "C":
        says_choice = "C-191/15" in result.body
        assert says_choice == choice_applies(place, country(marketplace)), (marketplace, consumer, track, step)
    if track == "C" and step == 2 and not has_termination_law(place):
        assert "cancel" not in result.body.lower() and "annul" not in result.body.lower()


@pytest.mark.parametrize("marketplace", MARKETPLACES)
def test_every_letter_renders_whole_for_every_consumer_country(marketplace: str) -> None:
    """Every marketplace x consumer country x track x step, in the marketplace's language and in every other."""
    for consumer in CONSUMERS:
        place = law_country(country(marketplace), consumer)
        for language in LANGUAGES:
            for track, step in steps_of(place):
                rules = policy(language=language, sender_name="Camille Martin", consumer_country=consumer)
                result = letter(neutral(marketplace, "B" if track == "B" else "A"), track, step, rules)
                _check_letter(result, marketplace, consumer, language, track, step)


JURISDICTIONS = ["FR", "GB", "DE", "IT", "ES", "NL", "BE", "PL", "SE", "AT", "IE", "CA-QC", "CA-ON"]


@pytest.mark.parametrize("country_code", JURISDICTIONS)
def test_every_law_text_exists_in_every_letter_language_with_its_source(country_code: str) -> None:
    for key in KEYS:
        if not has_text(country_code, key):
            continue
        cited = citation(country_code, key)
        assert cited is not None and cited.source and cited.verified in ("primary", "review", "chapter")
        assert date.fromisoformat(cited.checked) >= date(2026, 11, 30)
        for language in LANGUAGES:
            text = law_text(country_code, language, key)  # KeyError: a missing translation
            assert language_of(text) == language, (country_code, key, language, text)
            assert "((" not in text and "$basis" not in text and "$country" not in text


def test_each_country_cites_its_national_article_not_the_directive() -> None:
    assert "articolo 61, comma 3" in law_text("IT", "it", "notice") and "comma 6" in law_text("IT", "it", "termination")
    assert "articolo 1454 del codice civile" in law_text("IT", "it", "notice")
    assert "66 bis" in law_text("ES", "es", "notice") and "apartado 3" in law_text("ES", "es", "termination")
    assert "66 ter" in law_text("ES", "es", "risk")
    assert "doble" not in law_text("ES", "es", "termination")  # removed from 66 bis.3 by RDL 9/2017
    assert "7:19a lid 2" in law_text("NL", "nl", "notice") and "7:11" in law_text("NL", "nl", "risk")
    assert "VI.43" in law_text("BE", "fr", "notice") and "VI.44" in law_text("BE", "nl", "risk")
    assert "543¹ § 2" in law_text("PL", "en", "notice") and "548 § 3" in law_text("PL", "en", "risk")
    assert "konsumentköplagen (2022:260)" in law_text("SE", "sv", "notice")
    assert "§ 7c Abs. 1 KSchG" in law_text("AT", "de", "notice") and "section 36" in law_text("IE", "en", "notice")
    for place in JURISDICTIONS:
        for language in LANGUAGES:
            for key in KEYS:
                assert not has_text(place, key) or "2011/83" not in law_text(place, language, key)
    assert not has_text("US", "notice") and not has_text("US", "risk") and not has_text("JP", "notice")
    assert has_text("CA-QC", "refund") and has_text("CA-ON", "refund") and not has_text("CA", "refund")


def test_the_consumers_country_decides_the_law_and_the_letter_says_why() -> None:
    belgian = letter(missing(), "B", 2, policy(consumer_country="BE", sender_name="C. M.")).body
    assert "article VI.43 du Code de droit économique" in belgian and "L. 216" not in belgian
    assert "amazon.fr" in belgian and "autre État (Belgique)" in belgian and "C-191/15" in belgian
    assert "593/2008" in belgian
    austrian = letter(missing("amazon.de", "de"), "B", 2, policy(consumer_country="AT")).body
    assert "§ 7c Abs. 1 KSchG" in austrian and "BGB" not in austrian and "Österreich" in austrian
    irish = letter(missing("amazon.co.uk", "en"), "B", 3, policy(consumer_country="IE")).body
    assert "section 36 of the Consumer Rights Act 2022" in irish and "2015" not in irish
    # The same country as the marketplace's, or none known: its law, and no word about a choice of law.
    assert "C-191/15" not in letter(missing(), "B", 2, policy(consumer_country="FR")).body
    assert "L. 216-6" in letter(missing(), "B", 2).body
    # An EU country without a table of its own: the marketplace's law stands in, without the Rome I sentence.
    portuguese = letter(missing("amazon.es", "es"), "B", 2, policy(consumer_country="PT")).body
    assert "66 bis" in portuguese and "C-191/15" not in portuguese
    # A Dutch buyer writing in German on amazon.de: Dutch law, quoted as the Netherlands write it.
    dutch_in_german = letter(missing("amazon.de", "de"), "B", 2, policy(consumer_country="NL")).body
    assert "Nach dem anwendbaren Recht (Niederlande, art. 7:19a lid 2 Burgerlijk Wetboek)" in dutch_in_german


def test_canada_cites_the_province_and_a_delivered_parcel_is_never_asked_to_be_cancelled() -> None:
    quebec = letter(missing("amazon.ca", "fr"), "B", 2, policy(consumer_country="CA-QC")).body
    assert "P-40.1" in quebec and "Ontario" not in quebec
    ontario = letter(missing("amazon.ca", "en"), "B", 2, policy(consumer_country="CA-ON", language="en")).body
    assert "Ontario's Consumer Protection Act, 2002" in ontario and "Québec" not in ontario
    unknown = letter(missing("amazon.ca", "en"), "B", 2, policy(language="en")).body
    assert "Québec" not in unknown and "Ontario" not in unknown
    shipment = one(ordered(date(2026, 12, 8), marketplace="amazon.ca", items=("Kettle",)),
                   delivered(at(2026, 12, 8, 15), marketplace="amazon.ca"))
    c2 = letter(shipment, "C", 2, policy(consumer_country="CA-ON", language="en"))
    assert "refund" in c2.subject and "replacement" in c2.body and "cancel" not in c2.body.lower()


def test_italys_diffida_gives_at_least_fifteen_days_and_registered_post_adds_the_posts_time() -> None:
    italian = letter(missing("amazon.it", "it"), "B", 2)
    assert italian.subject.startswith("Diffida ad adempiere") and "scade il 4 gennaio 2027" in italian.body
    posted = letter(missing(), "B", 2, policy(posted=True)).body
    assert "au plus tard le 1er janvier 2027" in posted  # 20 December + 7 days + 5 days of post
    assert notice_deadline(date(2026, 12, 20), "IT", 7, posted=True) == date(2027, 1, 9)
    assert notice_deadline(date(2026, 12, 20), "IT", 30) == date(2027, 1, 19)  # a longer choice is kept


def test_a_goodwill_request_claims_no_right_and_no_old_rule() -> None:
    for language in LANGUAGES:
        for ask in ASKS:
            body = letter(late(), "A", 1, policy(language=language, ask=ask)).body.lower()
            for word in ("l216", "directive", "direttiva", "richtlinie", "bgb", "droit", "right", "recht",
                         "diritto", "derecho", "12 ", "per year", "par an"):
                assert word not in body, (language, ask, word)


def test_the_ask_follows_the_policy() -> None:
    assert "frais de livraison" in letter(late(), "A", 1, policy(ask="shipping_refund")).body
    assert "Prime" in letter(late(), "A", 1, policy(ask="prime_extension")).body
    assert "bon d'achat" in letter(late(), "A", 1, policy(ask="credit")).body


def test_guaranteed_and_estimated_are_worded_as_the_email_worded_them() -> None:
    assert "date de livraison garantie" in letter(late(guaranteed=True), "A", 1).body
    estimated = letter(late(guaranteed=False), "A", 1).body
    assert "date de livraison estimée" in estimated and "garantie" not in estimated
    assert "guaranteed" not in letter(late(guaranteed=None), "A", 1, policy(language="en")).body


def test_a_late_letter_carries_the_evidence() -> None:
    body = letter(late(), "A", 1).body
    assert "11 décembre 2026" in body  # delivered
    assert "3 jours" in body
    assert "mardi 8 décembre 2026" in body  # the promise
    assert "« Votre commande Amazon.fr » du 4 décembre 2026" in body  # that email's subject and date
    assert "« Livraison estimée : mardi 8 décembre »." in body  # quoted once, one full stop


def test_french_formal_notice_and_termination_cite_the_current_articles() -> None:
    notice = letter(missing(), "B", 2).body
    assert "L. 216-1" in notice and "L. 216-6, I, 2°" in notice and "mets en demeure" in notice
    assert "27 décembre 2026" in notice  # 20 December + 7 days
    assert "résoudrai le contrat" in notice
    termination = letter(missing(), "B", 3).body
    assert all(a in termination for a in ("L. 216-6", "L. 216-7", "L. 241-4", "quatorze jours", "3 janvier 2027"))
    assert "19 décembre 2026" in termination  # the notice's date: 12 December + 7 days
    for old in ("L216-2", "L216-3", "trente", "soixante"):
        assert old not in notice + termination


def test_each_marketplace_country_cites_its_own_law() -> None:
    uk = letter(missing("amazon.co.uk", "en"), "B", 2).body
    assert "section 28(7) of the Consumer Rights Act 2015" in uk and "27 December 2026" in uk
    assert "section 28(8)" in letter(missing("amazon.co.uk", "en"), "B", 3).body
    de = letter(missing("amazon.de", "de"), "B", 2).body
    assert "§ 323 Abs. 1 BGB" in de and "bis spätestens zum 27. Dezember 2026" in de and "zurücktreten" in de
    italian = letter(missing("amazon.it", "it"), "B", 2)
    assert "articolo 61, comma 3, del Codice del consumo" in italian.body and "2011/83" not in italian.body
    assert italian.subject.startswith("Diffida ad adempiere") and "entro il termine supplementare che scade il 4 " \
        "gennaio 2027" in italian.body
    spanish = letter(missing("amazon.es", "es"), "B", 3).body
    assert "66 bis, apartado 2" in spanish and "sin ninguna demora indebida" in spanish
    canada = letter(missing("amazon.ca", "en"), "B", 2, policy(consumer_country="CA-QC")).body
    assert "P-40.1" in canada and "30 days after the agreed date" in canada
    us = letter(missing("amazon.com", "en"), "B", 2)
    assert "refund" in us.subject and "Directive" not in us.body and "section" not in us.body
    with pytest.raises(ValueError, match="ends at step 2"):
        letter(missing("amazon.com", "en"), "B", 3)


def test_the_law_follows_the_marketplace_even_in_another_language() -> None:
    body = letter(missing(), "B", 2, policy(language="en")).body
    assert "French Consumer Code" in body and "L. 216-6 I 2°" in body
    german_in_french = letter(missing("amazon.de", "de"), "B", 2, policy(language="fr")).body
    assert "§ 323, alinéa 1, du Code civil allemand (BGB)" in german_in_french
    assert "27 décembre 2026" in german_in_french
    british_in_french = letter(missing("amazon.co.uk", "en"), "B", 2, policy(language="fr")).body
    assert "au plus tard le 27 décembre 2026" in british_in_french and " by " not in british_in_french
    french_in_italian = letter(missing(), "B", 3, policy(language="it")).body
    assert all(a in french_in_italian for a in ("L. 216-6", "L. 216-7", "L. 241-4"))


def test_language_auto_uses_the_emails_language_and_falls_back_to_english() -> None:
    assert letter(late("amazon.de", "de"), "A", 1).language == "de"
    assert letter(late("amazon.de", "en"), "A", 1).language == "en"
    for marketplace, language in (("amazon.nl", "nl"), ("amazon.pl", "pl"), ("amazon.se", "sv"),
                                  ("amazon.co.jp", "ja"), ("amazon.com.be", "nl")):
        assert letter(late(marketplace, language), "A", 1).language == language
    assert letter(late("amazon.com.br", "pt"), "A", 1).language == "en"  # no Portuguese letters yet
    assert letter(late(), "A", 1, policy(language="it")).language == "it"


def test_dates_are_written_the_way_each_language_writes_them() -> None:
    first = one(ordered(date(2026, 12, 1), items=("Lampe",)), delivered(at(2026, 12, 8, 10)))
    assert "livrée le 8 décembre 2026" in letter(first, "A", 1).body
    assert "annoncée, le mardi 1er décembre 2026" in letter(first, "A", 1).body
    italian = letter(first, "A", 1, policy(language="it")).body
    assert "consegnato l'8 dicembre 2026" in italian and "martedì 1º dicembre 2026" in italian
    us = letter(late("amazon.com", "en"), "A", 1).body
    assert "delivered on December 11, 2026" in us
    assert "Dienstag, 8. Dezember 2026" in letter(late(), "A", 1, policy(language="de")).body


def test_without_an_evidence_sentence_the_promise_is_restated_not_invented_as_a_quote() -> None:
    shipment = one(sighting(EventKind.ORDERED, at(2026, 12, 4), promise=date(2026, 12, 8), subject="", evidence=""),
                   delivered(at(2026, 12, 11, 10)))
    body = letter(shipment, "A", 1).body
    assert "L'e-mail sans objet du 4 décembre 2026 l'indiquait ainsi : le mardi 8 décembre 2026." in body


def test_wording_faults_of_the_review_are_gone() -> None:
    for language in ("fr", "en", "de", "it", "es"):
        body = letter(late(), "A", 1, policy(language=language)).body
        assert "(" + {"fr": "le", "en": "on", "de": "am", "it": "martedì", "es": "el"}[language] not in body
    assert "nach dem voraussichtlichen Liefertermin am Dienstag, 8. Dezember 2026" in \
        letter(late(), "A", 1, policy(language="de")).body
    for step in (1, 2):
        assert "angekündigt" not in letter(missing("amazon.de", "de"), "B", step).body
    assert "après la date de livraison estimée, le mardi 8 décembre 2026." in letter(late(), "A", 1).body


def test_the_quoted_evidence_never_carries_the_greeting_or_nested_quotes() -> None:
    greeted = late(evidence="Bonjour Camille, votre colis arrivera mardi 8 décembre.")
    body = letter(greeted, "A", 1).body
    assert "Camille," not in body and "« Votre colis arrivera mardi 8 décembre »" in body
    for untouched in ("Hi-Fi speaker: arriving Tuesday", "Hello Kitty mug arriving Tuesday", "Arriving Tuesday"):
        assert f'"{untouched}"' in letter(late(evidence=untouched), "A", 1, policy(language="en")).body
    assert '"Arriving Tuesday"' in letter(late(evidence="Hello Sam, arriving Tuesday."), "A", 1,
                                          policy(language="en")).body
    nested = one(ordered(date(2026, 12, 8), items=("Bouilloire",), subject="Expédié : « Bouilloire inox »"),
                 delivered(at(2026, 12, 11, 10)))
    body = letter(nested, "A", 1).body
    assert "« Expédié : “Bouilloire inox” »" in body
    english = letter(nested, "A", 1, policy(language="en")).body
    assert "\"Expédié : ‘Bouilloire inox’\"" in english


def test_the_order_date_and_the_price_are_quoted_when_the_emails_give_them() -> None:
    base = ordered(date(2026, 12, 8), items=("Bouilloire",))
    priced = replace(base, event=replace(base.event, order_date=date(2026, 12, 3), total=Price("29,99 €")))
    shipment = one(priced)
    assert "Je l'ai passée le 3 décembre 2026 et payée 29,99 €." in letter(shipment, "B", 1).body
    assert "I placed it on 3 December 2026 and paid 29,99 €." in letter(shipment, "B", 1, policy(language="en")).body
    assert "L'ho effettuato il 3 dicembre 2026, pagando 29,99 €." in \
        letter(shipment, "B", 2, policy(language="it")).body
    only_price = replace(base, event=replace(base.event, prices=(Price("12,50 €", "Bouilloire"),)))
    assert "Ich habe dafür 12,50 € bezahlt." in letter(one(only_price), "B", 1, policy(language="de")).body
    assert "payée" not in letter(missing(), "B", 1).body  # nothing known, nothing said


def test_a_letter_about_one_parcel_of_several_says_so_and_does_not_quote_the_orders_total() -> None:
    confirmation = ordered(date(2026, 12, 8), items=("Bouilloire", "Grille-pain"))
    confirmation = replace(confirmation, event=replace(confirmation.event, total=Price("89,98 €")))
    kettle = sighting(EventKind.SHIPPED, at(2026, 12, 5), promise=date(2026, 12, 8), items=("Bouilloire",))
    toaster = sighting(EventKind.SHIPPED, at(2026, 12, 6), promise=date(2026, 12, 8), items=("Grille-pain",))
    arrived = delivered(at(2026, 12, 8, 15), items=("Bouilloire",))
    parcels = {p.items: p for p in timelines([confirmation, kettle, toaster, arrived])}
    missing_toaster = parcels[("Grille-pain",)]
    assert missing_toaster.parcels_in_order == 2 and not missing_toaster.arrived
    for track, step, language, words in [
        ("B", 1, "fr", "Ce courrier ne concerne que le colis décrit ci-dessus, l'un des 2 colis de cette commande"),
        ("B", 2, "en", "This letter concerns only the parcel described above, one of the 2 parcels of this order"),
        ("B", 3, "de", "Dieses Schreiben betrifft nur das oben beschriebene Paket, eines der 2 Pakete"),
        ("B", 2, "it", "La presente riguarda soltanto il pacco sopra descritto, uno dei 2 pacchi"),
        ("B", 3, "es", "Esta carta se refiere únicamente al paquete descrito arriba, uno de los 2 paquetes"),
    ]:
        body = letter(missing_toaster, track, step, policy(language=language, sender_name="Camille Martin")).body
        assert words in body, (track, step, language)
        assert "89,98" not in body and "Grille-pain" in body and "Bouilloire" not in body
    whole = one(confirmation)  # an order in one parcel: no such paragraph, and its total is its price
    assert "ne concerne que" not in letter(whole, "B", 1).body and "89,98 €" in letter(whole, "B", 1).body


def test_a_marketplace_sellers_letters_are_addressed_to_the_seller() -> None:
    base = ordered(date(2026, 12, 8), marketplace="amazon.it", language="it", items=("Bollitore",))
    sold = one(replace(base, event=replace(base.event, seller="Casa Rossi SRL")))
    assert letter(sold, "B", 2, policy(language="it")).body.startswith("Spett.le Casa Rossi SRL,")
    by_amazon = one(replace(base, event=replace(base.event, seller="Amazon EU S.à r.l.")))
    assert letter(by_amazon, "B", 2, policy(language="it")).body.startswith("Spett.le Amazon,")


def test_a_not_received_letter_asks_for_the_proof_of_delivery_and_cites_the_transfer_of_risk() -> None:
    shipment = one(ordered(date(2026, 12, 8), items=("Bouilloire",)), delivered(at(2026, 12, 8, 15)))
    body = letter(shipment, "C", 1).body
    assert "indiquée comme livrée le 8 décembre 2026" in body and "L. 216-4" in body and "preuve de livraison" in body
    uk = letter(one(ordered(date(2026, 12, 8), marketplace="amazon.co.uk", items=("Kettle",)),
                    delivered(at(2026, 12, 8, 15), marketplace="amazon.co.uk")), "C", 1, policy(language="en")).body
    assert "section 29 of the Consumer Rights Act 2015" in uk and "proof of delivery" in uk
    us = letter(one(ordered(date(2026, 12, 8), marketplace="amazon.com", items=("Kettle",)),
                    delivered(at(2026, 12, 8, 15), marketplace="amazon.com")), "C", 1, policy(language="en")).body
    assert "Act" not in us and "proof of delivery" in us


def test_a_users_template_replaces_the_bundled_one(tmp_path: Path) -> None:
    (tmp_path / "fr").mkdir()
    (tmp_path / "fr" / "A_1.txt").write_text(
        "Retard de la commande $order_id\n\nBonjour,\n\nLivrée le $delivered au lieu de $promise.\n$signature\n",
        encoding="utf-8")
    result = letter(late(), "A", 1, policy(template_dir=tmp_path, sender_name="C. M."))
    assert result.subject == f"Retard de la commande {ORDER}"
    assert result.body == "Bonjour,\n\nLivrée le 11 décembre 2026 au lieu de le mardi 8 décembre 2026.\nC. M.\n"
    assert letter(missing(), "B", 1, policy(template_dir=tmp_path)).subject.endswith("colis non reçu")
    assert template_problems(policy(template_dir=tmp_path)) == []


def test_a_broken_user_template_is_reported_and_the_bundled_one_used(tmp_path: Path) -> None:
    (tmp_path / "fr").mkdir()
    (tmp_path / "fr" / "A_1.txt").write_text("Commande $order_id\n\nPrix : 5 $ ; $montant\n", encoding="utf-8")
    (tmp_path / "en").mkdir()
    (tmp_path / "en" / "A_1.txt").write_text("Order $order_id\n\n$law_notice\n", encoding="utf-8")
    rules = policy(template_dir=tmp_path)
    assert letter(late(), "A", 1, rules).subject.endswith("livraison en retard de 3 jours")
    english = letter(late(), "A", 1, policy(template_dir=tmp_path, language="en"))
    assert english.subject.endswith("arrived 3 days late")  # a goodwill request has no law text to fill in
    problems = template_problems(rules)
    assert len(problems) == 1 and problems[0].startswith("fr/A_1.txt: ")


def test_letters_in_dutch_polish_swedish_and_japanese_read_as_those_languages_write() -> None:
    dutch = letter(late("amazon.nl", "nl"), "A", 1).body
    assert dutch.startswith("Geachte heer, mevrouw,") and "is op 11 december 2026 geleverd, 3 dagen na" in dutch
    polish = letter(missing("amazon.pl", "pl"), "B", 2)
    assert polish.subject.startswith("Wezwanie do wydania towaru") and "art. 543¹ § 2 Kodeksu cywilnego" in polish.body
    assert "upływającym 27 grudnia 2026 r. Jeżeli" in polish.body and "r.." not in polish.body
    swedish = letter(missing("amazon.se", "sv"), "B", 3).body
    assert "häver därför köpet" in swedish and "senast den 3 januari 2027" in swedish
    nested = one(ordered(date(2026, 12, 8), marketplace="amazon.se", language="sv", items=("Vattenkokare",),
                         subject="Skickat: ”Vattenkokare”"), delivered(at(2026, 12, 11, 10), marketplace="amazon.se"))
    assert "”Skickat: ’Vattenkokare’”" in letter(nested, "A", 1, policy(language="sv")).body
    japanese = letter(late("amazon.co.jp", "ja"), "A", 1).body
    assert "お届け予定日である2026年12月8日（火）から3日遅れて、2026年12月11日に配達されました。" in japanese


def test_the_belgian_notice_is_a_mise_en_demeure_and_the_termination_says_so() -> None:
    notice = letter(missing("amazon.com.be", "fr"), "B", 2).body
    assert "je vous mets en demeure de me livrer" in notice and "VI.43" in notice
    termination = letter(missing("amazon.com.be", "fr"), "B", 3).body
    assert "je vous ai mis en demeure" in termination and "Je mets donc fin au contrat" in termination
    dutch = letter(missing("amazon.com.be", "nl"), "B", 2, policy(language="nl")).body
    assert "stel ik u in gebreke" in dutch and "Wetboek van economisch recht" in dutch


def test_a_missed_guaranteed_date_on_amazon_com_quotes_amazons_own_terms_and_claims_no_right() -> None:
    guaranteed = letter(late("amazon.com", "en", guaranteed=True), "A", 1).body
    assert "Your Guaranteed Delivery terms state that shipping fees may be refunded" in guaranteed
    assert "right" not in guaranteed.lower() and "law" not in guaranteed.lower()
    estimated = letter(late("amazon.com", "en", guaranteed=False), "A", 1).body
    assert "Guaranteed Delivery terms" not in estimated and "goodwill gesture" in estimated
    assert "Guaranteed Delivery" not in letter(late("amazon.co.uk", "en", guaranteed=True), "A", 1).body


def test_a_notice_written_at_release_is_dated_and_counted_from_that_day() -> None:
    shipment = missing("amazon.it", "it")
    rules = policy(sender_name="Camille Martin")
    step_1 = PastClaim(ORDER, "1", "B", 1, at(2026, 12, 9, 10), "sent", at(2026, 12, 9, 10))
    drafted = PastClaim(ORDER, "1", "B", 2, at(2026, 12, 12, 10), "approved")
    released, evidence = letter_at_release(shipment, drafted, at(2026, 12, 16, 9), rules, [step_1, drafted])
    assert "a oggi, il 16 dicembre 2026" in released.body and "scade il 31 dicembre 2026" in released.body
    assert evidence["deadline_given"] == "2026-12-31"  # Italy: 15 days from the day it leaves
