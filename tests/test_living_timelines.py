"""The daemon living through the days: the real command line runs `sync --once --as-of ...` once a day (and at
the edges: around midnight and midday) against Dovecot, with Amazon's emails delivered into the mailbox the day
they would arrive. After each day the test reads what a user would see: the Drafts folder and `claims list`.

Situations of the timelines issue, in French (amazon.fr), English (amazon.co.uk) and German (amazon.de); the key
ones again on every other marketplace the mail generator writes for (amazon.it, .es, .com, .ca in English and
French, .nl), each with its own language, date formats, sender addresses and law.
"""

from __future__ import annotations

import contextlib
import email
import io
import json
import os
import sqlite3
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime
from email import policy
from email.message import EmailMessage
from email.utils import format_datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from daemon.cli import main
from daemon.config import load
from daemon.passes.evaluate import record_decisions
from daemon.state.store import Store
from tests import lateclaim_setup as setup
from tests.servers.dovecot import Account, Dovecot
from tests.servers.smtp import SmtpServer
from tests.timeline_mail import (
    CA,
    CA_FR,
    DE,
    EN,
    ES,
    FR,
    IT,
    IT_BY_ORDER,
    JP,
    NL,
    US,
    US_BY_ORDER,
    Language,
    amazon_mail,
)

DRAFTS, SENT = "[Gmail]/Drafts", "[Gmail]/Sent Mail"
ORDER = "171-4402913-5518372"


@contextlib.contextmanager
def patched_environ(**values: str) -> Iterator[None]:
    saved = {name: os.environ.get(name) for name in values}
    os.environ.update(values)
    try:
        yield
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


class Life:
    """A user's mailbox and lateclaim, lived a day at a time."""

    def __init__(self, dovecot: Dovecot, account: Account, tmp_path: Path, language: Language,
                 smtp: SmtpServer | None = None, **claims: Any) -> None:
        self.dovecot, self.user, self.language = dovecot, account.username, language
        self.zone = ZoneInfo(language.zone)
        self.config = str(setup.write_config(tmp_path, account, smtp, rules={"timezone": language.zone},
                                             claims={"from": f"{account.username}@example.com", **claims}))

    def moment(self, day: date, hour: int, minute: int = 0) -> datetime:
        return datetime(day.year, day.month, day.day, hour, minute, tzinfo=self.zone)

    def mail(self, kind: str, day: date, hour: int, items: tuple[str, ...], promise: date | None = None) -> None:
        raw = amazon_mail(self.language, kind, ORDER, self.moment(day, hour), items, promise)
        self.dovecot.deliver(self.user, raw)

    def sync(self, day: date, hour: int = 12, minute: int = 30) -> None:
        moment = self.moment(day, hour, minute)
        with patched_environ(LATECLAIM_NOW=moment.isoformat()):  # the day lived is today: no --as-of ahead
            self.run("sync", "--once", "--as-of", moment.isoformat())
        self.full_decision_agrees(moment)

    def full_decision_agrees(self, moment: datetime) -> None:
        """A pass decides only the parcels that changed or fell due (daemon/passes/evaluate.py): deciding every
        parcel again at the same moment, on a copy of the state file, finds nothing more to record."""
        config = load(Path(self.config))
        copy = Path(self.config).parent / "full-decision.db"
        copy.unlink(missing_ok=True)
        with Store(config.state.path) as store, contextlib.closing(sqlite3.connect(copy)) as target:
            store.db.backup(target)
        with Store(copy) as store:
            found = record_decisions(store, config, moment, full=True)
        assert (found.created, found.held, found.released, found.withdrawn, found.rewritten) == ([], [], [], [], [])

    def run(self, *args: str) -> Any:
        """The command line's own entry point, in this process (a fortnight of days in a subprocess each would
        spend most of its time importing)."""
        out, err = io.StringIO(), io.StringIO()
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            status = main([*args, "--config", self.config])
        assert status == 0, err.getvalue()
        return json.loads(out.getvalue()) if "--json" in args else out.getvalue()

    def claims(self) -> list[dict[str, Any]]:
        return list(self.run("claims", "list", "--json"))

    def live(self) -> list[tuple[str, int, str]]:
        """(track, step, status) of every claim that is still in play (neither withdrawn nor rejected)."""
        return [(c["track"], c["step"], c["status"]) for c in self.claims()
                if c["status"] not in ("withdrawn", "rejected")]

    def orders(self, day: date, hour: int = 12, minute: int = 30) -> list[dict[str, Any]]:
        return list(self.run("orders", "--json", "--as-of", self.moment(day, hour, minute).isoformat()))

    def drafts(self) -> list[email.message.EmailMessage]:
        return [email.message_from_bytes(raw, policy=policy.default)  # type: ignore[misc]
                for raw in self.dovecot.messages(self.user, DRAFTS)]

    def send_draft(self, subject_part: str) -> str:
        """What the user does in Gmail: sends a draft (it leaves Drafts, a copy lands in Sent)."""
        (draft,) = [d for d in self.drafts() if subject_part in str(d["Subject"])]
        message_id = str(draft["Message-ID"])
        self.dovecot.deliver(self.user, draft.as_bytes(), SENT)
        self.dovecot.doveadm("expunge", "-u", self.user, "mailbox", DRAFTS, "header", "Message-ID", message_id)
        return message_id


