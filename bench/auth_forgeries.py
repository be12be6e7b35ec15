"""Forged "Amazon" authentication, generated in bulk: how many forgeries are tried and refused, how many genuine
Gmail header blocks are still accepted, and the CPU time one verdict costs.

Each forgery family is crossed with every marketplace and with the places an attacker can put the false result
(comments at several depths, quoted strings, a second header, a message that never passed through Gmail, ARC
headers alone or in a set of the wrong shape). A forgery counts as refused when the verdict is not True.

    .venv/bin/python bench/auth_forgeries.py
"""

from __future__ import annotations

import sys
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from parsers.auth import authenticated, header_fields

TRUSTED = ("mx.google.com",)
DOMAINS = ["amazon.fr", "amazon.com", "amazon.co.uk", "amazon.de", "amazon.it", "amazon.es", "amazon.co.jp"]
LOOKALIKES = ["{d}.example.com", "{d}.phish.example", "not{d}", "amazon-{tld}.com", "amazonses.com",
              "bounces.amazonses.com", "amazon.com.{tld}.example"]
INTERNAL = "Received: by 2002:a17:504:54d5:b0:1cd2:b196:9bab with SMTP id s21csp1704261njk; Sun, 15 Mar 2026\r\n"
ENTRY = ("Received: from a13-41.smtp-out.amazonses.com (a13-41.smtp-out.amazonses.com. [54.240.13.41])\r\n"
         "        by mx.google.com with ESMTPS id af79cd13be357si8535; Sun, 15 Mar 2026 15:18:00 -0700\r\n")


def ar(text: str, server: str = "mx.google.com") -> str:
    return f"Authentication-Results: {server};\r\n       {text}\r\n"


def arc(i: int, text: str, domain: str = "google.com", cv: str = "none") -> str:
    return (f"ARC-Seal: i={i}; a=rsa-sha256; t=1; cv={cv}; d={domain}; s=arc; b=c2VhbA==\r\n"
            f"ARC-Message-Signature: i={i}; a=rsa-sha256; d={domain}; s=arc; h=from; bh=Ym9keQ==; b=c2ln\r\n"
            f"ARC-Authentication-Results: i={i}; mx.google.com; {text}\r\n")


def mail(top: str, sender: str, below: str = "") -> bytes:
    return (f"Delivered-To: me@gmail.com\r\n{top}{below}From: Amazon <{sender}>\r\nSubject: Shipped\r\n"
            "Message-ID: <x@y>\r\n\r\nHello\r\n").encode()


def genuine() -> Iterator[tuple[str, str, bytes]]:
    for d in DOMAINS:
        sender = f"shipment-tracking@{d}"
        good = f"dkim=pass header.i=@{d} header.s=k; dkim=pass header.i=@amazonses.com; dmarc=pass header.from={d}"
        yield "gmail block", sender, mail(INTERNAL + ENTRY + ar(good), sender)
        yield "dmarc only", sender, mail(INTERNAL + ENTRY + ar(f"dkim=fail; dmarc=pass header.from={d}"), sender)
        yield "arc set only", sender, mail(arc(1, good) + INTERNAL + ENTRY, sender)


