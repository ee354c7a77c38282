"""Question analysis: what kind of answer is wanted, and one answer or a list.

Rules read the question's form (wh-word, the noun after "which"/"what", plural or not), so they
carry over to any corpus: nothing here knows the documents.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum
from functools import lru_cache
from typing import Any

from qa.sentences import SPACY_PIPELINE


class AnswerType(StrEnum):
    PERSON = "person"
    ORGANISATION = "organisation"
    PERSON_OR_ORGANISATION = "person_or_organisation"
    PLACE = "place"
    COUNTRY = "country"
    CITY = "city"
    NUMBER = "number"
    DATE = "date"
    TITLE = "title"
    ENTITY = "entity"  # "which app": a name, of a kind the tagger has no label for
    PHRASE = "phrase"


# Nouns that name the kind of thing asked for, after "which"/"what" or in "name the ...".
_HEAD_TYPES: dict[str, AnswerType] = {}
for _type, _nouns in {
    AnswerType.PERSON: """person people man men woman women official officials director
        directors spokesman spokeswoman spokesperson minister ministers leader leaders
        president head chief reporter reporters journalist journalists author authors secretary
        judge officer officers agent agents activist activists dissident dissidents founder ceo
        chairman premier ambassador lawmaker lawmakers politician politicians expert experts
        researcher researchers analyst analysts individual individuals suspect suspects
        persons citizen citizens national nationals resident residents migrant migrants
        immigrant immigrants refugee refugees worker workers employee employees member members
        student students victim victims visitors tourists passengers customers voters
        protesters soldiers troops volunteers inhabitants children adults sailors fishermen""",
    AnswerType.ORGANISATION: """organisation organisations organization organizations group
        groups ngo ngos newspaper newspapers paper papers agency agencies outlet outlets company
        companies firm firms department departments ministry ministries party parties
        broadcaster broadcasters institute institution institutions body bodies force forces
        bureau bureaus association associations publication publications network networks
        university universities court courts committee committees commission council service
        magazine magazines channel channels website websites think-tank""",
    AnswerType.COUNTRY: "country countries nation nations government governments",
    AnswerType.CITY: "city cities town towns capital capitals suburb suburbs municipality",
    AnswerType.PLACE: """place places province provinces region regions county counties
        continent continents location locations area areas island islands territory district
        state states jurisdiction jurisdictions municipalities prefecture prefectures""",
    AnswerType.DATE: "year years month months day days date dates decade",
    AnswerType.TITLE: """report reports law laws book books title titles convention treaty
        programme program operation operations campaign initiative policy pact agreement
        agreements accord accords""",
}.items():
    for _noun in _nouns.split():
        _HEAD_TYPES[_noun] = _type

_PLURAL_HEADS = frozenset(
    n
    for n in _HEAD_TYPES
    if n.endswith("s")
    and n[:-1] in _HEAD_TYPES
    or n
    in {
        "people",
        "men",
        "women",
        "countries",
        "cities",
        "agencies",
        "companies",
        "ministries",
        "parties",
        "bodies",
        "universities",
        "counties",
        "authorities",
    }
)

_WH = re.compile(
    r"\b(how many|how much|how long|how old|how tall|how high|how far|how big|how large"
    r"|how deep|how wide|how heavy|how early|how soon|since when|what year|which year"
    r"|who|whom|whose|where|when|why|how|which|what)\b",
    re.IGNORECASE,
)
_LIST_CUES = re.compile(
    r"^(?:please\s+)?list\b|\b(name all|all the|every|each of)\b", re.IGNORECASE
)
_CALLED = re.compile(r"\b(?:called|titled|named|known as|dubbed)\s*\??$", re.IGNORECASE)


@dataclass(frozen=True)
class QuestionAnalysis:
    """What the reader and the follow-up resolver need to know about a question."""

    text: str
    wh: str
    answer_type: AnswerType
    is_list: bool
    head: str | None
    options: tuple[str, ...] = ()  # "which of A, B and C": the answer is one of these
    expected_count: int | None = None  # "which *four* jurisdictions"
    # "Who is Laura Harth?": the name whose description is asked for.
    defines: str = ""
    # "Which of them *runs* the station?": one of several is asked for, not an enumeration.
    chooses_one: bool = False


def analyse_question(question: str) -> QuestionAnalysis:
    text = _POLITE_LEAD.sub("", question.strip())
    text = _one_question_mark(text)  # "Who is she?!", "Who is she??" read as "Who is she?"
    text = text[:1].upper() + text[1:]
    lowered = text.lower()
    imperative = _IMPERATIVE.match(text)
    match = None if imperative else _question_word(lowered)
    wh = "which" if imperative else (match.group(1) if match else "")
    tagged = _tagged(text)
    after = imperative.end() if imperative else (match.end() if match else 0)
    head_token = _head_noun(wh, tagged, after)
    head = head_token.text.lower() if head_token else None
    answer_type = _answer_type(wh, head, lowered)
    options = _options(text)
    plural = head_token is not None and (head_token.tag in {"NNS", "NNPS"} or head in _PLURAL_HEADS)
    is_list = bool(
        (plural or _LIST_CUES.search(lowered))
        and answer_type not in {AnswerType.NUMBER, AnswerType.PHRASE, AnswerType.DATE}
        and not options
    )
    return QuestionAnalysis(
        text=text,
        wh=wh,
        answer_type=answer_type,
        is_list=is_list,
        head=head,
        options=options,
        expected_count=_count_before(tagged, head_token) if is_list else None,
        defines=_defined_name(text),
        chooses_one=not is_list and _chooses_one(lowered, tagged),
    )


_CHOICE = re.compile(r"\bwhich\s+(one\s+)?of\b")
_SINGULAR_VERBS = frozenset({"is", "was", "has", "does"})


def _chooses_one(lowered: str, tokens: list[_Token]) -> bool:
    """ "Which one of ...", or "which of ..." with a singular verb ("which of them *runs* it")."""
    match = _CHOICE.search(lowered)
    if match is None:
        return False
    if match.group(1):
        return True  # "which one of"
    after = [t for t in tokens if t.start >= match.end()]
    # The verb of the question, not of a relative clause ("... that *run* the stations runs").
    verbs = [
        t
        for before, t in zip([None, *after], after, strict=False)
        if t.pos in {"VERB", "AUX"}
        and not (before and before.text.lower() in {"that", "who", "which"})
    ]
    return bool(verbs) and (verbs[0].tag == "VBZ" or verbs[0].text.lower() in _SINGULAR_VERBS)


_NUMBER_WORDS = {
    "two": 2,
    "three": 3,
    "four": 4,
    "five": 5,
    "six": 6,
    "seven": 7,
    "eight": 8,
    "nine": 9,
    "ten": 10,
    "both": 2,
}


def _count_before(tokens: list[_Token], head: _Token | None) -> int | None:
    """ "Which *four* jurisdictions": how many items the question expects, if it says."""
    if head is None:
        return None
    before = [t for t in tokens if t.start < head.start][-3:]
    for token in reversed(before):
        word = token.text.lower()
        if word in _NUMBER_WORDS:
            return _NUMBER_WORDS[word]
        if word.isdigit() and 1 < int(word) < 50:
            return int(word)
    return None


_MEASURE_WH = frozenset(
    {
        "how many",
        "how much",
        "how long",
        "how old",
        "how tall",
        "how high",
        "how far",
        "how big",
        "how large",
        "how deep",
        "how wide",
        "how heavy",
    }
)
# "List the countries that ...", "Name the engineer who ...": a command that asks "which".
_IMPERATIVE = re.compile(
    r"^(?:please\s+)?(?:list|name|give|identify|tell me)\s+(?:me\s+)?(?:all\s+)?(?:of\s+)?"
    r"(?:the\s+)?(?!(?:who|whom|whose|what|which|where|when|why|how)\b)",
    re.IGNORECASE,
)
# "Tell me who wrote it", "Can you say which ...": the question is the wh-clause.
_POLITE_LEAD = re.compile(
    r"^(?:please\s+)?(?:(?:can|could) you\s+)?(?:tell me|say|find out|show me|explain)\s+"
    r"(?=(?:who|whom|whose|what|which|where|when|why|how)\b)",
    re.IGNORECASE,
)

_DEFINITION = re.compile(
    # One way only to split the name into words: no backtracking blow-up on a long run of capitals.
    r"^(?i:who|what)\s+(?i:is|was|are|were)\s+(?:(?i:the)\s+)?"
    r"([A-Z0-9][\w’'.-]*(?:\s+[A-Z][\w’'.-]*){0,5})\s*\??$"
)


def _one_question_mark(text: str) -> str:
    """A closing run of "?" and "!" as one "?" (a plain string walk: no regex backtracking)."""
    body = text.rstrip("?!")
    return body.rstrip() + "?" if len(body) < len(text) else text


def _defined_name(text: str) -> str:
    """The name in "Who is Laura Harth?" / "What is Safeguard Defenders?"; "" otherwise."""
    match = _DEFINITION.match(text.strip())
    return match.group(1).strip() if match else ""


def _question_word(lowered: str) -> re.Match[str] | None:
    """The wh-word that asks: "Prato, which hosts a station, is near *which* city?" -- a
    "which" or "who" right after a comma opens a relative clause and asks nothing."""
    found = list(_WH.finditer(lowered))
    asking = [m for m in found if not re.search(r",\s*$", lowered[: m.start()])]
    return (asking or found or [None])[0]


@lru_cache(maxsize=1)
def _tagger() -> Any:
    """spaCy's tagger and lemmatizer: a question's parts of speech in about two milliseconds."""
    import spacy

    return spacy.load(SPACY_PIPELINE, exclude=["parser", "ner"])


@dataclass(frozen=True)
class _Token:
    text: str
    start: int
    pos: str
    tag: str


def _tagged(text: str) -> list[_Token]:
    return [_Token(t.text, t.idx, t.pos_, t.tag_) for t in _tagger()(text)]


_QUOTE_MARKS = frozenset({'"', "“", "”", "'", "‘", "’", "``", "''"})
_COUNT_NOUNS = frozenset(
    {
        "number",
        "percentage",
        "share",
        "proportion",
        "amount",
        "rate",
        "total",
        "population",
        "figure",
        "count",
        "sum",
        "cost",
        "price",
        "age",
    }
)


_NOUNISH = {"NOUN", "PROPN", "ADJ", "NUM"}
_LOOK_THROUGH = {"kind", "type", "sort", "form", "name", "names", "title"}


def _head_noun(wh: str, tokens: list[_Token], after: int) -> _Token | None:
    """The noun naming the kind of answer: "which *newspaper*", "what kind of *crime*",
    "which countries' officers" (a possessive names what is asked)."""
    if wh not in {"which", "what", "whose", "how many", "how much", "who", "whom"}:
        return None
    rest = [t for t in tokens if t.start >= after]
    if wh in {"who", "whom"}:
        # "Who is the campaign *director*": a person- or organisation-noun sharpens "who".
        for token in rest[:6]:
            if _HEAD_TYPES.get(token.text.lower()) in {AnswerType.PERSON, AnswerType.ORGANISATION}:
                return token
        return None
    if wh == "whose":
        return None  # "whose reporting": the owner is asked for, not the reporting
    head: _Token | None = None
    index = 0
    if (
        wh in {"what", "which"}
        and len(rest) > 2
        and rest[0].pos == "AUX"
        and rest[1].pos == "DET"
        and _noun_run_ends_in_of(rest[2:])
    ):
        index = 2  # "what is the *name* of ...", "what is the *capital* of ..."
    while index < len(rest) and rest[index].text in _QUOTE_MARKS:
        index += 1  # what "unconventional measures" ...
    while index < len(rest):
        token = rest[index]
        following = rest[index + 1] if index + 1 < len(rest) else None
        if (
            head is not None
            and head.tag == "NN"
            and token.tag == "NNS"
            and following is not None
            and following.tag in {"VBG", "DT", "PRP", "PRP$"}
        ):
            break  # "which agreement *forbids* opening ...": a verb the tagger took for a noun
        if (
            token.pos in _NOUNISH
            or token.tag == "HYPH"
            or (token.tag in {"VBN", "VBG"} and following is not None and following.pos in _NOUNISH)
        ):
            if token.pos in {"NOUN", "PROPN"}:
                head = token
            if following is not None and following.tag == "POS" and token.pos == "NOUN":
                return head  # "which countries' officers": the possessor is asked for
            word = head.text.lower() if head else ""
            if word in _LOOK_THROUGH and following is not None and following.text.lower() == "of":
                if word in {"title", "name", "names"} and _title_asked(rest[index + 2 :]):
                    return _Token("title", token.start, "NOUN", "NN")
                index += 2  # "what kind of *crime*": look through to the real noun
                while index < len(rest) and rest[index].pos == "DET":
                    index += 1
                head = None
                continue
            index += 1
            continue
        break
    return head


def _noun_run_ends_in_of(tokens: list[_Token]) -> bool:
    for token in tokens:
        if token.pos in _NOUNISH:
            continue
        return token.text.lower() == "of"
    return False


def _title_asked(rest: list[_Token]) -> bool:
    """ "the name of *the report*" asks for a title; "the name of the NGO" for an organisation."""
    for token in rest[:5]:
        kind = _HEAD_TYPES.get(token.text.lower())
        if kind is not None:
            return kind is AnswerType.TITLE
    return True


_OPTIONS = re.compile(
    r"\bwhich\s+of\s+(.+?)\s+(?:is|was|are|were|runs?|has|had|did|does|do)\b", re.IGNORECASE
)


def _options(text: str) -> tuple[str, ...]:
    """ "Which of Nantong, Wenzhou and Fuzhou runs ...?": the answer is one of these."""
    match = _OPTIONS.search(text)
    if not match:
        return ()
    parts = re.split(r",\s*(?:and\s+|or\s+)?|\s+(?:and|or)\s+", match.group(1))
    names = tuple(p.strip() for p in parts if p.strip() and p.strip()[0].isupper())
    return names if len(names) >= 2 else ()


def _answer_type(wh: str, head: str | None, lowered: str) -> AnswerType:
    if wh in _MEASURE_WH:
        return AnswerType.DATE if wh == "how long" and "ago" in lowered else AnswerType.NUMBER
    if wh in {"what year", "which year", "when", "how early", "how soon", "since when"}:
        return AnswerType.DATE
    if head is not None:
        if head in _HEAD_TYPES:
            return _HEAD_TYPES[head]
        if head in _COUNT_NOUNS:
            return AnswerType.NUMBER
        return AnswerType.ENTITY
    if wh in {"who", "whom", "whose"}:
        return AnswerType.PERSON_OR_ORGANISATION
    if wh == "where":
        return AnswerType.PLACE
    if wh in {"what", "which"} and _CALLED.search(lowered):
        return AnswerType.TITLE
    if "number of" in lowered or "percentage" in lowered:
        return AnswerType.NUMBER
    return AnswerType.PHRASE
