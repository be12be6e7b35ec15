"""Track C (delivered but not received): a parcel marked as delivered that never reached the user, opened by the user
(`lateclaim claims open ORDER --not-received`) rather than found by the rules.

  step 1  asks for the carrier's proof of delivery and a redelivery or a refund, citing the transfer of risk where
          the country has it;
  step 2  once step 1 went out and the wait of track B's step 2 has passed (rules.claims.step_due_at): where the
          country lets the buyer set an extra period and then terminate, the formal notice giving `notice_days`;
          elsewhere a plain request to cancel and refund, which ends the ladder;
  step 3  the day after the notice's deadline: termination and the refund request (those countries only).
Only the step that opens the parcel's case counts toward the caps, as for tracks A and B; a ladder already started
is never held back.

Pure: the claims so far and `now` are arguments. A step that cannot be written now raises Refused, whose message
tells the user why and what to do.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from rules.claims import Caps, PastClaim, evidence_of, step_due_at, when
from rules.law import has_termination_law, notice_deadline
from rules.letters import Letter, LetterFacts, jurisdiction, render
from rules.policy import Policy
from rules.timeline import Shipment
from rules.verdict import verdict

TRACK = "C"
ORDER_ID = re.compile(r"\d{3}-\d{7}-\d{7}")


class Refused(ValueError):
    """The step cannot be written now: the message says why, in the command line's words."""


@dataclass(frozen=True)
class NotReceivedStep:
    """The letter to queue: track C's `step` for `shipment`, with what it rests on."""

    shipment: Shipment
    step: int
    letter: Letter
    evidence: dict[str, Any]


def _parcel_number(shipment: Shipment) -> int | None:
    return next((s.event.parcel.number for s in shipment.sightings if s.event.parcel and s.event.parcel.number),
                None)


def find_parcel(shipments: Sequence[Shipment], order_id: str, parcel: int | None) -> Shipment:
    """The order's parcel the user means: the only one, or the one numbered `parcel` (or keyed so)."""
    if not ORDER_ID.fullmatch(order_id):
        raise Refused(f"expected an Amazon order number such as 171-1234567-1234567, got {order_id!r}")
    mine = [s for s in shipments if order_id in s.order_ids]
    if not mine:
        raise Refused(f"no order {order_id} in the state file (see `lateclaim orders`)")
    if parcel is not None:
        chosen = [s for s in mine if _parcel_number(s) == parcel or s.shipment == str(parcel)]
        if len(chosen) != 1:
            raise Refused(f"order {order_id} has no parcel {parcel}: its parcels are "
                          f"{', '.join(s.shipment for s in mine)}")
        return chosen[0]
    if len(mine) > 1:
        raise Refused(f"order {order_id} has {len(mine)} parcels ({', '.join(s.shipment for s in mine)}): "
                      "say which with --parcel N")
    return mine[0]


def last_step(shipment: Shipment, policy: Policy) -> int:
    """3 where the law the letters cite (the consumer's country's) lets the buyer set a deadline and then
    terminate; 2 elsewhere."""
    return 3 if has_termination_law(jurisdiction(shipment.marketplace, policy)) else 2


def next_step(shipment: Shipment, history: Sequence[PastClaim], now: datetime, policy: Policy) -> NotReceivedStep:
    """Track C's next letter for `shipment` at `now`, given every claim so far; Refused when none is due."""
    if not shipment.delivered:
        raise Refused(f"order {shipment.order_id}, parcel {shipment.shipment} is not marked as delivered: "
                      "the non-delivery letters (track B) already cover it")
    ladder = {c.step: c for c in history
              if c.order_id == shipment.order_id and c.shipment == shipment.shipment and c.track == TRACK}
    step = max(ladder, default=0) + 1
    if step > last_step(shipment, policy):
        raise Refused(f"the not-received letters for order {shipment.order_id} are all written "
                      "(see `lateclaim claims list`)")
    previous = ladder.get(step - 1)
    if previous is not None:
        due = step_due_at(step, ladder, shipment, policy)
        if due is None:
            raise Refused(f"claim {previous.id} (step {step - 1}) is {previous.status}: step {step} "
                          "follows once it has gone out")
        if now < due:
            raise Refused(f"step {step} is due {when(due)}: the seller has until then to answer claim {previous.id}")
    if step == 1 and (held := Caps(history, now, policy).held()) is not None:  # a later step is never held back
        raise Refused(f"{held}: open it once the cap allows (claims.max_per_day, claims.max_per_year)")
    result = verdict(shipment, now, policy)
    letter = render(LetterFacts(shipment, result, TRACK, step, now, policy,
                                previous.went_out if previous else None,
                                previous_deadline=previous.deadline if previous else None))
    evidence = {**evidence_of(shipment, result), "not_received": True, "written_at": now.isoformat()}
    if step == 2 and last_step(shipment, policy) == 3:  # the notice's deadline, which the termination will quote
        evidence["deadline_given"] = notice_deadline(now.astimezone(policy.timezone).date(),
                                                     jurisdiction(shipment.marketplace, policy), policy.notice_days,
                                                     policy.posted).isoformat()
    return NotReceivedStep(shipment, step, letter, evidence)
