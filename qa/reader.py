"""The reader: finds the answer span inside the best passages, with citations.

No extractive-QA model can be had offline, so the reader is built from what the index already
holds for every sentence: its embedding, its terms, and its typed spans (entities, noun phrases,
quotes). For a question it

1. scores each sentence of the retrieved passages by meaning (cosine to the question) and by
   weighted coverage of the question's content words (rare words weigh more);
2. takes the spans of the wanted type from the best sentences (a country for "which country",
   a number for "how many", a clause for "why"), drops spans that only repeat the question,
   and favours spans close to the question's words or next to its kind-noun ("... newspaper");
3. merges the same answer found in several places, keeping every citation;
4. abstains when no candidate is supported well enough.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

import numpy as np
from pydantic import BaseModel, Field

from qa.places import city_countries, country_code, normalise_place
from qa.questions import AnswerType, QuestionAnalysis
from qa.retrieval import Passage
from qa.sentences import Span
from qa.store import Store, StoredSentence
from qa.terms import STOP_WORDS, stem, terms, words


class Citation(BaseModel):
    """Where an answer was copied from: ``cleaned_text(doc_id)[start:end] == answer.text``."""

    doc_id: str
    title: str
    source: str = ""
    start: int = Field(ge=0, description="Offset of the answer span in the cleaned document text")
    end: int = Field(ge=0)
    quote: str = Field(description="The whole sentence around the span, verbatim")
    quote_start: int = Field(ge=0, description="Offset of the quote in the cleaned text")
    quote_end: int = Field(ge=0)


class Answer(BaseModel):
    """One extracted answer: verbatim text, a 0..1 confidence, and every place that supports it."""

    text: str
    score: float = Field(ge=0.0, le=1.0)
    citations: list[Citation]


@dataclass(frozen=True)
class TermStatistics:
    """How many chunks hold each term: rare question words count for more."""

    chunk_count: int
    document_frequency: dict[str, int]

    def idf(self, term: str) -> float:
        df = self.document_frequency.get(term, 0)
        return math.log((self.chunk_count - df + 0.5) / (df + 0.5) + 1.0)


@dataclass
class _ScoredSentence:
    sentence: StoredSentence
    text: str  # the document's cleaned text
    relevance: float
    coverage: float
    matched_positions: list[int]  # token indices in the sentence that match question terms


@dataclass
class _Candidate:
    key: str
    score: float
    coverage: float
    occurrences: list[tuple[float, _ScoredSentence, int, int]] = field(default_factory=list)


_TOKEN = re.compile(r"[^\W_]+(?:[-'’.][^\W_]+)*\.?")

# Spans whose label can answer each type; gazetteer checks refine places below.
_LABELS: dict[AnswerType, frozenset[str]] = {
    AnswerType.PERSON: frozenset({"PERSON"}),
    AnswerType.ORGANISATION: frozenset({"ORG"}),
    AnswerType.PERSON_OR_ORGANISATION: frozenset({"PERSON", "ORG"}),
    AnswerType.PLACE: frozenset({"GPE", "LOC", "FAC"}),
    AnswerType.COUNTRY: frozenset({"GPE", "LOC", "ORG", "PERSON", "NORP", "NP"}),
    AnswerType.CITY: frozenset({"GPE", "LOC", "FAC", "ORG", "PERSON", "NP"}),
    AnswerType.NUMBER: frozenset({"CARDINAL", "QUANTITY", "PERCENT", "MONEY"}),
    AnswerType.DATE: frozenset({"DATE", "TIME"}),
    AnswerType.TITLE: frozenset({"WORK_OF_ART", "LAW", "QUOTE", "EVENT", "PRODUCT"}),
}

# Words that start the clause a "why/how/what did" question wants, kept in the answer.
_CLAUSE_LEADS = frozenset(
    {
        "is",
        "are",
        "was",
        "were",
        "has",
        "have",
        "had",
        "been",
        "be",
        "that",
        "which",
        "who",
        "it",
        "as",
        "said",
        "says",
    }
)


class Reader:
    """Extracts cited answer spans for an analysed question from retrieved passages."""

    def __init__(
        self,
        store: Store,
        sentence_vectors: np.ndarray,
        stats: TermStatistics,
        min_score: float = 0.35,
        max_list_items: int = 25,
    ) -> None:
        self._store = store
        self._sentence_vectors = sentence_vectors
        self._stats = stats
        self._min_score = min_score
        self._max_list_items = max_list_items
        self._texts: dict[str, str] = {}

    def _text(self, doc_id: str) -> str:
        """A document's cleaned text, read from the store once."""
        if doc_id not in self._texts:
            document = self._store.document(doc_id)
            self._texts[doc_id] = document.text if document else ""
        return self._texts[doc_id]

    def read(
        self, question: QuestionAnalysis, query_vector: np.ndarray, passages: Sequence[Passage]
    ) -> list[Answer]:
        """The answers, best first; empty means the passages do not answer the question."""
        sentences = self._scored_sentences(question, query_vector, passages)
        if not sentences:
            return []
        if question.answer_type is AnswerType.PHRASE:
            candidates = self._clause_candidates(question, sentences)
        else:
            candidates = self._span_candidates(question, sentences)
        return self._select(question, candidates)

    # --- sentences -----------------------------------------------------------------------

    def _scored_sentences(
        self, question: QuestionAnalysis, query_vector: np.ndarray, passages: Sequence[Passage]
    ) -> list[_ScoredSentence]:
        ids: set[int] = set()
        for chunk in self._store.chunks(p.chunk_id for p in passages):
            ids.update(range(chunk.first_sentence, chunk.last_sentence + 1))
        stored = self._store.sentences(ids)
        if not stored:
            return []
        vectors = np.asarray(self._sentence_vectors[[s.id for s in stored]])
        similarities = vectors @ query_vector.reshape(-1)
        weights = [max(self._idf(t), 0.0) for t in question.focus_terms]
        total = sum(weights) or 1.0
        previous_terms: dict[str, set[str]] = {}
        scored: list[_ScoredSentence] = []
        for sentence, similarity in zip(stored, similarities, strict=True):
            text = self._text(sentence.doc_id)
            body = text[sentence.start : sentence.end]
            own = _sentence_terms(body)
            context = previous_terms.get(sentence.doc_id, set())
            covered = 0.0
            for term, weight in zip(question.focus_terms, weights, strict=True):
                if term & own:
                    covered += weight
                elif term & context:
                    covered += 0.5 * weight  # said in the sentence before ("It ...")
            coverage = covered / total if question.focus_terms else 0.5
            relevance = 0.55 * float(similarity) + 0.45 * coverage
            positions = _matching_positions(body, question.focus_terms)
            scored.append(_ScoredSentence(sentence, text, relevance, coverage, positions))
            previous_terms[sentence.doc_id] = own
        scored.sort(key=lambda s: -s.relevance)
        return scored

    def _idf(self, term: frozenset[str]) -> float:
        return max(self._stats.idf(t) for t in term)

    # --- typed spans ---------------------------------------------------------------------

    def _span_candidates(
        self, question: QuestionAnalysis, sentences: list[_ScoredSentence]
    ) -> dict[str, _Candidate]:
        limit = 40 if question.is_list else 12
        question_stems = {t for term in question.focus_terms for t in term}
        head_stem = stem(question.head) if question.head else None
        candidates: dict[str, _Candidate] = {}
        for scored in sentences[:limit]:
            body_start = scored.sentence.start
            body = scored.text[body_start : scored.sentence.end]
            tokens = [
                (m.start() + body_start, m.end() + body_start, m.group())
                for m in _TOKEN.finditer(body)
            ]
            for span in _typed_spans(scored.sentence.spans, scored.text, question):
                answer = scored.text[span.start : span.end]
                answer_stems = set(terms(answer))
                if not answer_stems or answer_stems <= question_stems:
                    continue  # only repeats the question
                key = _answer_key(answer, question.answer_type)
                if key is None:
                    continue
                proximity = _proximity(tokens, span, scored.matched_positions)
                apposition = _next_to_head(tokens, span, head_stem)
                score = scored.relevance * (0.75 + 0.25 * proximity) + 0.2 * apposition
                score += _label_preference(span.label, question.answer_type)
                candidate = candidates.setdefault(key, _Candidate(key, 0.0, 0.0))
                candidate.occurrences.append((score, scored, span.start, span.end))
                if score > candidate.score:
                    candidate.score, candidate.coverage = score, scored.coverage
        return candidates

    # --- clauses -------------------------------------------------------------------------

    def _clause_candidates(
        self, question: QuestionAnalysis, sentences: list[_ScoredSentence]
    ) -> dict[str, _Candidate]:
        candidates: dict[str, _Candidate] = {}
        for scored in sentences[:3]:
            clause = _clause_after_question_words(scored)
            if clause is None:
                continue
            start, end = clause
            key = normalise_place(scored.text[start:end])
            candidate = candidates.setdefault(key, _Candidate(key, 0.0, 0.0))
            score = scored.relevance * 0.95
            candidate.occurrences.append((score, scored, start, end))
            if score > candidate.score:
                candidate.score, candidate.coverage = score, scored.coverage
        return candidates

    # --- choosing ------------------------------------------------------------------------

    def _select(
        self, question: QuestionAnalysis, candidates: dict[str, _Candidate]
    ) -> list[Answer]:
        ranked = sorted(candidates.values(), key=lambda c: (-c.score, c.key))
        ranked = [c for c in ranked if c.coverage >= 0.34]
        if not ranked:
            return []
        best = ranked[0]
        if _confidence(best.score) < self._min_score:
            return []
        if not question.is_list:
            return [self._answer(best)]
        cutoff = max(0.6 * best.score, _score_for_confidence(self._min_score))
        chosen = [c for c in ranked if c.score >= cutoff and c.coverage >= 0.5]
        return [self._answer(c) for c in chosen[: self._max_list_items]]

    def _answer(self, candidate: _Candidate) -> Answer:
        occurrences = sorted(candidate.occurrences, key=lambda o: -o[0])
        best_score, best_sentence, start, end = occurrences[0]
        text = best_sentence.text[start:end]
        citations: list[Citation] = []
        seen: set[tuple[str, int]] = set()
        for _, scored, o_start, o_end in occurrences:
            sentence = scored.sentence
            if (sentence.doc_id, o_start) in seen:
                continue
            seen.add((sentence.doc_id, o_start))
            document = self._store.document(sentence.doc_id)
            citations.append(
                Citation(
                    doc_id=sentence.doc_id,
                    title=document.title if document else sentence.doc_id,
                    source=document.source if document else "",
                    start=o_start,
                    end=o_end,
                    quote=scored.text[sentence.start : sentence.end],
                    quote_start=sentence.start,
                    quote_end=sentence.end,
                )
            )
        # Each citation must slice to the answer text itself; other spellings of the same
        # answer ("U.S." / "United States") stay as their own exact citations of that text.
        exact = [c for c in citations if self._text(c.doc_id)[c.start : c.end] == text]
        return Answer(text=text, score=round(_confidence(candidate.score), 4), citations=exact)


