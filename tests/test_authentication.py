"""Only an aligned Amazon pass, in a header the trusted receiving server wrote on a message it received by SMTP,
authenticates a message. Every forgery here was written to be accepted, and must not be."""

from __future__ import annotations

import pytest

from parsers import parse
from parsers.auth import authenticated, header_fields

TRUSTED = ("mx.google.com",)
SENDER = "order-update@amazon.fr"

# What Gmail writes on top of a message it receives (the shape of a real one, ids made up).
GMAIL_HOP = ("Received: by 2002:a17:504:54d5:b0:1cd2:b196:9bab with SMTP id s21csp1704261njk;\r\n"
             "        Sun, 15 Mar 2026 15:18:00 -0700 (PDT)\r\n")
ENTRY = ("Received: from a13-41.smtp-out.amazonses.com (a13-41.smtp-out.amazonses.com. [54.240.13.41])\r\n"
         "        by mx.google.com with ESMTPS id af79cd13be357si853566085a.313.2026.03.15.15.18.00;\r\n"
         "        Sun, 15 Mar 2026 15:18:00 -0700 (PDT)\r\n")
SPF = ("Received-SPF: pass (google.com: domain of x@bounces.amazon.fr designates 54.240.13.41)\r\n"
       " client-ip=54.240.13.41;\r\n")
BODY = "Date: Sun, 15 Mar 2026 22:17:59 +0000\r\nSubject: Shipped\r\nMessage-ID: <a@b>\r\n\r\nHello\r\n"


def results(text: str, server: str = "mx.google.com") -> str:
    return f"Authentication-Results: {server};\r\n       {text}\r\n"


def message(*, top: str = "", trusted: str = "", sender_headers: str = "", sender: str = SENDER,
            entry: str = ENTRY) -> bytes:
    """Gmail's block (`top`, its internal hop, the entry hop, SPF and `trusted` results), then what the sender
    wrote (`sender_headers`, the From and the rest)."""
    head = f"Delivered-To: me@gmail.com\r\n{top}{GMAIL_HOP}Return-Path: <x@bounces.amazon.fr>\r\n{entry}{SPF}{trusted}"
    return f"{head}{sender_headers}From: Amazon <{sender}>\r\n{BODY}".encode()


def verdict(raw: bytes, sender: str = SENDER, trusted: tuple[str, ...] = TRUSTED) -> bool | None:
    return authenticated(sender, header_fields(raw), trusted)


# -- genuine mail -------------------------------------------------------------------------------------------

@pytest.mark.parametrize(("sender", "text", "expected"), [
    ("auto-confirm@amazon.com", "dkim=pass header.i=@amazon.com; dkim=pass header.i=@amazonses.com", True),
    ("order-update@amazon.fr", "dkim=pass header.d=amazon.fr header.s=x", True),
    ("order-update@amazon.fr", 'dkim=pass header.d="amazon.fr" header.s=x', True),  # a quoted pvalue is legal
    ("order-update@amazon.fr", "dkim=pass (good signature) header.i=@bounces.amazon.fr", True),  # subdomain
    ("order-update@amazon.co.uk", "dkim=fail header.i=@amazon.co.uk; dmarc=pass header.from=amazon.co.uk", True),
    ("order-update@amazon.fr", "dkim/1=pass header.d=amazon.fr", True),  # a method version
    # amazonses.com alone: every SES customer has it.
    ("order-update@amazon.fr", "dkim=pass header.i=@amazonses.com; dmarc=fail header.from=amazon.fr", False),
    ("order-update@amazon.fr", "dkim=pass header.i=@amazon.com", False),  # signed by another marketplace
    ("order-update@amazon.fr", "dkim=fail header.i=@amazon.fr; spf=pass smtp.mailfrom=amazon.fr", False),
    # Look-alike domains pass for themselves.
    ("x@amazon.de.example.com", "dkim=pass header.i=@amazon.de.example.com", False),
    ("x@amazon-fr.com", "dkim=pass header.i=@amazon-fr.com; dmarc=pass header.from=amazon-fr.com", False),
    ("x@amazon.fr", "dkim=pass header.d=amazon.fr.phish.example", False),
    ("x@amazon.fr", "dkim=pass header.d=notamazon.fr", False),
])
def test_alignment(sender: str, text: str, expected: bool) -> None:
    assert verdict(message(trusted=results(text), sender=sender), sender) is expected


