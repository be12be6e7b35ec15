"""Tying an email to its parcel (issue 20, issue 19 item 5): revisions revise, elimination across the account for
emails that name no order, and a seller's relayed words are never a fact."""

from __future__ import annotations

from dataclasses import replace
from datetime import date

from parsers.model import DateWindow, EventKind, MessageInfo
from rules.timeline import Sighting, timelines
from tests.rules_helpers import ORDER, at, delivered, ordered, sighting

OTHER = "171-7654321-7654321"


def shipped(promise: date, sent_day: int, **kw: object) -> Sighting:
    return sighting(EventKind.SHIPPED, at(2026, 11, sent_day), promise=promise, **kw)  # type: ignore[arg-type]


def revision(new: date, sent_day: int, **kw: object) -> Sighting:
    """"Your package is arriving earlier than we previously expected. It's now arriving: ...": no items, no
    tracking id."""
    found = sighting(EventKind.SHIPPED, at(2026, 11, sent_day), promise=new, **kw)  # type: ignore[arg-type]
    return Sighting(found.message, replace(found.event, revision=True))


def test_an_arriving_early_email_revises_its_parcel_and_makes_no_second_one() -> None:
    (parcel,) = timelines([ordered(date(2026, 11, 20)), shipped(date(2026, 11, 20), 16, items=("Bouilloire",)),
                           revision(date(2026, 11, 17), 16)])
    assert parcel.promise == DateWindow.on(date(2026, 11, 20))  # an early date does not tighten the promise
    assert [s.event.revision for s in parcel.revisions] == [True]
    assert parcel.expected == DateWindow.on(date(2026, 11, 20))


def test_a_revision_of_one_parcel_of_two_goes_to_the_one_whose_date_it_revises() -> None:
    first = shipped(date(2026, 11, 19), 16, items=("Bouilloire",))
    second = shipped(date(2026, 11, 21), 17, items=("Lampe",))
    update = sighting(EventKind.SHIPPED, at(2026, 11, 18), promise=date(2026, 11, 20), previous=date(2026, 11, 21))
    a, b = timelines([first, second, Sighting(update.message, replace(update.event, revision=True))])
    assert (a.revisions, len(b.revisions)) == ((), 1)
    assert b.expected == DateWindow.on(date(2026, 11, 21))


def test_an_unnamed_delivery_is_tied_to_the_one_open_parcel_of_the_account() -> None:
    mine = shipped(date(2026, 11, 19), 16, order=ORDER)
    elsewhere = shipped(date(2026, 11, 19), 16, order=OTHER, marketplace="amazon.de", language="de")
    done = shipped(date(2026, 11, 12), 10, order="171-1111111-1111111")
    closed = delivered(at(2026, 11, 12, 15), order="171-1111111-1111111")
    parcels = {p.order_id: p for p in timelines([mine, elsewhere, done, closed, delivered(at(2026, 11, 18, 15),
                                                                                          order=())])}
    assert parcels[ORDER].delivered_on == date(2026, 11, 18)  # amazon.fr: the only open one there
    assert not parcels[OTHER].arrived  # another marketplace
    assert not parcels[ORDER].ambiguous


def test_an_unnamed_delivery_that_could_be_either_of_two_parcels_closes_neither() -> None:
    a, b = timelines([shipped(date(2026, 11, 19), 16, order=ORDER), shipped(date(2026, 11, 19), 16, order=OTHER),
                      delivered(at(2026, 11, 18, 15), order=())])
    assert not a.arrived and not b.arrived
    assert a.ambiguous and b.ambiguous


def test_the_items_an_unnamed_email_names_tell_the_parcels_apart() -> None:
    a, b = timelines([shipped(date(2026, 11, 19), 16, order=ORDER, items=("Bouilloire inox",)),
                      shipped(date(2026, 11, 19), 16, order=OTHER, items=("Lampe de bureau",)),
                      delivered(at(2026, 11, 18, 15), order=(), items=("Lampe de bureau LED",))])
    assert (a.arrived, b.arrived) == (False, True)


