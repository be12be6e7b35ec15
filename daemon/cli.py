"""The `lateclaim` command line: argument parsing, output, and the one place errors become messages.

The command names, options and JSON shapes are a contract that scripts depend on (README, "Commands").
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Callable, Sequence
from datetime import date, datetime, time
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from daemon import clock, logs
from daemon.config import Config, find_config, load, require_mailbox
from daemon.errors import EXIT_FAILED, EXIT_OK, EXIT_USAGE, ConfigError, LateclaimError, UsageError, handle
from daemon.state.statefile import check_state


def _as_of(text: str) -> datetime:
    """--as-of: an ISO date (end of that day) or date and time; without an offset, in rules.timezone."""
    try:
        if len(text) == 10:
            return datetime.combine(datetime.fromisoformat(text).date(), time(23, 59, 59))
        return datetime.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"expected a date or date and time such as 2026-11-24 or 2026-11-24T18:00, got {text!r}"
        ) from None


def _day(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a date such as 2026-01-01, got {text!r}") from None


def _zone(text: str) -> ZoneInfo:
    try:
        return ZoneInfo(text)
    except (ZoneInfoNotFoundError, ValueError):
        raise argparse.ArgumentTypeError(f'expected an IANA time zone such as "Europe/Paris", got {text!r}') from None


def _claim_id(text: str) -> int:
    try:
        number = int(text)
    except ValueError:
        number = 0
    if not 1 <= number <= 2**63 - 1:
        raise argparse.ArgumentTypeError(f"expected a claim number such as 3 (see `lateclaim claims list`), "
                                         f"got {text!r}")
    return number


def _port(text: str) -> int:
    if not text.isdigit() or not 1 <= int(text) <= 65535:
        raise argparse.ArgumentTypeError(f"expected a port number from 1 to 65535, got {text!r}")
    return int(text)


class _Version(argparse.Action):
    """--version: exits as soon as it is read, whatever else the command line says."""

    def __init__(self, option_strings: Sequence[str], dest: str, **kwargs: object) -> None:
        super().__init__(option_strings, dest, nargs=0, help="print lateclaim's version and exit")

    def __call__(self, parser: argparse.ArgumentParser, *_: object) -> None:
        from daemon import __version__

        print(f"lateclaim {__version__}")
        parser.exit()


class _Formatter(argparse.HelpFormatter):
    """Descriptions wrapped to the terminal; the examples of an epilog kept one per line, as typed."""

    def _fill_text(self, text: str, width: int, indent: str) -> str:
        if text.startswith("examples:"):
            return "\n".join(indent + line for line in text.splitlines())
        return super()._fill_text(text, width, indent)


def _examples(examples: Sequence[str]) -> str | None:
    return "examples:\n" + "\n".join(f"  {line}" for line in examples) if examples else None


def action(group: argparse._SubParsersAction[argparse.ArgumentParser], command: str, name: str, summary: str,
           description: str, examples: Sequence[str]) -> argparse.ArgumentParser:
    """One action of a command (`claims show`): its own --help with examples, and only its own flags."""
    sub = group.add_parser(name, help=summary, description=description, epilog=_examples(examples),
                           formatter_class=_Formatter, prog=f"lateclaim {command} {name}")
    sub.add_argument("--config", metavar="PATH", default=argparse.SUPPRESS,
                     help="the configuration file (see `lateclaim --help`)")
    sub.set_defaults(command_line=f"{command} {name}")
    return sub


def build_parser() -> argparse.ArgumentParser:  # noqa: PLR0915 - declarations, no logic: one add_argument per option
    parser = argparse.ArgumentParser(
        prog="lateclaim",
        description="Watches your mailbox for Amazon order and delivery emails, keeps each shipment's "
        "promised and actual delivery dates, and drafts a polite claim when a promise is broken. "
        "It reads mail and writes drafts; it never marks mail read, never touches the Amazon website, "
        "and sends nothing by itself unless you choose mode = \"send\" (`claims send` sends one when you ask).",
        epilog="Start with `lateclaim demo` (no account needed). Configuration: --config, else "
        "$LATECLAIM_CONFIG, else ~/.config/lateclaim/config.toml, else /etc/lateclaim/config.toml.",
    )
    parser.add_argument("--version", action=_Version)
    parser.add_argument("--config", metavar="PATH", help="the configuration file (before or after the command)")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)

    def command(name: str, summary: str, description: str,
                examples: Sequence[str] = ()) -> argparse.ArgumentParser:
        sub = commands.add_parser(name, help=summary, description=description, epilog=_examples(examples),
                                  formatter_class=_Formatter)
        # SUPPRESS: when not given here, a --config given before the command stays.
        sub.add_argument("--config", metavar="PATH", default=argparse.SUPPRESS,
                         help="the configuration file (see `lateclaim --help`)")
        return sub

    def as_of(sub: argparse.ArgumentParser, default: object = None) -> None:
        sub.add_argument("--as-of", type=_as_of, metavar="DATETIME", default=default,
                         help="evaluate deadlines as of this moment instead of now (replay history); "
                         "a date alone means the end of that day, in rules.timezone")

    run = command("run", "the daemon: sync on a schedule, draft claims",
                  "Runs until SIGTERM or Ctrl-C: a sync mailbox.poll_interval seconds after the last one "
                  "ended (never two at once), sooner when IMAP IDLE sees new mail, and every morning at 9 in "
                  "rules.timezone; the claims are evaluated after each sync. SIGHUP reads the configuration "
                  "again. Logs go to stderr (JSON under systemd).")
    run.set_defaults(handler=cmd_run)

    sync = command("sync", "sync the mailbox, then evaluate and draft claims",
                   "Fetches the new Amazon mail from the configured folders (read-only: nothing is marked "
                   "read), records its events, decides again the parcels that changed or fall due and records the "
                   "claims due; "
                   'with mode = "draft" it puts them in your Drafts folder. Without --once it repeats '
                   "until a pass finds nothing new.")
    sync.add_argument("--once", action="store_true", help="exactly one pass")
    sync.add_argument("--dry-run", action="store_true",
                      help="show what a pass would do, writing nothing anywhere (no draft, no email, the state "
                      "file untouched); unlike a pass, it accepts an --as-of later than now")
    as_of(sync)
    sync.set_defaults(handler=cmd_sync)

    backfill = command("backfill", "import the Amazon mail already in the mailbox, with a progress bar",
                       "Reads every Amazon email received since DATE from the configured folders, in batches "
                       "(memory stays flat), then evaluates as `sync` does. Interrupt it at will and run it "
                       "again: what was recorded is recognised from the headers and not downloaded twice. "
                       "No claim is started about a promise broken more than claims.max_age_days ago.")
    backfill.add_argument("--since", required=True, type=_day, metavar="DATE", help="e.g. 2026-01-01")
    as_of(backfill)
    backfill.set_defaults(handler=cmd_backfill)

    parse = command("parse", "show what lateclaim reads in .eml files, and why",
                    "Parses each file as lateclaim would and prints its events: kind, order numbers, the "
                    "promised window, the delivery date, and the sentence that states them with the pattern "
                    "that matched. Needs no configuration and no network.")
    parse.add_argument("files", nargs="+", metavar="FILE.eml", type=Path)
    parse.add_argument("--json", action="store_true", help="one JSON object per file and line (README)")
    parse.add_argument("--timezone", type=_zone, metavar="TZ",
                       help="the recipient's zone that relative dates (today, demain, a weekday) resolve in; "
                       "default: rules.timezone from a configuration if one is found, else the "
                       "marketplace's home zone")
    parse.set_defaults(handler=cmd_parse)

    orders = command("orders", "list parcels with promise, arrival, verdict and what is due; record an arrival",
                     "Without an action, or with `list`: every parcel in the state file (an order shipped in two "
                     "parcels has two rows) with its first promise, the day it arrived and its verdict, and under "
                     "each row which date counts and what is due when, or why nothing is. `arrived`: say that a "
                     "parcel arrived when no email says so. `lateclaim orders ACTION --help` tells more.",
                     ["lateclaim orders", "lateclaim orders --json", "lateclaim orders arrived 171-1234567-1234567 "
                      "--parcel 2 --on 2026-11-20"])
    # `orders` alone is `orders list` (the contract: `lateclaim orders [--json]`), so its flags are accepted here
    # too; SUPPRESS keeps a flag given after `list` from being overwritten by this level's default.
    orders.add_argument("--json", action="store_true", default=argparse.SUPPRESS, help="a JSON list (README)")
    as_of(orders, default=argparse.SUPPRESS)
    orders.set_defaults(handler=cmd_orders, action="list")
    order_actions = orders.add_subparsers(dest="action", metavar="ACTION", title="actions")

    orders_list = action(order_actions, "orders", "list", "every parcel with its verdict (the default)",
                         "Every parcel in the state file (an order shipped in two parcels has two rows) with its "
                         "first promise, the day it arrived (delivered, or made available at a pickup point or by "
                         "a delivery attempt) and its verdict: pending, on_time, late, overdue (promise passed, "
                         "nothing arrived), delivered_no_promise, delivered_date_unknown or cancelled; under each "
                         "row, which date counts and what is due when, or why nothing is.",
                         ["lateclaim orders list", "lateclaim orders list --json --as-of 2026-11-24"])
    orders_list.add_argument("--json", action="store_true", default=argparse.SUPPRESS, help="a JSON list (README)")
    as_of(orders_list, default=argparse.SUPPRESS)
    orders_list.set_defaults(handler=cmd_orders)

    arrived = action(order_actions, "orders", "arrived", "a parcel came and no email says so",
                     "Records that a parcel arrived when no email says so, or when an email could not be tied to "
                     "one parcel; the next sync takes it into account (a late arrival becomes track A, a "
                     "not-delivered ladder stops).",
                     ["lateclaim orders arrived 171-1234567-1234567",
                      "lateclaim orders arrived 171-1234567-1234567 --parcel 2 --on 2026-11-20 --pickup"])
    arrived.add_argument("order", metavar="ORDER", help="the order number, e.g. 171-1234567-1234567")
    arrived.add_argument("--parcel", default="1", metavar="N", help="the parcel of the order (default 1)")
    arrived.add_argument("--on", type=_day, metavar="DATE", help="the day it came (default today)")
    arrived.add_argument("--pickup", action="store_true",
                         help="it was made available at a pickup point rather than delivered")
    as_of(arrived, default=argparse.SUPPRESS)
    arrived.set_defaults(handler=_parcel_arrived)

    claims = command("claims", "list, show, approve, reject, send, resolve, continue or print claims; open a "
                     "not-received one",
                     "Every action has its own help: `lateclaim claims ACTION --help`.",
                     ["lateclaim claims list", "lateclaim claims show 3", "lateclaim claims resolve 3 --outcome "
                      "granted --note \"5 EUR voucher\""])
    claim_actions = claims.add_subparsers(dest="action", metavar="ACTION", title="actions", required=True)

    def claim_action(name: str, summary: str, description: str, examples: list[str],
                     json_help: str = "the claim after the change, as one item of `claims list --json`",
                     ) -> argparse.ArgumentParser:
        sub = action(claim_actions, "claims", name, summary, description, examples)
        if name != "open":
            sub.add_argument("id", metavar="ID", type=_claim_id,
                             help="the claim's number (see `lateclaim claims list`)")
        sub.add_argument("--json", action="store_true", help=json_help)
        sub.set_defaults(handler=cmd_claim_change)
        return sub

    claims_list = action(claim_actions, "claims", "list", "every claim with its status",
                         "Every claim: its number, the parcel, the step in words, its status and when it was "
                         "written.", ["lateclaim claims list", "lateclaim claims list --json"])
    claims_list.add_argument("--json", action="store_true", help="a JSON list (README)")
    claims_list.set_defaults(handler=cmd_claims_list)

    show = claim_action("show", "one claim: the letter, its evidence, its history and where it went",
                        "Prints one claim's letter, ready to paste into the retailer's contact form or chat, with "
                        "its evidence in words, its history and where it is (Drafts, Sent, the queue).",
                        ["lateclaim claims show 3", "lateclaim claims show 3 --json"],
                        json_help="the claim with body, evidence and where it is (README)")
    show.set_defaults(handler=cmd_claims_show)
    claim_action("approve", "release a queued claim (mode = \"review\")",
                 "Releases a queued claim; the next sync sends it by SMTP when claims.to is set, else drafts it, "
                 "written as of that day.", ["lateclaim claims approve 3"])
    reject = claim_action("reject", "drop a claim (a rejected step ends a not-delivered ladder)",
                          "Drops a claim: it is never written or sent. Rejecting a step of the not-delivered "
                          "ladder ends the ladder.", ["lateclaim claims reject 3",
                                                      "lateclaim claims reject 3 --note \"arrived after all\""])
    claim_action("send", "send a claim by SMTP now",
                 "Sends the claim by SMTP now (needs [smtp] and claims.to). --again: an `uncertain` claim you "
                 "checked did not go out, or a `refused` one whose cause you fixed, is sent once more.",
                 ["lateclaim claims send 3", "lateclaim claims send 3 --again"]).add_argument(
        "--again", action="store_true", help="send an uncertain or refused claim once more")
    claim_action("confirm-sent", "an uncertain claim you found in Sent went out",
                 "An `uncertain` claim (a send whose outcome is unknown) you found in your Sent folder, or that "
                 "the retailer has: it went out, and its ladder goes on from there.",
                 ["lateclaim claims confirm-sent 3"])
    claim_action("mark-sent", "you sent a claim yourself (chat, contact form, post)",
                 "Records that you sent the claim another way (pasted into the chat or contact form, or by "
                 "post); its deadlines run from that day.",
                 ["lateclaim claims mark-sent 3", "lateclaim claims mark-sent 3 --on 2026-11-20"]).add_argument(
        "--on", type=_day, metavar="DATE", help="the day you sent it (default: now)")
    resolve = claim_action("resolve", "record how a claim ended; closes the parcel's case",
                           "Records the outcome (granted or refused); this closes the parcel's case: nothing more "
                           "is written about it.", ["lateclaim claims resolve 3 --outcome granted --note \"5 EUR "
                                                    "voucher\"", "lateclaim claims resolve 3 --outcome refused"])
    resolve.add_argument("--outcome", choices=["granted", "refused"], required=True, help="how the claim ended")
    next_ = claim_action("next", "Amazon answered but the parcel is still missing: go on with the next step",
                         "After an answer from Amazon the ladder waits for you; `next` queues its next step when "
                         "it is due (the parcel is still missing).", ["lateclaim claims next 3"])
    for sub in (reject, resolve, next_):
        sub.add_argument("--note", default="", help="a note kept in the claim's history (what was granted, say)")
    letter = claim_action("letter", "the claim as a printed letter (PDF), for registered post",
                          "Writes the claim as a printed letter to FILE (0600) with your postal address "
                          "(claims.postal_address), the retailer's, place and date, your signature "
                          "(claims.signature) and the registered-post line where the country uses it.",
                          ["lateclaim claims letter 3 --pdf mise-en-demeure.pdf"])
    letter.add_argument("--pdf", type=Path, metavar="FILE", required=True, help="where to write the PDF")
    letter.set_defaults(handler=_claims_letter)
    opened = claim_action("open", "a parcel shown as delivered never reached you",
                          "Opens a not-received claim (track C) about a parcel marked delivered that never reached "
                          "you: it asks for the carrier's proof of delivery and a redelivery or refund. Run it "
                          "again for the next step when it is due.",
                          ["lateclaim claims open 171-1234567-1234567 --not-received",
                           "lateclaim claims open 171-1234567-1234567 --parcel 2 --not-received"],
                          json_help="the claim it created, as one item of `claims list --json`")
    opened.add_argument("order", metavar="ORDER", help="the order number, e.g. 171-1234567-1234567")
    opened.add_argument("--parcel", type=int, metavar="N", help="which parcel of the order (1, 2...)")
    opened.add_argument("--not-received", action="store_true",
                        help="the parcel is marked delivered but you never received it (required)")
    opened.set_defaults(handler=_claims_open)

    stats = command("stats", "claims per track, step and outcome, and what was granted",
                    "Counts the claims by track and step, by status and by outcome, and lists those granted "
                    "with the note you gave (`claims resolve ID --outcome granted --note ...`).")
    stats.add_argument("--json", action="store_true", help="JSON output")
    stats.set_defaults(handler=cmd_stats)

    report = command("report", "your year on one page: an HTML file with a timeline per parcel and its claims",
                     "Writes one self-contained HTML file (nothing loaded from the network; readable on a phone, "
                     "printable): the year's totals (parcels, late, claimed, granted), then each parcel's timeline "
                     "(the promised window, its revisions, the delivery or the attempt, days late) with the claims "
                     "made about it, their status and outcome.")
    report.add_argument("--output", metavar="FILE", type=Path,
                        help="where to write it (default: lateclaim-report-YEAR.html here; - for standard output)")
    report.add_argument("--year", type=int, metavar="YYYY", help="the year to show (default: the current one)")
    as_of(report)
    report.set_defaults(handler=cmd_report)

    doctor = command("doctor", "check the configuration, the state file, the password, the servers",
                     "Checks the configuration, the state file and its permissions, the clock and zone, the "
                     "password, the IMAP connection (TLS, login), the folders lateclaim will read and the Drafts "
                     'folder; when claims go out by SMTP (mode = "send", or claims.to set), the SMTP login too. '
                     "Says what to fix; exits 1 if anything failed.")
    doctor.add_argument("--roundtrip", action="store_true",
                        help="also append a test draft to Drafts, read it back by everything a sent claim is "
                        "recognised by, and delete it (only it)")
    doctor.set_defaults(handler=cmd_doctor)

    auth = command("auth", "sign in to Gmail with OAuth2 once, and store the refresh token",
                   "lateclaim auth google: runs Google's installed-app sign-in and writes "
                   "mailbox.oauth2.token_file (0600). On a server without a browser, either forward the port "
                   "first (ssh -L PORT:localhost:PORT server, then open the printed address on your desktop), or "
                   "run this command on a desktop with the same client_secrets_file and copy the token file to "
                   "the server (or into a systemd credential). Needs [mailbox.oauth2] in the configuration.")
    auth.add_argument("provider", choices=["google"])
    auth.add_argument("--port", type=_port, default=8765, help="the loopback port of the redirect (default 8765)")
    auth.add_argument("--browser", action="store_true", help="open a browser here (a desktop)")
    auth.set_defaults(handler=cmd_auth)

    init = command("init", "write a first configuration (Gmail or another IMAP server), then check it",
                   "Asks for your mail address, the IMAP server (Gmail's when the address is a Gmail one), the "
                   "file that keeps the password (and the password, to store it there 0600, if the file does not "
                   "exist yet), your time zone and the name that signs the letters; writes a commented "
                   "configuration (every key explained, from the example shipped with lateclaim) and runs "
                   "`doctor` on it, which signs in and checks the folders. Each answer can be given as an option "
                   "instead; without a terminal, nothing is asked.",
                   ["lateclaim init",
                    "lateclaim init --username you@gmail.com --password-file ~/.config/lateclaim/imap-password",
                    "lateclaim init --username me@example.org --host mail.example.org --port 993 "
                    "--password-file ~/.imap-pw --timezone Europe/Berlin --config ./config.toml"])
    init.add_argument("--username", metavar="ADDRESS", help="your mail address, the IMAP login")
    init.add_argument("--host", help="the IMAP server (default: imap.gmail.com for a Gmail address)")
    init.add_argument("--port", type=_port, help="the IMAP port (default 993, 143 with --security starttls)")
    init.add_argument("--security", choices=["tls", "starttls"], default="tls", help="default tls")
    init.add_argument("--password-file", metavar="PATH", help="the file holding the IMAP password")
    init.add_argument("--ca-file", metavar="PATH", help="an extra certificate authority (a self-hosted server)")
    init.add_argument("--timezone", type=_zone, metavar="TZ", help="your IANA zone (default: the system's)")
    init.add_argument("--signature", metavar="NAME", help="your name, to sign the letters")
    init.add_argument("--force", action="store_true", help="replace an existing configuration file")
    init.add_argument("--no-check", action="store_true", help="write the file only; do not run doctor")
    init.set_defaults(handler=cmd_init)

    demo = commands.add_parser(
        "demo", help="the whole pipeline on a bundled sample mailbox, no account needed",
        description="Runs lateclaim on a bundled sample mailbox (French and English emails written for "
        "the project: an on-time, a late and an undelivered parcel) into a temporary state file and a "
        "local outbox of .eml files, as of a fixed date; prints the shipments, their verdicts and the "
        "claims drafted, and where they are. No account, no network.")
    demo.add_argument("--keep", metavar="DIR", type=Path,
                      help="write the state file and outbox into DIR instead of a temporary directory")
    demo.set_defaults(handler=cmd_demo)
    return parser


# -- helpers -------------------------------------------------------------------------------------------


def load_config(args: argparse.Namespace) -> Config:
    path = find_config(args.config)
    if path is None:
        raise ConfigError([
            "no configuration found: pass --config PATH, set $LATECLAIM_CONFIG, or create "
            "~/.config/lateclaim/config.toml (`lateclaim init` writes one)"
        ])
    return load(path)


def now_or_as_of(args: argparse.Namespace, config: Config) -> datetime:
    moment: datetime | None = getattr(args, "as_of", None)
    if moment is None:
        return clock.now()
    return moment if moment.tzinfo else moment.replace(tzinfo=config.rules.timezone)


def acting_now(args: argparse.Namespace, config: Config) -> datetime:
    """now_or_as_of for a command that writes drafts, sends or records: the clock only moves forward, so a
    moment later than now is refused (read-only commands and `sync --dry-run` may look ahead)."""
    moment, now = now_or_as_of(args, config), clock.now()
    if moment > now and _is_end_of_today(moment, now):
        return now  # `--as-of 2026-12-06` on the 6th: the day so far, not its end that has not come yet
    if moment > now:
        raise UsageError(f"--as-of {moment.isoformat()} is later than now: `lateclaim {args.command}` would write "
                         "and send as of a day that has not come. Look ahead with `lateclaim sync --dry-run "
                         "--as-of ...` or `lateclaim orders --as-of ...`, which write nothing")
    return moment


def _is_end_of_today(moment: datetime, now: datetime) -> bool:
    """A date-only --as-of (read as the end of that day) naming today, in the zone it was given in."""
    return moment.time() == time(23, 59, 59) and moment.date() == now.astimezone(moment.tzinfo).date()


# -- commands ------------------------------------------------------------------------------------------


def cmd_parse(args: argparse.Namespace) -> int:
    from daemon.output.explain import describe_result
    from parsers import parse

    tz = args.timezone
    authserv_ids: tuple[str, ...] = ("mx.google.com",)
    path = find_config(args.config)
    if args.config:  # named on the command line: it must be there and valid
        config = load(Path(args.config).expanduser())
        tz, authserv_ids = tz or config.rules.timezone, config.rules.authserv_ids
    elif path is not None and path.exists():
        try:
            config = load(path)
            tz = tz or config.rules.timezone
            authserv_ids = config.rules.authserv_ids
        except ConfigError as exc:
            print(f"warning: ignoring the configuration: {exc.problems[0]}", file=sys.stderr)
    status = EXIT_OK
    for file in args.files:
        try:
            raw = file.read_bytes()
        except OSError as exc:
            print(f"{file}: cannot read: {exc.strerror or exc}", file=sys.stderr)
            status = EXIT_FAILED
            continue
        result = parse(raw, recipient_tz=tz, authserv_ids=authserv_ids)
        if args.json:
            print(json.dumps({"file": str(file), **result.to_json()}, ensure_ascii=False))
        else:
            print(describe_result(str(file), result))
    return status


def cmd_sync(args: argparse.Namespace) -> int:
    from daemon.passes.pipeline import sync_mailbox

    config = load_config(args)
    if missing := require_mailbox(config):
        raise ConfigError(missing)
    check_state(config.state.path)  # a wrong state.path is refused before any mail is read
    # On a terminal the pass is told in sentences (tell); its info log line is for the journal.
    quiet = sys.stdout.isatty() and config.log.level == "info"
    logs.configure("warning" if quiet else config.log.level, config.log.format)
    if args.dry_run:
        from daemon.commands.dry_run import dry_run

        print(dry_run(config, now_or_as_of(args, config)))
        return EXIT_OK
    now = acting_now(args, config)
    if args.as_of is None:
        from daemon.control import ask

        answer = ask(config.state.path, "pass")  # `lateclaim run` is up: it makes the pass, this one tells
        if answer is not None:
            status, _, said = answer.partition(" ")
            print(said, file=sys.stdout if status == "0" else sys.stderr)
            return EXIT_OK if status == "0" else EXIT_FAILED
    while True:
        result = sync_mailbox(config, now)
        from daemon.output.narrate import tell

        tell(result, config)
        if args.once or result.sync.new == 0:
            return EXIT_OK
        now = now if args.as_of else clock.now()


def cmd_backfill(args: argparse.Namespace) -> int:
    from daemon.commands.backfill import backfill

    config = load_config(args)
    if missing := require_mailbox(config):
        raise ConfigError(missing)
    check_state(config.state.path)  # a wrong state.path is refused before any mail is read
    logs.configure(config.log.level, config.log.format)
    summary = backfill(config, args.since, acting_now(args, config), sys.stderr)
    created = len(summary.final_pass.evaluation.created) if summary.final_pass else 0
    print(f"{summary.matching} Amazon emails since {args.since}: {summary.downloaded} imported, "
          f"{summary.already_known} already known; {created} claims created.")
    return EXIT_OK


def cmd_orders(args: argparse.Namespace) -> int:
    from daemon.output.explain import outlook_json
    from daemon.output.present import show_orders
    from daemon.passes.evaluate import outlooks
    from daemon.state.store import Store

    config = load_config(args)
    with Store(config.state.path, readonly=True) as store:
        found = outlooks(store, config, now_or_as_of(args, config))
    if getattr(args, "json", False):
        print(json.dumps([outlook_json(o) for o in found], ensure_ascii=False, indent=2))
    else:
        show_orders(found)
    return EXIT_OK


def _parcel_arrived(args: argparse.Namespace) -> int:
    from daemon.commands.claim_actions import parcel_arrived
    from daemon.state.store import Store

    config = load_config(args)
    now = acting_now(args, config)
    day = args.on or now.astimezone(config.rules.timezone).date()
    if day > now.astimezone(config.rules.timezone).date():
        raise UsageError(f"--on {day.isoformat()} is in the future: a parcel is recorded as arrived on a day "
                         "that has come (record it again with the right date to replace a wrong one)")
    how = "made available at a pickup point" if args.pickup else "delivered"
    with Store(config.state.path) as store:
        parcel_arrived(store, args.order, args.parcel, day, args.pickup, now)
    print(f"order {args.order}, parcel {args.parcel}: {how} on {day.isoformat()} (recorded; the next sync "
          "takes it into account)")
    return EXIT_OK


def cmd_claims_list(args: argparse.Namespace) -> int:
    from daemon.output.present import show_claims
    from daemon.state.store import Store

    config = load_config(args)
    with Store(config.state.path, readonly=True) as store:
        claims = store.claims()
    if args.json:
        print(json.dumps([c.to_json() for c in claims], ensure_ascii=False, indent=2))
    else:
        show_claims(claims)
    return EXIT_OK


def cmd_claims_show(args: argparse.Namespace) -> int:
    from daemon.output.present import show_claim, show_where
    from daemon.passes.guidance import describe_where, where_it_goes
    from daemon.passes.outbox import claim_reference
    from daemon.state.store import Store

    config = load_config(args)
    with Store(config.state.path, readonly=True) as store:
        claim = store.claim(args.id)
        if claim is None:
            raise UsageError(f"no claim {args.id} (see `lateclaim claims list`)")
        where = where_it_goes(store, claim, config, clock.now())
        if args.json:
            print(json.dumps({**claim.to_json(), "body": claim.body, "evidence": claim.evidence,
                              "message_id": claim.message_id, "sent_message_id": claim.sent_message_id or None,
                              "reference": claim_reference(claim), "where": where}, ensure_ascii=False, indent=2))
        else:
            show_claim(claim, store.claim_history(claim.id), config.rules.timezone)
            print()
            show_where(_printable(describe_where(where, claim.id), config, claim.id))
    return EXIT_OK


def _printable(where: str, config: Config, claim_id: int) -> str:
    """The suggestion of a printed letter, as what to configure first when `claims letter` would refuse."""
    missing = [key for key, value in (("claims.postal_address", config.claims.postal_address),
                                      ("claims.signature", config.claims.signature)) if not value]
    if not missing:
        return where
    first = f"set {' and '.join(missing)} in {config.source}, then "
    return where.replace(f"Printable letter: lateclaim claims letter {claim_id}",
                         f"Printable letter: {first}lateclaim claims letter {claim_id}")


def cmd_claim_change(args: argparse.Namespace) -> int:
    """approve, reject, send, confirm-sent, mark-sent, resolve, next: one change of one claim's status."""
    from daemon.commands import claim_actions
    from daemon.state.store import Store

    config = load_config(args)
    now = clock.now()
    with Store(config.state.path) as store:
        if args.action == "approve":
            changed = claim_actions.approve(store, args.id, now)
        elif args.action == "reject":
            changed = claim_actions.reject(store, args.id, now, args.note)
        elif args.action == "resolve":
            changed = claim_actions.resolve(store, args.id, args.outcome, now, args.note)
        elif args.action == "next":
            changed = claim_actions.request_next(store, args.id, now, args.note)
        elif args.action == "confirm-sent":
            changed = claim_actions.confirm_sent(store, args.id, now)
        elif args.action == "mark-sent":
            changed = claim_actions.mark_sent(store, args.id, now, args.on, config.rules.timezone)
        else:
            changed = claim_actions.send_now(store, config, args.id, now, again=args.again)
        said = store.claim_history(changed.id)[-1][2]
    print(json.dumps(changed.to_json()) if args.json else f"claim {changed.id}: {changed.status}")
    if changed.status == "uncertain" and not args.json:
        from daemon.passes.outbox import uncertain_note

        print(uncertain_note(changed.id), file=sys.stderr)
    if args.action == "send" and (changed.status == "refused" or changed.delivery == "deferred"):
        print(f"claim {changed.id}: {said}", file=sys.stderr)  # the server's words
        return EXIT_FAILED
    return EXIT_OK


