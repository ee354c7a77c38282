"""Each format read whole: every heading, paragraph, list item and table cell of a made-up
document's body reaches the indexed text, in lines a reader can quote; dates only where stated.

The PDF is written by fpdf2 and the Word file by python-docx while the tests run.
"""

from __future__ import annotations

import unicodedata
from pathlib import Path

import made_documents as made
import pytest
from hypothesis import given
from hypothesis import strategies as st

from qa.blocks import Block, BlockKind, guess_header, table_rows
from qa.documents import read_document
from qa.layout import LaidOutDocument, lay_out, locate


@pytest.fixture(scope="module")
def folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return made.write_all(tmp_path_factory.mktemp("made") / "corpus")


def laid_out(folder: Path, document: made.MadeDocument) -> LaidOutDocument:
    source = read_document(folder / document.name)
    return lay_out(source.blocks, source.page_count)


def lines(layout: LaidOutDocument) -> list[str]:
    return layout.text.split("\n\n")


@pytest.mark.parametrize("document", made.ALL, ids=[d.name for d in made.ALL])
def test_every_piece_of_the_body_is_in_the_indexed_text(
    folder: Path, document: made.MadeDocument
) -> None:
    text = laid_out(folder, document).text
    for piece in document.pieces():
        assert piece in text, piece


@pytest.mark.parametrize(
    "document", [d for d in made.ALL if d.headings], ids=[d.name for d in made.ALL if d.headings]
)
def test_headings_stand_on_their_own_lines_and_are_known_as_headings(
    folder: Path, document: made.MadeDocument
) -> None:
    layout = laid_out(folder, document)
    assert [heading.title for heading in layout.headings] == document.headings
    for heading in layout.headings:
        assert layout.text[heading.start : heading.end] == heading.title
        assert heading.title in lines(layout)


@pytest.mark.parametrize(
    "document", [d for d in made.ALL if d.items], ids=[d.name for d in made.ALL if d.items]
)
def test_each_list_item_is_a_line_of_its_own(folder: Path, document: made.MadeDocument) -> None:
    own_lines = [
        line.removeprefix("- ").split(". ", 1)[-1] for line in lines(laid_out(folder, document))
    ]
    for item in document.items:
        assert item in own_lines, item


@pytest.mark.parametrize(
    "document", [d for d in made.ALL if d.rows], ids=[d.name for d in made.ALL if d.rows]
)
def test_table_rows_are_lines_with_their_column_names(
    folder: Path, document: made.MadeDocument
) -> None:
    layout = laid_out(folder, document)
    for row in document.rows:
        assert row in lines(layout), row


def test_markdown_short_bullets_and_tables_survive_where_scraped_rules_would_drop_them(
    folder: Path,
) -> None:
    text_lines = lines(laid_out(folder, made.WIKI))
    assert "- Bluenose Bakery" in text_lines
    assert "- Tickets cost 12 dollars" in text_lines
    assert "2019 — Attendance: 11,800; Lanterns: 2,400" in text_lines
    assert not any(line.startswith(("|", "#", "---", "title:")) for line in text_lines)


def test_pdf_blocks_know_their_pages_and_the_pages_are_bounded_in_the_text(folder: Path) -> None:
    layout = laid_out(folder, made.REPORT)
    assert [page.number for page in layout.pages] == [1, 2, 3]
    for phrase, page in made.REPORT.pages.items():
        offset = layout.text.index(phrase)
        span = layout.pages[page - 1]
        assert span.start <= offset < span.end, phrase
        assert locate(layout, offset).page == page


def test_a_location_names_the_nearest_heading_before_it(folder: Path) -> None:
    layout = laid_out(folder, made.REPORT)
    income = layout.text.index("Income rose")
    assert locate(layout, income) == locate(layout, layout.text.index("Grants —"))
    assert locate(layout, income).section == "Finances"
    assert locate(layout, 0).section == "Annual report 2023"
    assert locate(laid_out(folder, made.TRANSCRIPT), 10).section is None


def test_plain_text_still_goes_through_the_scraped_page_rules(tmp_path: Path) -> None:
    path = tmp_path / "page.txt"
    path.write_text(
        "Home\nWorld\nSports\nThe council approved the budget on Monday.\n"
        "Share this article\n• Facebook\n• Twitter\n",
        encoding="utf-8",
    )
    source = read_document(path)
    assert [block.kind for block in source.blocks] == [BlockKind.SCRAPED]
    assert lay_out(source.blocks).text == "The council approved the budget on Monday."


def test_html_outside_its_main_content_is_left_out(folder: Path) -> None:
    text = laid_out(folder, made.MANUAL).text
    for furniture in ("Shop", "Support", "©", "All rights reserved"):
        assert furniture not in text


def test_html_without_main_content_is_read_as_a_scraped_page(tmp_path: Path) -> None:
    path = tmp_path / "bare.html"
    path.write_text("<html><body><span>Only a line</span></body></html>", encoding="utf-8")
    source = read_document(path)
    assert [block.kind for block in source.blocks] == [BlockKind.SCRAPED]
    assert lay_out(source.blocks).text == "Only a line"


