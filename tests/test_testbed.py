"""The test servers themselves: the Dovecot and SMTP fixtures do what the other tests rely on."""

from __future__ import annotations

import smtplib
import ssl
from email.message import EmailMessage

import pytest
from imapclient import IMAPClient

from tests.servers.dovecot import ALL_MAIL_FOLDER, Account, Dovecot, commands_in
from tests.servers.smtp import PASSWORD, USER, SmtpServer

NOTE = (b"From: Jane Example <jane@example.org>\r\nTo: someone@example.com\r\nSubject: Hello\r\n"
        b"Message-ID: <hello-1@example.org>\r\n\r\nCaf\xc3\xa9 at noon?\r\n")


def tls_client(account: Account) -> IMAPClient:
    client = IMAPClient(account.host, account.tls_port, ssl_context=ssl.create_default_context(cafile=account.ca_file))
    client.login(account.username, account.password)
    return client


def test_each_test_gets_an_account_of_its_own(dovecot: Dovecot, imap_account: Account) -> None:
    other = dovecot.new_account()
    assert other.username != imap_account.username
    dovecot.deliver(imap_account.username, NOTE)
    assert dovecot.messages(other.username, "INBOX") == []


def test_delivered_mail_is_read_back_byte_exact_with_its_flags(dovecot: Dovecot, imap_account: Account) -> None:
    dovecot.deliver(imap_account.username, NOTE)
    assert dovecot.messages(imap_account.username, "INBOX") == [NOTE.replace(b"\r\n", b"\n")]  # Maildir keeps LF
    assert dovecot.flags(imap_account.username, "INBOX") == {1: b"\\Recent"}  # new, unread


def test_the_layout_is_gmails_and_the_certificate_is_trusted(imap_account: Account) -> None:
    client = tls_client(imap_account)
    try:
        folders = {name: flags for flags, _, name in client.list_folders()}
    finally:
        client.logout()
    assert b"\\Drafts" in folders["[Gmail]/Drafts"] and b"\\Sent" in folders["[Gmail]/Sent Mail"]
    assert not any(b"\\All" in flags for flags in folders.values())


def test_an_all_mail_account_has_a_virtual_all_folder(dovecot: Dovecot) -> None:
    account = dovecot.new_account(all_mail=True)
    dovecot.deliver(account.username, NOTE)
    client = tls_client(account)
    try:
        assert client.find_special_folder(b"\\All") == ALL_MAIL_FOLDER
        assert client.select_folder(ALL_MAIL_FOLDER, readonly=True)[b"EXISTS"] == 1
    finally:
        client.logout()


def test_uidvalidity_can_be_forced_and_a_user_kicked(dovecot: Dovecot, imap_account: Account) -> None:
    dovecot.deliver(imap_account.username, NOTE)
    dovecot.set_uidvalidity(imap_account.username, "INBOX", 4242)
    client = tls_client(imap_account)
    assert client.select_folder("INBOX", readonly=True)[b"UIDVALIDITY"] == 4242
    dovecot.kick(imap_account.username)
    with pytest.raises((OSError, IMAPClient.AbortError)):
        client.noop()
        client.noop()  # the BYE may arrive with the first answer; the second command meets a closed socket


def test_the_rawlog_counts_commands_after_login(dovecot: Dovecot, imap_account: Account) -> None:
    client = tls_client(imap_account)
    client.append("INBOX", NOTE.replace(b"Hello", b"A LOGIN in a literal"))
    client.select_folder("INBOX", readonly=True)
    client.search(["ALL"])
    client.logout()
    assert dovecot.commands(imap_account.username) == [
        "APPEND", "EXAMINE", "CAPABILITY", "UID SEARCH", "LOGOUT"]  # imapclient asks CAPABILITY before its first SEARCH


def test_the_rawlog_parser_skips_literal_payloads() -> None:
    raw = (b"1.000001 a1 APPEND INBOX {23}\r\n1.000002 Subject: x\r\n1.000003 \r\n1.000004 UID FETCH\r\n"
           b"1.000005 \r\n1.000006 a2 UID FETCH 1:2 (BODY.PEEK[])\r\n")
    assert commands_in(raw) == ["APPEND", "UID FETCH"]


def message() -> EmailMessage:
    mail = EmailMessage()
    mail["From"], mail["To"], mail["Subject"] = USER, "cs@example.com", "Order 123-4567890-1234567"
    mail.set_content("Hello")
    return mail


def test_the_smtp_sink_records_what_an_authenticated_client_sends(dovecot: Dovecot, smtp_server: SmtpServer) -> None:
    context = ssl.create_default_context(cafile=dovecot.ca_file)
    with smtplib.SMTP_SSL("127.0.0.1", smtp_server.port, context=context, timeout=10) as client:
        with pytest.raises(smtplib.SMTPAuthenticationError):
            client.login(USER, "wrong-password")
        client.login(USER, PASSWORD)
        client.send_message(message())
    [received] = smtp_server.messages
    assert received.mail_from == USER and received.rcpt_tos == ["cs@example.com"]
    assert b"123-4567890-1234567" in received.content


def test_the_starttls_sink_offers_auth_only_after_starttls(dovecot: Dovecot, smtp_starttls_server: SmtpServer) -> None:
    with smtplib.SMTP("127.0.0.1", smtp_starttls_server.port, timeout=10) as client:
        with pytest.raises(smtplib.SMTPNotSupportedError):
            client.login(USER, PASSWORD)
        client.starttls(context=ssl.create_default_context(cafile=dovecot.ca_file))
        client.login(USER, PASSWORD)
        client.send_message(message())
    assert len(smtp_starttls_server.messages) == 1
