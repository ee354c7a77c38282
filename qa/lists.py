"""List answers: a span that enumerates ("Madrid, Barcelona and Valencia") split into its items,
each with its own exact offsets, so every item is cited on its own."""

from __future__ import annotations

import re

# Between items: a line break (list items are lines of their own), a comma or semicolon (an
# Oxford "and"/"or" after it too), or a lone and/or.
_SEPARATOR = re.compile(
    r"\s*\n\s*|\s*[,;]\s*(?:(?:and|or|as well as)\s+)?|\s+(?:and|or|as well as)\s+"
)
_MAX_ITEM_WORDS = 5
# A span that is no enumeration is one item, if it is no longer than a name or title usually is
# ("Santiago de Compostela", "the Royal Canadian Mounted Police"); a clause is no list item.
_MAX_SINGLE_ITEM_WORDS = 8


def list_items(text: str, start: int, end: int) -> list[tuple[int, int]]:
    """What a list answer takes from the span ``text[start:end]``: its items when it enumerates,
    the span itself when it is short enough to be one item, else nothing."""
    items = enumeration_items(text, start, end)
    if items == [(start, end)] and len(text[start:end].split()) > _MAX_SINGLE_ITEM_WORDS:
        return []
    return items


def enumeration_items(text: str, start: int, end: int) -> list[tuple[int, int]]:
    """The items of ``text[start:end]`` when it is an enumeration of short items, else the span
    itself. Offsets are into ``text``."""
    piece = text[start:end]
    cuts = list(_SEPARATOR.finditer(piece))
    if not cuts:
        return [(start, end)]
    items: list[tuple[int, int]] = []
    position = 0
    for cut in [*cuts, None]:
        item_end = cut.start() if cut is not None else len(piece)
        item = _trimmed(piece, position, item_end)
        if item is not None:
            items.append(item)
        if cut is not None:
            position = cut.end()
    if len(items) < 2 or any(len(piece[a:b].split()) > _MAX_ITEM_WORDS for a, b in items):
        return [(start, end)]  # clauses, not items: "he left, and she stayed"
    return [(start + a, start + b) for a, b in items]


def _trimmed(piece: str, start: int, end: int) -> tuple[int, int] | None:
    while start < end and piece[start] in " \t\n\"'“”‘’(":
        start += 1
    while end > start and piece[end - 1] in " \t\n\"'“”‘’)":
        end -= 1
    return (start, end) if end > start else None
