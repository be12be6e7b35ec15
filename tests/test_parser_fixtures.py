"""Every fixture email in tests/fixtures/amazon must parse to exactly the JSON written beside it."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from parsers import parse

FIXTURES = Path(__file__).parent / "fixtures" / "amazon"
EMAILS = sorted(FIXTURES.rglob("*.eml"))


def test_there_are_fixtures_for_every_language() -> None:
    languages = {json.loads(p.with_suffix(".expected.json").read_text())["events"][0]["language"]
                 for p in EMAILS if json.loads(p.with_suffix(".expected.json").read_text())["events"]}
    assert {"fr", "en", "de", "it", "es", "nl", "pl", "sv", "pt", "ja"} <= languages


@pytest.mark.parametrize("path", EMAILS, ids=[str(p.relative_to(FIXTURES)) for p in EMAILS])
def test_fixture_parses_to_its_expectation(path: Path) -> None:
    expectation = path.with_suffix(".expected.json")
    assert expectation.exists(), f"{path.name} has no {expectation.name}: write down what it must parse to"
    assert parse(path.read_bytes()).to_json() == json.loads(expectation.read_text())
