from __future__ import annotations

import random
from dataclasses import replace
from datetime import date

from parsers.model import DateWindow, EventKind, Price
from rules.timeline import Sighting, timelines
from tests.rules_helpers import ORDER, at, delivered, one, ordered, sighting

DEC_2 = date(2026, 12, 2)


def test_the_first_promise_counts_and_later_ones_are_revisions() -> None:
    first = ordered(DEC_2, guaranteed=True)
    shipped = sighting(EventKind.SHIPPED, at(2026, 11, 29), promise=date(2026, 12, 4))
    delay = sighting(EventKind.DELAYED, at(2026, 12, 3), promise=date(2026, 12, 6), previous=date(2026, 12, 4))
    shipment = one(delay, shipped, first)  # arrival order does not matter: emails sort by their Date
    assert shipment.promise == DateWindow.on(DEC_2)
    assert shipment.promise_source == first
    assert shipment.guaranteed is True
    assert shipment.revisions == (shipped, delay)
    assert shipment.sightings == (first, shipped, delay)


def test_a_shipped_email_restating_the_promise_is_no_revision() -> None:
    shipment = one(ordered(DEC_2), sighting(EventKind.SHIPPED, at(2026, 11, 30), promise=DEC_2))
    assert shipment.revisions == ()


def test_previously_expected_counts_as_the_promise_when_nothing_earlier_was_seen() -> None:
    delay = sighting(EventKind.DELAYED, at(2026, 12, 3), promise=date(2026, 12, 8), previous=DEC_2,
                     evidence="Précédemment prévu : mercredi 2 décembre")
    shipment = one(delay)
    assert shipment.promise == DateWindow.on(DEC_2)
    assert shipment.promise_source == delay
    assert shipment.revisions == (delay,)


def test_a_delay_alone_gives_no_promise() -> None:
    shipment = one(sighting(EventKind.DELAYED, at(2026, 12, 3), promise=date(2026, 12, 8)))
    assert shipment.promise is None
    assert shipment.promise_source is None
    assert shipment.authenticated is False  # nothing authentic drives it


def test_out_for_delivery_does_not_set_the_promise() -> None:
    ofd = sighting(EventKind.OUT_FOR_DELIVERY, at(2026, 12, 5), promise=date(2026, 12, 5))
    shipment = one(ofd, ordered(DEC_2))
    assert shipment.promise == DateWindow.on(DEC_2)
    assert shipment.revisions == (ofd,)


def test_orders_are_grouped_and_sorted_whatever_the_input_order() -> None:
    other = "402-7654321-7654321"
    sightings = [
        ordered(DEC_2),
        ordered(date(2026, 12, 10), order=other),
        delivered(at(2026, 12, 2, 15)),
        delivered(at(2026, 12, 9, 15), order=other),
    ]
    expected = timelines(sightings)
    assert [(s.order_id, s.shipment) for s in expected] == [(ORDER, "1"), (other, "1")]
    for seed in range(5):
        shuffled = sightings[:]
        random.Random(seed).shuffle(shuffled)
        assert timelines(shuffled) == expected


def test_an_email_showing_two_order_ids_joins_them_under_the_first_seen() -> None:
    alias = "171-0000000-0000001"
    shipment = one(ordered(DEC_2), delivered(at(2026, 12, 2, 15), order=(alias, ORDER)))
    assert shipment.order_id == ORDER
    assert shipment.delivered_on == date(2026, 12, 2)
    assert shipment.order_ids == (ORDER, alias)


def test_an_email_without_order_number_is_tied_to_nothing() -> None:
    assert timelines([delivered(at(2026, 12, 2), order=())]) == []


def test_an_order_confirmation_applies_to_each_parcel_and_a_delivery_closes_only_the_one_it_names() -> None:
    order = ordered(DEC_2, items=("Bouilloire", "Lampe"))
    first = sighting(EventKind.SHIPPED, at(2026, 11, 29), promise=DEC_2, items=("Bouilloire",))
    second = sighting(EventKind.SHIPPED, at(2026, 11, 30), promise=date(2026, 12, 5), items=("Lampe",))
    arrived = delivered(at(2026, 12, 2, 14), items=("Bouilloire inox 1,7 L",))
    a, b = timelines([order, first, second, arrived])
    assert (a.shipment, b.shipment) == ("1", "2")
    assert a.parcels_in_order == b.parcels_in_order == 2
    assert a.promise == b.promise == DateWindow.on(DEC_2)  # the order's promise, for both parcels
    assert b.revisions == (second,)
    assert a.delivered_on == date(2026, 12, 2)
    assert b.delivered_on is None and not b.delivered


