"""The terms of a text for lexical matching: lowercased words, stop words out, Snowball-stemmed.

BM25 retrieval and the reader's check that an answer says more than its question use the same
terms ("investigated", "investigation" and "investigating" are one term).
"""

from __future__ import annotations

import re
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


def terms(text: str) -> list[str]:
    """Stemmed content words of ``text``, in order, repeats kept."""
    return [stem(w) for w in words(text) if w not in STOP_WORDS]
