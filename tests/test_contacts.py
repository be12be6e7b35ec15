"""Where each letter goes: the contact path per marketplace in the site's words, the seller and the A-to-z
Guarantee, the note a draft starts with, and the retailer's postal address."""

from __future__ import annotations

from datetime import date

import pytest

from parsers.marketplaces import all_marketplaces
from rules.contacts import Situation, a_to_z_from, draft_note, guidance, path, retailer
from rules.letters import LANGUAGES

SUPPORTED = ["amazon.fr", "amazon.de", "amazon.it", "amazon.es", "amazon.co.uk", "amazon.com", "amazon.ca",
             "amazon.nl", "amazon.com.be", "amazon.pl", "amazon.se", "amazon.co.jp"]
ORDER = "171-1234567-1234567"


def situation(marketplace: str = "amazon.fr", language: str = "fr", **kw: object) -> Situation:
    base: dict[str, object] = {"order_id": ORDER, "track": "B", "step": 1}
    return Situation(marketplace, language, **{**base, **kw})  # type: ignore[arg-type]


@pytest.mark.parametrize("marketplace", SUPPORTED)
@pytest.mark.parametrize("language", LANGUAGES)
def test_every_marketplace_says_where_its_letters_go_in_every_language(marketplace: str, language: str) -> None:
    assert marketplace in all_marketplaces()
    for track, step in (("A", 1), ("B", 1), ("B", 2), ("C", 1)):
        note = draft_note(situation(marketplace, language, track=track, step=step))
        assert "$" not in note and "lateclaim" not in note.lower()
        assert note.rstrip().splitlines()[-1].startswith("✂")
        assert path(marketplace, "not_received" if track == "C" else "path", language) in note
    seller = retailer(marketplace)
    assert seller is not None and seller.address and seller.lines(language)[-1].isupper()


def test_the_french_path_is_the_sites_own_words() -> None:
    assert path("amazon.fr") == ("Service client (« Nous contacter ») → choisir l'article de la commande → "
                                 "Où est ma commande ? → L'envoi est en retard → Chat ou e-mail")
    eu = retailer("amazon.de")
    assert eu is not None and eu.lines("de") == ["Amazon EU S.à r.l.", "38 avenue John F. Kennedy",
                                                 "L-1855 Luxembourg", "LUXEMBURG"]
    uk = retailer("amazon.co.uk")
    assert uk is not None and uk.name == "Amazon EU S.à r.l., UK Branch" and not uk.verified


def test_a_marketplace_sellers_letter_goes_through_amazons_messages_then_a_to_z() -> None:
    promise_end = date(2026, 12, 8)
    assert a_to_z_from(promise_end) == date(2026, 12, 11)
    early = guidance(situation(seller="Casa Rossi", promise_end=promise_end, today=date(2026, 12, 10)))
    assert early[0].startswith("L'article est vendu par Casa Rossi") and "Contacter le vendeur" in early[0]
    assert not any("A à Z" in line for line in early)
    late = guidance(situation(seller="Casa Rossi", promise_end=promise_end, today=date(2026, 12, 11)))
    assert "depuis le vendredi 11 décembre 2026" in late[1] and "Garantie A à Z" in late[1]
    assert late[2].startswith(f"Commande {ORDER} : l'article n'a pas été livré") and "mardi 8 décembre" in late[2]
    fba = guidance(situation(seller="Casa Rossi", fulfilled_by_amazon=True, promise_end=promise_end,
                             today=date(2026, 12, 20)))
    assert "expédié par Amazon" in fba[1] and not any("A à Z" in line for line in fba)
    italian = guidance(situation("amazon.it", "it", seller="Casa Rossi", promise_end=promise_end,
                                 today=date(2026, 12, 20)))
    assert "a partire da venerdì 11 dicembre 2026" in italian[1]


def test_the_formal_steps_remind_of_registered_post_where_the_country_uses_it() -> None:
    assert any("recommandé" in line for line in guidance(situation(step=2)))
    assert not any("recommandé" in line for line in guidance(situation(step=1)))
    assert not any("registered" in line for line in guidance(situation("amazon.com", "en", step=2)))
    british = guidance(situation("amazon.co.uk", "en", step=2, country="GB"))
    assert any("Royal Mail Signed For" in line for line in british)
    irish = guidance(situation("amazon.co.uk", "en", step=2, country="IE"))
    assert any("registered post" in line for line in irish) and not any("Royal Mail" in line for line in irish)


def test_a_site_in_two_languages_gives_its_labels_in_the_letters_language() -> None:
    french, english = draft_note(situation("amazon.ca", "fr")), draft_note(situation("amazon.ca", "en"))
    assert "Où est ma commande ?" in french and "Where's my stuff?" not in french
    assert "Where's my stuff?" in english
    assert path("amazon.ca", "path", "de") == path("amazon.ca")  # no German labels: the site's own


def test_every_marketplace_we_read_is_reached_in_its_own_words() -> None:
    """Every marketplace whose mail the parsers read and whose language the letters write has its own entry: the
    site's labels in its language, the seller entity and address, whether registered post is worth it."""
    for marketplace, info in all_marketplaces().items():
        if info.languages[0] not in LANGUAGES or marketplace in ("amazon.com.au", "amazon.in", "amazon.com.mx"):
            continue
        for language in info.languages:
            if language in LANGUAGES:
                assert retailer(marketplace) is not None, marketplace
                labels = path(marketplace, "path", language)
                assert "choose" not in labels or language == "en", (marketplace, language, labels)
    assert "Waar is mijn bestelling?" in path("amazon.nl") and "Waar is mijn bestelling?" in path(
        "amazon.com.be", "path", "nl") and "Où est ma commande ?" in path("amazon.com.be", "path", "fr")
    assert "Gdzie jest moje zamówienie?" in path("amazon.pl") and "Var är min beställning?" in path("amazon.se")
    assert "カスタマーサービス" in path("amazon.co.jp")
    japan = retailer("amazon.co.jp")
    assert japan is not None and japan.name == "Amazon Japan G.K." and not japan.verified
    assert draft_note(situation("amazon.nl", "nl")).startswith("NOTITIE VOOR U")