pytestmark = pytest.mark.timeout(600)  # a fortnight lived day by day against a real server


KETTLE, MUG = "Electric Kettle 1.7 L, Stainless Steel", "Ceramic Mug Set of 4, Blue"


def two_parcels(life: Life, mug_promise: date) -> None:
    """An order for a kettle and mugs (one date for the whole order), shipped in two parcels."""
    life.mail("ordered", date(2026, 11, 16), 9, (KETTLE, MUG), promise=date(2026, 11, 19))
    life.mail("shipped", date(2026, 11, 17), 8, (KETTLE,), promise=date(2026, 11, 19))
    life.mail("shipped", date(2026, 11, 18), 8, (MUG,), promise=mug_promise)


def days(start: date, end: date) -> list[date]:
    return [date.fromordinal(n) for n in range(start.toordinal(), end.toordinal() + 1)]


def test_a_parcel_two_days_late_gets_its_step_1_withdrawn_and_the_goodwill_request(
    dovecot: Dovecot, imap_account: Account, tmp_path: Path
) -> None:
    life = Life(dovecot, imap_account, tmp_path, FR)
    lamp = ("Lampe de bureau LED orientable",)
    life.mail("ordered", date(2026, 11, 16), 9, lamp, promise=date(2026, 11, 19))
    life.mail("shipped", date(2026, 11, 18), 7, lamp, promise=date(2026, 11, 19))
    for day in days(date(2026, 11, 16), date(2026, 11, 19)):
        life.sync(day)
        assert life.live() == [] and life.drafts() == []
    life.sync(date(2026, 11, 20), 0, 30)  # the night after the promised Thursday: too early to ask
    assert life.live() == []
    life.sync(date(2026, 11, 20), 11, 59)
    assert life.live() == []
    life.sync(date(2026, 11, 20), 12, 1)  # Friday, midday: "where is my parcel?"
    assert life.live() == [("B", 1, "drafted")]
    (question,) = life.drafts()
    life.mail("delivered", date(2026, 11, 21), 15, lamp)  # Saturday: it came, two days late
    life.sync(date(2026, 11, 21), 18)
    assert life.live() == [("A", 1, "drafted")]
    (goodwill,) = life.drafts()  # the question is gone from Drafts, only the request stands
    assert goodwill["Message-ID"] != question["Message-ID"]
    body = goodwill.get_content()
    assert ORDER in body and "2 jours" in body
    withdrawn = [c for c in life.claims() if c["status"] == "withdrawn"]
    assert [(c["track"], c["step"]) for c in withdrawn] == [("B", 1)]
    for day in days(date(2026, 11, 22), date(2026, 11, 30)):  # nothing more, day after day
        life.sync(day)
        assert life.live() == [("A", 1, "drafted")] and len(life.drafts()) == 1
    (row,) = life.orders(date(2026, 11, 30))
    assert (row["verdict"], row["days_late"], row["arrival"]) == ("late", 2, "delivered")


