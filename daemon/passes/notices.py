"""Telling the user, where they already look, that a pass left something for them.

A draft in Drafts, a letter that left Drafts unsent, an answer, a send whose outcome is unknown, a letter the
server refused, a claim a cap holds, an unauthenticated email that would have driven a claim: each is an event the
user should hear of once. At the end of a pass the events not yet told become one short message, in the user's
language (daemon/passes/data/notices.toml), placed unread in the INBOX by IMAP APPEND (From and To the user's own
address, so no SMTP is needed), and optionally pushed through Apprise URLs. A notice about one parcel is threaded
under that parcel (References a per-parcel root, and the same subject), so Gmail groups a parcel's notices.

What was told is recorded in the state file (Store.record_notified) once it was delivered, so an event is never
told twice, and one that could not be delivered is told at the next pass. A notice quotes no letter and carries
no secret: the step in words, the item (shortened), the order number and the command to run.

Our own notices never come back as Amazon mail: the reading side searches by Amazon's sender domains, and these are
From the user (tests/test_notices.py checks it on Dovecot).
"""

from __future__ import annotations

import hashlib
import tomllib
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from email.message import EmailMessage
from email.policy import SMTP
from email.utils import format_datetime, formataddr
from functools import cache
from importlib.resources import files
from typing import TYPE_CHECKING, Any

import structlog

from daemon.config import Config
from daemon.errors import ResourceError
from daemon.mail.imap import NOTICE_HEADER as HEADER  # marks our own messages, for the user's filters and ours
from daemon.state.store import Claim, Store
from rules.letters import LANGUAGES  # the letters' languages: data/notices.toml speaks each of them

if TYPE_CHECKING:
    from daemon.mail.imap import ImapMailbox

log = structlog.get_logger("lateclaim.notices")

# What is told about a claim in each status; a draft in review mode waits as `queued`.
BY_STATUS = {"drafted": "drafted", "discarded": "discarded", "answered": "answered", "uncertain": "uncertain",
             "refused": "refused"}
# Past events older than this are not told: a state file from before notices existed does not flood the INBOX.
RECENT = timedelta(days=14)
SHOWN_PER_KIND = 3  # a notice stays short: beyond this, "and N more"
ITEM_WIDTH = 40


@dataclass(frozen=True)
class Event:
    """One thing to tell: `key` is what is recorded once told, `kind` a section of notices.toml."""
    key: str
    kind: str
    order_id: str
    shipment: str
    language: str
    fields: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Notice:
    keys: tuple[str, ...]
    language: str
    subject: str
    body: str
    message_id: str
    references: tuple[str, ...]


@cache
def _texts() -> dict[str, Any]:
    return tomllib.loads(files("daemon.passes").joinpath("data/notices.toml").read_text(encoding="utf-8"))


def phrases(language: str) -> dict[str, Any]:
    texts: dict[str, Any] = _texts()
    return dict(texts.get(language) or texts["en"])


def shorten(text: str, width: int = ITEM_WIDTH) -> str:
    text = " ".join(text.split())
    return text if len(text) <= width else text[:width - 1].rstrip(" ,;:-") + "…"


def day_words(day: date, language: str) -> str:
    from babel.dates import format_date

    return str(format_date(day, phrases(language)["date"], locale=language))


def _claim_event(claim: Claim, kind: str) -> Event:
    items = claim.evidence.get("items") or []
    due = claim.evidence.get("deadline") or claim.evidence.get("expected_end")
    facts = {"step": f"{claim.track}{claim.step}", "item": str(items[0]) if items else "", "order": claim.order_id,
             "due": due if isinstance(due, str) else "", "id": str(claim.id),
             "why": "held_year" if "year" in claim.held else "held_day"}
    return Event(f"{kind}:{claim.id}", kind, claim.order_id, claim.shipment, claim.language, facts)


def claim_events(store: Store, config: Config, now: datetime) -> list[Event]:
    """What the claims leave for the user now: drafts to send, letters waiting for approval or held by a cap,
    drafts gone unsent, answers, sends of unknown outcome, refused letters."""
    found = []
    for claim in store.claims():
        kind = BY_STATUS.get(claim.status)
        if claim.status == "queued":
            kind = "held" if claim.held else ("review" if config.claims.mode == "review" else None)
        if kind is None:
            continue
        if kind in ("discarded", "answered", "uncertain", "refused") and now - claim.updated_at > RECENT:
            continue
        found.append(_claim_event(claim, kind))
    return found


