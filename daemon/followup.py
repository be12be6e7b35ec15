"""Following a claim after it left lateclaim: sent by the user, answered by the retailer.

- A drafted claim that the user sent from their mail client is found in the \\Sent folder by its Message-ID:
  it becomes `sent`.
- A sent claim is `answered` when a message replies to it (In-Reply-To or References), or when an Amazon email
  that is not a shipment notification names its order after it was sent.
One search per folder covers all the claims waiting (they are OR-ed), so the cost does not grow with them.
The user closes a claim with `lateclaim claims resolve ID --outcome granted|refused`.
"""

from __future__ import annotations

from datetime import datetime

import structlog

from daemon.imap import ImapMailbox, any_of, sender_criteria
from daemon.store import Claim, Store
from parsers.marketplaces import sender_domains

log = structlog.get_logger("lateclaim.followup")


def _bracketed(message_id: str) -> str:
    return f"<{message_id.strip('<>')}>"


def _sent_by_user(mailbox: ImapMailbox, sent: str, drafted: list[Claim]) -> list[Claim]:
    uids = mailbox.search(sent, any_of([["HEADER", "Message-ID", _bracketed(c.message_id)] for c in drafted]))
    found = {mid.strip("<>") for mid in mailbox.message_ids(sent, uids).values()}
    return [c for c in drafted if c.message_id.strip("<>") in found]


def _replied_to(mailbox: ImapMailbox, folder: str, claims: list[Claim]) -> dict[int, str]:
    groups = [["HEADER", name, _bracketed(c.message_id)] for c in claims for name in ("In-Reply-To", "References")]
    uids = mailbox.search(folder, any_of(groups))
    answered: dict[int, str] = {}
    for header in mailbox.headers(folder, uids, ["In-Reply-To", "References"]).values():
        text = f"{header.get('In-Reply-To', '')} {header.get('References', '')}"
        for claim in claims:
            if _bracketed(claim.message_id) in text:
                answered[claim.id] = f"a reply in {folder}"
    return answered


def _named_by_amazon(mailbox: ImapMailbox, folder: str, store: Store, claim: Claim) -> str | None:
    since = (claim.sent_at or claim.created_at).date()
    uids = mailbox.search(folder, ["SINCE", since, "BODY", claim.order_id, *sender_criteria(sender_domains())])
    for uid, message_id in mailbox.message_ids(folder, uids).items():
        if not store.is_shipment_message(message_id):
            return f"an Amazon email naming the order in {folder} (UID {uid})"
    return None


def follow_up(store: Store, mailbox: ImapMailbox, now: datetime) -> list[int]:
    changed = []
    drafted = store.claims(["drafted"])
    sent_folder = mailbox.sent_folder()
    if drafted and sent_folder is not None:
        for claim in _sent_by_user(mailbox, sent_folder, drafted):
            store.update_claim(claim.id, now, status="sent", sent_at=now, note=f"found in {sent_folder}")
            changed.append(claim.id)
    waiting = store.claims(["sent"])
    if waiting:
        for folder in mailbox.folders_to_read():
            answers = _replied_to(mailbox, folder, waiting)
            for claim in waiting:
                answer = answers.get(claim.id) or _named_by_amazon(mailbox, folder, store, claim)
                if answer is not None:
                    store.update_claim(claim.id, now, status="answered", note=answer)
                    changed.append(claim.id)
            waiting = [c for c in waiting if c.id not in changed]
    if changed:
        log.info("claims_followed_up", claims=changed)
    return changed
