"""`lateclaim report`: the year on one page: a self-contained HTML file (no network, no script, no font to fetch).

Each parcel gets a timeline drawn as inline SVG (the promised window, its revisions, the delivery or the attempt,
how many days late) with the claims made about it, their status and outcome; the page opens with the year's
totals. It reads the same data as `orders` and `claims list`, gathered in one function (`gather`) from the
timeline's typed fields (a change in their shape is a type error there, not a silently empty report). The page is
readable on a phone (the drawings scale, the text wraps) and prints one parcel per block.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from html import escape

from daemon.config import Config
from daemon.state.store import Claim, Store
from parsers.model import EventKind

STEP_WORDS = {"A1": "goodwill request (arrived late)", "B1": "where is my parcel?", "B2": "formal notice",
              "B3": "termination and refund"}
VERDICT_WORDS = {"on_time": "on time", "late": "late", "overdue": "not delivered", "pending": "pending"}
LATE_VERDICTS = ("late", "overdue")


@dataclass
class Parcel:
    """One parcel as the report shows it; every field may be missing for a parcel the emails said little about."""

    order_id: str
    parcel: str
    marketplace: str
    items: list[str]
    promise_start: date | None
    promise_end: date | None
    revisions: list[tuple[date | None, date]]  # (when the email said it, the new promised day)
    delivered_on: date | None
    attempted_on: date | None
    verdict: str
    days_late: int | None
    authenticated: bool | None = None  # as `orders --json` says it; only authentic mail can drive a claim
    claims: list[Claim] = field(default_factory=list)

    @property
    def days(self) -> list[date]:
        found = [self.promise_start, self.promise_end, self.delivered_on, self.attempted_on]
        found += [d for pair in self.revisions for d in pair]
        found += [c.created_at.date() for c in self.claims]
        return [d for d in found if d is not None]


def _day(moment: datetime | None) -> date | None:
    return moment.date() if moment else None


def gather(store: Store, config: Config, now: datetime) -> list[Parcel]:
    """Everything the report shows, from the functions behind `orders` and `claims list`."""
    from daemon.output.explain import authenticated
    from daemon.passes.evaluate import shipments_with_verdicts

    claims = store.claims()
    parcels = []
    for shipment, verdict in shipments_with_verdicts(store, config, now):
        promise = shipment.promise
        revisions = [(_day(s.message.sent_at), s.event.promise.end) for s in shipment.revisions if s.event.promise]
        attempts = [s for s in shipment.sightings if s.event.kind is EventKind.ATTEMPTED]
        attempted = (attempts[-1].event.delivered_on or _day(attempts[-1].message.sent_at)) if attempts else None
        order_id, parcel = shipment.order_id, shipment.shipment
        parcels.append(Parcel(
            order_id=order_id, parcel=parcel, marketplace=shipment.marketplace,
            items=list(shipment.items), promise_start=promise.start if promise else None,
            promise_end=promise.end if promise else None, revisions=revisions,
            delivered_on=shipment.delivered_on, attempted_on=attempted,
            verdict=verdict.kind.value, days_late=verdict.days_late,
            authenticated=authenticated(shipment),
            claims=[c for c in claims if c.order_id == order_id and str(c.shipment or "") == parcel],
        ))
    return parcels


def in_year(parcels: Sequence[Parcel], year: int) -> list[Parcel]:
    return [p for p in parcels if any(d.year == year for d in p.days) or not p.days]


@dataclass(frozen=True)
class Totals:
    parcels: int
    late: int
    claimed: int
    granted: int
    granted_notes: list[str]
    unverified: int = 0  # late or missing on the word of mail not verified as Amazon's: counted apart


def totals(parcels: Sequence[Parcel]) -> Totals:
    granted = [c for p in parcels for c in p.claims if c.outcome == "granted"]
    late = [p for p in parcels if p.verdict in LATE_VERDICTS]
    return Totals(parcels=len(parcels), late=sum(p.authenticated is not False for p in late),
                  claimed=sum(bool(p.claims) for p in parcels), granted=len(granted),
                  granted_notes=[c.outcome_note for c in granted if c.outcome_note],
                  unverified=sum(p.authenticated is False for p in late))


# -- drawing --------------------------------------------------------------------------------------------

WIDTH, HEIGHT, LEFT, RIGHT = 360, 86, 12, 12
AXIS_Y, BAND_Y, BAND_H = 50, 12, 22
COLOURS = {"on_time": "#1a7f37", "late": "#b35900", "overdue": "#c62828", "pending": "#57606a"}


class _Axis:
    """The days from `first` to `last` across the drawing, with the SVG drawn on it so far."""

    def __init__(self, first: date, last: date) -> None:
        self.first, self.last = first, last
        self.span = max((last - first).days, 1)
        self.parts = [f'<line x1="{LEFT}" y1="{AXIS_Y}" x2="{WIDTH - RIGHT}" y2="{AXIS_Y}" class="axis"/>']
        self.labelled: list[float] = []
        step = 1 if self.span <= 12 else 7 if self.span <= 70 else 30
        day = first
        while day < last:  # each tick says its day: the day of the month, with the month where it starts or changes
            at = self.mid(day)
            self.parts.append(f'<line x1="{at}" y1="{AXIS_Y - 3}" x2="{at}" y2="{AXIS_Y + 3}" class="tick"/>')
            words = f"{day.day}" if step == 1 and day != first and day.day != 1 else f"{day.day} {day:%b}"
            self.parts.append(f'<text x="{at}" y="{AXIS_Y + 13}" class="ticklabel" text-anchor="middle">{words}</text>')
            day += timedelta(days=step)

    def x(self, day: date) -> float:
        """Where the day begins."""
        return round(LEFT + (WIDTH - LEFT - RIGHT) * (day - self.first).days / self.span, 1)

    def mid(self, day: date) -> float:
        """The middle of the day: where a dot for it goes."""
        return round(self.x(day) + (WIDTH - LEFT - RIGHT) / self.span / 2, 1)

    def label(self, day: date) -> None:
        """A date under the axis, unless one is already there; kept inside the drawing at its ends."""
        at = self.mid(day)
        if any(abs(at - other) < 34 for other in self.labelled):
            return
        self.labelled.append(at)
        anchor = "start" if at < LEFT + 18 else "end" if at > WIDTH - RIGHT - 18 else "middle"
        shift = -6 if anchor == "start" else 6 if anchor == "end" else 0
        self.parts.append(f'<text x="{at + shift}" y="{AXIS_Y + 28}" class="date" text-anchor="{anchor}">'
                          f'{day:%a %d %b}</text>')


def _draw_promise(axis: _Axis, parcel: Parcel, today: date, colour: str) -> None:
    """The promised window as a band, its revisions as diamonds, and how late the parcel came after it."""
    if parcel.promise_end is None:
        return
    start = parcel.promise_start or parcel.promise_end
    left, right = axis.x(start), axis.x(parcel.promise_end + timedelta(days=1))
    axis.parts.append(f'<rect x="{left}" y="{BAND_Y}" width="{round(right - left, 1)}" height="{BAND_H}" rx="3" '
                      f'class="promise"><title>promised</title></rect>')
    axis.label(start)
    axis.label(parcel.promise_end)
    for _, revised in parcel.revisions:
        axis.parts.append(f'<path d="M{axis.mid(revised)},{BAND_Y - 6} l4,6 l-4,6 l-4,-6 z" class="revision">'
                          f'<title>revised to {revised:%d %b}</title></path>')
    end = parcel.delivered_on or (today if parcel.verdict == "overdue" else None)
    if end is not None and parcel.verdict in LATE_VERDICTS:
        y = BAND_Y + BAND_H / 2
        axis.parts.append(f'<line x1="{right}" y1="{y}" x2="{axis.mid(end)}" y2="{y}" class="lateness" '
                          f'stroke="{colour}"/>')


# A claim's flag says how it stands: granted (green), refused (red), taken back or dropped (hollow, grey),
# else still open (blue). The legend shows each.
FLAG_WORDS = {"granted": "granted", "refused": "refused", "dropped": "withdrawn, discarded or rejected",
              "open": "open"}


def flag_kind(claim: Claim) -> str:
    if claim.outcome in ("granted", "refused"):
        return claim.outcome
    if claim.status in ("withdrawn", "discarded", "rejected"):
        return "dropped"
    return "open"


def _svg_timeline(parcel: Parcel, today: date) -> str:
    """One parcel's days on a line: the promised window as a band, revisions as ticks, the delivery as a dot."""
    days = parcel.days + ([today] if parcel.verdict == "overdue" else [])
    if not days:
        return ""
    axis = _Axis(min(days) - timedelta(days=1), max(days) + timedelta(days=2))
    colour = COLOURS.get(parcel.verdict, "#57606a")
    _draw_promise(axis, parcel, today, colour)
    parts, mid, label = axis.parts, axis.mid, axis.label
    if parcel.delivered_on is not None:
        parts.append(f'<circle cx="{mid(parcel.delivered_on)}" cy="{BAND_Y + BAND_H / 2}" r="6" fill="{colour}">'
                     f'<title>delivered {parcel.delivered_on:%d %b}</title></circle>')
        label(parcel.delivered_on)
    if parcel.attempted_on is not None:
        parts.append(f'<circle cx="{mid(parcel.attempted_on)}" cy="{BAND_Y + BAND_H / 2}" r="6" class="attempt">'
                     f'<title>delivery attempted {parcel.attempted_on:%d %b}</title></circle>')
        label(parcel.attempted_on)
    if parcel.verdict == "overdue":
        parts.append(f'<text x="{mid(today)}" y="{BAND_Y + BAND_H / 2 + 4}" class="missing" fill="{colour}">?</text>')
        label(today)
    for claim in parcel.claims:
        cx = mid(claim.created_at.date())
        kind = flag_kind(claim)
        parts.append(f'<path d="M{cx},{AXIS_Y} v-14 l9,3.5 l-9,3.5" class="flag {kind}"><title>claim {claim.id} '
                     f'({escape(claim.track)}{claim.step}) written {claim.created_at:%d %b}: {FLAG_WORDS[kind]}'
                     f'</title></path>')
    summary = escape(_verdict_words(parcel))
    return (f'<svg viewBox="0 0 {WIDTH} {HEIGHT}" role="img" aria-label="{summary}" class="timeline">'
            + "".join(parts) + "</svg>")


