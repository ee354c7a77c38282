"""Layout: a document's blocks -> the text that is indexed, and where its pages and headings lie.

Every block becomes one paragraph of the text (paragraphs are joined by a blank line, which
always ends a sentence), so a heading stays on its own line, each list item is its own line,
and each table row is one quotable line. Only ``SCRAPED`` blocks go through the scraped-page
rules (``qa.cleaning.clean_text``); the body of a Markdown, HTML, PDF or Word document is kept
whole, its whitespace collapsed. Page and heading offsets point into the text, like citations.
"""

from __future__ import annotations

import bisect
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass

from qa.blocks import Block, BlockKind
from qa.cleaning import clean_text

PARAGRAPH_BREAK = "\n\n"


@dataclass(frozen=True)
class PageSpan:
    """Where one page's text lies: ``text[start:end]``; a page without text has start == end."""

    number: int  # 1-based
    start: int
    end: int


@dataclass(frozen=True)
class Heading:
    """A heading of the document: ``text[start:end] == title``."""

    start: int
    end: int
    level: int
    title: str


@dataclass(frozen=True)
class Location:
    """Where in its document an offset lies: its page (paged formats) and nearest heading."""

    page: int | None
    section: str | None


@dataclass(frozen=True)
class LaidOutDocument:
    """The indexed text of a document with its page boundaries and headings."""

    text: str
    pages: tuple[PageSpan, ...] = ()
    headings: tuple[Heading, ...] = ()


def lay_out(blocks: Sequence[Block], page_count: int | None = None) -> LaidOutDocument:
    """Join the blocks into one text, cleaning only the scraped ones, and note where each page
    and heading lies. ``page_count`` (paged formats) makes pages without text count too."""
    paragraphs: list[tuple[str, Block]] = []
    for block in blocks:
        for paragraph in _paragraphs(block):
            paragraphs.append((paragraph, block))

    pieces: list[str] = []
    headings: list[Heading] = []
    page_extent: dict[int, tuple[int, int]] = {}
    offset = 0
    for paragraph, block in paragraphs:
        if pieces:
            pieces.append(PARAGRAPH_BREAK)
            offset += len(PARAGRAPH_BREAK)
        start, end = offset, offset + len(paragraph)
        pieces.append(paragraph)
        offset = end
        if block.kind is BlockKind.HEADING:
            headings.append(Heading(start, end, max(block.level, 1), paragraph))
        if block.page is not None:
            first = page_extent.get(block.page, (start, end))[0]
            page_extent[block.page] = (first, end)
    text = "".join(pieces)
    return LaidOutDocument(text, _page_spans(page_extent, page_count, len(text)), tuple(headings))


def locate(document: LaidOutDocument, offset: int) -> Location:
    """The page holding ``offset`` (the last page with text that starts at or before it) and
    the last heading that starts at or before it."""
    pages = [span for span in document.pages if span.start < span.end] or list(document.pages)
    at = bisect.bisect_right([span.start for span in pages], offset) - 1
    page = pages[max(at, 0)].number if pages else None
    before = bisect.bisect_right([heading.start for heading in document.headings], offset)
    section = document.headings[before - 1].title if before else None
    return Location(page, section)


def _paragraphs(block: Block) -> list[str]:
    if block.kind is BlockKind.SCRAPED:
        return [p for p in clean_text(block.text).split(PARAGRAPH_BREAK) if p]
    text = unicodedata.normalize("NFC", " ".join(block.text.split()))
    return [text] if text else []


def _page_spans(
    extent: dict[int, tuple[int, int]], page_count: int | None, text_length: int
) -> tuple[PageSpan, ...]:
    """One span per page, 1..page_count; a page without text sits where the next text starts."""
    last = max([page_count or 0, *extent])
    spans: list[PageSpan] = []
    for number in range(last, 0, -1):  # backwards: an empty page takes the next page's start
        if number in extent:
            start, end = extent[number]
        else:
            start = end = spans[-1].start if spans else text_length
        spans.append(PageSpan(number, start, end))
    return tuple(reversed(spans))
