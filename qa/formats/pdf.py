"""PDF through pdfplumber: page by page, with headings told by their type size, and tables.

A PDF holds positioned glyphs, not paragraphs. pdfplumber gives each line of text with its
glyphs' sizes and finds ruled tables; here lines are grouped into paragraphs by the space
between them, a line set larger than the body text is a heading (the largest size is level 1),
a line that starts with a bullet or a number starts a list item, and each table row becomes a
line with its column names. Every block knows its page.
"""

from __future__ import annotations

import io
import re
from collections import Counter
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

import pdfplumber

from qa.blocks import Block, BlockKind, guess_header, table_rows
from qa.formats import DocumentMetadata, DocumentReadError, Reading

# A heading is set at least this much larger than the body text, and is short.
_HEADING_RATIO = 1.15
_MAX_HEADING_WORDS = 20
# Lines further apart than this share of their height belong to different paragraphs.
_PARAGRAPH_GAP = 0.8
_LIST_MARKER = re.compile(r"^(?:[-•*–▪◦‣●]\s+|\d{1,2}[.)]\s+)")
_PDF_DATE = re.compile(r"^(?:D:)?(\d{4})(\d{2})(\d{2})")


@dataclass(frozen=True)
class _Line:
    text: str
    top: float
    bottom: float
    size: float


@dataclass(frozen=True)
class _Table:
    top: float
    rows: list[list[str]]


def read_pdf(data: bytes) -> Reading:
    try:
        with pdfplumber.open(io.BytesIO(data)) as pdf:
            info = dict(pdf.metadata or {})
            pages = [list(_page_content(page)) for page in pdf.pages]
    except Exception as error:
        # pdfminer raises many exception types on malformed files (syntax errors, bad
        # streams, zlib errors...), wrapped or not; each is this file's failure, with its cause.
        if "password" in repr(error).lower() or "PDFPassword" in repr(error):
            raise DocumentReadError("PDF is encrypted with a password") from error
        raise DocumentReadError(
            f"PDF could not be parsed: {type(error).__name__}: {error}"
        ) from error

    sizes = _heading_sizes(pages)
    blocks = [
        block for number, page in enumerate(pages, 1) for block in _blocks(page, number, sizes)
    ]
    if not any(block.text.strip() for block in blocks):
        raise DocumentReadError("no text found in PDF (scanned pages need OCR first)")
    return Reading(tuple(blocks), _metadata(info), page_count=len(pages))


def _page_content(page: Any) -> Iterator[_Line | _Table]:
    """The page's lines of text outside its tables, and its tables, from top to bottom."""
    tables = page.find_tables()
    boxes = [table.bbox for table in tables]

    def outside_tables(obj: dict[str, Any]) -> bool:
        if obj.get("object_type") != "char":
            return True
        return not any(
            x0 <= obj["x0"] and obj["x1"] <= x1 and top <= obj["top"] and obj["bottom"] <= bottom
            for x0, top, x1, bottom in boxes
        )

    content: list[_Line | _Table] = []
    for line in page.filter(outside_tables).extract_text_lines(return_chars=True, strip=True):
        chars = [c for c in line["chars"] if not c["text"].isspace()]
        if not chars or not line["text"].strip():
            continue
        size = Counter(round(float(c["size"]), 1) for c in chars).most_common(1)[0][0]
        content.append(_Line(line["text"], float(line["top"]), float(line["bottom"]), size))
    for table, (_, top, _, _) in zip(tables, boxes, strict=True):
        rows = [[cell or "" for cell in row] for row in table.extract()]
        content.append(_Table(float(top), rows))
    return iter(sorted(content, key=lambda item: item.top))


def _heading_sizes(pages: Sequence[Sequence[_Line | _Table]]) -> dict[float, int]:
    """Type sizes larger than the body text's (the size most characters are set in), each
    with its heading level."""
    counts: Counter[float] = Counter()
    for page in pages:
        for item in page:
            if isinstance(item, _Line):
                counts[item.size] += len(item.text)
    if not counts:
        return {}
    body = counts.most_common(1)[0][0]
    larger = sorted((size for size in counts if size >= body * _HEADING_RATIO), reverse=True)
    return {size: level for level, size in enumerate(larger, start=1)}


def _blocks(
    content: Sequence[_Line | _Table], page: int, heading_sizes: dict[float, int]
) -> Iterator[Block]:
    paragraph: list[_Line] = []
    for item in content:
        if isinstance(item, _Table):
            yield from _paragraph_block(paragraph, page, heading_sizes)
            paragraph = []
            yield from _table_blocks(item.rows, page)
            continue
        if paragraph and _starts_paragraph(paragraph[-1], item):
            yield from _paragraph_block(paragraph, page, heading_sizes)
            paragraph = []
        paragraph.append(item)
    yield from _paragraph_block(paragraph, page, heading_sizes)


def _starts_paragraph(previous: _Line, line: _Line) -> bool:
    height = max(previous.bottom - previous.top, 1.0)
    return (
        abs(previous.size - line.size) > 0.5
        or line.top - previous.bottom > _PARAGRAPH_GAP * height
        or bool(_LIST_MARKER.match(line.text))
    )


def _paragraph_block(
    lines: Sequence[_Line], page: int, heading_sizes: dict[float, int]
) -> Iterator[Block]:
    if not lines:
        return
    text = lines[0].text
    for line in lines[1:]:
        joined = text.endswith("-") and line.text[:1].islower()
        text = f"{text}{line.text}" if joined else f"{text} {line.text}"
    level = heading_sizes.get(lines[0].size)
    if level is not None and len(text.split()) <= _MAX_HEADING_WORDS:
        yield Block(BlockKind.HEADING, text, page=page, level=level)
    elif _LIST_MARKER.match(text):
        yield Block(BlockKind.LIST_ITEM, text, page=page)
    else:
        yield Block(BlockKind.PARAGRAPH, text, page=page)


def _table_blocks(rows: list[list[str]], page: int) -> Iterator[Block]:
    header = guess_header(rows)
    body = rows[1:] if header is not None else rows
    for line in table_rows(body, header):
        yield Block(BlockKind.TABLE_ROW, line, page=page)


def _metadata(info: dict[str, Any]) -> DocumentMetadata:
    """Title and creation date from the PDF's info dictionary."""
    title = info.get("Title")
    created = info.get("CreationDate")
    date = _PDF_DATE.match(created) if isinstance(created, str) else None
    return DocumentMetadata(
        title=title.strip() if isinstance(title, str) else "",
        published=f"{date[1]}-{date[2]}-{date[3]}" if date else "",
    )