# --- pieces ------------------------------------------------------------------------------


def _sentence_terms(text: str) -> set[str]:
    """A sentence's stems plus the acronyms of its capitalised runs ("RCMP")."""
    found = set(terms(text))
    for run in re.findall(r"(?:[A-Z][\w’'-]+\s+){1,6}[A-Z][\w’'-]+", text):
        letters = "".join(w[0] for w in run.split() if w.lower() not in STOP_WORDS)
        if len(letters) >= 2:
            found.add(letters.lower())
    return found


def _matching_positions(body: str, focus_terms: Iterable[frozenset[str]]) -> list[int]:
    wanted = set().union(*focus_terms) if focus_terms else set()
    return [
        i
        for i, m in enumerate(_TOKEN.finditer(body))
        if stem(m.group().lower().rstrip(".")) in wanted
    ]


def _typed_spans(spans: Iterable[Span], text: str, question: QuestionAnalysis) -> Iterable[Span]:
    wanted = question.answer_type
    labels = _LABELS[wanted]
    for span in spans:
        if span.label not in labels:
            continue
        name = text[span.start : span.end]
        if wanted is AnswerType.COUNTRY and not country_code(name):
            continue
        if wanted is AnswerType.CITY:
            countries = city_countries(name)
            if not countries and (span.label != "GPE" or country_code(name)):
                continue
            if question.country_filter and countries and question.country_filter not in countries:
                continue
        if wanted is AnswerType.PLACE and question.country_filter:
            countries = city_countries(name)
            if countries and question.country_filter not in countries:
                continue
        if wanted is AnswerType.TITLE and span.label == "QUOTE" and not _looks_like_title(name):
            continue
        yield span


