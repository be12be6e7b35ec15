from __future__ import annotations

import re
from datetime import date
from pathlib import Path

import pytest

from parsers.model import EventKind
from rules.letters import LANGUAGES, Letter, LetterFacts, render, template_problems
from rules.policy import ASKS, Policy
from rules.timeline import Shipment
from rules.verdict import verdict
from tests.rules_helpers import ORDER, at, delivered, one, ordered, policy, sighting

MARKETPLACES = {"amazon.fr": "fr", "amazon.co.uk": "en", "amazon.de": "de", "amazon.it": "it", "amazon.es": "es",
                "amazon.com": "en"}
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


def steps_of(marketplace: str) -> list[tuple[str, int]]:
    return [("A", 1), ("B", 1), ("B", 2)] + ([] if marketplace == "amazon.com" else [("B", 3)])


CASES = [(mk, lang, track, step) for mk in MARKETPLACES for lang in LANGUAGES for track, step in steps_of(mk)]


@pytest.mark.parametrize(("marketplace", "language", "track", "step"), CASES)
def test_every_letter_renders_whole_in_every_language(marketplace: str, language: str, track: str,
                                                      step: int) -> None:
    shipment = late(marketplace) if track == "A" else missing(marketplace)
    result = letter(shipment, track, step, policy(language=language, sender_name="Camille Martin"))
    assert result.language == language
    text = f"{result.subject}\n{result.body}"
    assert "$" not in text and "{" not in text
    assert not result.subject.startswith("Subject") and ORDER in result.subject
    assert ORDER in result.body and "Bouilloire" in result.body and result.body.rstrip().endswith("Camille Martin")
    assert not re.search(r"\b[A-ZÄÖÜÉ]{6,}\b", text), "no shouting"  # order ids and BGB are short
    assert "  " not in text and " ," not in text and ".." not in text
    if track == "A":
        assert "3 " in result.body  # days late
        assert "« Livraison estimée : mardi 8 décembre »" in result.body or "Livraison estimée : mardi 8 décembre" \
            in result.body


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
    assert "L216-1" in notice and "L216-6, I, 2°" in notice and "mets en demeure" in notice
    assert "27 décembre 2026" in notice  # 20 December + 7 days
    assert "résoudrai le contrat" in notice
    termination = letter(missing(), "B", 3).body
    assert all(a in termination for a in ("L216-6", "L216-7", "L241-4", "quatorze jours", "3 janvier 2027"))
    assert "19 décembre 2026" in termination  # the notice's date: 12 December + 7 days
    for old in ("L216-2", "L216-3", "trente", "soixante"):
        assert old not in notice + termination


def test_each_country_cites_its_own_law() -> None:
    uk = letter(missing("amazon.co.uk", "en"), "B", 2).body
    assert "section 28(7) of the Consumer Rights Act 2015" in uk and "27 December 2026" in uk
    assert "section 28(8)" in letter(missing("amazon.co.uk", "en"), "B", 3).body
    de = letter(missing("amazon.de", "de"), "B", 2).body
    assert "§ 323 Abs. 1 BGB" in de and "bis spätestens 27. Dezember 2026" in de and "zurücktreten" in de
    for marketplace, language in (("amazon.it", "it"), ("amazon.es", "es")):
        body = letter(missing(marketplace, language), "B", 2).body
        assert "2011/83/UE" in body
    us = letter(missing("amazon.com", "en"), "B", 2)
    assert "refund" in us.subject and "Directive" not in us.body and "section" not in us.body
    with pytest.raises(ValueError, match="ends at step 2"):
        letter(missing("amazon.com", "en"), "B", 3)


def test_the_law_follows_the_marketplace_even_in_another_language() -> None:
    body = letter(missing(), "B", 2, policy(language="en")).body
    assert "French Consumer Code" in body and "L216-6 I 2°" in body


def test_language_auto_uses_the_emails_language_and_falls_back_to_english() -> None:
    assert letter(late("amazon.de", "de"), "A", 1).language == "de"
    assert letter(late("amazon.de", "en"), "A", 1).language == "en"
    assert letter(late("amazon.nl", "nl"), "A", 1).language == "en"
    assert letter(late(), "A", 1, policy(language="it")).language == "it"


def test_dates_are_written_the_way_each_language_writes_them() -> None:
    first = one(ordered(date(2026, 12, 1), items=("Lampe",)), delivered(at(2026, 12, 8, 10)))
    assert "livrée le 8 décembre 2026" in letter(first, "A", 1).body
    assert "le mardi 1er décembre 2026" in letter(first, "A", 1).body
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
