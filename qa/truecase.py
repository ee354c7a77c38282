"""Capital letters for questions typed without them ("who is laura harth", "WHICH CITIES").

The reader finds names, places and the thing a question defines by their capitals, so a question
typed all in lower case (or all in capitals) loses them. At index time the corpus says how each
word is written where it is not the first of a sentence ("Harth", "WeChat", "FBI"); at question
time a caseless question takes those forms back, and the gazetteers give countries, their
adjectives and cities theirs. A question that has capitals of its own is left as typed.
"""

from __future__ import annotations

import json
import re
from collections import Counter, defaultdict
from collections.abc import Iterable
from pathlib import Path

from qa.places import country_code, country_of_adjective, is_place
from qa.terms import STOP_WORDS

_WORD = re.compile(r"[^\W\d_][\w’'-]*")
# Where a sentence starts, a capital says nothing about the word.
_SENTENCE_END = re.compile(r"[.!?:;\"“”\n]\s*$")
_NAME_GOES_ON = re.compile(r" [A-Z][a-z]")
# A form must be this share of a word's occurrences (not first in a sentence) to be its form.
_DOMINANT_SHARE = 0.75
# Place names are up to this many words ("santiago de compostela").
_LONGEST_PLACE = 3


def cased_forms(texts: Iterable[str]) -> dict[str, str]:
    """For each word mostly written with capitals in ``texts``, that form ("harth": "Harth")."""
    seen: defaultdict[str, Counter[str]] = defaultdict(Counter)
    for text in texts:
        for match in _WORD.finditer(text):
            before = text[max(0, match.start() - 3) : match.start()]
            opens_sentence = match.start() == 0 or _SENTENCE_END.search(before)
            # First in a sentence, a capital says nothing -- unless a name goes on after it
            # ("Ruth Gale said"); then the word is the start of that name.
            if opens_sentence and not _NAME_GOES_ON.match(text, match.end()):
                continue
            word = match.group()
            seen[word.lower()][word] += 1
    forms: dict[str, str] = {}
    for lowered, counts in seen.items():
        form, count = counts.most_common(1)[0]
        if form != lowered and count >= _DOMINANT_SHARE * sum(counts.values()):
            forms[lowered] = form
        elif form == lowered and _is_place_name(lowered, 1):
            forms[lowered] = lowered  # a common word here, whatever the gazetteer says ("police")
    return forms


def save_cased_forms(path: Path, forms: dict[str, str]) -> None:
    path.write_text(json.dumps(forms, ensure_ascii=False, sort_keys=True))


def load_cased_forms(path: Path) -> dict[str, str]:
    """The table saved with a build; empty for a build made before there was one."""
    try:
        return dict(json.loads(path.read_text()))
    except FileNotFoundError:
        return {}


def is_caseless(question: str) -> bool:
    """True when capitals tell nothing: none after the first letter, or every letter one."""
    letters = [c for c in question if c.isalpha()]
    if len(letters) < 2:
        return False
    rest = letters[1:]
    return not any(c.isupper() for c in rest) or all(c.isupper() for c in letters)


def restore_case(question: str, forms: dict[str, str]) -> str:
    """``question`` with the capitals the corpus and the gazetteers give its words, if it was
    typed without any; otherwise unchanged."""
    if not forms or not is_caseless(question):
        return question  # a build from before the table: leave the question alone
    matches = list(_WORD.finditer(question))
    words = [m.group().lower() for m in matches]
    cased = [forms.get(w, w) for w in words]
    # Places of several words are names only together ("new york", "santiago de compostela").
    position = 0
    while position < len(words):
        for size in range(min(_LONGEST_PLACE, len(words) - position), 0, -1):
            phrase = " ".join(words[position : position + size])
            if (size > 1 or phrase not in forms) and _is_place_name(phrase, size):
                cased[position : position + size] = _title_case(phrase).split(" ")
                position += size - 1
                break
        position += 1
    pieces: list[str] = []
    last = 0
    for match, form in zip(matches, cased, strict=True):
        pieces += [question[last : match.start()], form]
        last = match.end()
    pieces.append(question[last:])
    restored = "".join(pieces)
    return restored[:1].upper() + restored[1:]


def _is_place_name(phrase: str, size: int) -> bool:
    if phrase.split(" ", 1)[0] in _SMALL_WORDS:
        return False  # "the belgrade station": the gazetteer reads past the article
    if size == 1:
        # One word: a country or its adjective ("spain", "spanish"), never a town the
        # gazetteer shares with a common word ("much", "union") or a pronoun ("us").
        return phrase not in STOP_WORDS and bool(
            country_code(phrase) or country_of_adjective(phrase)
        )
    return is_place(phrase)


_SMALL_WORDS = frozenset({"de", "la", "of", "and", "the", "du", "del", "a", "an", "in", "us"})


def _title_case(phrase: str) -> str:
    return " ".join(
        w if (i and w in _SMALL_WORDS) else w[:1].upper() + w[1:]
        for i, w in enumerate(phrase.split(" "))
    )
