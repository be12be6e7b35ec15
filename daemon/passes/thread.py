"""One conversation per parcel: which earlier claims a claim replies to, read from the state file.

A ladder step replies to the steps of its own track before it; a goodwill request (track A) about a parcel that
already had a "where is my parcel?" letter replies to that letter. Only claims that left lateclaim count (a
rejected or still queued one was never seen by anyone). lateclaim keeps this bookkeeping in its state file: what
goes out carries only the ordinary In-Reply-To and References headers a mail client writes.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from daemon.state.store import Claim, Store

WENT_OUT = ("drafted", "sent", "answered", "closed", "uncertain")  # uncertain: a send that may have gone out
# The track whose letters a claim follows: its own ladder, or (a goodwill request) the non-delivery ladder.
FOLLOWS = {"A": "B", "B": "B", "C": "C"}


def thread_of(store: Store, claim: Claim) -> list[Claim]:
    """The claims `claim` replies to, oldest first (its References); the last one is its In-Reply-To."""
    track = FOLLOWS.get(claim.track, claim.track)
    earlier = [
        c for c in store.claims(WENT_OUT)
        if c.order_id == claim.order_id and c.shipment == claim.shipment and c.track == track and c.id != claim.id
        and (c.step < claim.step or track != claim.track)
    ]
    return sorted(earlier, key=lambda c: (c.step, c.created_at))


# RFC 5322's msg-id, read strictly: dot-atom text on both sides of the @, nothing else. A value that reads as
# more (a folded line, an encoded word "=?utf-8?b?...?=" that would decode to CR/LF when set as a header again,
# spaces, quotes) is no Message-ID lateclaim repeats in a letter.
ATEXT = r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+"
MSG_ID = re.compile(rf"<({ATEXT}(?:\.{ATEXT})*@{ATEXT}(?:\.{ATEXT})*)>")
MAX_ID = 250


def checked_id(value: str) -> str:
    """`value` as a bare Message-ID (no angle brackets) when it is exactly one valid msg-id; "" otherwise."""
    text = value.strip()
    found = MSG_ID.fullmatch(text if text.startswith("<") else f"<{text}>")
    if found is None or len(found.group(1)) > MAX_ID or "=?" in found.group(1) or "?=" in found.group(1):
        return ""
    return found.group(1)


def message_ids(value: str) -> list[str]:
    """The valid Message-IDs of an In-Reply-To or References value, bare, in order; anything else is skipped."""
    return [bare for bare in (checked_id(f"<{m}>") for m in MSG_ID.findall(value)) if bare]


def references(thread: Sequence[Claim]) -> list[str]:
    """The References of a letter replying to `thread` (oldest first), bracketed: the ids the earlier letters
    really left with, then the retailer's answer to the last one when there was one. Only checked ids."""
    found = [checked_id(c.reply_id) or checked_id(c.message_id) for c in thread]
    answer = thread[-1].evidence.get("answer") if thread else None
    if isinstance(answer, dict):
        found.append(checked_id(str(answer.get("message_id", ""))))
    return [f"<{bare}>" for bare in found if bare]
