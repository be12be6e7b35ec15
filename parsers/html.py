"""One HTML part read once by BeautifulSoup (lxml builder), and everything lateclaim needs from it.

The text phrases are matched against is the text a person sees: no head, title, style, script or comment, and no
attribute value (an `alt="Arriving: Friday"` is not a sentence of the email). Facts that Amazon puts in
attributes are read as attributes: an item's title from its product image's alt text, an order id from the
`orderId` parameter of Amazon's own order and returns links. One walk of the parsed tree collects all of it in
document order, so every reader shares one parse.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cached_property
from urllib.parse import parse_qsl, urlsplit

from bs4 import BeautifulSoup
from bs4.element import NavigableString, PageElement, Tag

from parsers.marketplaces import marketplace_of

HIDDEN = frozenset({"title", "style", "script", "template"})  # never shown by a mail client, nor is <head>
HEADINGS = frozenset({"h1", "h2", "h3"})
ORDER_ID = re.compile(r"\d{3}-\d{7}-\d{7}")
ORDER_PARAMETERS = frozenset({"orderid", "orderids", "order_id"})  # lowercased: orderId, orderID
# The pages an order id parameter is Amazon's own reference on: order details, returns, tracking, shipments
# ("/gp/your-account/order-details", "/spr/returns/prep", "/progress-tracker/package"), not a product or
# "buy again" page.
ORDER_PAGES = ("order", "return", "track", "ship")
MAX_LINKS = 400  # links looked at for order ids: a real email has 50-200
MAX_IMAGES = 200
MAX_TAGS = 20_000  # real emails have 1,000-3,000 tags; BeautifulSoup spends some 15 µs on each
MAX_HEADINGS_TRIED = 12  # heading elements read for their text (nested ones would be read again and again)
MAX_NESTED_URL = 2  # Amazon's redirect links carry the target URL in a parameter (…/gp/r.html?U=https%3A…)


@dataclass(frozen=True)
class Image:
    src: str
    alt: str
    before: int  # how many text runs came before it: where it sits relative to a heading


@dataclass(frozen=True)
class Page:
    """What one HTML part shows and states."""

    runs: tuple[str, ...]  # the visible text runs, in reading order
    links: frozenset[int]  # indexes of the runs that are a link's text (a navigation bar, a button)
    headings: tuple[str, ...]  # the first three <h1>-<h3> texts
    images: tuple[Image, ...]
    order_links: tuple[tuple[str, int], ...]  # (order id, text runs above its link) from Amazon's own links
    json_ld: tuple[str, ...]  # schema.org blocks (<script type="application/ld+json">), not inside a comment

    @property
    def text(self) -> str:
        return "\n".join(self.runs)

    def recommendations_at(self, stops: tuple[str, ...]) -> int:
        """The index of the run that heads the first recommendation block: text starting with one of `stops`
        that is not a link's (a navigation bar's "Buy it again" is one); len(runs) when there is none."""
        return next((index for index, run in enumerate(self.runs)
                     if run.strip().lower().startswith(stops) and index not in self.links), len(self.runs))

    @cached_property
    def link_flags(self) -> dict[str, tuple[bool, ...]]:
        """For each short text (stripped, lowercased), whether each of its occurrences, in order, is a link's text:
        a navigation bar's "Buy it again" is one, the heading of the block of products below is not."""
        flags: dict[str, list[bool]] = {}
        for index, run in enumerate(self.runs):
            if len(key := run.strip().lower()) <= 80:
                flags.setdefault(key, []).append(index in self.links)
        return {key: tuple(value) for key, value in flags.items()}


def soup(html: str | bytes) -> BeautifulSoup:
    """The one parse. Bytes let BeautifulSoup find the charset in the document's own <meta> when the MIME part
    declared none."""
    # multi_valued_attributes=None: "class" stays one string; splitting it, which nothing here reads, was a
    # sixth of the parse.
    return BeautifulSoup(html, "lxml", multi_valued_attributes=None)


