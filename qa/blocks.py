"""Blocks: what the format readers make of a file, before it becomes the text that is indexed.

A reader that knows its format says what each piece is (a heading, a paragraph, a list item,
a table row) and on which page it sits. Text whose structure is unknown (a plain-text file, a
web page where no main content was found) is one ``SCRAPED`` block: only that text goes through
the scraped-page rules of ``qa.cleaning``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum

# Between the first cell of a row and its other cells, and between a column name and its value.
ROW_LEAD = " — "
CELL_SEPARATOR = "; "


class BlockKind(StrEnum):
    HEADING = "heading"
    PARAGRAPH = "paragraph"
    LIST_ITEM = "item"  # its bullet ("- ") or number ("2. ") is part of its text
    TABLE_ROW = "row"  # one line per row, each cell with its column name
    SCRAPED = "scraped"  # text of unknown structure: cleaned by the scraped-page rules


@dataclass(frozen=True)
class Block:
    """One piece of a document's body, in reading order."""

    kind: BlockKind
    text: str
    page: int | None = None  # 1-based, for formats that have pages
    level: int = 0  # a heading's level (1 for a title), 0 for other blocks


def table_rows(rows: Sequence[Sequence[str]], header: Sequence[str] | None) -> list[str]:
    """A table as lines a reader can quote: its column names, then each row with them.

    With a header, the first line names the columns ("Year; Attendance; Lanterns") and a row
    reads "2019 — Attendance: 11,800; Lanterns: 2,400": its first cell, then every other
    non-empty cell after its column's name. Without one, a two-cell row reads "Capacity: 1.7
    litres" and a longer one its cells joined by "; ". No cell is left out.
    """
    cleaned = [[" ".join(cell.split()) for cell in row] for row in rows]
    names = [" ".join(name.split()) for name in header] if header else None
    lines = [CELL_SEPARATOR.join(name for name in names if name)] if names else []
    lines += [_row_line(row, names) for row in cleaned if any(row)]
    return [line for line in lines if line]


def _row_line(row: list[str], names: list[str] | None) -> str:
    if names is None:
        cells = [cell for cell in row if cell]
        if len(row) == 2 and all(row):
            return f"{row[0]}: {row[1]}"
        return CELL_SEPARATOR.join(cells)
    first, rest = row[0], row[1:]
    pairs = [
        f"{name}: {cell}" if name else cell
        for name, cell in zip(names[1:] + [""] * len(rest), rest, strict=False)
        if cell
    ]
    described = CELL_SEPARATOR.join(pairs)
    if first and described:
        return f"{first}{ROW_LEAD}{described}"
    return first or described


def guess_header(rows: Sequence[Sequence[str]]) -> list[str] | None:
    """The first row as column names, for a table that does not mark its header (PDF, Word,
    HTML without ``<th>``): when none of its cells is empty or a figure, and either the table
    has three or more columns or some column holds a figure in each of two or more rows under
    it. A two-column table of names and values ("Capacity | 1.7 litres") has no header;
    "Item | Amount" over rows of amounts does."""
    if len(rows) < 2 or not rows[0]:
        return None
    first = [" ".join(cell.split()) for cell in rows[0]]
    if not all(first) or any(_is_figure(cell) for cell in first):
        return None
    if len(first) >= 3:
        return first
    body = rows[1:]
    if len(body) < 2:  # one row under it is too little to tell "Colour | Red" from a header
        return None
    for column in range(1, len(first)):
        if all(column < len(row) and _is_figure(row[column]) for row in body):
            return first
    return None


def _is_figure(cell: str) -> bool:
    return any(character.isdigit() for character in cell)
