"""parsers.readable_text: the text a person sees in an HTML message, as an answer from customer service is quoted."""

from __future__ import annotations

import email
from email import policy
from email.message import EmailMessage

from daemon.passes.answers import own_words, text_of
from parsers import readable_text

ANSWER = ("<html><head><title>Service client</title><style>p{margin:0} .x{color:red}</style></head><body>"
          "<!-- template 42 --><p>Bonjour Alex,</p><p>Nous avons   bien reçu\n votre demande.</p>"
          '<img src="logo.png" alt="Amazon.fr"><script>track()</script></body></html>')


def test_only_what_a_reader_sees() -> None:
    assert readable_text(ANSWER) == "Bonjour Alex,\nNous avons bien reçu votre demande."


def test_an_html_answer_is_quoted_without_its_title_and_style() -> None:
    raw = ("From: Service client <cs-reply@amazon.fr>\r\nSubject: Re: votre demande\r\nMessage-ID: <a@amazon.fr>\r\n"
           "Date: Mon, 23 Nov 2026 10:00:00 +0000\r\nContent-Type: text/html; charset=utf-8\r\n\r\n"
           f"{ANSWER}\r\n").encode()
    message = email.message_from_bytes(raw, policy=policy.default)
    assert isinstance(message, EmailMessage)
    words = own_words(text_of(message))
    assert words == "Bonjour Alex,\nNous avons bien reçu votre demande."
    assert "margin" not in words and "Service client" not in words
