"""daemon.mail.imap against a real Dovecot: read-only, filtered by sender, UIDVALIDITY-aware, drafts appended once."""

from __future__ import annotations

import dataclasses

import pytest

from daemon.errors import MailboxError
from daemon.mail.imap import ImapMailbox, ImapSettings
from tests.servers.dovecot import Account, Dovecot, free_port

AMAZON = ["amazon.fr", "amazon.com", "amazon.co.uk"]


def email(sender: str, subject: str, message_id: str) -> bytes:
    return (f"From: {sender}\r\nTo: someone@example.com\r\nSubject: {subject}\r\nMessage-ID: <{message_id}>\r\n"
            "Date: Mon, 16 Nov 2026 09:00:00 +0000\r\n\r\nCommande n° 402-1234567-7654321\r\n").encode()


def settings(account: Account, security: str = "tls", **changes: object) -> ImapSettings:
    port = account.tls_port if security == "tls" else account.port
    base = ImapSettings("127.0.0.1", port, security, account.username, account.password, ca_file=account.ca_file)
    return dataclasses.replace(base, **changes)


@pytest.mark.parametrize("security", ["tls", "starttls", "plain"])
def test_each_security_mode_logs_in(dovecot: Dovecot, imap_account: Account, security: str) -> None:
    with ImapMailbox(settings(imap_account, security)) as mailbox:
        assert mailbox.folders_to_read() == ["INBOX"]  # no \All folder on this server
    commands = dovecot.commands(imap_account.username)
    assert commands.count("LIST") == 1 and "NAMESPACE" not in commands  # no guessing \All by folder names


def test_plain_is_refused_for_a_remote_host_before_connecting(imap_account: Account) -> None:
    with pytest.raises(MailboxError, match="plain is refused"), \
            ImapMailbox(settings(imap_account, "plain", host="imap.example.com")):
        pass


def test_a_wrong_password_names_the_user_and_server_but_not_the_password(imap_account: Account) -> None:
    with pytest.raises(MailboxError) as info, \
            ImapMailbox(settings(imap_account, password="not-the-password-42")):
        pass
    text = str(info.value)
    assert imap_account.username in text and f"127.0.0.1:{imap_account.tls_port}" in text
    assert "not-the-password-42" not in text


def test_scan_returns_new_amazon_mail_only_and_reading_marks_nothing_seen(
    dovecot: Dovecot, imap_account: Account
) -> None:
    user = imap_account.username
    dovecot.deliver(user, email('"Amazon.fr" <shipment-tracking@amazon.fr>', "Expédié", "a1@amazonses.com"))
    dovecot.deliver(user, email("friend@example.org", "Lunch?", "f1@example.org"))
    dovecot.deliver(user, email('"Amazon.com" <auto-confirm@amazon.com>', "Ordered", "a2@amazonses.com"))
    with ImapMailbox(settings(imap_account)) as mailbox:
        state = mailbox.scan("INBOX", None, 0, AMAZON)
        assert state.uids == (1, 3)
        fetched = dict(mailbox.fetch("INBOX", state.uids))
        assert b"a1@amazonses.com" in fetched[1] and b"a2@amazonses.com" in fetched[3]
        again = mailbox.scan("INBOX", state.uidvalidity, 3, AMAZON)
        assert again.uids == ()  # `UID 4:*` still matches UID 3 on the server: filtered out
    assert not any(b"\\Seen" in flags for flags in dovecot.flags(user, "INBOX").values())


def test_a_changed_uidvalidity_scans_from_the_start(dovecot: Dovecot, imap_account: Account) -> None:
    user = imap_account.username
    dovecot.deliver(user, email("order-update@amazon.fr", "Livré", "d1@amazonses.com"))
    with ImapMailbox(settings(imap_account)) as mailbox:
        first = mailbox.scan("INBOX", None, 0, AMAZON)
    dovecot.set_uidvalidity(user, "INBOX", first.uidvalidity + 1000)
    with ImapMailbox(settings(imap_account)) as mailbox:
        after = mailbox.scan("INBOX", first.uidvalidity, 1, AMAZON)
    assert after.uidvalidity == first.uidvalidity + 1000
    assert after.uids == (1,)


