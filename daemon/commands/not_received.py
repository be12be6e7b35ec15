"""`lateclaim claims open ORDER [--parcel N] --not-received`: a parcel shown as delivered that never reached the
user starts track C. Step 1 asks for the carrier's proof of delivery and a redelivery or a refund, citing the
transfer of risk where the country has it; running the command again writes the next step once it is due
(the same waits as the non-delivery ladder: rules.claims.step_due_at), then the formal notice and the
termination. The claim is queued: the next sync drafts or sends it as claims.mode says.
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta

from daemon.config import Config
from daemon.errors import NotReceivedError
from daemon.passes.evaluate import past_claim, policy_of
from daemon.passes.outbox import new_message_id
from daemon.state.store import Claim, Store
from parsers.marketplaces import country
from rules.claims import Caps, evidence_of, step_due_at, when
from rules.law import has_termination_law
from rules.letters import LetterFacts, render
from rules.timeline import Shipment, timelines
from rules.verdict import verdict

TRACK = "C"
ORDER_ID = re.compile(r"\d{3}-\d{7}-\d{7}")


def _parcel_number(shipment: Shipment) -> int | None:
    return next((s.event.parcel.number for s in shipment.sightings if s.event.parcel and s.event.parcel.number),
                None)


def find_parcel(shipments: list[Shipment], order_id: str, parcel: int | None) -> Shipment:
    """The order's parcel the user means: the only one, or the one numbered `parcel` (or keyed so)."""
    mine = [s for s in shipments if order_id in s.order_ids]
    if not mine:
        raise NotReceivedError(f"no order {order_id} in the state file (see `lateclaim orders`)")
    if parcel is not None:
        chosen = [s for s in mine if _parcel_number(s) == parcel or s.shipment == str(parcel)]
        if len(chosen) != 1:
            raise NotReceivedError(f"order {order_id} has no parcel {parcel}: its parcels are "
                                   f"{', '.join(s.shipment for s in mine)}")
        return chosen[0]
    if len(mine) > 1:
        raise NotReceivedError(f"order {order_id} has {len(mine)} parcels ({', '.join(s.shipment for s in mine)}): "
                               "say which with --parcel N")
    return mine[0]


def _within_caps(store: Store, config: Config, now: datetime) -> None:
    """The caps hold here too (DOMAIN.md §5: an account that reports an unusual number of problems is flagged),
    counted as for the other tracks (rules.claims.Caps)."""
    held = Caps([past_claim(c) for c in store.claims()], now, policy_of(config)).held()
    if held is not None:
        raise NotReceivedError(f"{held}: open it once the cap allows (claims.max_per_day, claims.max_per_year)")


def open_not_received(store: Store, config: Config, order_id: str, parcel: int | None, now: datetime) -> Claim:
    if not ORDER_ID.fullmatch(order_id):
        raise NotReceivedError(f"expected an Amazon order number such as 171-1234567-1234567, got {order_id!r}")
    shipment = find_parcel(timelines(store.sightings()), order_id, parcel)
    if not shipment.delivered:
        raise NotReceivedError(f"order {shipment.order_id}, parcel {shipment.shipment} is not marked as delivered: "
                               "the non-delivery letters (track B) already cover it")
    policy = policy_of(config)
    ladder = {c.step: c for c in store.claims()
              if c.order_id == shipment.order_id and c.shipment == shipment.shipment and c.track == TRACK}
    step = max(ladder, default=0) + 1
    last_step = 3 if has_termination_law(country(shipment.marketplace)) else 2
    if step > last_step:
        raise NotReceivedError(f"the not-received letters for order {shipment.order_id} are all written "
                               f"(see `lateclaim claims list`)")
    previous = ladder.get(step - 1)
    if previous is not None:
        due = step_due_at(step, {n: past_claim(c) for n, c in ladder.items()}, shipment, policy)
        if due is None:
            raise NotReceivedError(f"claim {previous.id} (step {step - 1}) is {previous.status}: step {step} "
                                   "follows once it has gone out")
        if now < due:
            raise NotReceivedError(f"step {step} is due {when(due)}: the seller has until then to answer "
                                   f"claim {previous.id}")
    if step == 1:  # a ladder already started is never held back at a later step
        _within_caps(store, config, now)
    result = verdict(shipment, now, policy)
    previous_deadline = past_claim(previous).deadline if previous else None
    letter = render(LetterFacts(shipment, result, TRACK, step, now, policy,
                                (previous.sent_at or previous.created_at) if previous else None,
                                previous_deadline=previous_deadline))
    evidence = {**evidence_of(shipment, result), "not_received": True, "written_at": now.isoformat()}
    if step == 2 and last_step == 3:  # the notice's deadline, which the termination will quote
        evidence["deadline_given"] = (now.astimezone(policy.timezone).date()
                                      + timedelta(days=policy.notice_days)).isoformat()
    claim_id = store.add_claim(
        order_id=shipment.order_id, shipment=shipment.shipment, track=TRACK, step=step, status="queued", held="",
        language=letter.language, subject=letter.subject, body=letter.body, message_id=new_message_id(config),
        evidence=evidence, now=now,
    )
    created = store.claim(claim_id) if claim_id is not None else None
    if created is None:
        raise NotReceivedError(f"a step {step} claim already exists for order {shipment.order_id}")
    return created