def test_an_order_in_two_parcels_claims_the_one_that_never_came(
    dovecot: Dovecot, imap_account: Account, tmp_path: Path
) -> None:
    life = Life(dovecot, imap_account, tmp_path, EN)
    kettle, mug = KETTLE, MUG
    two_parcels(life, mug_promise=date(2026, 11, 20))
    life.mail("delivered", date(2026, 11, 19), 14, (kettle,))
    for day in days(date(2026, 11, 16), date(2026, 11, 22)):
        life.sync(day)
        assert life.live() == []  # Friday's parcel: Saturday and Sunday are no working days
    rows = life.orders(date(2026, 11, 22))
    assert [(r["shipment"], r["verdict"], r["items"]) for r in rows] == [
        ("1", "on_time", [kettle]), ("2", "overdue", [mug])]
    assert "step 1 due Mon 23 Nov 12:00" in rows[1]["reason"] and "Sun not a working day" in rows[1]["reason"]
    life.sync(date(2026, 11, 23))
    claims = life.claims()
    assert [(c["shipment"], c["track"], c["step"], c["status"]) for c in claims] == [("2", "B", 1, "drafted")]
    (question,) = life.drafts()
    body = question.get_content()
    # About the mug alone; its first promise is the order confirmation's (Thursday 19), which named one date for
    # the whole order.
    assert f'{ORDER} ("{mug}")' in body and "Thursday 19 November" in body


def test_a_parcel_at_a_pickup_point_is_never_escalated_and_is_judged_by_the_day_it_waited_there(
    dovecot: Dovecot, imap_account: Account, tmp_path: Path
) -> None:
    life = Life(dovecot, imap_account, tmp_path, DE)
    blender = ("Standmixer 1,5 L, Edelstahl",)
    life.mail("shipped", date(2026, 11, 16), 8, blender, promise=date(2026, 11, 18))
    life.mail("pickup_ready", date(2026, 11, 19), 10, blender)  # a day late, in the parcel locker
    for day in days(date(2026, 11, 16), date(2026, 12, 4)):  # never collected: no ladder, ever
        life.sync(day)
        live = life.live()
        assert ("B", 1, "drafted") not in live and all(track == "A" for track, _, _ in live)
    assert life.live() == [("A", 1, "drafted")]
    (row,) = life.orders(date(2026, 12, 4))
    assert (row["verdict"], row["arrival"], row["arrived_on"], row["days_late"]) == \
        ("late", "pickup_ready", "2026-11-19", 1)


def delayed_then_asked(life: Life, items: tuple[str, ...]) -> None:
    """Shipped for Tuesday 17 November, then announced late for Friday 20: lived to Monday 23, when "where is my
    parcel?" is drafted, not a day before."""
    life.mail("shipped", date(2026, 11, 13), 8, items, promise=date(2026, 11, 17))
    life.mail("delayed", date(2026, 11, 16), 18, items, promise=date(2026, 11, 20))  # "now Friday"
    for day in days(date(2026, 11, 13), date(2026, 11, 22)):
        life.sync(day)
        assert life.live() == []  # not before the first working day after the announced Friday
    (row,) = life.orders(date(2026, 11, 22))
    assert (row["promised_end"], row["expected_end"], row["verdict"]) == ("2026-11-17", "2026-11-20", "overdue")
    life.sync(date(2026, 11, 23))
    assert life.live() == [("B", 1, "drafted")]


def test_an_announced_delay_moves_the_question_and_a_resolution_ends_the_ladder(
    dovecot: Dovecot, imap_account: Account, tmp_path: Path
) -> None:
    life = Life(dovecot, imap_account, tmp_path, FR)
    delayed_then_asked(life, ("Chaise de bureau ergonomique",))
    life.send_draft("")  # the user sends it from Gmail
    life.sync(date(2026, 11, 24))
    (step_1,) = life.claims()
    assert step_1["status"] == "sent"
    for day in days(date(2026, 11, 25), date(2026, 11, 26)):
        life.sync(day)
        assert life.live() == [("B", 1, "sent")]  # step 2 waits three days after step 1 went out
    life.sync(date(2026, 11, 27))
    assert life.live() == [("B", 1, "sent"), ("B", 2, "drafted")]
    notice = next(d for d in life.drafts())
    assert "4 décembre 2026" in notice.get_content()  # 27 November + 7 days, the day it was written
    life.sync(date(2026, 11, 28))  # unsent for a day: written again, so that it still gives seven days
    (notice,) = life.drafts()
    assert "5 décembre 2026" in notice.get_content() and "4 décembre 2026" not in notice.get_content()
    life.run("claims", "resolve", str(step_1["id"]), "--outcome", "granted", "--note", "refunded by chat")
    for day in days(date(2026, 11, 29), date(2026, 12, 14)):  # the user settled it: nothing more, ever
        life.sync(day)
        assert life.drafts() == []
        assert [(t, s, st) for t, s, st in life.live()] == [("B", 1, "closed")]
    (row,) = life.orders(date(2026, 12, 14))
    assert "case resolved" in row["reason"]


