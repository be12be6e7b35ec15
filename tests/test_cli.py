"""The command line as a user meets it: help, the demo, parse, orders and claims, and clear errors."""

from __future__ import annotations

import json
from email import message_from_bytes
from pathlib import Path

import pytest

from daemon.cli import build_parser, main
from daemon.commands.demo import SAMPLE_MAILBOX

ON_TIME, LATE, UNDELIVERED, SPOOFED = (
    "402-7461938-2058316", "171-5302846-9915233", "203-8841957-6620374", "405-0000000-1234567")


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    status = main(list(argv))
    out, err = capsys.readouterr()
    return status, out, err


def test_every_command_explains_itself(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as info:
        main(["--help"])
    assert info.value.code == 0
    top = capsys.readouterr().out
    for name in ("run", "sync", "parse", "orders", "claims", "demo"):
        assert name in top
    subcommands = build_parser()._subparsers._group_actions[0].choices  # type: ignore[union-attr]
    for name, sub in subcommands.items():
        assert sub.description, f"{name} has no description"
        assert "--config" in sub.format_help() or name == "demo"


def test_the_demo_lives_through_the_days_and_tells_the_late_parcels_story(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    status, out, _ = run(capsys, "demo", "--keep", str(tmp_path))
    assert status == 0
    assert "Stats:" in out and "closed" in out
    # The lamp promised for Monday: "where is my parcel?" on Tuesday, withdrawn when it came, then the request.
    diary = [line.split(None, 3) for line in out.splitlines() if line.startswith("  ") and "Nov  " in line]
    story = [(f"{day} {month}", text.split(",")[0]) for _, day, month, text in diary if LATE in text]
    assert story == [("17 Nov", "drafted claim 1"), ("20 Nov", "withdrew claim 1 (track B step 1"),
                     ("20 Nov", "drafted claim 3")]
    lines = {line.split()[0]: line for line in out.splitlines() if line.strip()[:3].isdigit()}
    assert "on_time" in lines[ON_TIME]
    assert "late" in lines[LATE] and "3 d" in lines[LATE]
    assert "overdue" in lines[UNDELIVERED]
    drafts = sorted((tmp_path / "outbox").glob("*.eml"))
    assert len(drafts) == 2
    letters = [message_from_bytes(p.read_bytes()) for p in drafts]
    assert {next(o for o in (LATE, UNDELIVERED) if o in m["Subject"]) for m in letters} == {LATE, UNDELIVERED}
    assert all(m["Message-ID"] for m in letters)
    assert not any(k.lower().startswith("x-") for m in letters for k in m)

    config = str(tmp_path / "config.toml")
    status, out, _ = run(capsys, "claims", "list", "--json", "--config", config)
    claims = json.loads(out)
    # The demo then plays the French claim through to its outcome, as the user would with a real mailbox.
    assert {(c["order_id"], c["track"], c["step"], c["status"], c["outcome"]) for c in claims} == {
        (LATE, "B", 1, "withdrawn", None), (LATE, "A", 1, "closed", "granted"), (UNDELIVERED, "B", 1, "drafted", None)}
    french = next(c for c in claims if c["order_id"] == LATE and c["track"] == "A")
    assert french["language"] == "fr"

    status, out, _ = run(capsys, "demo", "--keep", str(tmp_path))  # a second run adds nothing
    assert status == 0 and "No new email since the last run" in out
    assert len(list((tmp_path / "outbox").glob("*.eml"))) == 2


def test_orders_json_follows_the_contract(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    run(capsys, "demo", "--keep", str(tmp_path))
    config = str(tmp_path / "config.toml")
    status, out, _ = run(capsys, "orders", "--json", "--config", config, "--as-of", "2026-11-24T12:00")
    assert status == 0
    orders = {o["order_id"]: o for o in json.loads(out)}
    contract = {"order_id", "shipment", "marketplace", "promised_start", "promised_end", "delivered_on", "verdict",
                "days_late", "authenticated"}
    assert set(orders[LATE]) >= contract | {"expected_end", "arrival", "arrived_on", "next_step", "due_at", "reason"}
    assert {k: v for k, v in orders[LATE].items() if k in contract} == {
        "order_id": LATE, "shipment": "1", "marketplace": "amazon.fr", "promised_start": "2026-11-16",
        "promised_end": "2026-11-16", "delivered_on": "2026-11-19", "verdict": "late", "days_late": 3,
        "authenticated": True}
    assert orders[LATE]["arrival"] == "delivered" and "case resolved" in orders[LATE]["reason"]
    assert orders[SPOOFED]["authenticated"] is False
    # Replayed as of a day before the promise, the undelivered parcel was still pending.
    _, out, _ = run(capsys, "orders", "--json", "--config", config, "--as-of", "2026-11-16")
    assert {o["order_id"]: o["verdict"] for o in json.loads(out)}[UNDELIVERED] == "pending"


def test_parse_json_needs_no_config(capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch,
                                    tmp_path: Path) -> None:
    monkeypatch.setenv("LATECLAIM_CONFIG", str(tmp_path / "absent.toml"))
    files = [SAMPLE_MAILBOX / name for name in ("06_fr_livre_lampe.eml", "09_newsletter.eml",
                                                "10_spoof_expedie.eml")]
    status, out, _ = run(capsys, "parse", "--json", *map(str, files))
    assert status == 0
    delivered, newsletter, spoof = (json.loads(line) for line in out.splitlines())
    assert delivered["file"] == str(files[0]) and delivered["status"] == "parsed"
    assert delivered["authenticated"] is True
    assert delivered["events"][0]["kind"] == "delivered"
    assert delivered["events"][0]["delivered_on"] == "2026-11-19"
    assert newsletter["status"] == "ignored" and newsletter["reason"]
    assert spoof["authenticated"] is False


def test_parse_explains_in_words(capsys: pytest.CaptureFixture[str]) -> None:
    status, out, _ = run(capsys, "parse", str(SAMPLE_MAILBOX / "05_fr_expedie_lampe.eml"))
    assert status == 0
    assert "promised: 2026-11-16" in out and "evidence:" in out and "pattern" in out


def test_parse_reports_an_unreadable_file_and_goes_on(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    status, out, err = run(capsys, "parse", "--json", str(tmp_path / "missing.eml"),
                           str(SAMPLE_MAILBOX / "09_newsletter.eml"))
    assert status == 1
    assert "missing.eml: cannot read" in err
    assert json.loads(out)["status"] == "ignored"


def test_a_broken_config_is_explained(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    config = tmp_path / "config.toml"
    config.write_text('[mailbox]\nport = 99999\n[claims]\nmode = "shout"\n')
    status, _, err = run(capsys, "orders", "--config", str(config))
    assert status == 2
    assert f"{config}: mailbox.port: expected a whole number from 1 to 65535" in err
    assert f'{config}: claims.mode: expected one of "draft", "review", "send"' in err


def test_sync_without_credentials_says_which_keys_are_missing(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    config = tmp_path / "config.toml"
    config.write_text(f'[state]\npath = "{tmp_path / "s.db"}"\n')
    status, _, err = run(capsys, "sync", "--once", "--config", str(config))
    assert status == 2
    assert "mailbox.username" in err and "mailbox.password_file, mailbox.password_command or [mailbox.oauth2]" in err


def test_claims_show_needs_an_existing_id(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    run(capsys, "demo", "--keep", str(tmp_path))
    status, _, err = run(capsys, "claims", "show", "99", "--config", str(tmp_path / "config.toml"))
    assert status == 2 and "no claim 99" in err
    status, out, _ = run(capsys, "claims", "show", "1", "--config", str(tmp_path / "config.toml"))
    assert status == 0 and "Evidence:" in out and "History:" in out


def test_claims_show_says_where_the_letter_goes(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    run(capsys, "demo", "--keep", str(tmp_path))
    status, out, _ = run(capsys, "claims", "show", "1", "--config", str(tmp_path / "config.toml"))
    assert status == 0 and "Where it goes (amazon.fr):" in out and "Où est ma commande ?" in out
    assert "Amazon EU S.à r.l., 38 avenue John F. Kennedy, L-1855 Luxembourg" in out
    status, out, _ = run(capsys, "claims", "show", "1", "--json", "--config", str(tmp_path / "config.toml"))
    where = json.loads(out)["where"]
    assert where["marketplace"] == "amazon.fr" and where["seller"] is None and where["registered_post"] is True
    assert where["postal_address"][0] == "Amazon EU S.à r.l." and "Nous contacter" in where["guidance"][0]


def test_orders_json_says_null_when_the_mail_carried_no_authentication_results(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    from daemon.commands.demo import demo

    mailbox = tmp_path / "mailbox"
    mailbox.mkdir()
    for path in SAMPLE_MAILBOX.glob("*.eml"):
        lines = path.read_bytes().splitlines(keepends=True)
        kept = [line for line in lines if not line.startswith(b"Authentication-Results:")]
        (mailbox / path.name).write_bytes(b"".join(kept) if "lampe" in path.name else b"".join(lines))
    demo(tmp_path / "state", mailbox_dir=mailbox)
    capsys.readouterr()
    _, out, _ = run(capsys, "orders", "--json", "--config", str(tmp_path / "state" / "config.toml"))
    authenticated = {o["order_id"]: o["authenticated"] for o in json.loads(out)}
    assert authenticated[LATE] is None  # the lamp's mail, stripped of its header
    assert authenticated[ON_TIME] is True
    assert authenticated[SPOOFED] is False


def test_the_version_is_written_once_and_packaged_as_such(capsys: pytest.CaptureFixture[str]) -> None:
    """pyproject.toml takes the version from daemon/__init__.py: what --version prints is what pip installed."""
    from importlib.metadata import version

    import daemon

    with pytest.raises(SystemExit):
        main(["--version"])
    assert capsys.readouterr().out == f"lateclaim {daemon.__version__}\n"
    assert version("lateclaim") == daemon.__version__


def test_each_action_is_a_unit_with_its_own_help_and_only_its_own_flags(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    commands = build_parser()._subparsers._group_actions[0].choices  # type: ignore[union-attr]
    for command in ("claims", "orders"):
        actions = commands[command]._subparsers._group_actions[0].choices
        for name, sub in actions.items():
            page = sub.format_help()
            assert sub.description and "examples:" in page and f"lateclaim {command} {name}" in page, name
    claims = commands["claims"]._subparsers._group_actions[0].choices
    assert "--pdf" not in claims["list"].format_help() and "--pdf" in claims["letter"].format_help()
    assert "--outcome" in claims["resolve"].format_help() and "--outcome" not in claims["reject"].format_help()

    config = str(tmp_path / "config.toml")
    assert run(capsys, "demo", "--keep", str(tmp_path))[0] == 0
    status, out, err = run(capsys, "claims", "list", "--pdf", "x.pdf", "--again", "--parcel", "2",
                           "--not-received", "--config", config)
    assert status == 2 and not out
    assert "--pdf goes with `claims letter`, not with `claims list`" in err
    assert not (tmp_path / "x.pdf").exists()
    status, _, err = run(capsys, "claims", "show", "1", "--frobnicate", "--config", config)
    assert status == 2 and "unrecognized arguments: --frobnicate" in err and "claims show --help" in err
    status, _, err = run(capsys, "claims", "--json", "list", "--config", config)
    assert status == 2 and "--json goes after the action" in err
    status, _, err = run(capsys, "orders", "--json", "arrived", LATE, "--config", config)
    assert status == 2 and "--json goes with `orders list`" in err
    with pytest.raises(SystemExit) as exit_:  # argparse's own: a required flag of the action
        main(["claims", "resolve", "1", "--config", config])
    assert exit_.value.code == 2 and "--outcome" in capsys.readouterr().err
    # `orders` alone is `orders list`, and both take --json wherever the contract put it.
    assert json.loads(run(capsys, "orders", "--json", "--config", config)[1]) == json.loads(
        run(capsys, "orders", "list", "--json", "--config", config)[1])