def test_a_genuine_gmail_message_is_authentic_through_parse() -> None:
    raw = message(trusted=results("dkim=pass header.i=@amazon.fr header.s=x header.b=y; dmarc=pass "
                                  "(p=QUARANTINE sp=QUARANTINE dis=NONE) header.from=amazon.fr"))
    assert parse(raw).message.authenticated is True


def test_the_trusted_server_is_configurable() -> None:
    entry = ENTRY.replace("by mx.google.com", "by mx.example.org (Postfix)")
    raw = message(trusted=results("dkim=pass header.i=@amazon.fr", server="mx.example.org"), entry=entry)
    assert verdict(raw, trusted=("mx.example.org",)) is True
    assert verdict(raw) is None  # Gmail did not receive it


def test_a_self_hosted_delivery_hop_on_top_is_part_of_the_server() -> None:
    lmtp = "Received: from mx.example.org by imap.example.org (Dovecot) with LMTP id k2; Sun, 15 Mar 2026\r\n"
    entry = ENTRY.replace("by mx.google.com", "by mx.example.org (Postfix)")
    raw = message(top=lmtp, trusted=results("dkim=pass header.i=@amazon.fr", server="mx.example.org"), entry=entry)
    assert verdict(raw, trusted=("mx.example.org",)) is True


def test_an_exchange_hop_is_an_smtp_hop() -> None:
    entry = ("Received: from a13-41.smtp-out.amazonses.com (54.240.13.41) by mx.example.org (10.0.0.1) with\r\n"
             " Microsoft SMTP Server (version=TLS1_2, cipher=TLS_ECDHE_RSA) id 15.20.1; Sun, 15 Mar 2026\r\n")
    raw = message(trusted=results("dkim=pass header.i=@amazon.fr", server="mx.example.org"), entry=entry)
    assert verdict(raw, trusted=("mx.example.org",)) is True


# -- forgeries inside the trusted server's own header (issue 13, first way) ---------------------------------

@pytest.mark.parametrize("text", [
    # The envelope sender, chosen by the attacker, quoted in a comment.
    "spf=pass (google.com: domain of dkim=pass header.d=amazon.co.uk designates 1.2.3.4) "
    "smtp.mailfrom=evil.example; dkim=none",
    "dkim=none; dmarc=fail (dmarc=pass header.from=amazon.fr) header.from=amazon.fr",
    "dkim=fail (outer (nested) dkim=pass header.d=amazon.fr) header.d=amazon.fr",
    "dkim=fail (a \\) escaped paren; dkim=pass header.d=amazon.fr) header.d=amazon.fr",
    "(dkim=pass header.d=amazon.fr) dkim=fail header.d=amazon.fr",
    # Quoted strings: a reason, a quoted local part carrying a ";".
    'dkim=fail reason="signature ok; dkim=pass header.d=amazon.fr" header.d=amazon.fr',
    'spf=pass smtp.mailfrom="x;dkim=pass header.d=amazon.fr"@evil.example',
    'dkim=neutral header.d="amazon.fr dkim=pass"',
    # An unquoted local part that looks like a result, and a result word as a property value.
    "spf=pass smtp.mailfrom=dkim=pass@evil.example header.d=amazon.fr",
    "spf=pass smtp.mailfrom=evil.example dkim=pass header.d=amazon.fr",
    # An unterminated comment or quote swallows the rest rather than ending early.
    "dkim=fail (unterminated; dkim=pass header.d=amazon.fr",
    'dkim=fail reason="unterminated; dkim=pass header.d=amazon.fr',
])
def test_results_inside_comments_and_quoted_strings_count_for_nothing(text: str) -> None:
    assert verdict(message(trusted=results(text))) is False