def test_without_any_shipment_key_the_order_is_one_shipment() -> None:
    shipment = one(ordered(DEC_2), delivered(at(2026, 12, 2, 14)))
    assert shipment.shipment == "1"


def test_the_delivery_date_stated_by_the_email_wins() -> None:
    shipment = one(ordered(DEC_2), delivered(at(2026, 12, 4, 8), delivered_on=date(2026, 12, 3)))
    assert shipment.delivered_on == date(2026, 12, 3)


def test_a_delivery_email_sent_at_23_30_utc_is_the_next_day_in_paris() -> None:
    shipment = one(ordered(DEC_2), delivered(at(2026, 12, 2, 23, 30)))
    assert shipment.delivered_on == date(2026, 12, 3)


def test_a_delivery_email_without_date_still_counts_as_a_delivery() -> None:
    shipment = one(ordered(DEC_2), delivered(None))
    assert shipment.delivered and shipment.delivered_on is None


def test_authenticated_only_when_promise_and_delivery_are_authentic() -> None:
    assert one(ordered(DEC_2), delivered(at(2026, 12, 2, 14))).authenticated is True
    assert one(ordered(DEC_2)).authenticated is True
    assert one(ordered(DEC_2, authenticated=False)).authenticated is False
    assert one(ordered(DEC_2, authenticated=None)).authenticated is False
    assert one(ordered(DEC_2), delivered(at(2026, 12, 2, 14), authenticated=None)).authenticated is False
    assert one(ordered(DEC_2, forwarded=True)).authenticated is False
    # A spoofed revision does not matter: it drives nothing.
    spoof = sighting(EventKind.DELAYED, at(2026, 12, 1), promise=date(2026, 12, 9), authenticated=False)
    assert one(ordered(DEC_2), spoof).authenticated is True


def test_cancelled_or_refunded_orders_are_marked() -> None:
    assert one(ordered(DEC_2), sighting(EventKind.CANCELLED, at(2026, 11, 29))).cancelled
    assert one(ordered(DEC_2), refund(scope="order")).cancelled
    assert not one(ordered(DEC_2)).cancelled


def refund(scope: str | None = None, items: tuple[str, ...] = ()) -> Sighting:
    found = sighting(EventKind.REFUNDED, at(2026, 12, 9), items=items)
    return Sighting(found.message, replace(found.event, refund_scope=scope, total=Price("12,99 €")))


def test_a_refund_closes_only_the_parcels_whose_items_it_names_and_pauses_on_anything_less() -> None:
    shipped = [ordered(DEC_2, items=("Bouilloire", "Lampe")),
               sighting(EventKind.SHIPPED, at(2026, 11, 29), promise=DEC_2, items=("Bouilloire",)),
               sighting(EventKind.SHIPPED, at(2026, 11, 29, 10), promise=DEC_2, items=("Lampe",))]
    kettle, lamp = timelines([*shipped, refund(items=("Bouilloire",))])
    assert kettle.cancelled and not lamp.cancelled and not lamp.paused
    kettle, lamp = timelines([*shipped, refund(scope="goodwill")])
    assert not kettle.cancelled and "goodwill refund (12,99 €)" in kettle.paused and lamp.paused
    (alone,) = timelines([ordered(DEC_2), refund()])  # names nothing: not closed on a guess, paused
    assert not alone.cancelled and "names no item" in alone.paused
    kettle, lamp = timelines([*shipped, refund(scope="order")])
    assert kettle.cancelled and lamp.cancelled


def test_items_merge_in_order_and_language_comes_from_the_promise() -> None:
    shipment = one(
        sighting(EventKind.SHIPPED, at(2026, 11, 29), items=("Lampe", "Bouilloire"), language="en"),
        ordered(DEC_2, items=("Bouilloire",), language="fr"),
    )
    assert shipment.items == ("Bouilloire", "Lampe")
    assert shipment.language == "fr"
