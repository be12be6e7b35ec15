"""Only an aligned Amazon pass, in a header the trusted receiving server wrote, authenticates a message."""

from __future__ import annotations

import pytest

from parsers.auth import authenticated

TRUSTED = ("mx.google.com",)


def header(results: str, server: str = "mx.google.com") -> tuple[str, ...]:
    return (f"{server};\r\n       {results}",)


@pytest.mark.parametrize(("sender", "results", "expected"), [
    ("auto-confirm@amazon.com", "dkim=pass header.i=@amazon.com; dkim=pass header.i=@amazonses.com", True),
    ("order-update@amazon.fr", "dkim=pass header.d=amazon.fr header.s=x", True),
    ("order-update@amazon.co.uk", "dkim=fail header.i=@amazon.co.uk; dmarc=pass header.from=amazon.co.uk", True),
    ("order-update@amazon.fr", "dkim=pass header.i=@amazonses.com; dmarc=fail header.from=amazon.fr", False),
    ("order-update@amazon.fr", "dkim=pass header.i=@amazon.com", False),  # signed by another marketplace
    ("order-update@amazon.fr", "dkim=fail header.i=@amazon.fr; spf=pass smtp.mailfrom=amazon.fr", False),
    ("x@amazon.de.example.com", "dkim=pass header.i=@amazon.de.example.com", False),
    ("x@amazon-fr.com", "dkim=pass header.i=@amazon-fr.com; dmarc=pass header.from=amazon-fr.com", False),
])
def test_alignment(sender: str, results: str, expected: bool) -> None:
    assert authenticated(sender, header(results), (), TRUSTED) is expected


def test_a_header_from_another_server_proves_nothing() -> None:
    forged = header("dkim=pass header.i=@amazon.fr", server="mail.attacker.example")
    assert authenticated("order-update@amazon.fr", forged, (), TRUSTED) is None


def test_the_topmost_trusted_header_decides() -> None:
    headers = (*header("dkim=fail header.i=@amazon.fr"), *header("dkim=pass header.i=@amazon.fr"))
    assert authenticated("order-update@amazon.fr", headers, (), TRUSTED) is False


def test_arc_results_count_when_no_plain_header_is_there() -> None:
    arc = ("i=1; mx.google.com; dkim=pass header.i=@amazon.com",)
    assert authenticated("auto-confirm@amazon.com", (), arc, TRUSTED) is True


def test_the_trusted_server_is_configurable() -> None:
    own = header("dkim=pass header.i=@amazon.fr", server="mx.example.org")
    assert authenticated("order-update@amazon.fr", own, (), ("mx.example.org",)) is True
    assert authenticated("order-update@amazon.fr", own, (), TRUSTED) is None
