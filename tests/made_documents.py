"""Made-up documents of the kinds people bring, one of each format, written at test time.

The PDF is written by fpdf2 and the .docx by python-docx, so the files are real ones that a
library made, not hand-assembled bytes. Each document lists the pieces of its body (headings,
paragraphs, list items, table cells) that must all reach the indexed text.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path


@dataclass(frozen=True)
class MadeDocument:
    """A file to write and what its body holds, piece by piece."""

    name: str
    headings: list[str] = field(default_factory=list)
    paragraphs: list[str] = field(default_factory=list)
    items: list[str] = field(default_factory=list)  # list items, as written
    cells: list[str] = field(default_factory=list)  # table cells, header cells included
    rows: list[str] = field(default_factory=list)  # the row lines a table becomes
    pages: dict[str, int] = field(default_factory=dict)  # a phrase -> its 1-based page

    def pieces(self) -> list[str]:
        return [*self.headings, *self.paragraphs, *self.items, *self.cells]


WIKI_MD = """\
---
title: Harbour Lantern Festival
date: 2023-05-14
---

# Harbour Lantern Festival

The Harbour Lantern Festival is held every October on the Lunenburg waterfront. It was founded \
in 1975 by the teacher Anne Whitby.

## Sponsors

- Bluenose Bakery
- Fundy Ferries
- Tidewater Credit Union
- South Shore Radio

## Attendance

| Year | Attendance | Lanterns |
| ---- | ---------- | -------- |
| 2019 | 11,800     | 2,400    |
| 2022 | 9,300      | 1,950    |

Numbers for 2020 and 2021 are missing because the festival was cancelled.

## Tickets

- Tickets cost 12 dollars
- Children go free

## Getting there

