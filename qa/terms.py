"""The terms of a text for lexical matching: lowercased words, stop words out, Snowball-stemmed.

BM25 retrieval and the reader's keyword overlap use the same terms, so a word that matches in
one matches in the other ("investigated", "investigation" and "investigating" are one term).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from functools import lru_cache

import Stemmer

STOP_WORDS = frozenset(
    """
    a about above after again against all am an and any are as at be because been before being
    below between both but by can could did do does doing down during each few for from further
    had has have having he her here hers herself him himself his how i if in into is it its
    itself just me more most my myself no nor not of off on once only or other our ours
    ourselves out over own same she should so some such than that the their theirs them
    themselves then there these they this those through to too under until up very was we were
    what when where which while who whom why will with would you your yours yourself yourselves
    also s t did does said says say tell told according
    """.split()
)

_WORD = re.compile(r"[^\W_]+(?:[-'’][^\W_]+)*")


@lru_cache(maxsize=1)
def _stemmer() -> Stemmer.Stemmer:
    return Stemmer.Stemmer("english")


_DOTTED = re.compile(r"\b(?:[A-Za-z]\.){2,}")


def has_letter_or_digit(text: str) -> bool:
    """Whether ``text`` holds a word at all: a quote mark, a dash or an emoji alone is none."""
    return any(character.isalnum() for character in text)


def words(text: str) -> list[str]:
    """Lowercased word tokens, hyphenated and possessive forms split into their parts;
    dotted abbreviations as one word ("U.S." -> "us")."""
    text = _DOTTED.sub(lambda m: m.group().replace(".", "") + " ", text)
    found: list[str] = []
    for token in _WORD.findall(text.lower()):
        for part in re.split(r"[-'’]", token):
            if part and part != "s":
                found.append(part)
    return found


def stem(word: str) -> str:
    return str(_stemmer().stemWord(word))


def irregular_lemma(word: str, lemma: str, part_of_speech: str, tag: str) -> str | None:
    """The dictionary form of an irregular verb form whose stem misleads: "found" (find) must
    not match "founded", "held" must match "hold". None when the word's own stem will do, and
    for a base form ("did she *found* it"), which is its own lemma."""
    if part_of_speech != "VERB" or tag in {"VB", "VBP"} or not lemma.isalpha():
        return None
    lemma = lemma.lower()
    return lemma if stem(lemma) != stem(word.lower()) else None


def with_lemmas(text: str, offset: int, lemmas: Iterable[tuple[int, int, str]]) -> str:
    """``text`` (starting at ``offset`` in its document) with irregular verb forms replaced by
    their lemmas, for matching terms; the text shown is never changed."""
    pieces: list[str] = []
    position = 0
    for start, end, lemma in sorted(lemmas):
        start, end = start - offset, end - offset
        if start < position or end > len(text):
            continue
        pieces += [text[position:start], lemma]
        position = end
    if not pieces:
        return text
    return "".join(pieces) + text[position:]


def terms(text: str) -> list[str]:
    """Stemmed content words of ``text``, in order, repeats kept."""
    return [stem(w) for w in words(text) if w not in STOP_WORDS]
