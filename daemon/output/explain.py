"""Human-readable and JSON renderings of parse results, shipments and claims, for the command line."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from typing import Any

from daemon.state.store import Claim
from parsers.model import DateWindow, Event, ParseResult
from rules.claims import Outlook
from rules.timeline import Shipment
from rules.verdict import Verdict


def _window(window: DateWindow | None) -> str:
    if window is None:
        return "—"
    text = window.end.isoformat()
    if window.start is None:
        text = f"by {text}"
    elif window.start != window.end:
        text = f"{window.start.isoformat()} – {text}"
    if window.latest:
        text += f" by {window.latest.strftime('%H:%M')}"
    return text


def _event_lines(event: Event) -> list[str]:
    lines = [f"  {event.kind.value}  {event.marketplace} ({event.language})  order {', '.join(event.order_ids) or '?'}"]
    if event.promise:
        wording = {True: "guaranteed", False: "an estimate",
                   None: "the email does not say guaranteed or estimated"}[event.guaranteed]
        lines.append(f"    promised: {_window(event.promise)} ({wording})")
    if event.previous_promise:
        lines.append(f"    previously promised: {_window(event.previous_promise)}")
    if event.delivered_on:
        lines.append(f"    delivered: {event.delivered_on.isoformat()}")
    for item in event.items:
        lines.append(f"    item: {item}")
    if event.evidence:
        lines.append(f"    evidence: “{event.evidence}”" + (f"  [pattern {event.pattern}]" if event.pattern else ""))
    return lines


def describe_result(file: str, result: ParseResult) -> str:
    m = result.message
    auth = {True: "authentic (aligned Amazon DKIM pass)", False: "NOT authenticated",
            None: "no authentication verdict in the headers"}[m.authenticated]
    lines = [f"{file}: {result.status.value}" + (f" — {result.reason}" if result.reason else "")]
    lines.append(f"  message {m.message_id}, sent {m.sent_at.isoformat() if m.sent_at else 'at an unknown date'}, "
                 f"{auth}" + (", forwarded" if m.forwarded else ""))
    for event in result.events:
        lines.extend(_event_lines(event))
    lines.extend(f"  note: {d}" for d in result.diagnostics)
    return "\n".join(lines)


def _iso(d: date | None) -> str | None:
    return d.isoformat() if d else None


def shipment_json(shipment: Shipment, verdict: Verdict) -> dict[str, Any]:
    """The `lateclaim orders --json` contract (README)."""
    promise = shipment.promise
    expected = shipment.expected
    return {
        "order_id": shipment.order_id,
        "shipment": shipment.shipment,
        "marketplace": shipment.marketplace,
        "promised_start": _iso(promise.start) if promise else None,
        "promised_end": _iso(promise.end) if promise else None,
        "delivered_on": _iso(shipment.delivered_on),
        "verdict": verdict.kind.value,
        "days_late": verdict.days_late,
        "authenticated": authenticated(shipment),
        "items": list(shipment.items),
        "parcels_in_order": shipment.parcels_in_order,
        "expected_end": _iso(expected.end) if expected else None,
        "arrival": shipment.arrival,
        "arrived_on": _iso(shipment.arrived_on),
        "paused": shipment.paused or None,
        "ambiguous": shipment.ambiguous or None,
    }


def outlook_json(outlook: Outlook) -> dict[str, Any]:
    """A parcel's row of `lateclaim orders --json`: the shipment, then what is due and why."""
    return {
        **shipment_json(outlook.shipment, outlook.verdict),
        "next_step": outlook.next_step,
        "due_at": outlook.due_at.isoformat() if outlook.due_at else None,
        "reason": outlook.reason,
    }


def authenticated(shipment: Shipment) -> bool | None:
    """As `parse --json` says it: true (aligned Amazon DKIM pass on the promise and delivery mail), false (a
    check failed or was misaligned), null (that mail carried no Authentication-Results the rules trust)."""
    if shipment.authenticated:
        return True
    sources = [s for s in (shipment.promise_source, shipment.delivery_source) if s is not None]
    if all(s.message.authenticated is None for s in sources or shipment.sightings):
        return None
    return False


def _table(header: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    widths = [max(len(str(cell)) for cell in column) for column in zip(header, *rows, strict=False)]
    lines = ["  ".join(str(cell).ljust(w) for cell, w in zip(row, widths, strict=False)).rstrip()
             for row in (header, *rows)]
    return "\n".join(lines)


def order_rows(outlooks: Sequence[Outlook]) -> str:
    """One row per parcel, and under it which date counts and what is due, or why nothing is."""
    rows = []
    for outlook in outlooks:
        shipment, verdict = outlook.shipment, outlook.verdict
        late = f"{verdict.days_late} d" if verdict.days_late else ""
        rows.append([
            shipment.order_id, f"{shipment.shipment}/{shipment.parcels_in_order}", shipment.marketplace,
            _window(shipment.promise), _iso(shipment.arrived_on) or "—", verdict.kind.value, late,
            "yes" if shipment.authenticated else "no",
        ])
    header = ["ORDER", "PARCEL", "MARKETPLACE", "PROMISED", "ARRIVED", "VERDICT", "LATE", "AUTHENTIC"]
    lines = _table(header, rows).splitlines()
    out = [lines[0]]
    for line, outlook in zip(lines[1:], outlooks, strict=True):
        out += [line, f"    {outlook.reason}"]
    return "\n".join(out)


def claim_rows(claims: Sequence[Claim]) -> str:
    rows = [[str(c.id), c.order_id, c.track, str(c.step), c.status + (f" ({c.held})" if c.held else ""),
             c.language, c.subject] for c in claims]
    return _table(["ID", "ORDER", "TRACK", "STEP", "STATUS", "LANG", "SUBJECT"], rows)
