"""The reader: the trained span model reads the retrieved passages and points at the answer.

For a question it

1. reads every passage with the model in one batch (``qa.reader_model``): each passage's best
   spans and its no-answer score, the margin between them calibrated to a 0..1 score;
2. for a list question, splits spans that enumerate into their items (``qa.lists``), so items
   gathered from several documents stand side by side;
3. answers a question without a question word (a keyword query, a yes/no question) with the
   sentence that states what the model points at;
4. merges the same answer found in several places, keeping every citation;
5. abstains when the best answer's score is below the threshold chosen on the model's dev split.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import lru_cache

from qa.answers import Answer, Citation
from qa.lists import enumeration_items, list_items
from qa.names import name_after_title
from qa.passage_focus import Window, focus_windows
from qa.places import country_code
from qa.questions import AnswerType, QuestionAnalysis
from qa.reader_model import SpanModel
from qa.retrieval import Passage
from qa.store import Store, StoredSentence
from qa.terms import terms, words

# A list question's items come from several spans of each passage.
_SPANS_PER_PASSAGE = 1
_SPANS_PER_PASSAGE_FOR_LISTS = 3
_CACHED_DOCUMENTS = 512
_PERSON_TYPES = frozenset({AnswerType.PERSON, AnswerType.PERSON_OR_ORGANISATION})


@dataclass(frozen=True)
class _Occurrence:
    score: float
    doc_id: str
    start: int
    end: int
    quote_start: int
    quote_end: int


@dataclass
class _Candidate:
    key: str
    score: float = 0.0
    occurrences: list[_Occurrence] = field(default_factory=list)

    def add(self, occurrence: _Occurrence) -> None:
        self.occurrences.append(occurrence)
        self.score = max(self.score, occurrence.score)


class Reader:
    """Extracts cited answer spans for a question from retrieved passages."""

    def __init__(
        self,
        store: Store,
        model: SpanModel,
        min_score: float,
        max_list_items: int,
        focus_words: int = 0,
    ) -> None:
        self._store = store
        self._model = model
        self._min_score = min_score
        self._max_list_items = max_list_items
        self._focus_words = focus_words
        # Documents the last questions cited, kept within bounds.
        self._document_text = lru_cache(maxsize=_CACHED_DOCUMENTS)(self._read_document_text)

    def read(
        self,
        question: QuestionAnalysis,
        passages: Sequence[Passage],
        min_score: float | None = None,
    ) -> list[Answer]:
        """The answers, best first; empty means the passages do not answer the question
        (no answer scores ``min_score``, by default the service's threshold)."""
        if not passages:
            return []
        per_passage = _SPANS_PER_PASSAGE_FOR_LISTS if question.is_list else _SPANS_PER_PASSAGE
        sentences = self._sentences_of(passages)
        windows, headings, contexts = self._contexts(question, passages, sentences)
        # A few spare spans per passage: the best may lie in the heading, which is context only.
        readings = self._model.read(question.text, contexts, per_passage + 2)
        candidates: dict[str, _Candidate] = {}
        calibration = self._model.calibration
        asked = frozenset(terms(question.text))
        # A question no question word shapes (a keyword query, a yes/no question) is answered
        # by the sentence that states what the model points at.
        states_sentence = not question.wh and not question.is_list
        names_a_person = (
            question.answer_type in _PERSON_TYPES and not question.defines and not question.is_list
        )
        for passage, window, heading, reading in zip(
            passages, windows, headings, readings, strict=True
        ):
            quotes = sentences.get(passage.doc_id, [])
            spans = [s for s in reading.spans if s.start >= len(heading)][:per_passage]
            shift = window.start - len(heading)
            for span in spans:
                score = calibration.probability(span.score - reading.null_score)
                local_start, local_end = span.start + shift, span.end + shift
                pieces = (
                    list_items(passage.text, local_start, local_end)
                    if question.is_list
                    else [(local_start, local_end)]
                )
                if question.chooses_one and _enumerates(passage.text, local_start, local_end):
                    continue  # "which of them runs it?" is not answered by all of them
                for piece_start, piece_end in pieces:
                    start, end = passage.start + piece_start, passage.start + piece_end
                    quote = _sentence_around(quotes, start, end)
                    if states_sentence:
                        start, end = quote[0], self._sentence_end(passage.doc_id, *quote)
                    elif names_a_person:  # "teacher Anne Whitby": the name answers "who"
                        start += name_after_title(self._document_text(passage.doc_id)[start:end])
                    piece = self._document_text(passage.doc_id)[start:end]
                    key = answer_key(piece)
                    checked = not question.options and not states_sentence
                    if not key or (checked and _repeats(piece, asked)):
                        continue
                    candidates.setdefault(key, _Candidate(key)).add(
                        _Occurrence(score, passage.doc_id, start, end, *quote)
                    )
        return self._select(
            question, candidates, self._min_score if min_score is None else min_score
        )

    def _sentence_end(self, doc_id: str, start: int, end: int) -> int:
        """``end`` moved back over the sentence's closing stop and spaces."""
        text = self._document_text(doc_id)
        while end > start and (text[end - 1].isspace() or text[end - 1] in ".!?;:"):
            end -= 1
        return end

    def contexts(self, question: QuestionAnalysis, passages: Sequence[Passage]) -> list[str]:
        """What the model reads for ``question``: each passage's window under its heading."""
        return self._contexts(question, passages, self._sentences_of(passages))[2]

    def _contexts(
        self,
        question: QuestionAnalysis,
        passages: Sequence[Passage],
        sentences: dict[str, list[StoredSentence]],
    ) -> tuple[list[Window], list[str], list[str]]:
        windows = self._windows(question, passages, sentences)
        headings = [self._heading_before(p, w) for p, w in zip(passages, windows, strict=True)]
        contexts = [
            heading + p.text[w.start : w.end]
            for heading, p, w in zip(headings, passages, windows, strict=True)
        ]
        return windows, headings, contexts

    def _windows(
        self,
        question: QuestionAnalysis,
        passages: Sequence[Passage],
        sentences: dict[str, list[StoredSentence]],
    ) -> list[Window]:
        """What the model reads of each passage: a window around its best sentences, or the
        whole passage for a list question (its items may stand anywhere in it)."""
        if question.is_list or self._focus_words <= 0:
            return [Window(0, len(p.text)) for p in passages]
        bounds = [
            [
                (max(s.start - p.start, 0), min(s.end - p.start, len(p.text)))
                for s in sentences.get(p.doc_id, [])
                if s.start < p.start + len(p.text) and s.end > p.start
            ]
            for p in passages
        ]
        return focus_windows(question.text, [p.text for p in passages], bounds, self._focus_words)

    def _heading_before(self, passage: Passage, window: Window) -> str:
        """The heading of the section the window read starts in, as a line to read it under,
        when the window does not hold it ("Sponsors" above a list of names); else ""."""
        section = self._store.location(passage.doc_id, passage.start + window.start).section
        if not section or passage.text[window.start : window.end].startswith(section):
            return ""
        return section + "\n\n"

    def _sentences_of(self, passages: Sequence[Passage]) -> dict[str, list[StoredSentence]]:
        """The stored sentences of the passages, by document, in order."""
        ids: set[int] = set()
        for chunk in self._store.chunks(p.chunk_id for p in passages):
            ids.update(range(chunk.first_sentence, chunk.last_sentence + 1))
        by_document: dict[str, list[StoredSentence]] = {}
        for sentence in self._store.sentences(ids):
            by_document.setdefault(sentence.doc_id, []).append(sentence)
        return by_document

    def _select(
        self, question: QuestionAnalysis, candidates: dict[str, _Candidate], min_score: float
    ) -> list[Answer]:
        ranked = sorted(candidates.values(), key=lambda c: (-c.score, c.key))
        if not ranked or ranked[0].score < min_score:
            return []
        if not question.is_list:
            return [self._answer(ranked[0])]
        # Every item must clear the threshold a single answer needs.
        chosen = [c for c in ranked if c.score >= min_score]
        limit = question.expected_count or self._max_list_items
        return [self._answer(c) for c in chosen[:limit]]

    def _answer(self, candidate: _Candidate) -> Answer:
        occurrences = sorted(candidate.occurrences, key=lambda o: (-o.score, o.doc_id, o.start))
        best = occurrences[0]
        text = self._document_text(best.doc_id)[best.start : best.end]
        citations: list[Citation] = []
        seen: set[tuple[str, int]] = set()
        for occurrence in occurrences:
            document_text = self._document_text(occurrence.doc_id)
            # Each citation slices to the answer text itself; another spelling of the same
            # answer ("U.S." for "US") is not cited for it.
            if (occurrence.doc_id, occurrence.start) in seen:
                continue
            if document_text[occurrence.start : occurrence.end] != text:
                continue
            seen.add((occurrence.doc_id, occurrence.start))
            document = self._store.metadata(occurrence.doc_id)
            where = self._store.location(occurrence.doc_id, occurrence.start)
            citations.append(
                Citation(
                    doc_id=occurrence.doc_id,
                    title=document.title if document else occurrence.doc_id,
                    source=document.source if document else "",
                    publisher=document.publisher if document else "",
                    start=occurrence.start,
                    end=occurrence.end,
                    quote=document_text[occurrence.quote_start : occurrence.quote_end],
                    quote_start=occurrence.quote_start,
                    quote_end=occurrence.quote_end,
                    page=where.page,
                    section=where.section,
                )
            )
        return Answer(text=text, score=round(candidate.score, 4), citations=citations)

    def _read_document_text(self, doc_id: str) -> str:
        document = self._store.document(doc_id)
        return document.text if document else ""


def answer_key(text: str) -> str:
    """Two spans with the same key are the same answer: the same words, or the same country
    by another name ("U.S." and "United States")."""
    code = country_code(text)
    return f"country:{code}" if code else " ".join(words(text))


def _repeats(answer: str, asked: frozenset[str]) -> bool:
    """An answer that says nothing the question did not: only its words ("Which newspaper
    reported the RCMP inquiry?" -> "RCMP"), or no content word at all ("it", "they")."""
    said = set(terms(answer))
    return not said or said <= asked


def _enumerates(text: str, start: int, end: int) -> bool:
    return len(enumeration_items(text, start, end)) > 1


def _sentence_around(sentences: Sequence[StoredSentence], start: int, end: int) -> tuple[int, int]:
    """The span of the sentences the answer ``start:end`` stands in (the answer itself when
    no stored sentence holds it)."""
    holding = [s for s in sentences if s.start < end and s.end > start]
    if not holding:
        return start, end
    return min(s.start for s in holding), max(s.end for s in holding)