def _claims_open(args: argparse.Namespace) -> int:
    from daemon.commands.not_received import open_not_received
    from daemon.state.store import Store

    if not args.not_received:
        raise UsageError("claims open needs an order number and --not-received, e.g. "
                         "`lateclaim claims open 171-1234567-1234567 --not-received`")
    config = load_config(args)
    with Store(config.state.path) as store:
        claim = open_not_received(store, config, args.order, args.parcel, clock.now())
    if args.json:
        print(json.dumps(claim.to_json(), ensure_ascii=False))
    else:
        print(f"claim {claim.id}: {claim.subject} (track C, step {claim.step}, queued: the next sync delivers it "
              f'as claims.mode = "{config.claims.mode}" says; `lateclaim claims show {claim.id}` shows it now)')
    return EXIT_OK


def _claims_letter(args: argparse.Namespace) -> int:
    from daemon.commands.printing import print_letter
    from daemon.state.store import Store

    config = load_config(args)
    with Store(config.state.path) as store:  # the deadline the printed letter states is recorded with the claim
        claim = store.claim(args.id)
        if claim is None:
            raise UsageError(f"no claim {args.id} (see `lateclaim claims list`)")
        try:
            printed = print_letter(store, claim, config, clock.now(), args.pdf)
        except OSError as exc:
            raise UsageError(f"{args.pdf}: cannot write: {exc.strerror or exc}") from None
    print(f"{printed.path}: claim {claim.id} as a letter to {printed.recipient}, dated {printed.dated}")
    for warning in printed.warnings:
        print(f"  check: {warning}")
    return EXIT_OK


