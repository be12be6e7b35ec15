"""A claim as a printed letter: the PDF read back with a text extractor, as a person's PDF reader shows it."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from pypdf import PdfReader

from daemon.cli import main
from daemon.commands.printing import print_letter
from daemon.config import load
from daemon.state.store import Store
from rules.letters import LetterFacts, render
from rules.verdict import verdict
from tests.rules_helpers import ORDER, at, policy
from tests.test_letters import missing

CREATED = at(2026, 12, 20, 12)


def state_with_a_formal_notice(tmp_path: Path, marketplace: str = "amazon.fr", language: str = "fr",
                               track: str = "B", step: int = 2) -> Path:
    rules = policy(sender_name="Camille Martin", language=language)
    shipment = missing(marketplace, language)
    letter = render(LetterFacts(shipment, verdict(shipment, CREATED, rules), track, step, CREATED, rules,
                                at(2026, 12, 9, 10)))
    path = tmp_path / "state.db"
    with Store(path) as store:
        store.add_claim(order_id=ORDER, shipment="1", track=track, step=step, status="drafted", held="",
                        language=language, subject=letter.subject, body=letter.body,
                        message_id="<5a1c0b6e-0000-4000-8000-000000000001@example.org>",
                        evidence={"marketplace": marketplace}, now=CREATED)
    return path


def config(tmp_path: Path, state: Path, **claims: object) -> str:
    values = {"signature": "Camille Martin", "postal_address": ["12 rue des Lilas", "75011 Paris"], **claims}
    body = "".join(f"{k} = {json.dumps(v, ensure_ascii=False)}\n" for k, v in values.items())
    path = tmp_path / "config.toml"
    path.write_text(f'[state]\npath = "{state}"\n\n[rules]\ntimezone = "Europe/Paris"\n\n[claims]\n{body}',
                    encoding="utf-8")
    return str(path)


def text_of(pdf: Path) -> str:
    """The PDF's words in reading order, lines joined (a wrapped line breaks a phrase anywhere)."""
    return " ".join(" ".join(page.extract_text().split()) for page in PdfReader(pdf).pages)


