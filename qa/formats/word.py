"""Word (.docx) through python-docx: paragraphs and tables in body order, read by their styles.

Word says what a paragraph is by its style: "Title" and "Heading N" are headings, "List ..."
styles (or a paragraph with list numbering) are list items. Tables become row lines with their
column names. A .docx has no fixed pages (they depend on how it is rendered), so its blocks
have none.
"""

from __future__ import annotations

import datetime as dt
import io
import re
from collections.abc import Iterator
from typing import Any

import docx
from docx.table import Table
from docx.text.paragraph import Paragraph

from qa.blocks import Block, BlockKind, guess_header, table_rows
from qa.formats import DocumentMetadata, DocumentReadError, Reading

_HEADING_STYLE = re.compile(r"^heading (\d)$", re.IGNORECASE)
# python-docx's own template carries this creation time; a file made from it without setting
# one states no date of its own.
_TEMPLATE_CREATED = dt.datetime(2013, 12, 23, 23, 15, tzinfo=dt.UTC)


def read_docx(data: bytes) -> Reading:
    try:
        document = docx.Document(io.BytesIO(data))
        blocks = list(_blocks(document))
        properties = document.core_properties
        title, created = properties.title or "", properties.created
    except Exception as error:
        # A damaged file fails in the zip layer, the package layer or the XML parser; each is
        # this file's failure, reported with its cause.
        raise DocumentReadError(
            f"Word document could not be read: {type(error).__name__}: {error}"
        ) from error
    if not any(block.text.strip() for block in blocks):
        raise DocumentReadError("no text found in the Word document")
    published = ""
    if isinstance(created, dt.datetime) and created != _TEMPLATE_CREATED:
        published = created.date().isoformat()
    return Reading(tuple(blocks), DocumentMetadata(title=title.strip(), published=published))


def _blocks(document: Any) -> Iterator[Block]:
    numbers: dict[str, int] = {}  # the next number of each numbered list style
    for item in document.iter_inner_content():
        if isinstance(item, Table):
            numbers.clear()
            yield from _table(item)
        elif isinstance(item, Paragraph):
            block = _paragraph(item, numbers)
            if block is not None:
                yield block


def _paragraph(paragraph: Paragraph, numbers: dict[str, int]) -> Block | None:
    text = paragraph.text
    if not text.strip():
        return None
    style = paragraph.style.name if paragraph.style is not None else ""
    heading = _HEADING_STYLE.match(style or "")
    if style == "Title":
        return Block(BlockKind.HEADING, text, level=1)
    if heading:
        return Block(BlockKind.HEADING, text, level=int(heading[1]))
    numbered = paragraph._p.pPr is not None and paragraph._p.pPr.numPr is not None
    if (style or "").startswith("List") or numbered:
        if "Number" in (style or ""):
            numbers[style] = numbers.get(style, 0) + 1
            return Block(BlockKind.LIST_ITEM, f"{numbers[style]}. {text}")
        return Block(BlockKind.LIST_ITEM, f"- {text}")
    numbers.clear()
    return Block(BlockKind.PARAGRAPH, text)


def _table(table: Table) -> Iterator[Block]:
    rows: list[list[str]] = []
    for row in table.rows:
        cells: list[str] = []
        seen: list[Any] = []
        for cell in row.cells:
            if any(cell._tc is other for other in seen):  # a merged cell repeats itself
                continue
            seen.append(cell._tc)
            cells.append(cell.text)
        rows.append(cells)
    marked = bool(table.rows) and bool(table.rows[0]._tr.xpath("./w:trPr/w:tblHeader"))
    header = rows[0] if marked and rows else guess_header(rows)
    body = rows[1:] if header is not None else rows
    for line in table_rows(body, header):
        yield Block(BlockKind.TABLE_ROW, line)
