"""Is this really Amazon? Read from the receiving server's own Authentication-Results (RFC 8601).

Only a header whose authserv-id is trusted counts (a sender can write any header it likes further down), and
only an *aligned* pass: DKIM signed by the From domain (or its parent marketplace domain), or DMARC passing for
the From domain. Every Amazon SES mail also carries a passing amazonses.com signature, which proves nothing.
"""

from __future__ import annotations

import re

from parsers.marketplaces import marketplace_of

RESULT = re.compile(r"\b(?P<method>dkim|dmarc)\s*=\s*(?P<result>\w+)(?P<props>[^;]*)", re.I)
PROPERTY = re.compile(r"\b(?P<name>header\.(?:i|d|from))\s*=\s*(?P<value>[^\s;]+)", re.I)


def _authserv_id(header: str) -> str:
    first = header.split(";", 1)[0].strip()
    first = re.sub(r"^i\s*=\s*\d+\s*", "", first).strip().lstrip(";").strip()  # ARC: "i=1; mx.google.com"
    if not first and ";" in header:
        first = header.split(";", 2)[1].strip()
    return first.split()[0].lower() if first else ""


def _aligned(domain: str, from_domain: str) -> bool:
    domain = domain.rpartition("@")[2].lower().strip(".")
    if not domain:
        return False
    signer, author = marketplace_of(domain), marketplace_of(from_domain)
    return signer is not None and author is not None and signer.domain == author.domain


def _verdict(header: str, from_domain: str) -> bool:
    for m in RESULT.finditer(header.split(";", 1)[1] if ";" in header else ""):
        if m.group("result").lower() != "pass":
            continue
        props = {p.group("name").lower(): p.group("value") for p in PROPERTY.finditer(m.group("props"))}
        if m.group("method").lower() == "dkim":
            signer = props.get("header.d") or props.get("header.i", "")
            if _aligned(signer, from_domain):
                return True
        elif _aligned(props.get("header.from", ""), from_domain):
            return True
    return False


def authenticated(sender: str, results: tuple[str, ...], arc_results: tuple[str, ...],
                  trusted: tuple[str, ...]) -> bool | None:
    """True: an aligned Amazon pass from a trusted server. False: a trusted verdict without one. None: no
    trusted verdict at all (a self-hosted server, an export)."""
    from_domain = sender.rpartition("@")[2]
    trusted_ids = {t.lower() for t in trusted}
    for headers in (results, arc_results):
        for header in headers:  # topmost first: the receiving server adds its header on top
            flat = " ".join(header.split())
            if _authserv_id(flat) in trusted_ids:
                return marketplace_of(from_domain) is not None and _verdict(flat, from_domain)
    return None