def test_comments_around_the_authserv_id_are_not_the_id() -> None:
    assert verdict(message(trusted=results("dkim=pass header.d=amazon.fr", server="(mx.google.com) evil"))) is None
    assert verdict(message(trusted=results("dkim=pass header.d=amazon.fr", server="mx.google.com.evil.example"))) \
        is None
    assert verdict(message(trusted=results("dkim=pass header.d=amazon.fr", server="(note) mx.google.com"))) is True


# -- only the topmost header of the trusted server counts ---------------------------------------------------

def test_a_header_the_sender_wrote_below_the_servers_own_proves_nothing() -> None:
    forged = results("dkim=pass header.d=amazon.fr; dmarc=pass header.from=amazon.fr")
    raw = message(trusted=results("dkim=fail header.d=amazon.fr"), sender_headers=ENTRY + forged)
    assert verdict(raw) is False


def test_a_header_from_another_server_proves_nothing() -> None:
    raw = message(trusted=results("dkim=pass header.i=@amazon.fr", server="mail.attacker.example"))
    assert verdict(raw) is None


def test_two_from_headers_are_never_authentic() -> None:
    raw = message(trusted=results("dkim=pass header.d=amazon.fr"), sender_headers="From: x@evil.example\r\n")
    assert verdict(raw) is False


# -- mail that did not arrive through the trusted server (issue 13, third way) -------------------------------

FORGED = results("dkim=pass header.d=amazon.fr; dmarc=pass header.from=amazon.fr")


@pytest.mark.parametrize("raw", [
    # Imported or appended: no Received at all, only what the sender wrote.
    f"{FORGED}From: <{SENDER}>\r\n{BODY}",
    # Received by another provider first, then moved into the mailbox: its hop is on top.
    f"Received: from evil.example by mx.other-provider.example with ESMTP id 1; Sun, 15 Mar 2026\r\n{ENTRY}{FORGED}"
    f"From: <{SENDER}>\r\n{BODY}",
    # Gmail's own POP3 fetcher, or its API: the headers below came as they were.
    f"Received: from pop.other.example by mx.google.com with POP3 id 1 for <me@gmail.com>; Sun, 15 Mar 2026\r\n"
    f"{ENTRY}{FORGED}From: <{SENDER}>\r\n{BODY}",
    f"Received: from 1090358532497 named unknown by gmailapi.google.com with HTTPREST; Sun, 15 Mar 2026\r\n"
    f"{ENTRY}{FORGED}From: <{SENDER}>\r\n{BODY}",
    # A Gmail-looking internal hop alone, with no hop taking the message in.
    f"{GMAIL_HOP}{FORGED}From: <{SENDER}>\r\n{BODY}",
    # A "by mx.google.com" hidden in a comment of a stranger's hop.
    f"Received: from evil.example (by mx.google.com with ESMTPS) by evil.example with ESMTP; Sun, 15 Mar 2026\r\n"
    f"{FORGED}From: <{SENDER}>\r\n{BODY}",
])
def test_a_message_that_did_not_come_in_through_the_trusted_server_gets_no_verdict(raw: str) -> None:
    assert verdict(raw.encode()) is None
    assert parse(raw.encode()).message.authenticated is None


# -- ARC (issue 13, second way) -----------------------------------------------------------------------------

def arc_set(i: int, results_text: str, domain: str = "google.com", server: str = "mx.google.com",
            cv: str | None = None) -> str:
    cv = cv or ("none" if i == 1 else "pass")
    return (f"ARC-Seal: i={i}; a=rsa-sha256; t=1750025880; cv={cv}; d={domain}; s=arc-20240605; b=c2VhbA==\r\n"
            f"ARC-Message-Signature: i={i}; a=rsa-sha256; c=relaxed/relaxed; d={domain}; s=arc-20240605;\r\n"
            f"        h=from:to:subject; bh=Ym9keQ==; b=c2lnbg==\r\n"
            f"ARC-Authentication-Results: i={i}; {server};\r\n       {results_text}\r\n")