def _looks_like_title(text: str) -> bool:
    """A quoted stretch that reads as a name: mostly capitalised words, not a whole sentence."""
    tokens = text.split()
    capitals = sum(1 for t in tokens if t[:1].isupper() or t[:1].isdigit())
    return 1 <= len(tokens) <= 12 and capitals / len(tokens) >= 0.5 and not text.endswith(".")


def _answer_key(answer: str, answer_type: AnswerType) -> str | None:
    """Two spans with the same key are the same answer (aliases merged)."""
    if answer_type in {AnswerType.COUNTRY, AnswerType.PLACE, AnswerType.CITY}:
        code = country_code(answer)
        if code:
            return f"country:{code}"
    key = " ".join(words(answer))
    return key or None


def _proximity(tokens: list[tuple[int, int, str]], span: Span, matched: list[int]) -> float:
    if not matched:
        return 0.3
    inside = [i for i, (s, e, _) in enumerate(tokens) if s < span.end and e > span.start]
    if not inside:
        return 0.3
    distance = min(abs(i - j) for i in inside for j in matched)
    return 1.0 / (1.0 + distance / 4.0)


def _next_to_head(tokens: list[tuple[int, int, str]], span: Span, head_stem: str | None) -> float:
    """1 when the question's kind-noun stands right by the span ("Le Journal newspaper")."""
    if not head_stem:
        return 0.0
    inside = [i for i, (s, e, _) in enumerate(tokens) if s < span.end and e > span.start]
    if not inside:
        return 0.0
    near = list(range(max(0, inside[0] - 3), inside[0])) + list(
        range(inside[-1] + 1, min(len(tokens), inside[-1] + 4))
    )
    return 1.0 if any(stem(tokens[i][2].lower().rstrip(".")) == head_stem for i in near) else 0.0