# -- the page ---------------------------------------------------------------------------------------------


def _verdict_words(parcel: Parcel) -> str:
    words = VERDICT_WORDS.get(parcel.verdict, parcel.verdict.replace("_", " "))
    if parcel.days_late:
        days = f"{parcel.days_late} day{'s' if parcel.days_late != 1 else ''}"
        words += f" by {days}" if parcel.verdict == "late" else f", {days} past the promise"
    return words


def _window_words(parcel: Parcel) -> str:
    if parcel.promise_end is None:
        return "no promise found"
    if parcel.promise_start is None:
        return f"by {parcel.promise_end:%a %d %b}"
    if parcel.promise_start == parcel.promise_end:
        return f"{parcel.promise_end:%a %d %b}"
    return f"{parcel.promise_start:%a %d %b} – {parcel.promise_end:%a %d %b}"


def _claim_item(claim: Claim) -> str:
    step = f"{claim.track}{claim.step}"
    outcome = ""
    if claim.outcome:
        note = f": {escape(claim.outcome_note)}" if claim.outcome_note else ""
        outcome = f' <span class="outcome {escape(claim.outcome)}">{escape(claim.outcome)}{note}</span>'
    return (f'<li class="claim" data-claim="{claim.id}" data-status="{escape(claim.status)}" '
            f'data-outcome="{escape(claim.outcome)}"><b>Claim {claim.id}</b> · {escape(STEP_WORDS.get(step, step))}'
            f' · <span class="status">{escape(claim.status)}</span>{outcome}'
            f'<br><small>{escape(claim.subject)} — written {claim.created_at:%d %b %Y}</small></li>')


