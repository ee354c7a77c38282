"""HTML through trafilatura: the page's main content, with its headings, lists and tables.

trafilatura's XML output keeps the structure of the main content (``head``, ``p``, ``list`` /
``item``, ``table`` / ``row`` / ``cell``), so each piece becomes its own block and is not
cleaned again: trafilatura has already left the page furniture behind. Only when it finds no
main content is the page's visible text read, as one scraped block that the scraped-page rules
clean. A date is taken only from what states it (``<meta>``, JSON-LD, ``<time>``, the URL):
trafilatura's extensive search would read "© 2024" in a footer as the publication date.
"""

from __future__ import annotations

from collections.abc import Iterator

import lxml.html
import trafilatura
from lxml import etree

from qa.blocks import Block, BlockKind, guess_header, table_rows
from qa.formats import DocumentMetadata, DocumentReadError, Reading
from qa.formats.text import decode_text

# Elements whose text a reader never sees, and block elements that end a line of visible text.
_INVISIBLE_TAGS = ("script", "style", "noscript", "template", "head")
_BLOCK_TAGS = (
    "p", "div", "br", "li", "tr", "td", "th", "h1", "h2", "h3", "h4", "h5", "h6",
    "section", "article", "header", "footer", "nav", "blockquote", "pre", "table", "ul", "ol",
)  # fmt: skip


def read_html(data: bytes) -> Reading:
    html = decode_text(data)
    blocks = list(_main_content(html))
    if not blocks:
        visible = _visible_text(html)
        if not visible.strip():
            raise DocumentReadError("no text found in HTML")
        blocks = [Block(BlockKind.SCRAPED, visible)]
    found = trafilatura.extract_metadata(html, extensive=False)
    metadata = DocumentMetadata(
        title=(found.title or "").strip(),
        publisher=(found.sitename or "").strip(),
        published=(found.date or "").strip(),
        source=(found.url or "").strip(),
    )
    return Reading(tuple(blocks), metadata)


def _main_content(html: str) -> Iterator[Block]:
    xml = trafilatura.extract(
        html,
        output_format="xml",
        include_comments=False,
        include_tables=True,
        include_formatting=False,
        include_links=False,
        include_images=False,
        favor_recall=True,
    )
    if not xml:
        return
    root = etree.fromstring(xml.encode("utf-8"))
    main = root.find("main")
    if main is not None and len(main):  # bare text in <main> has no structure to keep
        yield from _elements(main)


def _elements(parent: etree._Element) -> Iterator[Block]:
    if (parent.text or "").strip():
        yield Block(BlockKind.PARAGRAPH, parent.text or "")
    for element in parent:
        yield from _element(element)
        if (element.tail or "").strip():
            yield Block(BlockKind.PARAGRAPH, element.tail or "")


def _element(element: etree._Element) -> Iterator[Block]:
    tag = element.tag
    if tag == "head":
        rend = str(element.get("rend") or "h2")
        level = int(rend[1:]) if rend[1:].isdigit() else 2
        yield Block(BlockKind.HEADING, _text(element), level=level)
    elif tag == "list":
        yield from _list(element)
    elif tag == "table":
        yield from _table(element)
    elif tag in ("quote", "div", "main") and len(element):
        yield from _elements(element)
    elif tag != "graphic":
        yield _paragraph(element)


def _paragraph(element: etree._Element) -> Block:
    return Block(BlockKind.PARAGRAPH, _text(element))


def _list(element: etree._Element) -> Iterator[Block]:
    numbered = element.get("rend") == "ol"
    for number, item in enumerate(element.findall("item"), start=1):
        nested = [child for child in item if child.tag in ("list", "table")]
        marker = f"{number}. " if numbered else "- "
        yield Block(BlockKind.LIST_ITEM, marker + _text(item, skip=nested))
        for child in nested:
            yield from _list(child) if child.tag == "list" else _table(child)


def _table(element: etree._Element) -> Iterator[Block]:
    rows = [
        ([_text(cell) for cell in row.findall("cell")], [cell.get("role") for cell in row])
        for row in element.iter("row")
    ]
    header: list[str] | None = None
    if rows and rows[0][1] and all(role == "head" for role in rows[0][1]):
        header = rows.pop(0)[0]
    cells = [row for row, _ in rows]
    if header is None:
        header = guess_header(cells)
        if header is not None:
            cells = cells[1:]
    for line in table_rows(cells, header):
        yield Block(BlockKind.TABLE_ROW, line)


def _text(element: etree._Element, skip: list[etree._Element] | None = None) -> str:
    """The element's text with line breaks as spaces, leaving out the ``skip`` children."""
    parts: list[str] = [element.text or ""]
    for child in element:
        if skip and child in skip:
            parts.append(child.tail or "")
            continue
        parts.append(" " if child.tag == "lb" else _text(child))
        parts.append(child.tail or "")
    return " ".join("".join(parts).split())


def _visible_text(html: str) -> str:
    """All text a browser would show, one line per block element."""
    # The text is already decoded, so the parser is told the encoding instead of trusting a
    # <meta charset> (or an XML declaration, which lxml refuses on str input).
    parser = lxml.html.HTMLParser(encoding="utf-8", remove_comments=True)
    try:
        root = lxml.html.fromstring(html.encode("utf-8"), parser=parser)
    except (etree.ParserError, etree.XMLSyntaxError) as error:
        raise DocumentReadError(f"HTML could not be parsed: {error}") from error
    for element in list(root.iter(*_INVISIBLE_TAGS)):
        element.drop_tree()
    for element in root.iter(*_BLOCK_TAGS):
        element.tail = "\n" + (element.tail or "")
    return str(root.text_content())