def forgeries() -> Iterator[tuple[str, str, bytes]]:
    for d in DOMAINS:
        sender = f"shipment-tracking@{d}"
        lie = f"dkim=pass header.d={d}"
        lies = [lie, f"dmarc=pass header.from={d}", f"dkim=pass header.i=@{d}"]
        gmail = INTERNAL + ENTRY
        for text in lies:
            for depth in range(1, 4):
                comment = "(" * depth + text + ")" * depth
                yield "in a comment", sender, mail(gmail + ar(f"spf=pass {comment} smtp.mailfrom=e.example"), sender)
                yield "in a comment", sender, mail(gmail + ar(f"dkim=fail {comment} header.d={d}"), sender)
            yield "escaped paren", sender, mail(gmail + ar(f"dkim=fail (x \\) ; {text}) header.d={d}"), sender)
            yield "quoted string", sender, mail(gmail + ar(f'dkim=fail reason="ok; {text}" header.d={d}'), sender)
            yield "quoted local part", sender, mail(gmail + ar(f'spf=pass smtp.mailfrom="x;{text}"@e.example'),
                                                    sender)
            yield "unterminated", sender, mail(gmail + ar(f"dkim=fail (open; {text}"), sender)
            yield "unterminated", sender, mail(gmail + ar(f'dkim=fail reason="open; {text}'), sender)
            yield "value, not a result", sender, mail(gmail + ar(f"spf=pass smtp.mailfrom=e.example {text}"), sender)
            yield "below gmail's own", sender, mail(gmail + ar("dkim=fail"), sender, below=ENTRY + ar(text))
            # Imported or appended (no Received at all), received by another provider first, fetched by Gmail's
            # POP3 fetcher, inserted through the API, an internal-looking hop alone, "by mx.google.com" in a comment.
            for top in ("", "Received: from e.example by mx.other.example with ESMTP id 1; d\r\n" + ENTRY,
                        "Received: from pop.e.example by mx.google.com with POP3 id 1; d\r\n" + ENTRY,
                        "Received: from 1 named unknown by gmailapi.google.com with HTTPREST; d\r\n" + ENTRY, INTERNAL,
                        "Received: from e (by mx.google.com with ESMTPS) by e.example with ESMTP; d\r\n"):
                yield "not received by gmail", sender, mail(top + ar(text), sender)
            yield "arc alone", sender, mail(gmail, sender, below=f"ARC-Authentication-Results: i=1; mx.google.com; "
                                                                   f"{text}\r\n")
            yield "arc below a stranger", sender, mail(gmail, sender,
                                                       below="Received: from e by relay.e.example with ESMTP; d\r\n"
                                                       + arc(1, text))
            yield "arc wrong sealer", sender, mail(arc(1, text, domain="e.example") + gmail, sender)
            yield "arc hole", sender, mail(arc(2, text, cv="pass") + gmail, sender)
            yield "arc broken chain", sender, mail(arc(2, text, cv="pass") + arc(1, text, cv="fail") + gmail, sender)
            yield "arc no seal", sender, mail(arc(1, text).split("\r\n", 1)[1] + gmail, sender)
        tld = d.rsplit(".", 1)[1]
        for pattern in LOOKALIKES:
            other = pattern.format(d=d, tld=tld)
            yield "look-alike signer", sender, mail(gmail + ar(f"dkim=pass header.d={other}"), sender)
            yield "look-alike sender", f"x@{other}", mail(
                gmail + ar(f"dkim=pass header.d={other}; dmarc=pass header.from={other}"), f"x@{other}")
        for other in DOMAINS:
            if other != d:
                yield "another marketplace", sender, mail(gmail + ar(f"dkim=pass header.d={other}"), sender)
        yield "two From headers", sender, mail(gmail + ar(lie), sender, below="From: x@e.example\r\n")


def main() -> int:
    tried, refused, by_family = 0, 0, Counter[str]()
    started = time.process_time()
    for family, sender, raw in forgeries():
        tried += 1
        if authenticated(sender, header_fields(raw), TRUSTED) is not True:
            refused += 1
        else:
            by_family[family] += 1
    accepted = sum(authenticated(s, header_fields(raw), TRUSTED) is True for _, s, raw in genuine())
    total_genuine = sum(1 for _ in genuine())
    verdicts = tried + total_genuine
    cpu = time.process_time() - started
    print(f"forgeries tried: {tried}, refused: {refused}" + (f", ACCEPTED: {dict(by_family)}" if by_family else ""))
    print(f"genuine Gmail header blocks accepted: {accepted}/{total_genuine}")
    print(f"CPU per verdict: {cpu / verdicts * 1000:.3f} ms ({verdicts} verdicts)")
    return 0 if refused == tried and accepted == total_genuine else 1


if __name__ == "__main__":
    sys.exit(main())
