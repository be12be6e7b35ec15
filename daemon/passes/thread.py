"""One conversation per parcel: which earlier claims a claim replies to, read from the state file.

A ladder step replies to the steps of its own track before it; a goodwill request (track A) about a parcel that
already had a "where is my parcel?" letter replies to that letter. Only claims that left lateclaim count (a
rejected or still queued one was never seen by anyone). lateclaim keeps this bookkeeping in its state file: what
goes out carries only the ordinary In-Reply-To and References headers a mail client writes.
"""

from __future__ import annotations

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