def test_a_draft_lands_in_the_drafts_folder_flagged_and_findable(dovecot: Dovecot, imap_account: Account) -> None:
    raw = email("me@example.com", "Retard de livraison", "claim-1@lateclaim")
    with ImapMailbox(settings(imap_account)) as mailbox:
        drafts = mailbox.drafts_folder()
        assert drafts == "[Gmail]/Drafts"
        assert mailbox.sent_folder() == "[Gmail]/Sent Mail"
        assert not mailbox.contains_message_id(drafts, "claim-1@lateclaim")
        mailbox.append_draft(raw)
        assert mailbox.contains_message_id(drafts, "<claim-1@lateclaim>")
    [flags] = dovecot.flags(imap_account.username, "[Gmail]/Drafts").values()
    assert b"\\Draft" in flags


def test_configured_folders_are_read_as_given(imap_account: Account) -> None:
    with ImapMailbox(settings(imap_account, folders=("INBOX", "[Gmail]/Spam"))) as mailbox:
        assert mailbox.folders_to_read() == ["INBOX", "[Gmail]/Spam"]


def test_the_sender_filter_uses_gmail_search_only_on_gmail() -> None:
    from daemon.mail.imap import sender_filter

    assert sender_filter(["amazon.fr", "amazon.de"], gmail=True) == ["X-GM-RAW", "from:(amazon.fr OR amazon.de)"]
    assert sender_filter(["amazon.fr", "amazon.de"], gmail=False) == ["OR", "FROM", "amazon.fr", ["FROM", "amazon.de"]]


def amazon_mail(n: int) -> bytes:
    return email('"Amazon.fr" <confirmation-commande@amazon.fr>', f"Commande {n}", f"order-{n}@amazonses.com")


def test_an_untrusted_certificate_is_refused(imap_account: Account) -> None:
    for security in ("tls", "starttls"):
        with pytest.raises(MailboxError, match="CERTIFICATE_VERIFY_FAILED"), \
                ImapMailbox(settings(imap_account, security, ca_file=None)):
            pass


def test_no_server_listening_is_a_mailbox_error(imap_account: Account) -> None:
    port = free_port()
    with pytest.raises(MailboxError, match=f"127.0.0.1:{port}: cannot connect"), \
            ImapMailbox(settings(imap_account, port=port)):
        pass


def test_an_unknown_security_mode_is_refused(imap_account: Account) -> None:
    with pytest.raises(MailboxError, match="unknown security 'ssl'"), ImapMailbox(settings(imap_account, "ssl")):
        pass


def test_scanning_without_sender_domains_is_a_programming_error(imap_account: Account) -> None:
    with ImapMailbox(settings(imap_account)) as mailbox, pytest.raises(ValueError, match="no sender domains"):
        mailbox.scan("INBOX", None, 0, [])


def test_an_unknown_uidvalidity_rescans_from_the_first_uid(dovecot: Dovecot, imap_account: Account) -> None:
    dovecot.deliver(imap_account.username, amazon_mail(1))
    with ImapMailbox(settings(imap_account)) as mailbox:
        assert mailbox.scan("INBOX", None, 5, AMAZON).uids == (1,)  # a cursor without its UIDVALIDITY means nothing


