"""Is this really Amazon? Read from the receiving server's own Authentication-Results (RFC 8601).

Anyone can write any header into a message, including `Authentication-Results: mx.google.com; dkim=pass`, so a
verdict counts only when all of this holds:

- The message arrived by SMTP through a trusted server: its topmost Received headers were added by that server
  (or by its internal hops), down to one that shows it taking the message in from outside by SMTP. A message
  imported, fetched by POP3 or inserted through an API carries no such chain and gets no verdict.
- The header sits in that top block, above the first Received header a stranger wrote, and it is the topmost
  Authentication-Results there with a trusted authserv-id: the receiving server adds its header on top.
- RFC 8601 comments (nested parentheses) and quoted strings are only text: "dkim=pass" inside them is ignored.
  A server quotes the envelope sender in comments, and the sender chooses that freely.
- ARC-Authentication-Results count only when no plain header is there, and then only inside a complete,
  well-formed ARC set (ARC-Seal, ARC-Message-Signature and ARC-Authentication-Results with the same i=) sealed
  by the trusted server's own domain, in the same top block. (The signatures themselves are not verified: that
  needs DNS. The position in the trusted block is what makes the set the server's own.)
- Only an *aligned* pass counts: DKIM signed by the From domain's marketplace (a subdomain is fine), or DMARC
  passing for it. Every Amazon SES mail also carries a passing amazonses.com signature, which proves nothing.
"""

from __future__ import annotations

import ipaddress
import itertools
import re
from collections.abc import Sequence
from email.message import Message
from email.parser import BytesHeaderParser
from email.policy import compat32
from email.utils import getaddresses

from parsers.marketplaces import marketplace_of

Fields = Sequence[tuple[str, str]]  # (lowercased name, unfolded value), topmost first

MAX_HEADER_BYTES = 256 * 1024  # real header blocks are a few KB; the rest of a huge one is not worth reading
MAX_ARC_INSTANCE = 50  # RFC 8617 §4.2.1: a chain longer than this is invalid
HEADERS = BytesHeaderParser(policy=compat32)  # what mail-parser's email.message_from_bytes uses
UNFOLD = re.compile(r"\r?\n(?=[ \t])")  # RFC 5322 §2.2.3: unfolding removes the CRLF before the whitespace
SMTP_PROTOCOLS = re.compile(r"^(?:e?smtps?a?|lmtps?a?|utf8smtps?a?|utf8lmtps?a?)$", re.I)


def header_fields(source: bytes | Message) -> tuple[tuple[str, str], ...]:
    """The top-level header fields, unfolded, topmost first, as the mail parser split them: the one header
    reader. Lines end at CRLF or LF (the standard library's feed parser, which mail-parser runs); never at
    U+0085, \\x0b, \\x0c or \\x1c-\\x1e as `str.splitlines()` would (0x85 is the second byte of ordinary UTF-8
    letters: a sender could make one header read as two). The body is never looked at."""
    message = source if isinstance(source, Message) else HEADERS.parsebytes(source[:MAX_HEADER_BYTES])
    return tuple((name.strip().lower(), UNFOLD.sub("", str(value)).strip()) for name, value in message.raw_items())


def lone_carriage_return(raw: bytes) -> bool:
    """Whether the header block holds a CR that ends no line (CR without LF). The standard library's parser
    breaks lines there and mail clients differ: a header that some reader splits in two proves nothing."""
    head = raw[:MAX_HEADER_BYTES]
    end = min((i for i in (head.find(b"\r\n\r\n"), head.find(b"\n\n")) if i >= 0), default=len(head))
    return head.count(b"\r", 0, end) != head.count(b"\r\n", 0, end)


def author(value: str) -> str:
    """The From address as a mail client shows it, lowercased; "" when there is not exactly one.

    Inside angle brackets when the header has them: whatever comes before is the display name, even when it
    looks like an address (`order-update@amazon.co.uk <x@evil.example>` is from evil.example; the standard
    library's getaddresses() would read two addresses and return the display name's first). Comments and quoted
    strings are only text."""
    outside = "".join(text if kind == "text" else " " for kind, text in _lex(value))
    opened, closed = outside.rfind("<"), outside.rfind(">")
    if opened >= 0:
        if outside.count("<") != 1 or closed < opened or outside[closed + 1:].strip(" ,"):
            return ""
        address = outside[opened + 1:closed].strip()
    else:
        pairs = [a for _, a in getaddresses([value]) if a]
        address = pairs[0] if len(pairs) == 1 else ""
    local, at, domain = address.rpartition("@")
    return address.lower() if at and local and domain and " " not in address else ""


# -- RFC 5322 lexing: comments and quoted strings -----------------------------------------------------------