def spoofed_events(store: Store, config: Config, now: datetime) -> list[Event]:
    """Parcels late or missing on the word of mail that is not authentic Amazon mail: no claim is written, and
    the user is told why (a phishing attempt often looks like a delivery problem)."""
    if config.rules.trust_unauthenticated:
        return []
    from daemon.passes.evaluate import outlooks

    found = []
    # Only orders named by mail that is not authentic can be: the others are not decided again at each pass.
    for outlook in outlooks(store, config, now, store.orders_with_unauthenticated_mail()):
        shipment = outlook.shipment
        if shipment.authenticated or outlook.verdict.kind.value not in ("late", "overdue"):
            continue
        facts = {"order": shipment.order_id, "item": shipment.items[0] if shipment.items else ""}
        found.append(Event(f"spoofed:{shipment.order_id}:{shipment.shipment}", "spoofed", shipment.order_id,
                           shipment.shipment, shipment.language, facts))
    return found


SIGN_IN_WARNING = timedelta(days=3)  # how long before Google ends a sign-in the user is told


def signin_events(config: Config, now: datetime) -> list[Event]:
    """A Gmail sign-in whose end Google stated (`lateclaim auth google` keeps it in the token file): told a few
    days before, while there is still time to sign in again."""
    oauth2 = config.mailbox.oauth2
    if oauth2 is None:
        return []
    from daemon.errors import OAuthError
    from daemon.mail.oauth import read_token_file

    try:
        ends = datetime.fromisoformat(str(read_token_file(oauth2).get("refresh_token_expires_at") or ""))
    except (OAuthError, ValueError):
        return []  # no end stated, or no token at all (doctor and the pass say that one)
    if ends - now > SIGN_IN_WARNING:
        return []
    day = ends.astimezone(config.rules.timezone).date().isoformat()
    return [Event(f"signin:{ends.isoformat()}", "signin", "", "", "", {"day": day})]


def language_of(events: list[Event], wanted: str) -> str:
    """The notice's one language: the one configured, else the one most of its events are written in."""
    if wanted == "auto":
        counts = [e.language for e in events if e.language in LANGUAGES]
        wanted = max(dict.fromkeys(counts), key=counts.count) if counts else "en"
    return wanted if wanted in LANGUAGES else "en"


def account_language(store: Store, config: Config) -> str:
    """The user's language: as configured ([notices], else [claims]), else the one most of their claims use, so
    that every notice of an account speaks the same language."""
    for wanted in (config.notices.language, config.claims.language):
        if wanted != "auto":
            return wanted
    languages = [c.language for c in store.claims() if c.language in LANGUAGES]
    return max(dict.fromkeys(languages), key=languages.count) if languages else "auto"


def _words(event: Event, words: dict[str, Any], language: str) -> dict[str, str]:
    """An event's facts as the notice's sentences name them, in its language."""
    facts = dict(event.fields)
    facts["item"] = shorten(facts["item"]) if facts.get("item") else words["your_parcel"]
    if "step" in facts:
        facts["step"] = words["steps"].get(facts["step"], facts["step"])
    for key in ("due", "day"):
        if facts.get(key):
            facts[key] = day_words(date.fromisoformat(facts[key]), language)
    if "why" in facts:
        facts["why"] = words.get(facts["why"], facts["why"])
    return facts


ACCOUNT_ROOT = "<account@notices.lateclaim.invalid>"  # the thread of notices about the account itself


def parcel_root(order_id: str, shipment: str) -> str:
    """The Message-ID every notice about a parcel refers to: Gmail threads them under it."""
    return f"<parcel.{order_id}.{shipment}@notices.lateclaim.invalid>"


def compose(events: list[Event], language: str = "auto") -> Notice:
    """One short message about every event: per kind what happened, what lateclaim does next, what the user can
    do; a kind with many events shows the first few."""
    language = language_of(events, language)
    words = phrases(language)
    parcels = list(dict.fromkeys((e.order_id, e.shipment) for e in events if e.order_id))
    about = [e for e in events if e.order_id]
    if not parcels:  # about the account itself (the sign-in)
        subject = words["subject_account"]
    elif len(parcels) == 1:
        first = _words(about[0], words, language)
        subject = words["subject"].format(item=first["item"], order=about[0].order_id)
    else:
        subject = words["subject_many"].format(count=len(parcels))
    lines = [words["intro"], ""]
    kinds = list(dict.fromkeys(e.kind for e in events))
    for kind in kinds:
        of_kind = [e for e in events if e.kind == kind]
        text = words[kind]
        for event in of_kind[:SHOWN_PER_KIND]:
            lines.append("- " + text["what"].format(**_words(event, words, language)))
        if len(of_kind) > SHOWN_PER_KIND:
            lines.append(f"  (+{len(of_kind) - SHOWN_PER_KIND})")
        facts = _words(of_kind[0], words, language)
        lines.append(f"  {words['next_label']} {text['next'].format(**facts)}")
        lines.append(f"  {words['action_label']} {text['action'].format(**facts)}")
        lines.append("")
    lines += ["-- ", words["footer"]]
    keys = tuple(e.key for e in events)
    digest = hashlib.sha256("\n".join(keys).encode()).hexdigest()[:20]
    return Notice(keys, language, subject, "\n".join(lines) + "\n", f"<notice.{digest}@notices.lateclaim.invalid>",
                  tuple(parcel_root(*p) for p in parcels) or (ACCOUNT_ROOT,))


