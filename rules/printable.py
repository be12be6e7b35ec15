"""A claim as a printed letter (PDF): the sender's and the retailer's postal addresses, place and date, the
registered-post line where the country uses it, the subject and the order, the letter, and room to sign.

Made with fpdf2 and its built-in Helvetica in the Windows-1252 encoding, which covers French, English, German,
Italian and Spanish with their quotation marks, dashes and the euro sign, needs no font file on the user's
machine, and keeps the text extractable (the tests read it back). A character outside it (a seller's name in
another script) is printed without its accent, or as "?" when it has no Latin form. Pure: facts in, bytes out.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from datetime import date

from fpdf import FPDF

from rules.contacts import phrase
from rules.letters import date_writer

ENCODING = "windows-1252"
LEFT, RIGHT, TOP = 25.0, 20.0, 20.0  # mm
ADDRESS_X = 110.0  # the recipient's block: where a right-window envelope shows it
LINE = 5.0  # mm per line at 11 pt
SIGNATURE_SPACE = 18.0  # mm left blank for the handwritten signature


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


def _printable(text: str) -> str:
    """The text in the PDF's encoding: accents kept where Windows-1252 has them, else dropped, else "?"."""
    out = []
    for char in unicodedata.normalize("NFC", text):
        try:
            char.encode(ENCODING)
            out.append(char)
        except UnicodeEncodeError:
            base = unicodedata.normalize("NFKD", char).encode(ENCODING, "ignore").decode(ENCODING)
            out.append(base or "?")
    return "".join(out)


def town(address_last_line: str) -> str:
    """The town of an address's last line: before a comma ("Springfield, IL 62701"), else its words without
    digits ("75011 Paris" -> "Paris"). `claims.place` overrides it."""
    head = address_last_line.split(",")[0]
    return " ".join(w for w in head.split() if not any(c.isdigit() for c in w))


CREATOR = "lateclaim claims letter"


def render_pdf(letter: PrintedLetter) -> bytes:
    pdf = FPDF(format="A4", unit="mm")
    pdf.core_fonts_encoding = ENCODING
    pdf.set_margins(LEFT, TOP, RIGHT)
    pdf.set_auto_page_break(True, margin=20)
    pdf.set_title(_printable(letter.subject))
    pdf.set_creator(CREATOR)  # how `claims letter` recognises a file it may replace
    pdf.add_page()

    def lines(text_lines: tuple[str, ...] | list[str], x: float, bold_first: bool = False) -> None:
        for n, line in enumerate(text_lines):
            pdf.set_font("helvetica", "B" if bold_first and n == 0 else "", 11)
            pdf.set_x(x)
            pdf.cell(0, LINE, _printable(line), new_x="LMARGIN", new_y="NEXT")

    lines(letter.sender, LEFT, bold_first=True)
    pdf.set_y(max(pdf.get_y() + 2 * LINE, 55.0))
    lines(letter.recipient, ADDRESS_X, bold_first=True)
    pdf.ln(2 * LINE)
    w = date_writer(letter.language, letter.marketplace)
    written = w.day(letter.day, article=False)
    pdf.set_font("helvetica", "", 11)
    pdf.set_x(ADDRESS_X)
    pdf.cell(0, LINE, _printable(phrase(letter.language, "place_date", place=letter.place, date=written)),
             new_x="LMARGIN", new_y="NEXT")
    pdf.ln(2 * LINE)

    if letter.registered:  # above the subject, where the post office's sticker and the reader expect it
        pdf.set_font("helvetica", "BI", 10)
        pdf.cell(0, LINE, _printable(phrase(letter.language, "registered_line")), new_x="LMARGIN", new_y="NEXT")
        pdf.ln(LINE * 0.6)
    pdf.set_font("helvetica", "B", 11)
    pdf.multi_cell(0, LINE, _printable(f"{phrase(letter.language, 'subject')} {letter.subject}"),
                   new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("helvetica", "", 11)
    pdf.cell(0, LINE, _printable(phrase(letter.language, "order", order_id=letter.order_id)), new_x="LMARGIN",
             new_y="NEXT")
    pdf.ln(LINE)

    body_lines = letter.body.rstrip().split("\n")
    signer = body_lines.pop() if len(body_lines) > 1 else ""
    for paragraph in "\n".join(body_lines).split("\n\n"):
        pdf.multi_cell(0, LINE, _printable(paragraph.strip()), new_x="LMARGIN", new_y="NEXT", align="L")
        pdf.ln(LINE * 0.6)
    if signer:
        pdf.ln(SIGNATURE_SPACE)
        pdf.cell(0, LINE, _printable(signer), new_x="LMARGIN", new_y="NEXT")
    return bytes(pdf.output())