1. Take the ferry from Halifax.
2. Walk to the *Fisheries Museum* and follow the [lanterns](https://example.org/map).
"""

WIKI = MadeDocument(
    name="festival.md",
    headings=["Harbour Lantern Festival", "Sponsors", "Attendance", "Tickets", "Getting there"],
    paragraphs=[
        "The Harbour Lantern Festival is held every October on the Lunenburg waterfront.",
        "Numbers for 2020 and 2021 are missing because the festival was cancelled.",
    ],
    items=[
        "Bluenose Bakery",
        "Fundy Ferries",
        "Tidewater Credit Union",
        "South Shore Radio",
        "Tickets cost 12 dollars",
        "Children go free",
        "Take the ferry from Halifax.",
        "Walk to the Fisheries Museum and follow the lanterns.",
    ],
    cells=["Year", "Attendance", "Lanterns", "2019", "11,800", "2,400", "2022", "9,300", "1,950"],
    rows=[
        "2019 — Attendance: 11,800; Lanterns: 2,400",
        "2022 — Attendance: 9,300; Lanterns: 1,950",
    ],
)

FAQ_MD = """\
# Library card FAQ

## How do I get a card?

Bring one of these to any branch:

* a passport
* a driving licence
* a utility bill

## What does a card cost?

Cards are free for residents. Visitors pay 10 dollars a year.
"""

FAQ = MadeDocument(
    name="faq.md",
    headings=["Library card FAQ", "How do I get a card?", "What does a card cost?"],
    paragraphs=[
        "Bring one of these to any branch:",
        "Cards are free for residents. Visitors pay 10 dollars a year.",
    ],
    items=["a passport", "a driving licence", "a utility bill"],
)

MANUAL_HTML = """\
<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<title>Kettle K-200 manual</title>
<meta property="og:site_name" content="ACME Appliances">
<meta property="article:published_time" content="2021-03-09T10:00:00Z">
</head><body>
<nav><ul><li><a href="/">Home</a></li><li><a href="/shop">Shop</a></li>
<li><a href="/support">Support</a></li></ul></nav>
<main><article>
<h1>Kettle K-200 user manual</h1>
<p>The K-200 is an electric kettle with a keep-warm mode. Read these instructions before you use
it for the first time.</p>
<h2>In the box</h2>
<ul><li>Kettle</li><li>Power base</li><li>Limescale filter</li></ul>
<h2>Specifications</h2>
<table>
<thead><tr><th>Property</th><th>Value</th></tr></thead>
<tbody>
<tr><td>Capacity</td><td>1.7 litres</td></tr>
<tr><td>Power</td><td>2,200 watts</td></tr>
<tr><td>Cable length</td><td>75 cm</td></tr>
</tbody></table>
<h2>Cleaning</h2>
<p>Descale the kettle once a month with white vinegar, then boil clean water twice.</p>
</article></main>
<footer><p>© 2024 ACME Appliances. All rights reserved.</p></footer>
</body></html>
"""

MANUAL = MadeDocument(
    name="manual.html",
    headings=["Kettle K-200 user manual", "In the box", "Specifications", "Cleaning"],
    paragraphs=[
        "The K-200 is an electric kettle with a keep-warm mode.",
        "Descale the kettle once a month with white vinegar, then boil clean water twice.",
    ],
    items=["Kettle", "Power base", "Limescale filter"],
    cells=["Property", "Value", "Capacity", "1.7 litres", "Power", "2,200 watts", "75 cm"],
    rows=["Capacity — Value: 1.7 litres", "Power — Value: 2,200 watts"],
)

TRANSCRIPT_TXT = """\
Interview with Ruth Hale, mill keeper

INTERVIEWER: When did you start working at the mill?
HALE: In 1990, the year we restored it.
INTERVIEWER: Who taught you to grind flour?
HALE: My uncle, Peter Hale.
"""

TRANSCRIPT = MadeDocument(
    name="interview.txt",
    paragraphs=[
        "INTERVIEWER: When did you start working at the mill?",
        "HALE: In 1990, the year we restored it.",
        "HALE: My uncle, Peter Hale.",
    ],
)

REPORT = MadeDocument(
    name="report.pdf",
    headings=["Annual report 2023", "Finances", "Board"],
    paragraphs=[
        "The Harbour Trust looked after four piers and two lighthouses in 2023.",
        "Income rose to 1.2 million dollars, mostly from mooring fees.",
        "The board met six times during the year.",
    ],
    items=["Repaint the north lighthouse", "Replace the ferry ramp"],
    cells=["Item", "Amount", "Mooring fees", "820,000", "Grants", "310,000"],
    rows=["Mooring fees — Amount: 820,000", "Grants — Amount: 310,000"],
    pages={
        "four piers and two lighthouses": 1,
        "mostly from mooring fees": 2,
        "Mooring fees — Amount: 820,000": 2,
        "The board met six times": 3,
        "Margaret Osei, Chair": 3,
    },
)


def write_report_pdf(path: Path) -> Path:
    """A three-page annual report: headings in a larger font, a bullet list, a ruled table and
    a signature line, written with fpdf2."""
    from fpdf import FPDF

    pdf = FPDF(format="A4")
    pdf.set_title("Annual report 2023")
    pdf.set_creation_date(_creation_date())
    pdf.set_auto_page_break(False)

    def heading(text: str) -> None:
        pdf.set_font("Helvetica", "B", 18)
        pdf.cell(0, 12, text, new_x="LMARGIN", new_y="NEXT")

    def body(text: str) -> None:
        pdf.set_font("Helvetica", "", 11)
        pdf.multi_cell(0, 6, text, new_x="LMARGIN", new_y="NEXT")
        pdf.ln(3)

    pdf.add_page()
    heading("Annual report 2023")
    body(
        "The Harbour Trust looked after four piers and two lighthouses in 2023. Volunteers "
        "gave more than 3,000 hours."
    )
    body("Plans for next year:")
    body("- Repaint the north lighthouse")
    body("- Replace the ferry ramp")

    pdf.add_page()
    heading("Finances")
    body("Income rose to 1.2 million dollars, mostly from mooring fees.")
    pdf.set_font("Helvetica", "", 11)
    with pdf.table(col_widths=(60, 40), width=100, align="LEFT") as table:
        for cells in (("Item", "Amount"), ("Mooring fees", "820,000"), ("Grants", "310,000")):
            row = table.row()
            for cell in cells:
                row.cell(cell)

    pdf.add_page()
    heading("Board")
    body("The board met six times during the year.")
    body("Margaret Osei, Chair")
    pdf.output(str(path))
    return path


MINUTES = MadeDocument(
    name="minutes.docx",
    headings=["Parks committee minutes", "Present", "Decisions", "Actions"],
    paragraphs=[
        "The committee met on 4 March in the town hall.",
        "The committee agreed to close the east gate at night.",
    ],
    items=["Ana Ruiz", "Tom Becker", "Li Wei"],
    cells=[
        "Action",
        "Owner",
        "Due",
        "Order new benches",
        "Tom Becker",
        "April",
        "Fix the fountain",
    ],
    rows=["Order new benches — Owner: Tom Becker; Due: April"],
)


def write_minutes_docx(path: Path) -> Path:
    """Meeting minutes with Word's own heading and list styles and a table, by python-docx."""
    import docx

    document = docx.Document()
    document.core_properties.title = "Parks committee minutes"
    document.add_heading("Parks committee minutes", level=1)
    document.add_paragraph("The committee met on 4 March in the town hall.")
    document.add_heading("Present", level=2)
    for name in ("Ana Ruiz", "Tom Becker", "Li Wei"):
        document.add_paragraph(name, style="List Bullet")
    document.add_heading("Decisions", level=2)
    document.add_paragraph("The committee agreed to close the east gate at night.")
    document.add_heading("Actions", level=2)
    table = document.add_table(rows=0, cols=3)
    for cells in (
        ("Action", "Owner", "Due"),
        ("Order new benches", "Tom Becker", "April"),
        ("Fix the fountain", "Li Wei", "May"),
    ):
        row = table.add_row().cells
        for cell, text in zip(row, cells, strict=True):
            cell.text = text
    document.save(str(path))
    return path


def _creation_date():  # type: ignore[no-untyped-def]
    from datetime import UTC, datetime

    return datetime(2024, 2, 1, 9, 0, tzinfo=UTC)


TEXT_DOCUMENTS = {WIKI.name: WIKI_MD, FAQ.name: FAQ_MD, MANUAL.name: MANUAL_HTML}
TEXT_DOCUMENTS[TRANSCRIPT.name] = TRANSCRIPT_TXT
ALL = [WIKI, FAQ, MANUAL, TRANSCRIPT, REPORT, MINUTES]


def write_all(folder: Path) -> Path:
    """Every made-up document, written into ``folder``."""
    folder.mkdir(parents=True, exist_ok=True)
    for name, text in TEXT_DOCUMENTS.items():
        (folder / name).write_text(text, encoding="utf-8")
    write_report_pdf(folder / REPORT.name)
    write_minutes_docx(folder / MINUTES.name)
    return folder