def message(notice: Notice, address: str, now: datetime) -> bytes:
    """The notice as an email from the user to the user, clearly lateclaim's, threaded per parcel."""
    mail = EmailMessage(policy=SMTP)
    mail["From"] = formataddr(("lateclaim", address))
    mail["To"] = address
    mail["Subject"] = notice.subject
    mail["Date"] = format_datetime(now)
    mail["Message-ID"] = notice.message_id
    if len(notice.references) == 1:
        mail["In-Reply-To"] = notice.references[0]
    mail["References"] = " ".join(notice.references)
    mail["Auto-Submitted"] = "auto-generated"
    mail[HEADER] = "1"
    mail.set_content(notice.body)
    mail["Content-Language"] = notice.language  # after set_content, which starts the Content-* headers anew
    return mail.as_bytes()


def push(urls: tuple[str, ...], notice: Notice) -> bool:
    """The same notice through Apprise (ntfy, Telegram, Matrix, email...); False when it did not go out."""
    try:
        import apprise  # type: ignore[import-not-found,unused-ignore]
    except ImportError:
        log.warning("notices_apprise_missing", hint="install the extra: pipx inject lateclaim apprise")
        return False
    sender = apprise.Apprise()
    for url in urls:
        sender.add(url)
    sent = bool(sender.notify(title=notice.subject, body=notice.body))
    if not sent:
        log.warning("notices_push_failed", urls=len(urls))
    return sent


def pending(store: Store, config: Config, now: datetime) -> list[Event]:
    events = claim_events(store, config, now) + spoofed_events(store, config, now) + signin_events(config, now)
    told = store.notified([e.key for e in events])
    return [e for e in events if e.key not in told]


def deliver(notice: Notice, store: Store, config: Config, now: datetime, mailbox: ImapMailbox | None) -> bool:
    """Put the notice in the INBOX and push it; once it reached the user one way, record its events as told."""
    settings = config.notices
    delivered = False
    if settings.inbox and mailbox is not None:
        address = config.claims.sender or config.mailbox.username
        try:
            mailbox.append_unread("INBOX", message(notice, address, now))
            delivered = True
        except ResourceError as exc:
            log.warning("notices_append_failed", error=str(exc))
    if settings.apprise:
        delivered = push(settings.apprise, notice) or delivered
    if delivered:
        store.record_notified(notice.keys, now, notice.message_id)
        log.info("notices_sent", events=len(notice.keys), message_id=notice.message_id)
    return delivered


OPEN = ("queued", "approved", "drafted", "sent", "answered", "uncertain")


def digest(store: Store, config: Config, now: datetime) -> Notice | None:
    """The week in one line (parcels under way or arrived this week, how many late or missing, claims open),
    once per ISO week of the user's calendar, in its own thread."""
    today = now.astimezone(config.rules.timezone).date()
    year, week, _ = today.isocalendar()
    key = f"digest:{year}-W{week:02d}"
    if store.notified([key]):
        return None
    from daemon.passes.evaluate import outlooks

    since = today - timedelta(days=7)
    recent = [o for o in outlooks(store, config, now)
              if (o.shipment.arrived_on is None and not o.shipment.cancelled)
              or (o.shipment.arrived_on is not None and o.shipment.arrived_on >= since)]
    late = sum(o.verdict.kind.value in ("late", "overdue") and o.shipment.authenticated for o in recent)
    language = language_of([], account_language(store, config))
    words = phrases(language)
    body = "\n".join([words["digest_intro"], "",
                      words["digest_line"].format(count=len(recent), late=late,
                                                  open=len(store.claims(list(OPEN)))),
                      "", "-- ", words["footer"]]) + "\n"
    return Notice((key,), language, words["digest_subject"], body,
                  f"<{key.replace(':', '.')}@notices.lateclaim.invalid>", ("<digest@notices.lateclaim.invalid>",))


def notify(store: Store, config: Config, now: datetime, mailbox: ImapMailbox | None) -> Notice | None:
    """Tell the user what this pass left for them, once: the notice, or None when there was nothing new to tell
    (or it could not be delivered: it is tried again at the next pass). With digest = "weekly", the week's
    digest goes too, on the first pass of each week."""
    settings = config.notices
    if not settings.enabled or not (settings.apprise or (settings.inbox and mailbox is not None)):
        return None  # nowhere to tell it (the demo reads a folder of files): nothing is recorded as told
    if settings.digest == "weekly" and (week := digest(store, config, now)) is not None:
        deliver(week, store, config, now, mailbox)
    events = pending(store, config, now)
    if not events:
        return None
    notice = compose(events, account_language(store, config))
    return notice if deliver(notice, store, config, now, mailbox) else None