# --- dates: only from what states one -----------------------------------------------------


def test_dates_come_from_what_states_them(folder: Path) -> None:
    assert read_document(folder / made.WIKI.name).metadata.published == "2023-05-14"
    assert read_document(folder / made.MANUAL.name).metadata.published == "2021-03-09"
    assert read_document(folder / made.REPORT.name).metadata.published == "2024-02-01"


def test_a_copyright_footer_is_no_publication_date(tmp_path: Path) -> None:
    path = tmp_path / "manual.html"
    path.write_text(
        made.MANUAL_HTML.replace(
            '<meta property="article:published_time" content="2021-03-09T10:00:00Z">', ""
        ),
        encoding="utf-8",
    )
    assert read_document(path).metadata.published == ""


@pytest.mark.parametrize(
    "head, body, date",
    [
        (
            '<script type="application/ld+json">{"datePublished": "2020-06-01"}</script>',
            "",
            "2020-06-01",
        ),
        ("", '<p>Posted <time datetime="2019-04-02">2 April</time></p>', "2019-04-02"),
    ],
)
def test_json_ld_and_time_elements_state_a_date(
    tmp_path: Path, head: str, body: str, date: str
) -> None:
    path = tmp_path / "page.html"
    path.write_text(
        f"<html><head><title>Notice</title>{head}</head><body><article><h1>Notice</h1>{body}"
        "<p>The pool closes for repairs in the first week of June, the council said.</p>"
        "</article><footer>© 2024 Town</footer></body></html>",
        encoding="utf-8",
    )
    assert read_document(path).metadata.published == date


def test_a_word_file_made_from_python_docx_template_states_no_date(folder: Path) -> None:
    # python-docx's template says it was created on 2013-12-23; the minutes were not.
    assert read_document(folder / made.MINUTES.name).metadata.published == ""


def test_a_word_file_states_its_title_from_its_properties(folder: Path) -> None:
    assert read_document(folder / made.MINUTES.name).metadata.title == "Parks committee minutes"


# --- tables -------------------------------------------------------------------------------


def test_table_rows_read_with_and_without_a_header() -> None:
    assert table_rows([["2019", "11,800", ""]], ["Year", "Attendance", "Lanterns"]) == [
        "Year; Attendance; Lanterns",
        "2019 — Attendance: 11,800",
    ]
    assert table_rows([["", "11,800"]], ["Year", "Attendance"]) == [
        "Year; Attendance",
        "Attendance: 11,800",
    ]
    assert table_rows([["Capacity", "1.7 litres"]], None) == ["Capacity: 1.7 litres"]
    assert table_rows([["a", "b", "c"], ["", "", ""]], None) == ["a; b; c"]
    assert table_rows([], ["Only", "a header"]) == ["Only; a header"]


def test_a_header_is_guessed_only_where_the_rows_under_it_bear_it_out() -> None:
    assert guess_header([["Item", "Amount"], ["Fees", "820,000"], ["Grants", "310,000"]]) == [
        "Item",
        "Amount",
    ]
    assert guess_header([["Colour", "Red"], ["Weight", "2 kg"]]) is None
    assert guess_header([["Capacity", "1.7 litres"], ["Power", "2,200 watts"]]) is None
    assert guess_header([["Colour", "Red"], ["Size", "Large"]]) is None
    assert guess_header([["Action", "Owner", "Due"], ["Benches", "Tom", "April"]]) == [
        "Action",
        "Owner",
        "Due",
    ]


# --- properties -----------------------------------------------------------------------------

_words = st.text(alphabet=st.sampled_from("ab é1,.:—-\n\t"), max_size=30)
_blocks = st.lists(
    st.builds(
        Block,
        kind=st.sampled_from([k for k in BlockKind if k is not BlockKind.SCRAPED]),
        text=_words,
        page=st.one_of(st.none(), st.integers(1, 4)),
        level=st.integers(0, 3),
    ),
    max_size=12,
).map(lambda blocks: sorted(blocks, key=lambda b: b.page or 0))


@given(_blocks)
def test_layout_offsets_are_exact(blocks: list[Block]) -> None:
    layout = lay_out(blocks)
    for heading in layout.headings:
        assert layout.text[heading.start : heading.end] == heading.title
    kept = [" ".join(b.text.split()) for b in blocks if b.text.split()]
    assert layout.text == "\n\n".join(unicodedata.normalize("NFC", t) for t in kept)
    starts = [page.start for page in layout.pages]
    assert starts == sorted(starts)
    for page in layout.pages:
        assert 0 <= page.start <= page.end <= len(layout.text)
        offset = page.start if page.start < page.end else None
        if offset is not None:
            assert locate(layout, offset).page == page.number


@given(
    st.lists(st.lists(_words, min_size=1, max_size=4), max_size=5),
    st.one_of(st.none(), st.lists(_words, min_size=1, max_size=4)),
)
def test_no_table_cell_is_lost(rows: list[list[str]], header: list[str] | None) -> None:
    text = "\n".join(table_rows(rows, header))
    for cell in [c for row in rows for c in row] + (header or []):
        assert " ".join(cell.split()) in text
