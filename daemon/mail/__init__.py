"""The mailbox and the wire: IMAP, SMTP, OAuth sign-in, secrets, and the .eml folder that stands in for a mailbox."""
