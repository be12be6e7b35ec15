"""The facts rules.contacts needs about a recorded claim (marketplace, seller, promise), read from the state."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from daemon.config import Config
from daemon.state.store import Claim, Store
from parsers.marketplaces import country
from rules.contacts import Situation, guidance, retailer, uses_registered_post
from rules.law import country_of_address, law_country
from rules.letters import third_party_seller
from rules.timeline import Shipment, timelines


def shipment_of(store: Store, claim: Claim) -> Shipment | None:
    return next((s for s in timelines(store.sightings({claim.order_id}))  # its order's emails only
                 if s.order_id == claim.order_id and s.shipment == claim.shipment), None)


def situation(store: Store, claim: Claim, config: Config, now: datetime) -> Situation:
    shipment = shipment_of(store, claim)
    marketplace = shipment.marketplace if shipment else str(claim.evidence.get("marketplace", ""))
    fulfilled = shipment is not None and any("amazon" in (s.event.fulfilled_by or "").lower()
                                             for s in shipment.sightings)
    return Situation(
        marketplace=marketplace, language=claim.language, order_id=claim.order_id, track=claim.track,
        step=claim.step, seller=third_party_seller(shipment) if shipment else None, fulfilled_by_amazon=fulfilled,
        promise_end=shipment.promise.end if shipment and shipment.promise else None,
        today=now.astimezone(config.rules.timezone).date(),
        country=law_country(country(marketplace),
                            config.claims.country or country_of_address(config.claims.postal_address)),
    )


def where_it_goes(store: Store, claim: Claim, config: Config, now: datetime) -> dict[str, Any]:
    """`claims show`'s "where" section, JSON-ready: the contact path and notes in the letter's language, and the
    retailer's postal address for a registered letter."""
    facts = situation(store, claim, config, now)
    seller = retailer(facts.marketplace)
    return {
        "marketplace": facts.marketplace,
        "seller": facts.seller,
        "guidance": guidance(facts),
        "postal_address": None if seller is None or facts.seller else seller.lines(claim.language),
        "postal_address_verified": None if seller is None or facts.seller else seller.verified,
        "registered_post": uses_registered_post(facts.marketplace),
    }


def describe_where(where: dict[str, Any], claim_id: int) -> str:
    lines = [f"Where it goes ({where['marketplace'] or 'unknown marketplace'}):"]
    lines.extend(f"  {line}" for line in where["guidance"])
    if where["postal_address"]:
        check = "" if where["postal_address_verified"] else " (not verified: check the site's Conditions of Sale)"
        lines.append(f"  By post{check}: " + ", ".join(where["postal_address"]))
        lines.append(f"  Printable letter: lateclaim claims letter {claim_id} --pdf FILE.pdf")
    return "\n".join(lines)