def _lex(value: str) -> list[tuple[str, str]]:  # noqa: C901 - a lexer: one branch per character class and state
    """(kind, text) pieces: "text", "quoted" (a quoted string's content) or "sep" (";"). Comments, nested or
    not, are dropped. An unterminated comment or quote swallows the rest: fail closed."""
    pieces: list[tuple[str, str]] = []
    text: list[str] = []
    depth, quoted, i = 0, False, 0
    while i < len(value):
        c = value[i]
        if c == "\\" and (depth or quoted):
            if quoted:
                text.append(value[i + 1:i + 2])
            i += 2
            continue
        if quoted:
            if c == '"':
                pieces.append(("quoted", "".join(text)))
                text, quoted = [], False
            else:
                text.append(c)
        elif depth:
            depth += {"(": 1, ")": -1}.get(c, 0)
            if not depth:
                text.append(" ")  # a comment separates tokens
        elif c == "(":
            depth = 1
        elif c == '"':
            pieces.append(("text", "".join(text)))
            text, quoted = [], True
        elif c == ";":
            pieces += [("text", "".join(text)), ("sep", ";")]
            text = []
        else:
            text.append(c)
        i += 1
    if not depth and not quoted:
        pieces.append(("text", "".join(text)))
    return pieces


def _clauses(value: str) -> list[list[str]]:
    """The ";"-separated parts of a header, comments removed, each as tokens. A quoted string is one token,
    prefixed with a NUL so that it can be a property's value but never a method, a result or a name."""
    clauses: list[list[str]] = [[]]
    for kind, text in _lex(value):
        if kind == "sep":
            clauses.append([])
        elif kind == "quoted":
            if clauses[-1] and clauses[-1][-1].endswith("="):
                clauses[-1][-1] += "\0" + text  # name="value": the quoted value, kept whole
            else:
                clauses[-1].append("\0" + text)
        else:
            clauses[-1] += re.sub(r"\s*=\s*", "=", text).split()
    return [c for c in clauses if c]


def _tags(value: str) -> dict[str, str]:
    """DKIM-style tag=value; lists (ARC-Seal, ARC-Message-Signature), whitespace removed."""
    tags: dict[str, str] = {}
    for part in value.split(";"):
        name, eq, tag_value = part.partition("=")
        if eq:
            tags.setdefault(name.strip().lower(), "".join(tag_value.split()))
    return tags


# -- who wrote the top of the message ------------------------------------------------------------------------

def _received(value: str) -> dict[str, str]:
    """The clauses of a Received header ("from", "by", "with"...), comments removed, first of each."""
    words: list[str] = []
    for kind, text in _lex(value):
        if kind == "sep":
            break  # the date follows
        words.append(text if kind == "text" else " ")
    tokens = " ".join(words).split()
    found: dict[str, str] = {}
    for index, (word, following) in enumerate(itertools.pairwise(tokens)):
        if word.lower() in ("from", "by", "via", "with", "id", "for"):
            found.setdefault(word.lower(), following.lower().strip("[]").rstrip("."))
            if word.lower() == "with" and tokens[index + 2:index + 3] == ["SMTP"] and following == "Microsoft":
                found["with"] = "esmtp"  # Exchange writes "with Microsoft SMTP Server (version=TLS1_2, ...)"
    return found


def _is_ip(text: str) -> bool:
    try:
        ipaddress.ip_address(text.removeprefix("ipv6:"))
    except ValueError:
        return False
    return True


def _server_domain(authserv_id: str) -> str:
    """mx.google.com -> google.com: the domain whose hosts make up that receiving server."""
    labels = authserv_id.split(".")
    return ".".join(labels[1:]) if len(labels) > 2 else authserv_id


def _by_server(hop: dict[str, str], trusted: Sequence[str]) -> bool:
    by = hop.get("by", "")
    if not by:
        return False
    if _is_ip(by):  # a hop inside the server ("by 2002:a17:…  with SMTP id …", Gmail): never one from outside
        return "from" not in hop
    return any(by == t or by.endswith("." + _server_domain(t)) for t in trusted)


def trusted_block(fields: Fields, trusted: Sequence[str]) -> Fields | None:
    """The header fields the trusted server wrote on top of the message, or None when the message did not come
    in through it by SMTP. The block ends at the first Received header someone else wrote."""
    arrived = False
    for index, (name, value) in enumerate(fields):
        if name != "received":
            continue
        hop = _received(value)
        if not _by_server(hop, trusted):
            return fields[:index] if arrived else None
        if not SMTP_PROTOCOLS.match(hop.get("with", "")):
            return None  # POP3 / IMAP fetching, an API insert (HTTPREST): the headers below came as they are
        arrived = arrived or "from" in hop
    return fields if arrived else None


# -- reading results -----------------------------------------------------------------------------------------

