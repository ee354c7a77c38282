"""Conversations: earlier turns resolve a follow-up into a standalone question.

A follow-up leans on the turn before it in four ways, each resolved by a rule:
- "which of *them*" after a list question: the things that question asked for ("the four
  Chinese jurisdictions that run the stations"), not the list answered, which may be wrong;
- a pronoun ("What did *she* tell CNN?"): replaced by the previous answer when that answer is a
  name, else by the main name of the previous question;
- a demonstrative with a noun ("Which province is *that city* in?"): replaced likewise;
- an ellipsis ("And in Canada?", "What about Ireland?"): the previous question again, with its
  place (or last name) swapped for the new one.
The resolved question is returned with the answer, so a user sees what was actually answered.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from functools import lru_cache

from pydantic import BaseModel, Field

from qa.names import name_after_title
from qa.places import country_code, country_display_name, country_of_adjective, is_place
from qa.questions import AnswerType, analyse_question
from qa.terms import STOP_WORDS

_PERSON_PRONOUNS = {"he", "she", "him", "her", "his", "hers"}
_OTHER_PRONOUNS = {"it", "its", "they", "them", "their", "theirs"}
_POSSESSIVES = {"his", "its", "their", "her"}
_PLURAL_PRONOUNS = {"they", "them", "their", "theirs"}
# "her organisation", "his employer": the body a person was just described by.
_OWN_BODY = re.compile(
    r"\b(?:his|her|their)\s+(?:organi[sz]ation|group|ngo|company|firm|employer|agency)\b",
    re.IGNORECASE,
)
_PREPOSITIONS = frozenset(
    "in of from at to on with about for by into near inside outside around across".split()
)
_WH_WORDS = re.compile(r"\b(who|whom|whose|what|which|where|when|why|how)\b", re.IGNORECASE)
_ELLIPSIS = re.compile(
    r"^(?:and|but|also|so)?\s*(?:what|how)\s+about\s+(.+?)\s*\??$|^(?:and|but|also)\s+(.+?)\s*\??$",
    re.IGNORECASE,
)
_NAME = re.compile(r"(?:[A-Z][\w’'.-]*)(?:\s+(?:of|de|du|la|le|and|the|for|&)?\s*[A-Z][\w’'.-]*)*")
_DEMONSTRATIVE = re.compile(r"\b(that|this|the same|these|those)\s+(\w+)\b", re.IGNORECASE)
_WHICH_OF_THEM = re.compile(
    r"\b(?:which|what|who|how many|how much)\s+of\s+(them|these|those)\b", re.I
)
# "Which towns did they visit?", "... has China signed deals with?": the question's own clause
# is inverted (or strands its preposition) and reads badly after "that".
_INVERTED = re.compile(
    r"^(?:(?:do|does|did|can|could|will|would|should)\b"
    r"|(?:is|are|was|were|has|have|had)\s+(?:i|you|he|she|it|we|they)\b)",
    re.IGNORECASE,
)
_STRANDED = re.compile(r"\b(?:with|to|for|in|from|at|on|by|of|about|into)$", re.IGNORECASE)
_KIND = "\x00"  # stands in for "them" while the other rules run
_MAX_KIND_WORDS = 6
_PLACE_TYPES = {AnswerType.PLACE, AnswerType.CITY, AnswerType.COUNTRY}
# Answers that say where, when or how many of the question's subject.
_SETTING_TYPES = _PLACE_TYPES | {AnswerType.DATE, AnswerType.NUMBER}


class Turn(BaseModel):
    """One finished exchange of a conversation, as the resolver needs it."""

    question: str
    resolved_question: str = ""
    answers: list[str] = Field(default_factory=list)


def resolve_question(question: str, history: Sequence[Turn] = ()) -> str:
    """The standalone form of ``question`` given the earlier turns (unchanged if it stands)."""
    question = " ".join(question.split())
    if not history or not question:
        return question
    previous = history[-1]
    previous_question = previous.resolved_question or previous.question
    ellipsis = _ELLIPSIS.match(question)
    if ellipsis and not _WH_WORDS.search(ellipsis.group(1) or ellipsis.group(2) or ""):
        return _swap_focus(previous_question, (ellipsis.group(1) or ellipsis.group(2)).strip())
    question = re.sub(r"^(?:and|but|also|so)\s*,?\s+", "", question, flags=re.IGNORECASE)
    question = question[:1].upper() + question[1:]
    question, kind = _which_of_them(question, previous_question)
    resolved = _replace_references(question, previous, previous_question)
    return resolved.replace(_KIND, kind) if kind else resolved


def _which_of_them(question: str, previous_question: str) -> tuple[str, str | None]:
    """ "Which of them runs the station?" after "Which four Chinese jurisdictions run the
    stations?": "them" are "the four Chinese jurisdictions that run the stations", what the
    user asked for (the list answered may be partial or wrong). The question comes back with
    ``_KIND`` in the pronoun's place, so no other rule rewrites the words put there."""
    match = _WHICH_OF_THEM.search(question)
    kind = _asked_kind(previous_question) if match else None
    if match is None or kind is None:
        return question, None
    return question[: match.start(1)] + _KIND + question[match.end(1) :], kind


