"""Markdown through markdown-it-py (CommonMark, with GFM tables and YAML front matter).

Headings, paragraphs, list items and table rows become blocks; inline markup (emphasis, links,
code spans) gives way to its text. The front matter is metadata, not body: its title and date
are the document's own.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator, Sequence
from functools import lru_cache

import lxml.html
import yaml
from lxml import etree
from markdown_it import MarkdownIt
from markdown_it.token import Token
from mdit_py_plugins.front_matter import front_matter_plugin

from qa.blocks import Block, BlockKind, table_rows
from qa.formats import DocumentMetadata, Reading
from qa.formats.text import decode_text

# Front-matter keys that state each metadata field, in order of preference.
_FRONT_MATTER_KEYS = {
    "title": ("title",),
    "publisher": ("publisher", "organisation", "organization"),
    "published": ("published", "date", "created"),
    "source": ("source", "url"),
}


@lru_cache(maxsize=1)
def _parser() -> MarkdownIt:
    return MarkdownIt("commonmark").enable("table").use(front_matter_plugin)


def read_markdown(data: bytes) -> Reading:
    tokens = _parser().parse(decode_text(data))
    metadata = DocumentMetadata(title="")
    if tokens and tokens[0].type == "front_matter":
        metadata = _front_matter(tokens[0].content)
    return Reading(tuple(_blocks(tokens)), metadata)


def _blocks(tokens: Sequence[Token]) -> Iterator[Block]:
    lists: list[list[int | None]] = []  # per open list: [next number] or [None] for bullets
    item_started = False  # the next paragraph is the first of a list item
    index = 0
    while index < len(tokens):
        token = tokens[index]
        kind = token.type
        if kind == "heading_open":
            level = int(token.tag[1:])
            yield Block(BlockKind.HEADING, _inline_text(tokens[index + 1]), level=level)
            index += 3
            continue
        if kind in ("bullet_list_open", "ordered_list_open"):
            start = int(str(token.attrGet("start") or 1)) if kind == "ordered_list_open" else None
            lists.append([start])
        elif kind in ("bullet_list_close", "ordered_list_close"):
            lists.pop()
        elif kind == "list_item_open":
            item_started = True
        elif kind == "paragraph_open":
            text = _inline_text(tokens[index + 1])
            if item_started and lists:
                yield Block(BlockKind.LIST_ITEM, _marker(lists[-1]) + text)
                item_started = False
            else:
                yield Block(BlockKind.PARAGRAPH, text)
            index += 3
            continue
        elif kind == "table_open":
            end = _closing(tokens, index, "table_close")
            yield from _table(tokens[index:end])
            index = end + 1
            continue
        elif kind in ("fence", "code_block"):
            yield Block(BlockKind.PARAGRAPH, token.content)
        elif kind == "html_block":
            yield Block(BlockKind.PARAGRAPH, _html_text(token.content))
        index += 1


def _marker(open_list: list[int | None]) -> str:
    number = open_list[0]
    if number is None:
        return "- "
    open_list[0] = number + 1
    return f"{number}. "


def _closing(tokens: Sequence[Token], start: int, closing: str) -> int:
    for index in range(start, len(tokens)):
        if tokens[index].type == closing:
            return index
    return len(tokens) - 1


def _table(tokens: Sequence[Token]) -> Iterator[Block]:
    header: list[str] = []
    rows: list[list[str]] = []
    in_body = False
    for token in tokens:
        if token.type == "tbody_open":
            in_body = True
        elif token.type == "tr_open" and in_body:
            rows.append([])
        elif token.type == "inline":
            (rows[-1] if in_body else header).append(_inline_text(token))
    for line in table_rows(rows, header):
        yield Block(BlockKind.TABLE_ROW, line)


def _inline_text(token: Token) -> str:
    """The text a reader sees: markup dropped, link text and image alt text kept."""
    parts: list[str] = []
    for child in token.children or []:
        if child.type in ("text", "code_inline"):
            parts.append(child.content)
        elif child.type in ("softbreak", "hardbreak"):
            parts.append(" ")
        elif child.type == "image":
            parts.append(child.content)
        elif child.type == "html_inline":
            continue  # a tag (<br>, <span>) says nothing itself
    return " ".join("".join(parts).split())


def _html_text(html: str) -> str:
    try:
        fragment = lxml.html.fragment_fromstring(html, create_parent="div")
    except (etree.ParserError, etree.XMLSyntaxError):
        return ""
    for comment in fragment.iter(etree.Comment):
        comment.drop_tree()
    return str(fragment.text_content())


def _front_matter(content: str) -> DocumentMetadata:
    """The metadata a YAML front matter states; a broken one states nothing."""
    try:
        fields = yaml.safe_load(content)
    except yaml.YAMLError:
        return DocumentMetadata(title="")
    if not isinstance(fields, dict):
        return DocumentMetadata(title="")
    lowered = {str(key).lower(): value for key, value in fields.items()}
    found = {
        field: next((_scalar(lowered[k]) for k in keys if _scalar(lowered.get(k))), "")
        for field, keys in _FRONT_MATTER_KEYS.items()
    }
    return DocumentMetadata(**found)


def _scalar(value: object) -> str:
    if isinstance(value, dt.datetime | dt.date):
        return value.isoformat()
    if isinstance(value, str | int | float) and not isinstance(value, bool):
        return str(value).strip()
    return ""