def _parcel_article(parcel: Parcel, today: date) -> str:
    lines = [f'<article class="parcel {escape(parcel.verdict)}" data-order="{escape(parcel.order_id)}" '
             f'data-parcel="{escape(parcel.parcel)}" data-verdict="{escape(parcel.verdict)}">',
             f'<h2><span>Order {escape(parcel.order_id)}'
             + (f' · parcel {escape(parcel.parcel)}' if parcel.parcel else "")
             + f'</span> <span class="badge">{escape(_verdict_words(parcel))}</span></h2>']
    if parcel.items:
        lines.append(f'<p class="items">{escape(", ".join(parcel.items))}</p>')
    if parcel.authenticated is not True:
        lines.append('<p class="unverified">Its mail is not verified as Amazon\'s (no aligned DKIM pass).</p>')
    lines.append(_svg_timeline(parcel, today))
    facts = [("Marketplace", parcel.marketplace), ("Promised", _window_words(parcel))]
    facts += [("Revised", f"to {revised:%a %d %b}" + (f" (email of {said:%d %b})" if said else ""))
              for said, revised in parcel.revisions]
    if parcel.attempted_on:
        facts.append(("Attempted", f"{parcel.attempted_on:%a %d %b}"))
    facts.append(("Delivered", f"{parcel.delivered_on:%a %d %b}" if parcel.delivered_on else "no delivery email"))
    lines.append("<dl>" + "".join(f"<dt>{escape(k)}</dt><dd>{escape(v)}</dd>" for k, v in facts) + "</dl>")
    if parcel.claims:
        lines.append('<ul class="claims">' + "".join(_claim_item(c) for c in parcel.claims) + "</ul>")
    lines.append("</article>")
    return "\n".join(lines)