def _asked_kind(question: str) -> str | None:
    """What a list question asks for, as a noun phrase: "the three towns that have sites"."""
    analysis = analyse_question(question)
    if not analysis.is_list or not analysis.head:
        return None
    text = analysis.text.rstrip(" ?")
    found = re.search(
        rf"\b{re.escape(analysis.wh)}\s+((?:\S+\s+)*?{re.escape(analysis.head)})\b(.*)$",
        text,
        re.IGNORECASE,
    )
    if found is None or len(found.group(1).split()) > _MAX_KIND_WORDS:
        return None
    kind = re.sub(r"^(?:the|of the)\s+", "", found.group(1), flags=re.IGNORECASE)
    rest = found.group(2).strip()
    if rest and not _INVERTED.match(rest) and not _STRANDED.search(rest):
        return f"the {kind} that {rest}"
    return f"the {kind}"


def _replace_references(question: str, previous: Turn, previous_question: str) -> str:
    analysis = analyse_question(previous_question)
    answer_name = _answer_as_name(previous)
    subject = _main_name(previous_question)
    place = _place_in(previous_question)
    # "Who is Laura Harth?" -- "director of the Safeguard Defenders campaign": the name in
    # that description is what "it" and "her organisation" go on to mean.
    described = _main_name(" ".join(previous.answers)) if analysis.defines else None
    if described:
        question = _OWN_BODY.sub(described, question)

    there_is_the_answer = bool(answer_name) and any(
        not _there_is_no_place(question, m) for m in re.finditer(r"(?i)\bthere\b", question)
    )

    @lru_cache(maxsize=1)
    def asks_where_it_is() -> bool:  # the tagger runs once, and only when a rule needs it
        return analyse_question(question).answer_type in _PLACE_TYPES

    def referent(pronoun: str, as_subject: bool) -> str | None:
        lowered = pronoun.lower()
        if lowered == "there":
            if answer_name and analysis.answer_type in _PLACE_TYPES:
                return f"in {answer_name}"
            return f"in {place}" if place else None
        if lowered in _PERSON_PRONOUNS:
            person_asked = analysis.answer_type in {
                AnswerType.PERSON,
                AnswerType.PERSON_OR_ORGANISATION,
            }
            if answer_name and person_asked:
                return answer_name
            # A place, date or count answered is nobody: "she" is someone the question named.
            person_answered = None if analysis.answer_type in _SETTING_TYPES else answer_name
            return _person_in(previous_question) or person_answered or subject
        if analysis.answer_type in {AnswerType.PERSON, AnswerType.PERSON_OR_ORGANISATION} and (
            lowered in {"it", "its"}
        ):
            if analysis.defines:
                return described  # "it" is no person: the body the description names
            return subject  # "it" is not the person just named: the thing asked about
        if there_is_the_answer and analysis.answer_type in _PLACE_TYPES:
            # "Which cities had a station?" -- "What did they find there?": "there" is those
            # cities, so "they" is someone else -- the name asked about, or left as it is.
            return subject if subject and not _names_a_place(subject) else None
        answered_many = len(previous.answers) > 1 and lowered in _PLURAL_PRONOUNS
        if (
            as_subject
            and analysis.answer_type in _SETTING_TYPES
            and subject
            and not answered_many
            and not asks_where_it_is()
            and not _names_a_place(subject)
        ):
            # "Where is the NGO based?" -- "Madrid". "What did it find?": still the NGO; the
            # place (or date, or count) answered is where or when, not who. ("Which country
            # is it in?" asks after the place, and "is there a station in it?" or "its mayor"
            # are the place's: those are the place.)
            return subject
        return answer_name or subject

    def replace(match: re.Match[str]) -> str:
        pronoun = match.group(0)
        rest = question[match.end() :].lstrip()
        if pronoun.lower() == "there" and _there_is_no_place(question, match):
            return pronoun  # "there was no need", "was there a strike": not a place
        before = question[: match.start()].rstrip().split(" ")[-1].lower()
        as_subject = pronoun.lower() in {"it", "they"} and before not in _PREPOSITIONS
        name = referent(pronoun, as_subject)
        if name is None:
            return pronoun
        next_word = rest.split(" ", 1)[0].strip("?.,!").lower() if rest else ""
        possessive = (
            pronoun.lower() in _POSSESSIVES
            and next_word
            and next_word
            not in {
                "to",
                "in",
                "about",
                "for",
                "that",
                "at",
                "on",
                "with",
                "from",
                "by",
                "of",
                "and",
            }
        )
        if possessive and not name.startswith("in "):
            return f"{name}'s"
        return name

    pronouns = sorted(_PERSON_PRONOUNS | _OTHER_PRONOUNS | {"there"})
    pattern = re.compile(r"\b(" + "|".join(pronouns) + r")\b", re.IGNORECASE)
    resolved = pattern.sub(replace, question)
    if answer_name:
        resolved = _DEMONSTRATIVE.sub(
            lambda m: m.group(0) if m.group(2).lower() in STOP_WORDS else answer_name,
            resolved,
        )
    return resolved