def _label_preference(label: str, answer_type: AnswerType) -> float:
    if answer_type is AnswerType.PERSON_OR_ORGANISATION and label == "PERSON":
        return 0.03
    if answer_type is AnswerType.CITY and label == "GPE":
        return 0.02
    return 0.0


def _clause_after_question_words(scored: _ScoredSentence) -> tuple[int, int] | None:
    """The clause that follows the last question word in the sentence (or precedes the first)."""
    start = scored.sentence.start
    body = scored.text[start : scored.sentence.end]
    tokens = list(_TOKEN.finditer(body))
    if not tokens:
        return None
    matched = scored.matched_positions
    if matched:
        after = matched[-1] + 1
        while after < len(tokens) and tokens[after].group().lower() in _CLAUSE_LEADS:
            after += 1
        if len(tokens) - after >= 3:
            return _clause_span(body, start, tokens[after].start())
        before_end = tokens[matched[0]].start()
        piece = body[:before_end].rstrip(" ,;:")
        if len(piece.split()) >= 3:
            return start, start + len(piece)
    return start, start + len(body.rstrip(" ."))


def _clause_span(body: str, offset: int, clause_start: int) -> tuple[int, int]:
    """From ``clause_start`` to the end of the clause: a full stop, semicolon or dash."""
    rest = body[clause_start:]
    stop = re.search(r"[.;:!?]\s|[.;:!?]$|\s[–—―]\s|,\s(?:and\s)?(?:which|who|but|while)\b", rest)
    end = clause_start + (stop.start() if stop else len(rest))
    piece = body[clause_start:end].rstrip(' ,;:"”’')
    return offset + clause_start, offset + clause_start + len(piece)


def _confidence(score: float) -> float:
    """Map a raw candidate score to 0..1 (a logistic curve fitted on the gold set's bands)."""
    return 1.0 / (1.0 + math.exp(-10.0 * (score - 0.45)))


def _score_for_confidence(confidence: float) -> float:
    confidence = min(max(confidence, 1e-6), 1 - 1e-6)
    return 0.45 - math.log(1.0 / confidence - 1.0) / 10.0