PASS = "dkim=pass header.i=@amazon.fr; dmarc=pass header.from=amazon.fr"


def test_a_complete_arc_set_sealed_by_the_trusted_server_counts_when_no_plain_header_is_there() -> None:
    assert verdict(message(top=arc_set(1, PASS))) is True
    assert verdict(message(top=arc_set(1, "dkim=pass header.i=@amazonses.com"))) is False


@pytest.mark.parametrize("raw", [
    # The sender's own ARC-Authentication-Results, alone, in Gmail's words.
    message(sender_headers=f"ARC-Authentication-Results: i=1; mx.google.com; {PASS}\r\n"),
    message(top=f"ARC-Authentication-Results: i=1; mx.google.com; {PASS}\r\n"),
    # A whole set the sender wrote: below the entry hop, outside Gmail's block... in a message Gmail passed on
    # without a plain header, or in one that came by another provider.
    message(sender_headers="Received: from evil.example by relay.evil.example with ESMTP; Sun, 15 Mar 2026\r\n"
            + arc_set(1, PASS)),
    f"Received: from evil.example by mx.other.example with ESMTP; Sun, 15 Mar 2026\r\n{arc_set(1, PASS)}"
    f"From: <{SENDER}>\r\n{BODY}".encode(),
    # Sealed by someone else, or incomplete, or a chain with a hole, or a broken chain.
    message(top=arc_set(1, PASS, domain="evil.example")),
    message(top=arc_set(1, PASS).replace("ARC-Seal", "X-Dropped")),
    message(top=arc_set(1, PASS).replace("ARC-Message-Signature", "X-Dropped")),
    message(top=arc_set(2, PASS)),
    message(top=arc_set(2, PASS) + arc_set(1, PASS, cv="fail")),
    message(top=arc_set(2, PASS, cv="fail") + arc_set(1, PASS)),
    message(top=arc_set(1, PASS) + arc_set(1, PASS)),
    message(top=arc_set(1, PASS, server="arc.evil.example")),
    message(top=arc_set(1, PASS).replace("b=c2VhbA==", "")),
])
def test_forged_or_incomplete_arc_counts_for_nothing(raw: bytes) -> None:
    assert verdict(raw) is None


def test_a_forwarders_arc_chain_under_the_trusted_servers_set_is_fine() -> None:
    entry = ENTRY.replace("a13-41.smtp-out.amazonses.com", "lists.example")
    forwarder = (arc_set(1, PASS, domain="lists.example", server="lists.example")
                 + "Received: from a13-41.smtp-out.amazonses.com by lists.example with ESMTP; Sun, 15 Mar 2026\r\n")
    raw = message(top=arc_set(2, PASS), entry=entry, sender_headers=forwarder)
    assert verdict(raw) is True


def test_the_plain_header_wins_over_arc() -> None:
    raw = message(top=arc_set(1, PASS), trusted=results("dkim=fail header.d=amazon.fr"))
    assert verdict(raw) is False


# -- forwarded mail ------------------------------------------------------------------------------------------

def test_a_forward_is_never_authentic_even_with_the_forwarders_pass() -> None:
    inner = ("---------- Forwarded message ---------\r\nFrom: Amazon.fr <shipment-tracking@amazon.fr>\r\n"
             "Date: Sun, 15 Mar 2026 10:00:00 +0000\r\nSubject: Expédié\r\n\r\n"
             "Arrivée : mardi 17 mars\r\nCommande n° 405-1234567-1234567\r\n")
    raw = (f"{GMAIL_HOP}{ENTRY.replace('a13-41.smtp-out.amazonses.com', 'mail-sor-f41.google.com')}"
           + results("dkim=pass header.i=@gmail.com; dmarc=pass header.from=gmail.com")
           + "From: Me <me@gmail.com>\r\nTo: me@gmail.com\r\nSubject: Fwd: Expédié\r\n"
           "Date: Sun, 15 Mar 2026 11:00:00 +0000\r\nMessage-ID: <fwd@x>\r\nContent-Type: text/plain; "
           f"charset=utf-8\r\n\r\n{inner}").encode()
    result = parse(raw)
    assert result.message.forwarded is True
    assert result.message.authenticated is not True


