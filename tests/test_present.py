"""On a terminal: tables and colour; piped: plain aligned text; --json: unchanged JSON, either way."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import date

import pytest

from daemon.cli import main

ESC = "\x1b["


@pytest.fixture(scope="module")
def demo_config(tmp_path_factory: pytest.TempPathFactory) -> str:
    workdir = tmp_path_factory.mktemp("demo")
    assert main(["demo", "--keep", str(workdir)]) == 0
    return str(workdir / "config.toml")


GOODWILL = "3"  # the demo's claim about the lamp that came three days late (1 was its withdrawn question)


def on_a_terminal(*argv: str) -> str:
    """The real command line with a pseudo-terminal as its standard output, 120 columns wide."""
    leader, follower = os.openpty()
    env = {k: v for k, v in os.environ.items() if k not in ("NO_COLOR", "FORCE_COLOR")}
    env.update(COLUMNS="120", LINES="50", TERM="xterm-256color")
    try:
        done = subprocess.run([sys.executable, "-m", "daemon.cli", *argv], stdout=follower, stderr=subprocess.PIPE,
                              env=env, timeout=60, check=False)
        os.close(follower)
        chunks = []
        while True:
            try:
                chunk = os.read(leader, 65536)
            except OSError:  # EIO: the terminal's other end is closed and drained
                break
            if not chunk:
                break
            chunks.append(chunk)
    finally:
        os.close(leader)
    assert done.returncode == 0, done.stderr
    return b"".join(chunks).decode().replace("\r\n", "\n")


def test_a_terminal_gets_tables_and_colour(demo_config: str) -> None:
    orders = on_a_terminal("orders", "--config", demo_config, "--as-of", "2026-11-24")
    assert ESC in orders and "─" in orders
    assert "19 Nov" in orders and "on time" in orders and "Lampe de bureau" in orders
    show = on_a_terminal("claims", "show", GOODWILL, "--config", demo_config)
    assert "╭─" in show and "Evidence:" in show and "late by 3 days" in show
    stats = on_a_terminal("stats", "--config", demo_config)
    assert "granted" in stats and "{" not in stats


def test_json_is_the_same_on_a_terminal(demo_config: str, capsys: pytest.CaptureFixture[str]) -> None:
    terminal = on_a_terminal("orders", "--json", "--config", demo_config, "--as-of", "2026-11-24")
    assert ESC not in terminal
    main(["orders", "--json", "--config", demo_config, "--as-of", "2026-11-24"])
    assert json.loads(terminal) == json.loads(capsys.readouterr().out)


def test_piped_output_is_plain_aligned_text(demo_config: str, capsys: pytest.CaptureFixture[str]) -> None:
    for argv in (["orders"], ["claims", "list"], ["stats"], ["claims", "show", GOODWILL]):
        assert main([*argv, "--config", demo_config]) == 0
        out = capsys.readouterr().out
        assert ESC not in out and "╭" not in out, argv
    main(["stats", "--config", demo_config])
    stats = capsys.readouterr().out
    assert "{" not in stats
    rows = [line.split() for line in stats.splitlines()]
    assert ["claims", "all", "3"] in rows and ["outcome", "granted", "1"] in rows
    assert ["status", "withdrawn", "1"] in rows
    main(["claims", "show", GOODWILL, "--config", demo_config])
    show = capsys.readouterr().out
    assert "Promised   16 Nov 2026" in show and "Verdict    late by 3 days" in show
    history = show.split("History:\n")[1].split("\n\n")[0].splitlines()
    assert history[0] == "  (times in Europe/Paris)"  # the user's zone, said
    assert len({line.index(line.split()[3]) for line in history if len(line.split()) > 3}) == 1  # notes aligned


def test_parse_says_in_words_what_the_wording_left_open() -> None:
    from daemon.output.explain import describe_result
    from parsers.model import DateWindow, Event, EventKind, MessageInfo, ParseResult, Status

    event = Event(EventKind.SHIPPED, "amazon.fr", "fr", ("171-5302846-9915233",),
                  promise=DateWindow(None, date(2026, 11, 16)))
    result = ParseResult(Status.PARSED, MessageInfo("m@example.com", "Expédié", None, "a@amazon.fr", None), (event,))
    assert "the email does not say guaranteed or estimated" in describe_result("x.eml", result)


def test_one_day_is_one_day_and_no_claim_is_not_no_broken_promise(capsys: pytest.CaptureFixture[str]) -> None:
    from daemon.output.present import evidence_lines, show_claims

    assert ("Verdict", "overdue by 1 day") in evidence_lines({"verdict": "overdue", "days_late": 1})
    assert ("Verdict", "late by 2 days") in evidence_lines({"verdict": "late", "days_late": 2})
    show_claims([])
    said = capsys.readouterr().out
    assert "No claims yet" in said and "broken promise" not in said  # a parcel may well be overdue meanwhile


def test_the_evidence_says_its_emails_times_in_the_users_zone() -> None:
    from zoneinfo import ZoneInfo

    from daemon.output.present import evidence_lines

    evidence = {"promise": {"end": "2026-11-17", "email": {"subject": "Ordered", "date": "2026-11-14T10:15:00+00:00"}}}
    assert evidence_lines(evidence, ZoneInfo("Europe/Paris"))[1] == ("", "in the email “Ordered” of 14 Nov 2026 11:15")