def bounded(html: str | bytes) -> str | bytes:
    """At most MAX_TAGS tags: cut before the next "<" (the parser closes what is left open)."""
    opening: str | bytes = "<" if isinstance(html, str) else b"<"
    if html.count(opening) <= MAX_TAGS:  # type: ignore[arg-type]
        return html
    at = -1
    for _ in range(MAX_TAGS):
        at = html.find(opening, at + 1)  # type: ignore[arg-type]
    return html[:at]


def read(html: str | bytes) -> Page:  # noqa: C901 - one walk of a hostile page gathers all it yields, not one walk each
    document = soup(bounded(html))
    runs: list[str] = []
    links: set[int] = set()
    headings: list[str] = []
    images: list[Image] = []
    orders: dict[str, int] = {}
    json_ld: list[str] = []
    link_count = headings_tried = 0
    # Depth-first, with an explicit stack (no recursion limit on hostile nesting); a stack entry is a node,
    # whether it sits inside a link, and whether it is shown (not inside <head>, where JSON-LD may still be).
    stack: list[tuple[PageElement, bool, bool]] = [(document, False, True)]
    while stack:
        node, in_link, shown = stack.pop()
        if isinstance(node, NavigableString):
            # Only a plain string is shown: not a Comment, CData, Doctype or processing instruction.
            if shown and type(node) is NavigableString and node.strip():
                if in_link:
                    links.add(len(runs))
                runs.append(str(node))
            continue
        if not isinstance(node, Tag):
            continue
        name = node.name
        if name in HIDDEN:
            if name == "script" and str(node.get("type", "")).strip().lower() == "application/ld+json":
                json_ld.append(node.get_text())
            continue
        if name == "head":
            shown = False
        elif name == "img" and len(images) < MAX_IMAGES:
            images.append(Image(str(node.get("src", "")), " ".join(str(node.get("alt", "")).split()), len(runs)))
        elif name == "a":
            in_link = True
            link_count += 1
            href = str(node.get("href") or "")
            # Substring first: most links (images, recommendations, help) carry no order parameter at all.
            if link_count <= MAX_LINKS and "orderid" in href.lower():
                for found in link_order_ids(href):
                    orders.setdefault(found, len(runs))
        elif name in HEADINGS and len(headings) < 3 and headings_tried < MAX_HEADINGS_TRIED:
            headings_tried += 1
            if heading := " ".join(node.get_text(" ")[:2000].split()):
                headings.append(heading[:300])
        stack.extend((child, in_link, shown) for child in reversed(node.contents))
    return Page(tuple(runs), frozenset(links), tuple(headings), tuple(images), tuple(orders.items()),
                tuple(json_ld))


def link_order_ids(href: str, depth: int = 0) -> list[str]:
    """The order ids an Amazon link carries as a parameter of an order, returns or tracking page
    (`order-details?orderID=…`, `returns/prep?…&orderId=…`), also inside the redirect links Amazon wraps them in.
    A path or a `ref` (`…/ref=pd_…%2F143-…`: a recommendation's tracking reference) never gives one, nor a
    product page, nor a link to another site."""
    try:
        parts = urlsplit(href.strip())
    except ValueError:
        return []
    if parts.scheme not in ("http", "https") or marketplace_of(parts.hostname or "") is None:
        return []
    found = []
    own_page = any(page in parts.path.lower() for page in ORDER_PAGES)
    for key, value in parse_qsl(parts.query):
        if key.lower() in ORDER_PARAMETERS and own_page:
            found += [v for v in value.split(",") if ORDER_ID.fullmatch(v.strip())]
        elif depth < MAX_NESTED_URL and value.startswith(("http://", "https://")):
            found += link_order_ids(value, depth + 1)
    return found


def visible_text(html: str | bytes) -> str:
    """The text a person sees in `html`, one line per text run, its white space collapsed as a browser shows it."""
    return "\n".join(" ".join(run.split()) for run in read(html).runs)