def test_review_mode_writes_the_notice_when_it_is_released_and_the_termination_quotes_its_deadline(
    dovecot: Dovecot, imap_account: Account, smtp_server: SmtpServer, tmp_path: Path
) -> None:
    life = Life(dovecot, imap_account, tmp_path, FR, smtp_server, mode="review", to="service@retailer.example")
    desk = ("Bureau assis-debout 140 cm",)
    life.mail("shipped", date(2026, 11, 16), 8, desk, promise=date(2026, 11, 18))
    for day in days(date(2026, 11, 16), date(2026, 11, 19)):
        life.sync(day)
    (step_1,) = life.claims()
    life.run("claims", "approve", str(step_1["id"]))
    life.sync(date(2026, 11, 20))  # step 1 leaves on the 20th
    life.sync(date(2026, 11, 23))  # step 2 is written on the 23rd, and waits for the user's review
    notice = next(c for c in life.claims() if c["step"] == 2)
    assert notice["status"] == "queued"
    life.run("claims", "approve", str(notice["id"]))
    life.sync(date(2026, 11, 26))  # ... who approves it three days later: it leaves on the 26th
    sent = [email.message_from_bytes(m.content, policy=policy.default) for m in smtp_server.messages]
    assert len(sent) == 2
    assert "3 décembre 2026" in sent[1].get_content()  # seven full days from the 26th, not from the 23rd
    for day in days(date(2026, 11, 27), date(2026, 12, 3)):
        life.sync(day)
        assert [c["step"] for c in life.claims()] == [1, 2]  # the notice's period is still running
    life.sync(date(2026, 12, 4))
    termination = next(c for c in life.claims() if c["step"] == 3)
    shown = life.run("claims", "show", str(termination["id"]), "--json")
    assert "3 décembre 2026" in shown["body"]  # the deadline the notice stated


def test_a_delivery_email_that_names_no_parcel_waits_for_the_users_word(
    dovecot: Dovecot, imap_account: Account, tmp_path: Path
) -> None:
    life = Life(dovecot, imap_account, tmp_path, EN)
    two_parcels(life, mug_promise=date(2026, 11, 19))
    life.mail("delivered", date(2026, 11, 19), 14, ())  # "Your package has been delivered": which one?
    for day in days(date(2026, 11, 17), date(2026, 11, 25)):
        life.sync(day)
        assert life.live() == []  # neither closed nor claimed on a guess
    rows = life.orders(date(2026, 11, 25))
    assert [(r["shipment"], r["verdict"], bool(r["ambiguous"])) for r in rows] == [
        ("1", "overdue", True), ("2", "overdue", True)]
    assert "lateclaim orders arrived" in rows[0]["reason"]
    life.run("orders", "arrived", ORDER, "--parcel", "2", "--on", "2026-11-20")
    life.sync(date(2026, 11, 25), 18)
    rows = life.orders(date(2026, 11, 25), 18)
    # Parcel 2 came on the 20th, as the user says; the vague email can then only be parcel 1's (on the 19th).
    assert [(r["shipment"], r["verdict"], r["arrived_on"]) for r in rows] == [
        ("1", "on_time", "2026-11-19"), ("2", "late", "2026-11-20")]
    assert [(c["shipment"], c["track"], c["step"]) for c in life.claims()] == [("2", "A", 1)]