def cmd_stats(args: argparse.Namespace) -> int:
    from daemon.commands.claim_actions import stats
    from daemon.state.store import Store

    config = load_config(args)
    with Store(config.state.path, readonly=True) as store:
        summary = stats(store.claims())
    if args.json:
        print(json.dumps(summary, ensure_ascii=False, indent=2))
    else:
        from daemon.output.present import show_stats

        show_stats(summary)
    return EXIT_OK


def cmd_report(args: argparse.Namespace) -> int:
    from daemon.commands.report import is_a_report, write_report
    from daemon.files import write_whole
    from daemon.state.store import Store

    config = load_config(args)
    now = now_or_as_of(args, config)
    with Store(config.state.path, readonly=True) as store:
        page, note = write_report(store, config, now, args.year)
    if note:
        print(note, file=sys.stderr)
    if str(args.output) == "-":
        sys.stdout.write(page)
        return EXIT_OK
    output: Path = args.output or Path(f"lateclaim-report-{args.year or now.year}.html")
    try:
        if output.exists() and not (output.is_file() and is_a_report(output.open("rb").read(1024))):
            raise UsageError(f"--output {output}: it exists and is not a lateclaim report; lateclaim replaces only "
                             "a report it wrote (name another file)")
        write_whole(output, page.encode("utf-8"))
    except OSError as exc:
        raise UsageError(f"--output {output}: cannot write it: {exc.strerror or exc}") from None
    print(f"Report written to {output} (open it in a browser; it loads nothing from the network).")
    return EXIT_OK


