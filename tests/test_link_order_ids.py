"""Order ids from Amazon's own links: the orderId parameter of an order, returns or tracking page, also inside
Amazon's redirect links; never a recommendation's reference, a product page, another site, or a link below the
recommendations."""

from __future__ import annotations

import pytest

from parsers import parse
from parsers.html import link_order_ids

ID = "113-4455667-7788990"


@pytest.mark.parametrize(("href", "found"), [
    (f"https://www.amazon.com/gp/your-account/order-details?ie=UTF8&orderID={ID}", [ID]),
    (f"https://www.amazon.de/spr/returns/prep?ref_=pe&orderId={ID}&itemId=x", [ID]),
    (f"https://www.amazon.co.uk/progress-tracker/package?orderId={ID}&shipmentId=D1", [ID]),
    ("https://www.amazon.com/gp/r.html?C=1&U=https%3A%2F%2Fwww.amazon.com%2Fyour-orders%2Forder-details%3F"
     f"orderID%3D{ID}", [ID]),  # Amazon's redirect around its own link
    (f"https://www.amazon.com/dp/B0X?orderId={ID}", []),  # a product page
    (f"https://www.amazon.com/gp/buyagain?orderId={ID}", []),
    (f"https://evil.example/order-details?orderId={ID}", []),  # another site
    (f"https://www.amazon.com.evil.example/order-details?orderId={ID}", []),
    (f"https://www.amazon.com/gp/r.html/ref%2Fpd_te_s_rp_im%2F{ID}%2FB0ABCDEFGH", []),  # a recommendation's ref
    (f"https://www.amazon.com/gp/your-account/order-details?orderID={ID}x", []),
    (f"javascript:alert('https://www.amazon.com/order-details?orderId={ID}')", []),
])
def test_an_order_id_comes_from_amazons_own_order_pages_only(href: str, found: list[str]) -> None:
    assert link_order_ids(href) == found


def _refund(links: str) -> bytes:
    return ("From: \"Amazon.com\" <return@amazon.com>\r\nSubject: Your refund for Wireless mouse\r\n"
            "Date: Wed, 10 Jun 2026 16:00:00 +0000\r\nMessage-ID: <refund@example.com>\r\n"
            "Content-Type: text/html; charset=utf-8\r\n\r\n"
            f"<html><body><p>Hi Alex,</p><p>We've issued your refund of $24.99.</p>{links}</body></html>\r\n").encode()


def test_a_refund_printing_no_order_number_takes_its_returns_links_but_not_one_below_the_recommendations() -> None:
    own = f'<a href="https://www.amazon.com/spr/returns/prep?orderId={ID}">View return</a>'
    other = '<a href="https://www.amazon.com/gp/your-account/order-details?orderID=113-9999999-1111111">Order</a>'
    assert parse(_refund(own)).events[0].order_ids == (ID,)
    (event,) = parse(_refund(f"{own}<h3>Recommended for you</h3>{other}")).events
    assert event.order_ids == (ID,)
    (event,) = parse(_refund(f"<h3>Recommended for you</h3>{other}")).events
    assert event.order_ids == ()