STYLE = """
:root { --ink: #1f2328; --muted: #57606a; --line: #d0d7de; --on_time: #1a7f37; --late: #b35900;
        --overdue: #c62828; --pending: #57606a; --band: #ddf4e4; }
* { box-sizing: border-box; }
body { margin: 0 auto; max-width: 46rem; padding: 1rem; color: var(--ink); background: #fff;
       font: 16px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif; }
h1 { font-size: 1.5rem; margin: .2rem 0; }
h2 { font-size: 1.05rem; margin: 0 0 .3rem; display: flex; flex-wrap: wrap; gap: .4rem;
     justify-content: space-between; }
.asof, footer { color: var(--muted); font-size: .9rem; }
.totals { display: grid; grid-template-columns: repeat(auto-fit, minmax(4.8rem, 1fr)); gap: .5rem; margin: 1rem 0; }
.total { border: 1px solid var(--line); border-radius: .5rem; padding: .5rem .7rem; }
.total b { display: block; font-size: 1.6rem; } .total.late b { color: var(--late); }
.total.granted b { color: var(--on_time); }
.parcel { border: 1px solid var(--line); border-left: .35rem solid var(--pending); border-radius: .5rem;
          padding: .7rem .9rem; margin: .8rem 0; break-inside: avoid; page-break-inside: avoid; }
.parcel.on_time { border-left-color: var(--on_time); } .parcel.late { border-left-color: var(--late); }
.parcel.overdue { border-left-color: var(--overdue); }
.badge { font-size: .85rem; font-weight: 600; padding: .1rem .5rem; border-radius: 1rem; background: #f6f8fa; }
.on_time .badge { color: var(--on_time); } .late .badge { color: var(--late); }
.overdue .badge { color: var(--overdue); }
.items { margin: 0 0 .3rem; color: var(--muted); }
.unverified { margin: 0 0 .3rem; font-size: .88rem; color: var(--overdue); }
svg.timeline { width: 100%; height: auto; max-height: 9rem; display: block; }
.axis, .tick { stroke: #8c959f; stroke-width: 1; } .promise { fill: var(--band); stroke: var(--on_time); }
.revision { fill: #fff; stroke: var(--late); stroke-width: 1.5; } .lateness { stroke-width: 3; stroke-dasharray: 4 3; }
.attempt { fill: #fff; stroke: var(--late); stroke-width: 2.5; } .flag { fill: #0969da; stroke: #0969da; }
.flag.granted { fill: var(--on_time); stroke: var(--on_time); } .flag.refused { fill: var(--overdue);
  stroke: var(--overdue); } .flag.dropped { fill: #fff; stroke: #57606a; stroke-width: 1.8; stroke-dasharray: 2.5 1.5; }
.ticklabel { font: 9px sans-serif; fill: #8c959f; }
.total.unverified b { color: var(--overdue); }
.missing { font: bold 15px sans-serif; text-anchor: middle; }
.date { font: 11px sans-serif; fill: var(--muted); }
dl { display: grid; grid-template-columns: max-content 1fr; gap: .1rem .8rem; margin: .4rem 0; font-size: .92rem; }
dt { color: var(--muted); } dd { margin: 0; }
.claims { list-style: none; padding: 0; margin: .4rem 0 0; } .claim { border-top: 1px dashed var(--line);
  padding: .35rem 0; font-size: .92rem; } .claim small { color: var(--muted); }
.outcome.granted { color: var(--on_time); font-weight: 600; } .outcome.refused { color: var(--overdue); }
.legend { font-size: .85rem; color: var(--muted); display: flex; flex-wrap: wrap; gap: .3rem 1rem; }
.legend svg { width: 1.4rem; height: .9rem; vertical-align: middle; }
@media print { body { max-width: none; font-size: 11pt; } .parcel, .total { border-color: #999; }
  * { -webkit-print-color-adjust: exact; print-color-adjust: exact; } }
"""