def test_a_formal_notice_prints_as_a_proper_letter(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    pdf = tmp_path / "mise-en-demeure.pdf"
    status = main(["claims", "letter", "1", "--pdf", str(pdf), "--config",
                   config(tmp_path, state_with_a_formal_notice(tmp_path))])
    out = capsys.readouterr().out
    assert status == 0 and "as a letter to Amazon EU S.à r.l., dated 2026-12-20" in out and "check:" not in out
    assert pdf.stat().st_mode & 0o777 == 0o600
    text = text_of(pdf)
    for expected in ("Camille Martin", "12 rue des Lilas", "75011 Paris",  # the sender
                     "Amazon EU S.à r.l.", "38 avenue John F. Kennedy", "L-1855 Luxembourg", "LUXEMBOURG",
                     "Lettre recommandée avec demande d'avis de réception", "Paris, le 20 décembre 2026",
                     f"Objet : Mise en demeure de livrer – commande {ORDER}",
                     "au plus tard le 27 décembre 2026",  # the deadline the notice sets
                     "L. 216-6", "Madame, Monsieur,"):
        assert expected in text, expected
    assert text.rstrip().endswith("Camille Martin")  # signed under the closing
    assert "Commande n°" not in text  # the subject names the order: no second line repeating it


def test_each_country_prints_its_own_words(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    pdf = tmp_path / "diffida.pdf"
    state = state_with_a_formal_notice(tmp_path, "amazon.it", "it")
    assert main(["claims", "letter", "1", "--pdf", str(pdf), "--config",
                 config(tmp_path, state, postal_address=["Via Roma 1", "00184 Roma"])]) == 0
    text = text_of(pdf)
    assert "Raccomandata con avviso di ricevimento" in text and "Roma, 20 dicembre 2026" in text
    assert "LUSSEMBURGO" in text and "entro il termine supplementare che scade il 4 gennaio 2027" in text
    us = tmp_path / "us"
    us.mkdir()
    us_state = state_with_a_formal_notice(us, "amazon.com", "en")
    assert main(["claims", "letter", "1", "--pdf", str(us / "l.pdf"), "--config",
                 config(us, us_state, postal_address=["1 Main Street", "Springfield, IL 62701"])]) == 0
    out = capsys.readouterr().out
    assert "check: Amazon.com Services LLC's address was not verified" in out
    text = text_of(us / "l.pdf")
    assert "Springfield, December 20, 2026" in text and "recorded delivery" not in text


def test_a_printed_letter_needs_the_postal_address(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    state = state_with_a_formal_notice(tmp_path)
    path = tmp_path / "config.toml"
    path.write_text(f'[state]\npath = "{state}"\n\n[claims]\nsignature = "Camille Martin"\n', encoding="utf-8")
    assert main(["claims", "letter", "1", "--pdf", str(tmp_path / "x.pdf"), "--config", str(path)]) == 2
    err = capsys.readouterr().err
    assert f"{path}: claims.postal_address: expected your postal address lines" in err
    assert not (tmp_path / "x.pdf").exists()
    bad = config(tmp_path, state, postal_address="12 rue des Lilas, Paris")
    assert main(["claims", "letter", "1", "--pdf", str(tmp_path / "x.pdf"), "--config", bad]) == 2
    assert "claims.postal_address: expected a list of 2 to 6 non-empty address lines" in capsys.readouterr().err



def test_a_letter_printed_days_later_is_dated_and_counted_from_the_day_it_leaves(tmp_path: Path) -> None:
    """A notice drafted on 12 December and printed on 15 December: the PDF says 15 December, the parcel still
    missing on that day, and a deadline of 15 + 7 days + 5 days of post; the termination will wait for it."""
    path = tmp_path / "state.db"
    shipment = missing()
    rules = policy(sender_name="Camille Martin")
    with Store(path) as store:
        for s in shipment.sightings:
            store.record_user_event(s.event, s.message.subject, s.message.sent_at or CREATED)
        store.add_claim(order_id=ORDER, shipment="1", track="B", step=1, status="sent", held="", language="fr",
                        subject="Commande : colis non reçu", body="Bonjour,\n", message_id="<m1@example.org>",
                        evidence={}, now=at(2026, 12, 9, 10))
        drafted = at(2026, 12, 12, 10)
        notice = render(LetterFacts(shipment, verdict(shipment, drafted, rules), "B", 2, drafted, rules,
                                    at(2026, 12, 9, 10)))
        assert "19 décembre 2026" in notice.body  # as drafted: 12 December + 7 days
        claim_id = store.add_claim(order_id=ORDER, shipment="1", track="B", step=2, status="drafted", held="",
                                   language="fr", subject=notice.subject, body=notice.body,
                                   message_id="<m2@example.org>", evidence={"deadline_given": "2026-12-19"},
                                   now=drafted)
        settings = load(Path(config(tmp_path, path)))
        claim = store.claim(claim_id or 2)
        assert claim is not None
        printed = print_letter(store, claim, settings, at(2026, 12, 15, 9), tmp_path / "notice.pdf")
        assert printed.dated == "2026-12-15"
        recorded = store.claim(claim.id)
        assert recorded is not None and recorded.evidence["deadline_given"] == "2026-12-27"
    text = text_of(tmp_path / "notice.pdf")
    assert "Paris, le 15 décembre 2026" in text and "à la date du 15 décembre 2026" in text
    assert "au plus tard le 27 décembre 2026" in text and "19 décembre" not in text
    assert "demande du 9 décembre 2026" in text  # the step it follows, as it went out


def lines_of(pdf: Path) -> list[str]:
    return [" ".join(line.split()) for page in PdfReader(pdf).pages for line in page.extract_text().splitlines()]


@pytest.mark.parametrize(("marketplace", "language", "consumer", "words"), [
    ("amazon.pl", "pl", "PL", ["zamówienie nr", "543¹ § 2 Kodeksu cywilnego", "grudnia 2026 r.", "Dotyczy:"]),
    ("amazon.co.jp", "ja", "JP", ["注文番号", "2026年12月", "ご担当者様"]),
    ("amazon.se", "sv", "SE", ["konsumentköplagen (2022:260)", "Ärende:", "häva köpet"]),
    ("amazon.de", "de", "AT", ["§ 7c Abs. 1 KSchG", "Österreich", "Betreff:"]),
    ("amazon.nl", "nl", "NL", ["artikel 7:19a lid 2", "Betreft:", "Geachte heer, mevrouw,"]),
])
def test_every_script_prints_and_reads_back(tmp_path: Path, marketplace: str, language: str, consumer: str,
                                            words: list[str]) -> None:
    path = tmp_path / "state.db"
    shipment = missing(marketplace, language)
    rules = policy(sender_name="Łucja Żółć", language=language)
    with Store(path) as store:
        for s in shipment.sightings:
            store.record_user_event(s.event, s.message.subject, s.message.sent_at or CREATED)
        store.add_claim(order_id=ORDER, shipment="1", track="B", step=1, status="sent", held="", language=language,
                        subject="?", body="?\n", message_id="<m1@example.org>", evidence={}, now=at(2026, 12, 9, 10))
        notice = render(LetterFacts(shipment, verdict(shipment, CREATED, rules), "B", 2, CREATED, rules))
        claim_id = store.add_claim(order_id=ORDER, shipment="1", track="B", step=2, status="drafted", held="",
                                   language=language, subject=notice.subject, body=notice.body,
                                   message_id="<m2@example.org>", evidence={}, now=CREATED)
        settings = load(Path(config(tmp_path, path, signature="Łucja Żółć", country=consumer,
                                    postal_address=["ul. Złota 44 m. 12", "00-120 Warszawa"],
                                    **{"from": "lucja@example.org"})))
        claim = store.claim(claim_id or 2)
        assert claim is not None
        print_letter(store, claim, settings, at(2026, 12, 21, 9), tmp_path / "l.pdf")
    text = text_of(tmp_path / "l.pdf")
    for expected in ("Łucja Żółć", "ul. Złota 44 m. 12", "lucja@example.org", *words):
        assert expected in text, expected
    assert "?" not in text.replace("?\n", "")  # no glyph replaced by a question mark
    metadata = PdfReader(tmp_path / "l.pdf").metadata or {}
    assert not any("lateclaim" in str(v).lower() or "fpdf" in str(v).lower() for v in metadata.values())
    assert any("DejaVu" in str(f) for page in PdfReader(tmp_path / "l.pdf").pages
               for f in (page["/Resources"]["/Font"].values()))  # type: ignore[index, union-attr]


def test_the_address_sits_in_the_window_of_the_senders_envelopes_and_dates_never_break(tmp_path: Path) -> None:
    for consumer, side in (("DE", "left"), ("GB", "left"), ("FR", "right"), ("IT", "right")):
        folder = tmp_path / consumer
        folder.mkdir()
        state = state_with_a_formal_notice(folder)
        assert main(["claims", "letter", "1", "--pdf", str(folder / "l.pdf"), "--config",
                     config(folder, state, country=consumer)]) == 0
        positions: dict[str, float] = {}

        def visit(text: str, cm: object, tm: list[float], fonts: object, size: object,
                  found: dict[str, float] = positions) -> None:
            if "Amazon EU" in text:
                found["x"] = tm[4]

        PdfReader(folder / "l.pdf").pages[0].extract_text(visitor_text=visit)
        assert (positions["x"] < 200) == (side == "left"), (consumer, positions)  # points: 110 mm is 312 pt
    for line in lines_of(tmp_path / "FR" / "l.pdf"):  # "27 | décembre 2026" or "27 décembre | 2026": never
        assert not re.search(r"(?<![\d-])\d{1,2}\.?$", line), f"a date broken at the end of {line!r}"
        assert not line.endswith(("décembre", "janvier", "L.")), f"a date broken at the end of {line!r}"
