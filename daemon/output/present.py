"""What a person sees: tables and colour on a terminal (rich), plain aligned text when the output is piped.

`--json` never comes here. The plain text keeps the columns that scripts may already read (explain.py renders
it). rich is imported only when standard output is a terminal, so piped commands and the daemon never load it;
it honours NO_COLOR and FORCE_COLOR.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from datetime import UTC, date, datetime, tzinfo
from typing import TYPE_CHECKING, Any

from daemon import clock
from daemon.output.explain import authenticated, claim_rows, order_rows
from daemon.state.store import Claim

if TYPE_CHECKING:
    from rich.console import Console

    from parsers.model import DateWindow
    from rules.claims import Outlook

VERDICT_STYLE = {"on_time": "green", "late": "yellow", "overdue": "bold red", "pending": "dim",
                 "cancelled": "dim", "delivered_no_promise": "dim", "delivered_date_unknown": "dim"}
STATUS_STYLE = {"queued": "cyan", "drafted": "blue", "approved": "cyan", "sent": "green", "answered": "magenta",
                "closed": "dim", "rejected": "dim", "withdrawn": "dim", "discarded": "dim", "uncertain": "bold red",
                "refused": "bold red"}
OUTCOME_STYLE = {"granted": "bold green", "refused": "red"}
TRACKS = {"A": "arrived late: goodwill request", "B": "not delivered: delivery and refund ladder",
          "C": "marked delivered, not received: proof of delivery, then the ladder"}
STEPS = {"A1": "late: goodwill request", "B1": "not delivered: where is it?", "B2": "not delivered: formal notice",
         "B3": "not delivered: termination and refund", "C1": "marked delivered, not received"}
# A step as the user calls it (tables, sentences); STEPS says it with its track.
STEP_WORDS = {"A1": "goodwill request", "B1": "where is my parcel?", "B2": "formal notice", "B3": "termination",
              "C1": "proof of delivery", "C2": "formal notice", "C3": "termination"}
TRACK_WORDS = {"A": "arrived late", "B": "not delivered", "C": "marked delivered, not received"}
ORDER_WIDTH = 19  # 171-5302846-9915233: never cut
VERDICT_WORDS = {"on_time": "on time", "late": "late", "overdue": "overdue", "pending": "pending",
                 "cancelled": "cancelled", "delivered_no_promise": "arrived, no promise known",
                 "delivered_date_unknown": "arrived, day unknown"}


def on_terminal() -> bool:
    return sys.stdout.isatty()


def _console() -> Console:
    from rich.console import Console

    return Console(highlight=False)


def _styled(text: str, style: str) -> str:
    from rich.markup import escape

    return f"[{style}]{escape(text)}[/]" if style else escape(text)


def _table(*columns: str, title: str | None = None) -> Any:
    from rich import box
    from rich.table import Table

    # No outer edge and one gap between columns: at 80 columns every character counts (_fitted).
    table = Table(*columns, box=box.SIMPLE_HEAD, title=title, title_justify="left", title_style="bold",
                  header_style="bold", pad_edge=False, show_edge=False, collapse_padding=True)
    return table


# -- orders ---------------------------------------------------------------------------------------------


def show_orders(outlooks: Sequence[Outlook]) -> None:
    """One row per parcel, and under it which date counts and what is due (or why nothing is)."""
    if not outlooks:
        print("No shipments yet: run `lateclaim sync`.")
        return
    if not on_terminal():
        print(order_rows(outlooks))
        return
    from rich.markup import escape

    console = _console()
    wide = console.width >= 110  # room for the marketplace and the weekdays too
    several = any(o.shipment.parcels_in_order > 1 for o in outlooks)
    table = _table("Order")
    table.columns[0].no_wrap, table.columns[0].min_width = True, ORDER_WIDTH
    if several:
        table.add_column("Parcel", no_wrap=True)
    table.add_column("Item")
    if wide:
        table.add_column("Marketplace", no_wrap=True)
    table.add_column("Promised")
    table.add_column("Arrived")
    table.add_column("Verdict", no_wrap=True)
    table.add_column("Auth", no_wrap=True)
    rows = []
    for outlook in outlooks:
        shipment, verdict = outlook.shipment, outlook.verdict
        kind = verdict.kind.value
        words = VERDICT_WORDS.get(kind, kind) + (f" {verdict.days_late} d" if verdict.days_late else "")
        proof = {True: "[green]✓[/]", False: "[red]✗ no[/]", None: "[dim]—[/]"}[authenticated(shipment)]
        row = [escape(shipment.order_id)]
        if several:
            row.append(f"{escape(shipment.shipment)}/{shipment.parcels_in_order}")
        row.append(shipment.items[0] if shipment.items else "")
        if wide:
            row.append(shipment.marketplace)
        row += [_promise(shipment.promise, wide), _when(shipment.arrived_on, wide),
                _styled(words, VERDICT_STYLE.get(kind, "")), proof]
        rows.append(row)
    for row in _fitted(table, rows, item=2 if several else 1, width=console.width):
        table.add_row(*row)
    console.print(table)
    console.print()
    console.print("[bold]Which date counts, and what is due[/]")
    reasons = _table("", "")
    reasons.show_header, reasons.box = False, None
    reasons.columns[0].no_wrap = True
    for outlook in outlooks:
        parcel = outlook.shipment.order_id + (f" #{outlook.shipment.shipment}" if several else "")
        reasons.add_row(f"  {escape(parcel)} ", escape(outlook.reason))
    console.print(reasons)


def _fitted(table: Any, rows: list[list[str]], item: int, width: int) -> list[list[str]]:
    """Rows whose item title (column `item`, plain text) is shortened to the room the other columns leave on a
    terminal `width` wide: a table never wraps an order number and stays one line per row."""
    from rich.markup import escape
    from rich.text import Text

    def natural(column: int) -> int:
        header = len(str(table.columns[column].header))
        return max([header, *(Text.from_markup(row[column]).cell_len for row in rows)])

    columns = len(rows[0]) if rows else 0
    others = sum(natural(c) for c in range(columns) if c != item) + 2 * (columns - 1)  # one gap of 2 each
    room = max(12, width - others)
    for row in rows:
        title = " ".join(row[item].split())
        row[item] = escape(title if len(title) <= room else title[:room - 1].rstrip(" ,;:-") + "…") if title \
            else "[dim]—[/]"
    return rows


def _when(day: date | None, weekday: bool = True) -> str:
    """A day in a narrow column: the day and month, after the weekday when there is room; the year only when it
    is not this one."""
    if day is None:
        return "[dim]—[/]"
    return day.strftime("%a %d %b" if weekday else "%d %b") + (f" {day.year}" if day.year != clock.now().year else "")


def _promise(window: DateWindow | None, weekday: bool = True) -> str:
    """A promise in the same words as the delivery beside it: a day, a window, or "by" a day."""
    if window is None:
        return "[dim]—[/]"
    text = _when(window.end, weekday)
    if window.start is None:
        text = f"by {text}"
    elif window.start != window.end:
        text = f"{window.start:%a %d} – {text}" if weekday else f"{window.start:%d}–{text}"
    return text + (f" by {window.latest:%H:%M}" if window.latest else "")


# -- claims ---------------------------------------------------------------------------------------------


def show_claims(claims: Sequence[Claim]) -> None:
    if not claims:
        print("No claims yet: `lateclaim orders` shows each parcel and what is due when.")
        return
    if not on_terminal():
        print(claim_rows(claims))
        return
    from rich.markup import escape

    table = _table("ID", "Order", "Step", "Status", "Item")
    table.columns[1].no_wrap, table.columns[1].min_width = True, ORDER_WIDTH
    rows = []
    for c in claims:
        step = f"{c.track}{c.step}"
        status = _styled(c.status, STATUS_STYLE.get(c.status, ""))
        if c.outcome:
            status += ", " + _styled(c.outcome, OUTCOME_STYLE.get(c.outcome, ""))
        if c.held:
            status += _styled(f" ({c.held})", "dim")
        items = c.evidence.get("items") or []
        rows.append([str(c.id), escape(c.order_id), escape(STEP_WORDS.get(step, step)), status,
                     str(items[0]) if items else ""])
    console = _console()
    for row in _fitted(table, rows, item=4, width=console.width):
        table.add_row(*row)
    console.print(table)


def _cited_words(email: Any, zone: tzinfo | None = None) -> str:
    """An email the evidence cites: its subject and date, and the sentence that says it."""
    if not isinstance(email, dict):
        return str(email) if email else ""
    parts = []
    if email.get("sentence"):
        parts.append(f"“{email['sentence']}”")
    sent = email.get("date")
    subject = email.get("subject")
    if subject or sent:
        when = f" of {_day_words(sent, zone)}" if sent else ""
        parts.append(f"in the email “{subject or '(no subject)'}”{when}")
    if email.get("authenticated") is False:
        parts.append("(not authenticated)")
    return " ".join(parts)


def _day_words(text: str | None, zone: tzinfo | None = None) -> str:
    """A stored day, or a moment shown in `zone` (the user's) when given."""
    if not text:
        return ""
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        return text
    if len(text) <= 10:
        return moment.strftime("%d %b %Y")
    if zone is not None and moment.tzinfo is not None:
        moment = moment.astimezone(zone)
    return moment.strftime("%d %b %Y %H:%M")


def _days(count: int) -> str:
    return f"{count} day" if count == 1 else f"{count} days"


def evidence_lines(evidence: dict[str, Any], zone: tzinfo | None = None) -> list[tuple[str, str]]:
    """The stored evidence in words, as (label, text) lines. Read defensively: older claims have fewer keys."""
    lines: list[tuple[str, str]] = []
    promise = evidence.get("promise") or {}
    if isinstance(promise, dict) and promise.get("end"):
        start, end = promise.get("start"), promise["end"]
        when = _day_words(end) if not start or start == end else f"{_day_words(start)} – {_day_words(end)}"
        if promise.get("latest"):
            when += f" by {promise['latest']}"
        guaranteed = promise.get("guaranteed")
        wording = ("guaranteed" if guaranteed is True else "an estimate" if guaranteed is False
                   else "the email did not say guaranteed or estimated")
        lines.append(("Promised", f"{when} ({wording})"))
        if promise.get("email"):
            lines.append(("", _cited_words(promise["email"], zone)))
    for revision in evidence.get("revisions") or []:
        lines.append(("Revised", _cited_words(revision, zone)))
    delivery = evidence.get("delivery")
    if evidence.get("delivered_on"):
        lines.append(("Delivered", _day_words(evidence["delivered_on"])))
        if isinstance(delivery, dict):
            lines.append(("", _cited_words(delivery, zone)))
    elif delivery:
        lines.append(("Delivered", "no delivery email " + (f"by the deadline, {_day_words(evidence['deadline'])}"
                                                           if evidence.get("deadline") else "by the deadline")))
    verdict = evidence.get("verdict")
    if verdict:
        days = evidence.get("days_late")
        lines.append(("Verdict", VERDICT_WORDS.get(verdict, verdict) + (f" by {_days(days)}" if days else "")))
    return lines


def show_claim(claim: Claim, history: Sequence[tuple[datetime, str, str]], zone: tzinfo | None = None) -> None:
    """One claim laid out as a letter: who and what it is about, the letter, its evidence, its history (its times
    in `zone`, the user's, and labelled with it)."""
    step = f"{claim.track}{claim.step}"
    about = (f"Claim {claim.id} · order {claim.order_id}" + (f" · parcel {claim.shipment}" if claim.shipment else "")
             + f" · “{STEP_WORDS.get(step, step)}” ({TRACK_WORDS.get(claim.track, claim.track)}, step {step})")
    zone = zone or UTC
    history = [(at.astimezone(zone), s, note) for at, s, note in history]
    zone_name = getattr(zone, "key", None) or zone.tzname(None) or "UTC"
    when = f"When ({zone_name})"
    status = claim.status + (f", held: {claim.held}" if claim.held else "")
    if claim.outcome:
        status += f" · outcome {claim.outcome}" + (f" ({claim.outcome_note})" if claim.outcome_note else "")
    evidence = evidence_lines(claim.evidence, zone)
    width = max([len(label) for label, _ in evidence] + [8])
    if not on_terminal():
        rule = "─" * 72
        lines = [about, f"Status: {status}", f"Message-ID: {claim.message_id}", "", rule,
                 f"Subject: {claim.subject}", "", claim.body.rstrip(), rule, "", "Evidence:"]
        lines += [f"  {label:<{width}}  {text}" for label, text in evidence]
        lines += ["", "History:", f"  (times in {zone_name})"]
        status_width = max([len(s) for _, s, _ in history] + [0])
        lines += [f"  {at:%Y-%m-%d %H:%M}  {s:<{status_width}}  {note}".rstrip() for at, s, note in history]
        print("\n".join(lines))
        return
    from rich.markup import escape
    from rich.panel import Panel

    console = _console()
    console.print(f"[bold]{escape(about)}[/]")
    console.print(f"Status: {_styled(claim.status, STATUS_STYLE.get(claim.status, ''))}"
                  + escape(status[len(claim.status):]) + f"   [dim]{escape(claim.message_id)}[/]")
    console.print(Panel(escape(claim.body.rstrip()), title=f"[bold]{escape(claim.subject)}[/]", title_align="left",
                        padding=(1, 2), width=min(console.width, 88)))
    console.print()
    table = _table("", "", title="Evidence:")
    table.show_header = False
    for label, text in evidence:
        table.add_row(f"[bold]{escape(label)}[/]", escape(text))
    console.print(table)
    console.print()
    table = _table(when, "Status", "Note", title="History:")
    for at, s, note in history:
        table.add_row(f"{at:%Y-%m-%d %H:%M}", _styled(s, STATUS_STYLE.get(s, "")), escape(note))
    console.print(table)


# -- stats ----------------------------------------------------------------------------------------------


def stats_rows(summary: dict[str, Any]) -> list[tuple[str, str, str]]:
    rows = [("claims", "all", str(summary.get("claims", 0)))]
    for key, count in summary.get("by_track_step", {}).items():
        rows.append(("step", f"{key}  {STEPS.get(key, '')}".rstrip(), str(count)))
    for key, count in summary.get("by_status", {}).items():
        rows.append(("status", key, str(count)))
    for key, count in summary.get("by_outcome", {}).items():
        rows.append(("outcome", key, str(count)))
    return rows


def show_where(text: str) -> None:
    """`claims show`'s "where it goes": on a terminal, each line wrapped under its own indent."""
    if not on_terminal():
        print(text)
        return
    import textwrap

    width = _console().width
    for line in text.splitlines():
        indent = " " * (len(line) - len(line.lstrip()))
        print(textwrap.fill(line, width, subsequent_indent=indent + "  ", break_on_hyphens=False) if line else "")


def show_stats(summary: dict[str, Any]) -> None:
    rows = stats_rows(summary)
    granted = [(str(g["id"]), g["order_id"], f"{g['track']}{g['step']}", g.get("note") or "")
               for g in summary.get("granted", [])]
    if not on_terminal():
        width = max(len(label) for _, label, _ in rows)
        print("\n".join(f"{group:<8} {label:<{width}}  {count:>4}" for group, label, count in rows))
        for claim_id, order_id, step, note in granted:
            print(f"granted  claim {claim_id}, order {order_id}, {step}: {note}".rstrip(": "))
        return
    console = _console()
    table = _table("", "", "Count", title="Claims")
    previous = ""
    for group, label, count in rows:
        style = OUTCOME_STYLE.get(label) or STATUS_STYLE.get(label, "")
        table.add_row(f"[dim]{group}[/]" if group != previous else "", _styled(label, style), count)
        previous = group
    table.columns[2].justify = "right"
    console.print(table)
    console.print()
    if granted:
        table = _table("Claim", "Order", "Step", "What was granted", title="Granted")
        for row in granted:
            table.add_row(*row)
        console.print(table)