def test_a_failed_delivery_attempt_counts_as_made_available_and_ends_the_ladder(
    dovecot: Dovecot, imap_account: Account, tmp_path: Path
) -> None:
    life = Life(dovecot, imap_account, tmp_path, FR)
    chair = ("Chaise pliante en bois",)
    life.mail("shipped", date(2026, 11, 16), 8, chair, promise=date(2026, 11, 18))
    for day in days(date(2026, 11, 16), date(2026, 11, 19)):
        life.sync(day)
    assert life.live() == [("B", 1, "drafted")]  # Thursday midday: where is it?
    life.mail("attempted", date(2026, 11, 19), 15, chair)  # "avis de passage": it waits at the post office
    for day in days(date(2026, 11, 20), date(2026, 12, 6)):
        life.sync(day)
        assert life.live() == [("A", 1, "drafted")]  # the question withdrawn, no notice ever; one day late
    (row,) = life.orders(date(2026, 12, 6))
    assert (row["arrival"], row["arrived_on"], row["verdict"], row["days_late"]) == \
        ("attempted", "2026-11-19", "late", 1)
    assert len(life.drafts()) == 1


def interrupt_a_notice_being_replaced(life: Life) -> None:
    """Step 1 sent, the formal notice drafted, then the pass of the 23rd, which writes the notice again, killed
    between taking the old notice out of Drafts and putting the new one in."""
    lamp = ("Lampe de chevet",)
    life.mail("shipped", date(2026, 11, 16), 8, lamp, promise=date(2026, 11, 17))
    life.sync(date(2026, 11, 18))
    life.send_draft("")  # step 1 leaves (the next pass finds it in Sent, on the 19th)
    for day in days(date(2026, 11, 19), date(2026, 11, 22)):
        life.sync(day)
    assert life.live() == [("B", 1, "sent"), ("B", 2, "drafted")]
    moment = life.moment(date(2026, 11, 23), 12, 30).isoformat()
    os.environ["LATECLAIM_NOW"] = moment  # the same day on any date the test runs
    try:
        crashed = setup.lateclaim("sync", "--once", "--config", life.config, "--as-of", moment,
                                  crash_at="draft_removed")
    finally:
        del os.environ["LATECLAIM_NOW"]
    assert crashed.returncode == -9
    assert life.drafts() == []


def test_a_crash_while_a_notice_is_replaced_in_drafts_loses_no_draft_and_makes_no_second(
    dovecot: Dovecot, imap_account: Account, tmp_path: Path
) -> None:
    life = Life(dovecot, imap_account, tmp_path, FR)
    interrupt_a_notice_being_replaced(life)
    life.sync(date(2026, 11, 23), 13)
    (notice,) = life.drafts()  # put back once, written as of the 23rd: seven days from then
    assert "30 novembre 2026" in notice.get_content()
    assert life.live() == [("B", 1, "sent"), ("B", 2, "drafted")]


def test_amazons_answer_pauses_the_ladder_and_the_next_step_replies_to_it_quoting_it(
    dovecot: Dovecot, imap_account: Account, tmp_path: Path
) -> None:
    life = Life(dovecot, imap_account, tmp_path, FR)
    rug = ("Tapis de salon 160 x 230 cm",)
    life.mail("shipped", date(2026, 11, 16), 8, rug, promise=date(2026, 11, 17))
    life.sync(date(2026, 11, 18))
    question_id = life.send_draft("")
    life.sync(date(2026, 11, 19))
    answer = EmailMessage()
    answer["From"] = "Amazon.fr <cs-reply@amazon.fr>"
    answer["To"] = f"{imap_account.username}@example.com"
    answer["Subject"] = "Re: votre commande"
    answer["Date"] = format_datetime(life.moment(date(2026, 11, 20), 9))
    answer["Message-ID"] = "<answer-4411@cs.amazon.fr>"
    answer["In-Reply-To"] = question_id
    answer.set_content("Bonjour,\n\nNous avons ouvert une enquête auprès du transporteur.\nMerci de patienter.\n\n"
                       "Le service client\n\nLe 19 nov. 2026 à 12:30, vous avez écrit :\n> Bonjour, je n'ai pas reçu")
    life.dovecot.deliver(life.user, setup.received("amazon.fr").encode() + answer.as_bytes())  # authentic
    life.sync(date(2026, 11, 20))
    (step_1,) = life.claims()
    assert step_1["status"] == "answered"
    for day in days(date(2026, 11, 21), date(2026, 11, 25)):
        life.sync(day)
        assert life.live() == [("B", 1, "answered")]  # paused: the answer may settle it
    life.run("claims", "next", str(step_1["id"]))
    life.sync(date(2026, 11, 25), 15)
    (notice,) = life.drafts()
    assert notice["In-Reply-To"] == "<answer-4411@cs.amazon.fr>"
    assert question_id in str(notice["References"])
    body = notice.get_content()
    assert 'Le 20 novembre 2026, "Amazon.fr" <cs-reply@amazon.fr> a écrit :' in body
    assert "> Nous avons ouvert une enquête auprès du transporteur." in body
    assert "vous avez écrit" not in body and "je n'ai pas reçu" not in body  # its own words only