def cmd_run(args: argparse.Namespace) -> int:
    from daemon.service import run

    config = load_config(args)
    if missing := require_mailbox(config):
        raise ConfigError(missing)
    check_state(config.state.path)  # a wrong state.path is refused before any mail is read
    logs.configure(config.log.level, config.log.format)
    return run(config)


def cmd_doctor(args: argparse.Namespace) -> int:
    from daemon.commands.doctor import Doctor, Finding

    config = load_config(args)
    if missing := require_mailbox(config):  # exactly what sync and run refuse
        raise ConfigError(missing)

    def say(finding: Finding) -> None:
        print(f"{finding.level:<4}  {finding.check:<16} {finding.detail}")

    return Doctor(config, clock.now(), say, roundtrip=args.roundtrip).run()


def cmd_auth(args: argparse.Namespace) -> int:
    from daemon.mail.oauth import read_client_secrets, run_installed_app_flow

    config = load_config(args)
    if config.mailbox.oauth2 is None:
        raise ConfigError([f"{config.source}: mailbox.oauth2: expected a [mailbox.oauth2] table "
                           "(client_secrets_file, token_file)"])
    if config.mailbox.oauth2.client_secrets_file is not None:
        read_client_secrets(config.mailbox.oauth2.client_secrets_file)  # a wrong file is said before anything
    if not args.browser:
        print(f"On a server: first `ssh -L {args.port}:localhost:{args.port} THIS-SERVER` from your desktop, "
              "then open the address below there.", file=sys.stderr)
    path = run_installed_app_flow(config.mailbox.oauth2, args.port, args.browser)
    print(f"Signed in. The refresh token is in {path} (mode 0600).")
    return EXIT_OK