def _answer_as_name(turn: Turn) -> str | None:
    """The previous answer(s), when short enough to stand for a name in a question."""
    # A name starts with a capital; a number or a date is no referent for "it" or "she".
    # "teacher Anne Whitby": the name in a short answer that leads with a common noun.
    names = [_name_in(a.strip()) for a in turn.answers if 0 < len(a.split()) <= 6]
    names = [n for n in names if n]
    if not names or len(names) != len(turn.answers) or len(names) > 4:
        return None  # a long list reads badly as a name: "they" stays a pronoun
    if len(names) == 1:
        return names[0]
    return ", ".join(names[:-1]) + " and " + names[-1]


def _name_in(answer: str) -> str | None:
    if answer[:1].isupper():
        return answer
    start = name_after_title(answer)
    return answer[start:] if start else None


def _names(text: str) -> list[str]:
    """Capitalised names in a question, the first word of the question excluded."""
    found = []
    for match in _NAME.finditer(text):
        name = re.sub(r"['’]s$", "", match.group(0)).strip()
        if match.start() == 0:
            # "Which Fijian prime minister": drop the capitalised question word itself.
            parts = name.split(" ", 1)
            if len(parts) == 1:
                continue
            name = parts[1]
        if name and name.lower() not in {"i"}:
            found.append(name)
    return found


def _main_name(question: str) -> str | None:
    names = _names(question)
    return max(names, key=len) if names else None


def _person_in(question: str) -> str | None:
    for name in _names(question):
        if len(name.split()) >= 2 and not is_place(name):
            return name
    return None


def _names_a_place(name: str) -> bool:
    """A place, or a word for its people ("Spanish")."""
    return is_place(name) or bool(country_of_adjective(name))


def _there_is_no_place(question: str, match: re.Match[str]) -> bool:
    """ "there was no need", "was there a strike": "there" that points at no place."""
    rest = question[match.end() :].lstrip()
    before = question[: match.start()].rstrip().split(" ")[-1].lower()
    return bool(
        re.match(r"(?i)(is|was|are|were|will|has|have|had|seems?)\b", rest)
        or before in {"is", "was", "are", "were", "will", "has", "have", "had", "be"}
    )


def _place_in(question: str) -> str | None:
    """A place the question names, or implies by an adjective ("the Canadian investigation")."""
    for name in _names(question):
        for candidate in (name, name.split()[0]):
            if is_place(candidate):
                return candidate
    for word in re.findall(r"\b[A-Z][a-z]+\b", question):
        code = country_of_adjective(word)
        if code and not country_code(word):
            return country_display_name(code)
    return None


def _swap_focus(previous_question: str, new_focus: str) -> str:
    """The previous question about ``new_focus`` instead: "And in Spain?" after "... in Italy?"."""
    new_name = _main_name(new_focus) or new_focus
    base = previous_question.rstrip(" ?")
    new_is_place = is_place(new_name)
    for name in _names(base):
        if new_is_place and is_place(name):
            return _replace_once(base, name, new_name) + "?"
    if new_is_place:
        # "Which Dutch cities ...?" + "What about Ireland?": drop the adjective, add the place.
        for word in re.findall(r"\b[A-Z][a-z]+\b", base):
            if country_of_adjective(word) and not country_code(word):
                trimmed = re.sub(rf"\s*\b{re.escape(word)}\b", "", base, count=1)
                return f"{trimmed} in {new_name}?"
    names = _names(base)
    if names and not new_is_place:
        return _replace_once(base, names[-1], new_name) + "?"
    return f"{base} {new_focus}?"


def _replace_once(text: str, old: str, new: str) -> str:
    return re.sub(rf"\b{re.escape(old)}\b", new, text, count=1)