# -- The key situations on every other marketplace ------------------------------------------------------------


@dataclass(frozen=True)
class Expected:
    """What a user of a marketplace should read: the letter's language, how it writes two days and the promised
    Thursday 19 November 2026, and the law its formal step cites (None: the country has no such law, and the
    letter must cite none)."""
    mail: Language
    language: str
    two_days: str
    thursday_19: str
    law: str | None
    first_working_day: date = date(2026, 11, 23)  # after Friday 20 November 2026


ELSEWHERE = [
    Expected(IT, "it", "2 giorni", "giovedì 19 novembre 2026", "articolo 61, comma 3, del Codice del consumo"),
    Expected(ES, "es", "2 días", "jueves 19 de noviembre de 2026", "artículo 66 bis, apartado 2"),
    Expected(US, "en", "2 days", "Thursday, November 19, 2026", None),
    # Canada's law is the province's: no province known (no claims.country, no postal address), no citation.
    Expected(CA, "en", "2 days", "Thursday, November 19, 2026", None),
    Expected(CA_FR, "fr", "2 jours", "jeudi 19 novembre 2026", None),
    Expected(NL, "nl", "2 dagen", "donderdag 19 november 2026", "artikel 7:19a lid 2 van het Burgerlijk Wetboek"),
    # Japanese letters, with no law (Japan has no termination ladder in law.toml). Monday 23 November is Labour
    # Thanksgiving Day there.
    Expected(JP, "ja", "2日", "2026年11月19日（木）", None, date(2026, 11, 24)),
]
# Any of these in a letter for a country whose law it is not is a wrong citation.
CITATIONS = ("Code de la consommation", "Consumer Rights Act", "BGB", "Codice del consumo", "66 bis", "2011/83",
             "P-40.1", "Burgerlijk Wetboek")


def marketplaces(*wanted: str) -> pytest.MarkDecorator:
    """The marketplaces whose mail of the `wanted` kinds is documented, as a parameter of the test."""
    chosen = [e for e in ELSEWHERE if all(kind in e.mail.subjects for kind in wanted)]
    return pytest.mark.parametrize("expected", chosen, ids=[f"{e.mail.domain}-{e.language}" for e in chosen])


@marketplaces()
def test_elsewhere_a_parcel_two_days_late_gets_the_goodwill_request_and_nothing_more(
    dovecot: Dovecot, imap_account: Account, tmp_path: Path, expected: Expected
) -> None:
    life = Life(dovecot, imap_account, tmp_path, expected.mail)
    life.mail("shipped", date(2026, 11, 17), 8, (KETTLE,), promise=date(2026, 11, 19))
    for day in days(date(2026, 11, 17), date(2026, 11, 19)):
        life.sync(day)
        assert life.live() == [] and life.drafts() == []
    life.sync(date(2026, 11, 20))  # Friday midday: "where is my parcel?" (withdrawn once it comes)
    life.mail("delivered", date(2026, 11, 21), 15, (KETTLE,))  # Saturday: it came, two days late
    life.sync(date(2026, 11, 21), 18)
    for day in [date(2026, 11, 21), *days(date(2026, 11, 22), date(2026, 11, 30))]:
        life.sync(day, 18)
        assert life.live() == [("A", 1, "drafted")]
        (goodwill,) = life.drafts()
    (claim,) = [c for c in life.claims() if c["status"] == "drafted"]
    assert (claim["order_id"], claim["language"]) == (ORDER, expected.language)
    body = goodwill.get_content()
    assert ORDER in body and KETTLE in body and expected.two_days in body and expected.thursday_19 in body
    assert not any(citation in body for citation in CITATIONS)  # a goodwill request cites no law
    assert expected.language == "en" or "Customer Service" not in body  # the note's site labels: its language
    (row,) = life.orders(date(2026, 11, 30))
    assert (row["marketplace"], row["verdict"], row["days_late"], row["arrival"]) == \
        (expected.mail.domain, "late", 2, "delivered")