LEGEND = """<p class="legend">
<span><svg viewBox="0 0 22 12"><rect x="1" y="1" width="20" height="10" rx="2" class="promise"/></svg> promised</span>
<span><svg viewBox="0 0 22 12"><path d="M11,0 l4,6 l-4,6 l-4,-6 z" class="revision"/></svg> revised</span>
<span><svg viewBox="0 0 22 12"><circle cx="11" cy="6" r="5" fill="#1a7f37"/></svg> delivered</span>
<span><svg viewBox="0 0 22 12"><circle cx="11" cy="6" r="4" class="attempt"/></svg> attempted</span>
<span><svg viewBox="0 0 22 12"><path d="M7,12 v-12 l9,3.5 l-9,3.5" class="flag"/></svg> claim open</span>
<span><svg viewBox="0 0 22 12"><path d="M7,12 v-12 l9,3.5 l-9,3.5" class="flag granted"/></svg> granted</span>
<span><svg viewBox="0 0 22 12"><path d="M7,12 v-12 l9,3.5 l-9,3.5" class="flag refused"/></svg> refused</span>
<span><svg viewBox="0 0 22 12"><path d="M7,12 v-12 l9,3.5 l-9,3.5" class="flag dropped"/></svg> withdrawn or
dropped</span>
</p>"""


def render(parcels: Sequence[Parcel], year: int, now: datetime) -> str:
    total = totals(parcels)
    cards = [("parcels", "parcels", total.parcels), ("late", "late or missing", total.late),
             ("claimed", "claimed", total.claimed), ("granted", "granted", total.granted)]
    if total.unverified:  # never mixed with the real ones: a phishing email is not a late parcel
        cards.append(("unverified", "late on unverified mail", total.unverified))
    worth = (f'<p class="worth">Granted: {escape("; ".join(total.granted_notes))}</p>'
             if total.granted_notes else "")
    ordered = sorted(parcels, key=lambda p: (p.promise_end or p.delivered_on or date.max, p.order_id, p.parcel))
    body = "\n".join(_parcel_article(p, now.date()) for p in ordered) or "<p>No parcels this year.</p>"
    return f"""<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="generator" content="lateclaim report">
<title>lateclaim: your parcels in {year}</title>
<style>{STYLE}</style>
</head>
<body>
<header><h1>Your parcels in {year}</h1>
<p class="asof">As of {now:%d %B %Y %H:%M}: every Amazon parcel lateclaim saw, its promise and its claims.</p></header>
<section class="totals">
{"".join(f'<div class="total {key}" data-total="{key}"><b>{n}</b>{escape(words)}</div>' for key, words, n in cards)}
</section>
{worth}
{LEGEND}
<main>
{body}
</main>
<footer>Written by lateclaim from its state file; this page loads nothing from the network.</footer>
</body>
</html>
"""


GENERATOR = '<meta name="generator" content="lateclaim report">'


def is_a_report(head: bytes) -> bool:
    """Whether a file's first bytes are those of a page this module wrote (the only file --output replaces)."""
    return GENERATOR.encode() in head


def write_report(store: Store, config: Config, now: datetime, year: int | None = None) -> tuple[str, str]:
    """The page, and a line for the user when the year has no parcel (with the years that have some)."""
    year = year or now.year
    parcels = gather(store, config, now)
    shown = in_year(parcels, year)
    note = ""
    if not shown:
        years = sorted({d.year for p in parcels for d in p.days})
        note = (f"No parcel in {year}: the report is empty. "
                + (f"lateclaim knows parcels of {', '.join(map(str, years))} (--year {years[-1]})." if years
                   else "lateclaim knows no parcel yet: run `lateclaim sync` (or `backfill --since DATE`)."))
    return render(shown, year, now), note
