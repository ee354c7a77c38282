"""Question analysis: what kind of answer is wanted, one or a list, and which words must match.

Rules read the question's form (wh-word, the noun after "which"/"what", plural or not), so they
carry over to any corpus: nothing here knows the documents.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum

from qa.places import country_code, country_names, country_of_adjective
from qa.terms import STOP_WORDS, stem, words


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
    PHRASE = "phrase"


# Nouns that name the kind of thing asked for, after "which"/"what" or in "name the ...".
_HEAD_TYPES: dict[str, AnswerType] = {}
for _type, _nouns in {
    AnswerType.PERSON: """person people man men woman women official officials director
        directors spokesman spokeswoman spokesperson minister ministers leader leaders
        president head chief reporter reporters journalist journalists author authors secretary
        judge officer officers agent agents activist activists dissident dissidents founder ceo
        chairman premier ambassador lawmaker lawmakers politician politicians expert experts
        researcher researchers analyst analysts individual individuals suspect suspects""",
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
        state states""",
    AnswerType.DATE: "year years month months day days date dates decade",
    AnswerType.TITLE: """report reports law laws book books title titles convention treaty
        programme program operation operations campaign initiative policy pact""",
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
    r"\b(how many|how much|how long|how old|what year|which year|who|whom|whose|where|when|why"
    r"|how|which|what)\b",
    re.IGNORECASE,
)
_LIST_CUES = re.compile(r"\b(list|name all|name the|all the|every|each of)\b", re.IGNORECASE)
_NAME_OF = re.compile(r"\b(?:name|title)\s+of\s+((?:[\w’'-]+\s*){1,4})", re.IGNORECASE)
_CALLED = re.compile(r"\b(?:called|titled|named)\s*\??$", re.IGNORECASE)


@dataclass(frozen=True)
class QuestionAnalysis:
    """What the reader needs to know about a question."""

    text: str
    wh: str
    answer_type: AnswerType
    is_list: bool
    head: str | None
    # Stemmed content words an answer sentence should hold; each is a set of equivalent stems
    # ("spanish" is also met by "spain").
    focus_terms: tuple[frozenset[str], ...]
    country_filter: str | None  # ISO code when the question narrows places to one country


def analyse_question(question: str) -> QuestionAnalysis:
    text = question.strip()
    lowered = text.lower()
    match = _WH.search(lowered)
    wh = match.group(1) if match else ""
    after = lowered[match.end() :] if match else lowered
    head = _head_noun(wh, after, lowered)
    answer_type = _answer_type(wh, head, lowered)
    is_list = bool(head in _PLURAL_HEADS or _LIST_CUES.search(lowered)) and answer_type not in {
        AnswerType.NUMBER,
        AnswerType.PHRASE,
    }
    return QuestionAnalysis(
        text=text,
        wh=wh,
        answer_type=answer_type,
        is_list=is_list,
        head=head,
        focus_terms=tuple(_focus_terms(text, wh, head)),
        country_filter=_country_filter(text, answer_type, head),
    )


def _head_noun(wh: str, after: str, lowered: str) -> str | None:
    """The noun naming the kind of answer: "which *newspaper*", "name of the *report*"."""
    named = _NAME_OF.search(lowered)
    if named:
        for word in words(named.group(1)):
            if word in _HEAD_TYPES:
                return word
    if wh in {"which", "what", "whose"}:
        # The first known kind-noun among the next few words ("which Spanish *cities*").
        for word in words(after)[:4]:
            if word in _HEAD_TYPES:
                return word
            if word in STOP_WORDS - {"which"} and word not in {"the", "a", "an"}:
                break
    if wh in {"who", "whom"}:
        # "Who is the campaign *director*": a person- or organisation-noun sharpens "who".
        for word in words(after)[:5]:
            if _HEAD_TYPES.get(word) in {AnswerType.PERSON, AnswerType.ORGANISATION}:
                return word
        return None
    for word in words(lowered)[:3]:
        if word in {"name", "list"}:
            rest = words(lowered)[1:5]
            for noun in rest:
                if noun in _HEAD_TYPES:
                    return noun
    return None


def _answer_type(wh: str, head: str | None, lowered: str) -> AnswerType:
    if wh in {"how many", "how much", "how long", "how old"}:
        return AnswerType.DATE if wh == "how long" and "ago" in lowered else AnswerType.NUMBER
    if wh in {"what year", "which year", "when"}:
        return AnswerType.DATE
    if head is not None:
        return _HEAD_TYPES[head]
    if wh in {"who", "whom"}:
        return AnswerType.PERSON_OR_ORGANISATION
    if wh == "whose":
        return AnswerType.PERSON
    if wh == "where":
        return AnswerType.PLACE
    if wh in {"what", "which"} and _CALLED.search(lowered):
        return AnswerType.TITLE
    if "number of" in lowered or "percentage" in lowered:
        return AnswerType.NUMBER
    return AnswerType.PHRASE


def _focus_terms(text: str, wh: str, head: str | None) -> list[frozenset[str]]:
    """Content words of the question, minus the wh-word and the kind-noun, stemmed, in order."""
    skip = set(wh.split()) | {"name", "list", "many", "much"}
    if head:
        skip.add(head)
    seen: list[frozenset[str]] = []
    for word in words(text):
        if word in STOP_WORDS or word in skip:
            continue
        variants = {stem(word)}
        code = country_of_adjective(word) if word[:1].isalpha() else None
        if code:
            variants |= {
                stem(name) for name in country_names(code) if " " not in name and len(name) > 3
            }
        term = frozenset(variants)
        if term not in seen:
            seen.append(term)
    return seen


def _country_filter(text: str, answer_type: AnswerType, head: str | None) -> str | None:
    """For city/place questions, the country the question narrows to: "*Spanish* cities",
    "cities in *Spain*"."""
    if answer_type not in {AnswerType.CITY, AnswerType.PLACE}:
        return None
    if head:
        before = re.search(rf"\b([A-Z][\w’'-]+)\s+{re.escape(head)}\b", text, re.IGNORECASE)
        if before and before.group(1)[0].isupper():
            code = country_of_adjective(before.group(1))
            if code:
                return code
    place = re.search(
        r"\b(?:in|of|across|within)\s+(?:the\s+)?([A-Z][\w’'.-]*(?:\s+[A-Z][\w’'.-]*)*)", text
    )
    return country_code(place.group(1)) if place else None