@marketplaces()
def test_elsewhere_an_order_in_two_parcels_claims_the_one_that_never_came_citing_the_countrys_law(
    dovecot: Dovecot, imap_account: Account, tmp_path: Path, expected: Expected
) -> None:
    life = Life(dovecot, imap_account, tmp_path, expected.mail)
    confirmed = "ordered" in expected.mail.subjects  # where the marketplace's order confirmation is documented
    if confirmed:  # one date for the whole order: the mug's first promise is Thursday's too
        life.mail("ordered", date(2026, 11, 16), 9, (KETTLE, MUG), promise=date(2026, 11, 19))
    life.mail("shipped", date(2026, 11, 17), 8, (KETTLE,), promise=date(2026, 11, 19))
    life.mail("shipped", date(2026, 11, 18), 8, (MUG,), promise=date(2026, 11, 20))
    life.mail("delivered", date(2026, 11, 19), 14, (KETTLE,))
    before = date.fromordinal(expected.first_working_day.toordinal() - 1)
    for day in days(date(2026, 11, 17), before):
        life.sync(day)
        assert life.live() == []  # Friday's parcel: not before the next working day
    rows = life.orders(before)
    assert [(r["shipment"], r["verdict"], r["items"]) for r in rows] == [
        ("1", "on_time", [KETTLE]), ("2", "overdue", [MUG])]
    life.sync(expected.first_working_day)
    (question,) = life.claims()
    assert (question["shipment"], question["track"], question["step"], question["status"], question["language"]) \
        == ("2", "B", 1, "drafted", expected.language)
    (draft,) = life.drafts()
    body = draft.get_content()
    assert ORDER in body and MUG in body
    # The first promise is the one that counts: the order confirmation's (whose subject names the kettle), else
    # the mug's own shipment notice, which never names the kettle.
    assert (expected.thursday_19 in body) is confirmed and (confirmed or KETTLE not in body)
    life.send_draft("")  # the user sends it; no answer comes
    for day in days(date.fromordinal(expected.first_working_day.toordinal() + 1), date(2026, 12, 1)):
        life.sync(day)
    assert [(c["shipment"], c["track"], c["step"], c["status"]) for c in life.claims()] == [
        ("2", "B", 1, "sent"), ("2", "B", 2, "drafted")]
    (formal,) = life.drafts()
    body = formal.get_content()
    assert MUG in body and (confirmed or KETTLE not in body)
    if expected.law is None:
        assert not any(citation in body for citation in CITATIONS)
    else:
        assert expected.law in body
        assert [c for c in CITATIONS if c in body] == [c for c in CITATIONS if c in expected.law]


@marketplaces("pickup_ready")
def test_elsewhere_a_parcel_waiting_at_a_locker_is_never_escalated(
    dovecot: Dovecot, imap_account: Account, tmp_path: Path, expected: Expected
) -> None:
    life = Life(dovecot, imap_account, tmp_path, expected.mail)
    life.mail("shipped", date(2026, 11, 16), 8, (KETTLE,), promise=date(2026, 11, 18))
    life.mail("pickup_ready", date(2026, 11, 19), 10, (KETTLE,))  # a day late, in the locker, never collected
    for day in days(date(2026, 11, 16), date(2026, 12, 4)):
        life.sync(day)
        assert all(track == "A" for track, _, _ in life.live())
    assert life.live() == [("A", 1, "drafted")]
    (claim,) = life.claims()
    assert claim["language"] == expected.language
    (row,) = life.orders(date(2026, 12, 4))
    assert (row["verdict"], row["arrival"], row["arrived_on"], row["days_late"]) == \
        ("late", "pickup_ready", "2026-11-19", 1)


