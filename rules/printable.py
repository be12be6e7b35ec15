"""A claim as a printed letter (PDF): the sender's and the retailer's postal addresses, place and date, the
registered-post line where the country uses it, the subject and the order, the letter, and room to sign.

Made with fpdf2 and fonts the project ships (rules/fonts), embedded and subset in the PDF, so that it prints the
same on any machine after a plain `pip install`: DejaVu Sans for every Latin, Greek and Cyrillic script ("zł",
"ő", "ß"), IPAexGothic (IPA Font License) for Japanese, used wherever DejaVu has no glyph. The text stays
extractable (the tests read it back). The address sits where the window of the sender's country's envelopes is
(DIN 5008 and the UK on the left, France on the right...). The file's metadata names no tool. Pure: facts in,
bytes out.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time
from functools import cache
from importlib.resources import files
from itertools import pairwise
from pathlib import Path

from fpdf import FPDF

from rules.contacts import phrase, window_side
from rules.letters import date_writer

FONT = "letter"
CJK_FONT = "letter-cjk"
FONT_FILES = {"": "DejaVuSans.ttf", "B": "DejaVuSans-Bold.ttf", "BI": "DejaVuSans-BoldOblique.ttf"}
CJK_FILE = "ipaexg.ttf"
LEFT, RIGHT, TOP = 25.0, 20.0, 20.0  # mm
# The recipient's block, where the window of a C5/DL envelope shows it: DIN 5008 form B puts the address field
# 20 mm from the left edge and 45 mm from the top (the UK's and the US's left windows sit there too); French
# and other right-window envelopes show it about 110 mm from the left and 55 mm from the top.
WINDOW = {"left": (LEFT, 50.0), "right": (110.0, 55.0)}
SENDER_RIGHT_X = 120.0  # with a left window, the sender's block moves to the right, as DIN 5008 lays it out
LINE = 5.0  # mm per line at 11 pt
SIGNATURE_SPACE = 18.0  # mm left blank for the handwritten signature
NBSP = "\u00a0"
# A space that must not become a line break: between a day and its month ("3 décembre", "8. Dezember"), a month
# and the number after it ("décembre 2026", "December 27"), an amount and its currency ("29,99 €", "12 zł"), a
# year and Polish "r.", and an abbreviation and its number ("L. 216-6", "§ 323", "n° 171-...").
CURRENCIES = {"€", "$", "£", "¥", "zł", "kr", "EUR", "USD", "GBP", "PLN", "SEK", "JPY", "CAD", "%", "r."}
ABBREVIATIONS = {"§", "§§", "n°", "nr", "Nr.", "No.", "art.", "Art.", "L.", "Abs.", "ust.", "lid", "co.", "s."}


@dataclass(frozen=True)
class PrintedLetter:
    language: str
    marketplace: str
    sender: tuple[str, ...]  # name, then the postal address lines
    recipient: tuple[str, ...]  # entity, then the address lines and the country
    place: str
    day: date
    subject: str
    order_id: str
    body: str  # the letter as drafted: greeting, paragraphs, closing, and the signer's name last
    registered: bool
    email: str = ""  # the account's email address: how Amazon matches a paper letter to an account
    country: str = ""  # the sender's country: where its envelopes have their window


def keep_together(text: str, months: tuple[str, ...] | list[str] = ()) -> str:
    """The text with non-breaking spaces where a line break would split a date, an amount or a citation."""
    words = text.split(" ")
    out = [words[0]]
    month_names = {m.casefold() for m in months}
    for before, word in pairwise(words):
        bare_before, bare_word = before.rstrip(".,;:").casefold(), word.rstrip(".,;:)").casefold()
        after_number = before.rstrip(".")[-1:].isdigit() and (
            bare_word in month_names or word.rstrip(".,;:)") in CURRENCIES)
        before_number = word[:1].isdigit() and (bare_before in month_names or before in ABBREVIATIONS)
        glue = after_number or before_number
        out.append((NBSP if glue else " ") + word)
    return "".join(out)


@cache
def _font_dir() -> Path:
    return Path(str(files("rules") / "fonts"))  # package data, installed as plain files


def _fonts(pdf: FPDF, cjk: bool) -> None:
    for style, name in FONT_FILES.items():
        pdf.add_font(FONT, style, str(_font_dir() / name))
    if cjk:  # reading the 4 MB Japanese font costs ten times the letter: only when a glyph needs it
        pdf.add_font(CJK_FONT, "", str(_font_dir() / CJK_FILE))
        pdf.set_fallback_fonts([CJK_FONT], exact_match=False)


def _needs_cjk(letter: PrintedLetter) -> bool:
    text = "".join([*letter.sender, *letter.recipient, letter.place, letter.subject, letter.body, letter.email])
    return any(ord(c) >= 0x2E80 for c in text)  # CJK radicals, kana, ideographs, full-width forms


def town(address_last_line: str) -> str:
    """The town of an address's last line: before a comma ("Springfield, IL 62701"), else its words without
    digits ("75011 Paris" -> "Paris"). `claims.place` overrides it."""
    head = address_last_line.split(",")[0]
    return " ".join(w for w in head.split() if not any(c.isdigit() for c in w))


def render_pdf(letter: PrintedLetter) -> bytes:
    pdf = FPDF(format="A4", unit="mm")
    _fonts(pdf, _needs_cjk(letter) or letter.language == "ja")
    pdf.set_margins(LEFT, TOP, RIGHT)
    pdf.set_auto_page_break(True, margin=20)
    pdf.set_title(letter.subject)
    pdf.set_author(letter.sender[0] if letter.sender else "")
    pdf.set_creator(letter.sender[0] if letter.sender else "")
    pdf.set_producer("")
    # The letter's own day, not the clock: rules read no clock, and the file tells nothing the letter does not.
    pdf.set_creation_date(datetime.combine(letter.day, time(12), UTC))
    pdf.add_page()

    def lines(text_lines: tuple[str, ...] | list[str], x: float, bold_first: bool = False) -> None:
        for n, line in enumerate(text_lines):
            pdf.set_font(FONT, "B" if bold_first and n == 0 else "", 11)
            pdf.set_x(x)
            pdf.cell(0, LINE, line, new_x="LMARGIN", new_y="NEXT")

    address_x, address_y = WINDOW[window_side(letter.country)]
    sender = [*letter.sender, *([letter.email] if letter.email else [])]
    lines(sender, SENDER_RIGHT_X if address_x == LEFT else LEFT, bold_first=True)
    pdf.set_y(max(pdf.get_y() + 2 * LINE, address_y))
    lines(letter.recipient, address_x, bold_first=True)
    pdf.ln(2 * LINE)
    w = date_writer(letter.language, letter.marketplace)
    months = w.dates["months"]
    written = w.day(letter.day, article=False)
    pdf.set_font(FONT, "", 11)
    pdf.set_x(max(address_x, 110.0))
    pdf.cell(0, LINE, keep_together(phrase(letter.language, "place_date", place=letter.place, date=written), months),
             new_x="LMARGIN", new_y="NEXT")
    pdf.ln(2 * LINE)

    if letter.registered:  # above the subject, where the post office's sticker and the reader expect it
        pdf.set_font(FONT, "BI", 10)
        pdf.cell(0, LINE, phrase(letter.language, "registered_line", country=letter.country), new_x="LMARGIN",
                 new_y="NEXT")
        pdf.ln(LINE * 0.6)
    pdf.set_font(FONT, "B", 11)
    # Ragged right like every line of a typed letter: a justified subject stretches its gaps.
    gap = "" if letter.language == "ja" else " "  # Japanese puts no space after the label
    pdf.multi_cell(0, LINE, keep_together(f"{phrase(letter.language, 'subject')}{gap}{letter.subject}", months),
                   new_x="LMARGIN", new_y="NEXT", align="L")
    if letter.order_id not in letter.subject:
        pdf.set_font(FONT, "", 11)
        pdf.cell(0, LINE, phrase(letter.language, "order", order_id=letter.order_id), new_x="LMARGIN",
                 new_y="NEXT")
    pdf.ln(LINE)

    pdf.set_font(FONT, "", 11)
    body_lines = letter.body.rstrip().split("\n")
    signer = body_lines.pop() if len(body_lines) > 1 else ""
    for paragraph in "\n".join(body_lines).split("\n\n"):
        pdf.multi_cell(0, LINE, keep_together(paragraph.strip(), months), new_x="LMARGIN", new_y="NEXT",
                       align="L")
        pdf.ln(LINE * 0.6)
    if signer:
        pdf.ln(SIGNATURE_SPACE)
        pdf.cell(0, LINE, signer, new_x="LMARGIN", new_y="NEXT")
    return bytes(pdf.output())