def test_fetch_reads_in_batches_with_peek_only(dovecot: Dovecot, imap_account: Account) -> None:
    user = imap_account.username
    for n in range(1, 6):
        dovecot.deliver(user, amazon_mail(n))
    with ImapMailbox(settings(imap_account)) as mailbox:
        uids = mailbox.scan("INBOX", None, 0, AMAZON).uids
        fetched = list(mailbox.fetch("INBOX", uids, batch=2))
    assert [uid for uid, _ in fetched] == [1, 2, 3, 4, 5]
    assert all(f"order-{uid}@amazonses.com".encode() in raw for uid, raw in fetched)
    commands = dovecot.commands(user)
    assert commands.count("UID FETCH") == 3 and "SELECT" not in commands  # EXAMINE only: nothing can change
    rawlog = b"".join(p.read_bytes() for p in (dovecot.root / "rawlog" / user).glob("*.in"))
    assert b"BODY.PEEK[]" in rawlog and b" BODY[]" not in rawlog and b"RFC822" not in rawlog
    assert all(b"\\Seen" not in flags for flags in dovecot.flags(user, "INBOX").values())


def test_a_draft_is_flagged_draft_and_seen_and_found_by_its_own_message_id_only(
    dovecot: Dovecot, imap_account: Account
) -> None:
    with ImapMailbox(settings(imap_account)) as mailbox:
        mailbox.append_draft(email("me@example.com", "Colis 123-4567890-1234567", "claim-7@lateclaim"))
        assert mailbox.contains_message_id("[Gmail]/Drafts", "claim-7@lateclaim")
        assert not mailbox.contains_message_id("[Gmail]/Drafts", "claim-8@lateclaim")
        assert not mailbox.contains_message_id("INBOX", "claim-7@lateclaim")
    [flags] = dovecot.flags(imap_account.username, "[Gmail]/Drafts").values()
    assert set(flags.split()) >= {b"\\Draft", b"\\Seen"}


def test_the_all_mail_folder_is_read_when_the_server_has_one(dovecot: Dovecot, all_mail_account: Account) -> None:
    user = all_mail_account.username
    dovecot.deliver(user, amazon_mail(1))
    dovecot.deliver(user, amazon_mail(2), "[Gmail]/Spam")  # All Mail leaves Spam and Trash out, as Gmail's does
    with ImapMailbox(settings(all_mail_account)) as mailbox:
        [folder] = mailbox.folders_to_read()
        assert folder == "Virtual/All"
        assert (mailbox.drafts_folder(), mailbox.sent_folder()) == ("[Gmail]/Drafts", "[Gmail]/Sent Mail")
        state = mailbox.scan(folder, None, 0, AMAZON)
        [(_, raw)] = mailbox.fetch(folder, state.uids)
    assert b"order-1@amazonses.com" in raw
    assert dovecot.commands(user).count("LIST") == 1  # one LIST per connection answers every special-use lookup


def test_our_drafts_are_found_and_removed_by_listing_drafts_never_by_a_header_search(
    dovecot: Dovecot, imap_account: Account
) -> None:
    user = imap_account.username
    # Another client's message marked \Deleted (not expunged) must survive our removal.
    dovecot.deliver(user, email("me@example.com", "Brouillon à moi", "mine@example.com"), "[Gmail]/Drafts")
    with ImapMailbox(settings(imap_account)) as mailbox:
        drafts = mailbox.drafts_folder()
        mailbox.append_draft(email("me@example.com", "Colis 1", "claim-1@lateclaim"))
        mailbox.append_draft(email("me@example.com", "Colis 2", "claim-2@lateclaim"))
        mailbox.client.select_folder(drafts)
        mailbox.client.add_flags([1], [b"\\Deleted"])
        mailbox.client.unselect_folder()
        assert mailbox.find_message_id(drafts, "<claim-2@lateclaim>") == [3]
        assert mailbox.remove_own(drafts, "claim-2@lateclaim") == 1
        assert mailbox.remove_own(drafts, "claim-2@lateclaim") == 0
        assert mailbox.remove_own(drafts, "claim-1@lateclaim", uid=1) == 0  # UID 1 is not ours
        assert sorted(mailbox.listed(drafts).values()) == ["claim-1@lateclaim", "mine@example.com"]
    rawlog = b"".join(p.read_bytes() for p in (dovecot.root / "rawlog" / user).glob("*.in"))
    assert b"HEADER Message-ID" not in rawlog and b"UID EXPUNGE 3" in rawlog
