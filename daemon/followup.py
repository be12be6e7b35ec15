"""Following a claim after it left lateclaim: sent by the user, answered by the retailer.

- A drafted claim that the user sent from their mail client is found in the \\Sent folder (by its Message-ID;
  else by its exact subject since it was drafted, as some clients give the sent copy a new Message-ID): `sent`.
- A sent claim is `answered` when a message replies to it (In-Reply-To or References), or when an Amazon email
  that is not a shipment notification names its order after it was sent.
The user closes it with `lateclaim claims resolve ID --outcome granted|refused`.
"""

from __future__ import annotations

from datetime import datetime

import structlog

from daemon.imap import ImapMailbox, sender_criteria
from daemon.store import Claim, Store
from parsers.marketplaces import sender_domains

log = structlog.get_logger("lateclaim.followup")


def _found_in_sent(mailbox: ImapMailbox, sent: str, claim: Claim) -> bool:
    if mailbox.contains_message_id(sent, claim.message_id):
        return True
    since = claim.created_at.date()
    return bool(mailbox.search(sent, ["SINCE", since, "SUBJECT", claim.subject]))


def _answered(mailbox: ImapMailbox, folders: list[str], store: Store, claim: Claim) -> str | None:
    quoted = f"<{claim.message_id.strip('<>')}>"
    since = (claim.sent_at or claim.created_at).date()
    for folder in folders:
        if mailbox.search(folder, ["OR", "HEADER", "In-Reply-To", quoted, "HEADER", "References", quoted]):
            return f"a reply in {folder}"
        naming = mailbox.search(folder, ["SINCE", since, "BODY", claim.order_id, *sender_criteria(sender_domains())])
        for uid, message_id in mailbox.message_ids(folder, naming).items():
            if not store.is_shipment_message(message_id):
                return f"an Amazon email naming the order in {folder} (UID {uid})"
    return None


def follow_up(store: Store, mailbox: ImapMailbox, now: datetime) -> list[int]:
    changed = []
    sent = mailbox.sent_folder()
    if sent is not None:
        for claim in store.claims(["drafted"]):
            if _found_in_sent(mailbox, sent, claim):
                store.update_claim(claim.id, now, status="sent", sent_at=now, note=f"found in {sent}")
                changed.append(claim.id)
    folders = mailbox.folders_to_read()
    for claim in store.claims(["sent"]):
        answer = _answered(mailbox, folders, store, claim)
        if answer is not None:
            store.update_claim(claim.id, now, status="answered", note=answer)
            changed.append(claim.id)
    if changed:
        log.info("claims_followed_up", claims=changed)
    return changed