def test_header_fields_unfolds_and_stops_at_the_body() -> None:
    raw = b"A: one\r\n two\r\nB: three\r\n\r\nC: not a header\r\n"
    assert header_fields(raw) == (("a", "one two"), ("b", "three"))


# -- one header reader: line breaks, identities, the From a mail client shows (issue 19, item 4) -------------

@pytest.mark.parametrize("separator", [b"\xd1\x85", b"\xc2\x85", b"\x0b", b"\x0c", b"\x1c", b"\x1d", b"\x1e"],
                         ids=["cyrillic-kha-0x85", "nel-0x85", "vt", "ff", "fs", "gs", "rs"])
def test_a_line_break_only_str_splitlines_sees_smuggles_no_header(separator: bytes) -> None:
    """A UTF-8 envelope sender the receiving server records (Cyrillic "х" is D1 85) must not make the rest of its
    line read as a header of Gmail's own: the mail parser ends lines at CRLF and LF only, and so does the
    authentication reader, which is the same reader."""
    forged = b"Authentication-Results: mx.google.com; dkim=pass header.i=@amazon.fr header.d=amazon.fr ("
    spf = (b"Received-SPF: pass (google.com: domain of x" + separator + forged + b"@evil.example designates "
           b"203.0.113.9) client-ip=203.0.113.9;\r\n")
    raw = message(trusted="").replace(SPF.encode(), spf + results("dkim=fail header.i=@amazon.fr").encode())
    assert spf in raw
    assert verdict(raw) is False
    assert parse(raw).message.authenticated is not True


def test_a_carriage_return_that_ends_no_line_gets_no_verdict() -> None:
    """The standard library breaks a line at a lone CR, other readers do not: such a header block proves nothing."""
    spf = SPF.replace("client-ip=54.240.13.41;", "client-ip=54.240.13.41;\rAuthentication-Results: mx.google.com; "
                      "dkim=pass header.i=@amazon.fr")
    raw = message(trusted=results("dkim=fail header.i=@amazon.fr")).replace(SPF.encode(), spf.encode())
    assert parse(raw).message.authenticated is None


@pytest.mark.parametrize(("text", "expected"), [
    ("dkim=pass header.i=@amazon.fr header.s=x header.b=y", True),  # Gmail writes only header.i
    ("dkim=pass header.d=amazon.fr header.s=x", True),  # others only header.d
    ("dkim=pass header.d=amazon.fr header.i=@amazon.fr", True),
    ("dkim=pass header.d=amazon.fr header.i=@evil.example", False),  # each identity written must be Amazon's
    ("dkim=pass header.d=evil.example header.i=@amazon.fr", False),
])
def test_dkim_identities_are_read_as_the_server_wrote_them(text: str, expected: bool) -> None:
    assert verdict(message(trusted=results(text))) is expected


@pytest.mark.parametrize("header", [
    "order-update@amazon.fr <x@evil.example>",  # an address as the display name, unquoted
    '"order-update@amazon.fr" <x@evil.example>',
    "=?utf-8?q?order-update=40amazon.fr?= <x@evil.example>",
    "Amazon <order-update@amazon.fr> <x@evil.example>",
])
def test_the_from_address_is_the_one_a_mail_client_shows(header: str) -> None:
    raw = message(trusted=results("dkim=pass header.i=@amazon.fr")).replace(
        f"From: Amazon <{SENDER}>".encode(), f"From: {header}".encode())
    result = parse(raw)
    assert result.message.sender in ("x@evil.example", "")
    assert result.message.authenticated is not True
    assert not result.events