def cmd_init(args: argparse.Namespace) -> int:
    from daemon.commands.init import (
        GMAIL_HOST,
        Answers,
        ask,
        example,
        filled,
        interactive,
        is_gmail,
        store_password,
        system_zone,
        terminal_prompt,
        terminal_secret,
        write_config,
    )
    from daemon.config import SEARCH_PATH

    path = Path(args.config or os.environ.get("LATECLAIM_CONFIG") or SEARCH_PATH[0]).expanduser()
    port = args.port or (143 if args.security == "starttls" else 993)  # the example's 993 is TLS's
    answers = Answers(username=args.username or "", host=args.host or "", port=port, security=args.security,
                      password_file=args.password_file or "", ca_file=args.ca_file or "",
                      timezone=args.timezone.key if args.timezone else "", signature=args.signature or "")
    typed = ask(answers, terminal_prompt, terminal_secret) if interactive() else None
    answers.host = answers.host or (GMAIL_HOST if is_gmail(answers.username) else "")
    answers.timezone = answers.timezone or system_zone()
    missing = [flag for flag, value in (("--username", answers.username), ("--host", answers.host),
                                        ("--password-file", answers.password_file)) if not value]
    if missing:
        raise UsageError(f"lateclaim init needs {', '.join(missing)} (or run it on a terminal, to be asked)")
    write_config(path, filled(example(), answers), args.force)
    if typed:
        store_password(Path(answers.password_file).expanduser(), typed)
    config = load(path)  # what was written is what lateclaim reads
    print(f"Wrote {path} (mode 0600): every key is explained in it.")
    if args.no_check:
        return EXIT_OK
    from daemon.commands.doctor import Doctor, Finding

    print("Checking it (lateclaim doctor):")

    def say(finding: Finding) -> None:
        print(f"{finding.level:<4}  {finding.check:<16} {finding.detail}")

    status = Doctor(config, clock.now(), say).run()
    if status == EXIT_OK:
        print("Ready. Next: `lateclaim sync` (or `lateclaim backfill --since 2026-01-01` for the mail already "
              "there), then `lateclaim run`, or the systemd service (README, \"Run it as a service\").")
    return status


