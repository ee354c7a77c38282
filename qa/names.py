"""A person's name inside a short answer that leads with a title: "teacher Anne Whitby"."""

from __future__ import annotations

import re

_MAX_TITLE_WORDS = 2
# Capitalised words, with the particles names carry ("Ruud van Nistelrooy", "Ines de Souza").
_NAME = re.compile(r"[A-Z][\w’'.-]*(?:\s+(?:(?:of|de|du|da|la|le|van|von|der)\s+)?[A-Z][\w’'.-]*)*")
# A lead with one of these is a phrase ("director of the ..."), not a title.
_NOT_TITLE = frozenset("in of from at to on with about for by into near and or but as".split())


def name_after_title(span: str) -> int:
    """Where the name starts in ``span`` when it is at most two lower-case title words and
    then a name only ("teacher Anne Whitby", "the poet Ann Lee"); else 0."""
    for word in re.finditer(r"\S+", span):
        if not word.group()[:1].isupper():
            continue
        lead = span[: word.start()].split()
        titled = 0 < len(lead) <= _MAX_TITLE_WORDS and all(
            w.isalpha() and w.islower() and w not in _NOT_TITLE for w in lead
        )
        return word.start() if titled and _NAME.fullmatch(span[word.start() :].rstrip()) else 0
    return 0