def test_a_later_named_delivery_leaves_one_candidate_for_an_unnamed_one() -> None:
    a, b = timelines([shipped(date(2026, 11, 19), 16, order=ORDER), shipped(date(2026, 11, 19), 16, order=OTHER),
                      delivered(at(2026, 11, 18, 15), order=()), delivered(at(2026, 11, 19, 15), order=OTHER)])
    assert (a.delivered_on, b.delivered_on) == (date(2026, 11, 18), date(2026, 11, 19))
    assert not a.ambiguous and not b.ambiguous


def test_an_unnamed_refund_naming_the_items_closes_their_parcel() -> None:
    refund = sighting(EventKind.REFUNDED, at(2026, 11, 18), order=(), items=("Lampe de bureau",))
    refund = Sighting(refund.message, replace(refund.event, refund_scope="items"))
    a, b = timelines([shipped(date(2026, 11, 19), 16, order=ORDER, items=("Bouilloire inox",)),
                      shipped(date(2026, 11, 19), 16, order=OTHER, items=("Lampe de bureau",)), refund])
    assert (a.cancelled, b.cancelled) == (False, True)


def test_a_sellers_relayed_message_delivers_nothing() -> None:
    said = delivered(at(2026, 11, 18, 15))
    relayed = Sighting(replace(said.message, sender="seller-x1y2@marketplace.amazon.fr"), said.event)
    assert relayed.message.seller_relayed and not said.message.seller_relayed
    (parcel,) = timelines([shipped(date(2026, 11, 19), 16), relayed])
    assert not parcel.arrived
    assert MessageInfo("x", sender="a@marketplace.amazon.co.uk").seller_relayed
    assert not MessageInfo("x", sender="a@amazon.co.uk").seller_relayed
    assert not MessageInfo("x", sender="a@marketplace.amazon.evil.example").seller_relayed


def _email(subject: str, body: str, sent: str) -> bytes:
    return (f'From: "Amazon.com" <shipment-tracking@amazon.com>\r\nSubject: {subject}\r\nDate: {sent}\r\n'
            f"Message-ID: <{''.join(c for c in sent if c.isalnum())}@example.com>\r\n"
            "Content-Type: text/plain; charset=utf-8\r\n\r\n"
            f"{body}\r\n").encode()


def test_read_from_the_emails_an_early_arrival_leaves_one_parcel_on_time() -> None:
    """The issue's case, through parse(): shipped for Thursday 19, "arriving early: Tuesday 17", delivered on
    the 17th. One parcel, promised the 19th, on time: no "where is my parcel?" for a second one."""
    from pathlib import Path

    from parsers import parse
    from rules.verdict import VerdictKind, verdict
    from tests.rules_helpers import policy

    order = "113-2233445-5667788"
    shipped_raw = _email(f"Your Amazon.com order #{order} has shipped",
                         f"We've shipped your item.\r\nArriving: Thursday, November 19\r\nOrder # {order}\r\n"
                         "* Electric kettle 1.7 L", "Fri, 13 Nov 2026 10:00:00 +0000")
    early_raw = (Path(__file__).parent / "fixtures" / "amazon" / "us" / "revised_arriving_early_1.eml").read_bytes()
    delivered_raw = _email(f"Delivered: Your Amazon.com order #{order}",
                           f"Your package has been delivered.\r\nOrder # {order}", "Tue, 17 Nov 2026 18:00:00 +0000")
    found = [Sighting(r.message, e) for r in map(parse, (shipped_raw, early_raw, delivered_raw)) for e in r.events]
    assert [s.event.revision for s in found] == [False, True, False]
    (parcel,) = timelines(found)
    assert parcel.promise == DateWindow.on(date(2026, 11, 19))
    assert parcel.delivered_on == date(2026, 11, 17)
    assert verdict(parcel, at(2026, 11, 24), policy()).kind is VerdictKind.ON_TIME
