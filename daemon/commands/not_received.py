"""`lateclaim claims open ORDER [--parcel N] --not-received`: the I/O of track C (rules.not_received decides).

The parcel and its next step are decided from the state file's timelines and claims; the letter is queued, and the
next sync drafts or sends it as claims.mode says.
"""

from __future__ import annotations

from datetime import datetime

from daemon.config import Config
from daemon.errors import NotReceivedError
from daemon.passes.evaluate import history, policy_of
from daemon.passes.outbox import new_message_id
from daemon.state.store import Claim, Store
from rules.not_received import TRACK, Refused, find_parcel, next_step
from rules.timeline import timelines


def open_not_received(store: Store, config: Config, order_id: str, parcel: int | None, now: datetime) -> Claim:
    try:
        shipment = find_parcel(timelines(store.sightings()), order_id, parcel)
        due = next_step(shipment, history(store), now, policy_of(config))
    except Refused as exc:
        raise NotReceivedError(str(exc)) from None
    letter = due.letter
    claim_id = store.add_claim(
        order_id=shipment.order_id, shipment=shipment.shipment, track=TRACK, step=due.step, status="queued", held="",
        language=letter.language, subject=letter.subject, body=letter.body,
        message_id=new_message_id(config, shipment.order_id, shipment.shipment, TRACK, due.step),
        evidence=due.evidence, now=now,
    )
    created = store.claim(claim_id) if claim_id is not None else None
    if created is None:
        raise NotReceivedError(f"a step {due.step} claim already exists for order {shipment.order_id}")
    return created