@pytest.mark.parametrize("mail", [US_BY_ORDER, IT_BY_ORDER], ids=["amazon.com", "amazon.it"])
def test_elsewhere_a_delivery_email_naming_only_the_order_closes_its_only_parcel(
    dovecot: Dovecot, imap_account: Account, tmp_path: Path, mail: Language
) -> None:
    life = Life(dovecot, imap_account, tmp_path, mail)
    life.mail("shipped", date(2026, 11, 17), 8, (KETTLE,), promise=date(2026, 11, 19))
    for day in days(date(2026, 11, 17), date(2026, 11, 26)):
        if day == date(2026, 11, 21):  # "Delivered: Your Amazon.com order #...", "1 item": two days late
            life.mail("delivered", day, 15, ())
        life.sync(day, 18)
        assert [track for track, _, _ in life.live()] == (
            [] if day < date(2026, 11, 20) else ["B"] if day == date(2026, 11, 20) else ["A"])
    (row,) = life.orders(date(2026, 11, 26))
    assert (row["verdict"], row["days_late"], row["arrived_on"], row["ambiguous"]) == ("late", 2, "2026-11-21", None)


@pytest.mark.parametrize("mail", [US, CA], ids=["amazon.com", "amazon.ca"])
def test_elsewhere_a_delivery_update_running_late_moves_the_question_to_the_new_date(
    dovecot: Dovecot, imap_account: Account, tmp_path: Path, mail: Language
) -> None:
    life = Life(dovecot, imap_account, tmp_path, mail)
    # "Delivery update: ..." / "running late" / "Now expected Friday, November 20" (corpus 006's shape)
    delayed_then_asked(life, (KETTLE,))
    (question,) = life.drafts()
    assert "Tuesday, November 17, 2026" in question.get_content()  # the first promise is the one that counts


@pytest.mark.parametrize(("mail", "promise", "holiday"), [
    (US, date(2026, 11, 25), date(2026, 11, 26)),  # Thanksgiving
    (IT, date(2026, 12, 7), date(2026, 12, 8)),  # Immacolata Concezione
    (ES, date(2026, 12, 7), date(2026, 12, 8)),  # Inmaculada Concepción
], ids=["amazon.com", "amazon.it", "amazon.es"])
def test_elsewhere_the_question_waits_for_a_working_day_of_the_marketplaces_country(
    dovecot: Dovecot, imap_account: Account, tmp_path: Path, mail: Language, promise: date, holiday: date
) -> None:
    life = Life(dovecot, imap_account, tmp_path, mail)
    life.mail("shipped", date.fromordinal(promise.toordinal() - 2), 8, (KETTLE,), promise=promise)
    for day in days(date.fromordinal(promise.toordinal() - 2), holiday):
        life.sync(day, 18)
        assert life.live() == []  # the day after the promise is a public holiday there: nobody reads it
    (row,) = life.orders(holiday, 18)
    after = date.fromordinal(holiday.toordinal() + 1)
    assert f"step 1 due {after.strftime('%a')} {after.day} {after.strftime('%b')} 12:00" in row["reason"]
    life.sync(after, 11, 59)
    assert life.live() == []
    life.sync(after, 12, 30)
    assert life.live() == [("B", 1, "drafted")]


@pytest.mark.parametrize("mail", [US, IT, ES, JP], ids=["amazon.com", "amazon.it", "amazon.es", "amazon.co.jp"])
def test_elsewhere_a_delivery_notice_naming_its_item_only_in_the_subject_closes_that_parcel_alone(
    dovecot: Dovecot, imap_account: Account, tmp_path: Path, mail: Language
) -> None:
    life = Life(dovecot, imap_account, tmp_path, mail)
    life.mail("shipped", date(2026, 11, 17), 8, (KETTLE,), promise=date(2026, 11, 19))
    life.mail("shipped", date(2026, 11, 18), 8, (MUG,), promise=date(2026, 11, 19))
    # 'Delivered: "Electric Kettle..."' over a body that lists no item: the subject says which parcel came
    life.dovecot.deliver(life.user, amazon_mail(mail, "delivered", ORDER, life.moment(date(2026, 11, 19), 14),
                                                (KETTLE,), listed=False))
    life.sync(date(2026, 11, 22))
    rows = life.orders(date(2026, 11, 22))
    assert [(r["items"], r["verdict"], r["ambiguous"]) for r in rows] == [
        ([KETTLE], "on_time", None), ([MUG], "overdue", None)]