def _authserv_id(clauses: list[list[str]], arc: bool) -> tuple[str, list[list[str]]]:
    """The authserv-id and the result clauses after it (ARC puts "i=N" first)."""
    if arc:
        if len(clauses) < 2 or not clauses[0][0].lower().startswith("i="):
            return "", []
        clauses = clauses[1:]
    if not clauses or clauses[0][0].startswith("\0"):
        return "", []
    return clauses[0][0].lower().rstrip("."), clauses[1:]


def _aligned(domain: str, from_domain: str) -> bool:
    domain = domain.rpartition("@")[2].lower().strip().strip(".")
    if not domain:
        return False
    signer, author = marketplace_of(domain), marketplace_of(from_domain)
    return signer is not None and author is not None and signer.domain == author.domain


def _verdict(results: list[list[str]], from_domain: str) -> bool:
    for clause in results:
        method, eq, result = clause[0].partition("=")
        method = method.lower().partition("/")[0]  # "dkim/1=pass": a method version
        if not eq or result.lower() != "pass" or method not in ("dkim", "dmarc"):
            continue
        props: dict[str, str] = {}
        for token in clause[1:]:
            name, eq, value = token.partition("=")
            if eq and not name.startswith("\0"):
                props.setdefault(name.lower(), value.lstrip("\0"))
        if method == "dkim":
            # Each identity the receiving server wrote must be Amazon's own (Gmail writes only header.i, others
            # header.d, some both): one aligned identity beside a foreign one is not an aligned signature.
            identities = [props[key] for key in ("header.d", "header.i") if key in props]
            if identities and all(_aligned(identity, from_domain) for identity in identities):
                return True
        elif _aligned(props.get("header.from", ""), from_domain):
            return True
    return False


def _arc_sets(fields: Fields) -> dict[int, dict[str, list[str]]] | None:
    """The ARC headers by instance (1, 2...) and name; None when an instance number is malformed or out of range,
    or one is missing below the highest."""
    sets: dict[int, dict[str, list[str]]] = {}
    for name, value in fields:
        if name in ("arc-seal", "arc-message-signature"):
            instance = _tags(value).get("i", "")
        elif name == "arc-authentication-results":
            found = re.match(r"\s*i\s*=\s*(\d+)\s*;", value)
            instance = found.group(1) if found else ""
        else:
            continue
        if not instance.isdigit() or not 1 <= int(instance) <= MAX_ARC_INSTANCE:
            return None
        sets.setdefault(int(instance), {}).setdefault(name, []).append(value)
    if not sets or sorted(sets) != list(range(1, max(sets) + 1)):
        return None
    return sets


def _arc_results(fields: Fields, block: Fields, trusted: Sequence[str]) -> list[list[str]] | None:
    """The results of the newest ARC set, when that set is complete, well-formed, inside `block` (written by
    the trusted server) and sealed by the trusted server's domain, and the chain under it is complete; None
    otherwise."""
    sets = _arc_sets(fields)
    if sets is None:
        return None
    for number, headers in sets.items():
        if any(len(headers.get(n, [])) != 1 for n in ("arc-seal", "arc-message-signature",
                                                      "arc-authentication-results")):
            return None  # an incomplete or a duplicated set
        seal, signature = _tags(headers["arc-seal"][0]), _tags(headers["arc-message-signature"][0])
        if not {"a", "b", "cv", "d", "s"} <= seal.keys() or not {"a", "b", "bh", "d", "h", "s"} <= signature.keys():
            return None
        if seal["cv"].lower() != ("none" if number == 1 else "pass"):
            return None
    newest = {name: values[0] for name, values in sets[max(sets)].items()}
    if any(field not in block for field in newest.items()):
        return None  # the newest set was written further down, by someone else
    serverid, results = _authserv_id(_clauses(newest["arc-authentication-results"]), arc=True)
    domains = {_server_domain(serverid), serverid}
    sealers = {_tags(newest["arc-seal"])["d"].lower(), _tags(newest["arc-message-signature"])["d"].lower()}
    return results if serverid in trusted and sealers <= domains else None


def authenticated(sender: str, fields: Fields, trusted: Sequence[str]) -> bool | None:
    """True: an aligned Amazon pass from a trusted server. False: a trusted verdict without one. None: no
    verdict the trusted server can be shown to have written (a self-hosted server, an export, an import)."""
    trusted = tuple(t.lower().rstrip(".") for t in trusted)
    block = trusted_block(fields, trusted)
    if block is None:
        return None
    from_domain = sender.rpartition("@")[2]
    # Two From headers: which one the verdict was about is anyone's guess (DMARC fails such mail too).
    single_author = sum(1 for name, _ in fields if name == "from") == 1
    for name, value in block:
        if name == "authentication-results":
            serverid, results = _authserv_id(_clauses(value), arc=False)
            if serverid in trusted:
                return single_author and marketplace_of(from_domain) is not None and _verdict(results, from_domain)
    arc = _arc_results(fields, block, trusted)
    if arc is None:
        return None
    return single_author and marketplace_of(from_domain) is not None and _verdict(arc, from_domain)