def cmd_demo(args: argparse.Namespace) -> int:
    from daemon.commands.demo import demo

    return demo(args.keep)


def main(argv: Sequence[str] | None = None) -> int:
    try:
        try:
            return _run(argv)
        finally:
            sys.stdout.flush()  # output still in the buffer meets a closed pipe here, not at interpreter exit
    except BrokenPipeError:
        # The reader went away (`lateclaim demo | head -2`): stop quietly, as cat and grep do.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return EXIT_FAILED


def _subcommands(parser: argparse.ArgumentParser) -> dict[str, argparse.ArgumentParser]:
    return next((dict(a.choices) for a in parser._actions if isinstance(a, argparse._SubParsersAction)), {})


def _misplaced(parser: argparse.ArgumentParser, args: argparse.Namespace, extras: Sequence[str]) -> int:
    """A flag argparse did not take: said as the action it belongs to, when it belongs to another one."""
    where = getattr(args, "command_line", args.command)
    flag = next((extra.split("=")[0] for extra in extras if extra.startswith("-")), "")
    actions = _subcommands(_subcommands(parser)[args.command])
    owners = [f"`{args.command} {name}`" for name, sub in actions.items()
              if flag and any(flag in option.option_strings for option in sub._actions)]
    if f"`{where}`" in owners:  # its own flag, written before the action's name
        problem = f"{flag} goes after the action: `lateclaim {where} {flag} ...`"
    elif owners:
        problem = f"{flag} goes with {' or '.join(owners)}, not with `{where}`"
    else:
        problem = f"unrecognized arguments: {' '.join(extras)}"
    print(f"lateclaim {where}: error: {problem} (see `lateclaim {where} --help`)", file=sys.stderr)
    return EXIT_USAGE


def _run(argv: Sequence[str] | None) -> int:
    parser = build_parser()
    args, extras = parser.parse_known_args(argv)
    if args.command == "orders" and args.action == "arrived" and getattr(args, "json", False):
        extras = ["--json", *extras]  # given before `arrived`, where it means nothing
    if extras:
        return _misplaced(parser, args, extras)
    from daemon.state import lock

    # Who holds the state file, as a second lateclaim will say it.
    lock.command = f"lateclaim {getattr(args, 'command_line', args.command)}"
    handler: Callable[[argparse.Namespace], int] = args.handler
    try:
        return handler(args)
    except LateclaimError as exc:  # anything else is a bug: its traceback is kept
        return handle(exc)
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
