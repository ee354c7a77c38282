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
from functools import lru_cache

import numpy as np

from qa.answers import Answer, Citation
from qa.places import (
    city_countries,
    country_code,
    country_of_adjective,
    country_words,
    is_place,
    normalise_place,
)
from qa.questions import AnswerType, QuestionAnalysis
from qa.retrieval import Passage
from qa.sentences import Span, lemma_spans
from qa.store import Store, StoredSentence
from qa.terms import STOP_WORDS, stem, terms, with_lemmas, words


@dataclass(frozen=True)
class TermStatistics:
    """How many chunks hold each term: rare question words count for more."""

    chunk_count: int
    document_frequency: dict[str, int]

    def idf(self, term: str) -> float:
        df = self.document_frequency.get(term, 0)
        return math.log((self.chunk_count - df + 0.5) / (df + 0.5) + 1.0)


@dataclass(frozen=True)
class _SentenceWords:
    """What the reader matches in one sentence, worked out once per sentence and kept."""

    terms: frozenset[str]  # its stems, acronyms and country words (``_sentence_terms``)
    stems: tuple[str, ...]  # the stem of each token, in order, irregular verbs as lemmas
    tokens: tuple[tuple[int, int, str], ...]  # each token's (start, end, text) in the document
    where: dict[str, list[int]]  # each stem's token positions

    def positions(self, term: Iterable[str]) -> list[int]:
        """Where any of ``term``'s stems stands, in order."""
        found = [i for s in term for i in self.where.get(s, ())]
        return sorted(found) if len(found) > 1 else found


# Sentences whose words the reader keeps; past this many the cache starts again (a corpus of
# millions of sentences is never all in memory, and questions come back to the same few).
_CACHED_SENTENCES = 10_000  # about 8 KB each
_CACHED_DOCUMENTS = 512


@dataclass
class _ScoredSentence:
    sentence: StoredSentence
    text: str  # the document's cleaned text
    relevance: float
    coverage: float
    matched_positions: list[int]  # token indices in the sentence that match question terms
    similarity: float = 0.0  # cosine of the sentence to the question
    names_present: bool = True  # every name of the question is in the sentence or just before
    places_present: bool = True  # so is every place the question names ("in Germany")
    # It states something the question says about its names ("founded", "publisher"), not
    # just the names: "Laura Harth, of Safeguard Defenders" does not say who founded it.
    relation_present: bool = True


@dataclass
class _Candidate:
    key: str
    score: float
    coverage: float
    similarity: float = 0.0
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
    AnswerType.TITLE: frozenset({"WORK_OF_ART", "LAW", "QUOTE", "EVENT", "PRODUCT", "NAMED"}),
}
_SUBNATIONAL = frozenset(
    {
        "province",
        "provinces",
        "region",
        "regions",
        "county",
        "counties",
        "district",
        "state",
        "states",
        "territory",
        "area",
        "city",
        "cities",
        "town",
        "towns",
    }
)
# Kinds of answer that a common-noun phrase can name ("the Homeland Security Committee").
_NAMED_BY_PHRASE = frozenset(
    {AnswerType.ORGANISATION, AnswerType.PLACE, AnswerType.TITLE, AnswerType.ENTITY}
)
# For "which app": any name the tagger found, of whatever label.
_ANY_NAME = frozenset(
    {"PERSON", "ORG", "GPE", "LOC", "FAC", "PRODUCT", "WORK_OF_ART", "EVENT", "LAW", "NAMED"}
)

_PLACE_LABELS = frozenset({"GPE", "LOC", "FAC", "NORP"})
_PLACE_TYPES = frozenset({AnswerType.PLACE, AnswerType.CITY, AnswerType.COUNTRY})
# Kinds of thing told apart by where they are: "which consulate" -- the one in Cape Town.
_KINDS_NAMED_BY_PLACE = frozenset(
    """consulate consulates embassy embassies station stations office offices branch branches
    base bases port ports airport airports mission missions outpost outposts""".split()
)
# What the tagger did label is not a name of some unlabelled kind ("which app").
_NOT_AN_ENTITY = _PLACE_LABELS | {"DATE", "TIME", "CARDINAL", "ORDINAL", "PERSON", "ORG"}

# Words that start the clause a "why/how/what did" question wants, kept in the answer.
_CLAUSE_LEADS = frozenset(
    """is are was were has have had been be that which who it as said says in with of and but
    also""".split()
)


# "By Jung Min-ho" near the top of a news page names its author.
_BYLINE = re.compile(
    r"(?:By|Written by|Reporting by)\s+([A-Z][\w.’'-]*(?:\s+[A-Z][\w.’'-]*){0,3})\s*"
)
_BYLINE_SENTENCES = 40
_AUTHORSHIP_WORDS = frozenset(
    {"wrote", "write", "written", "writes", "author", "authored", "penned", "byline"}
)


def _asks_for_author(question: QuestionAnalysis) -> bool:
    return question.answer_type in {AnswerType.PERSON, AnswerType.PERSON_OR_ORGANISATION} and bool(
        _AUTHORSHIP_WORDS & set(words(question.text))
    )


# A description is a noun phrase, not the start of another clause ("Harth, she said, ...").
_DESCRIPTION_STARTS_NOT = frozenset(
    """he she it they we i you who which that said says told added also not however
    according""".split()
)


# What a country is worth beside a city of it in the same sentence, for "where".
_BROADER_PLACE = 0.9

# A sentence this close in meaning to the question says what it asks, in other words.
_SAYS_THE_SAME = 0.75


class Reader:
    """Extracts cited answer spans for an analysed question from retrieved passages."""

    def __init__(
        self,
        store: Store,
        sentence_vectors: np.ndarray,
        stats: TermStatistics,
        min_score: float,
        max_list_items: int,
    ) -> None:
        self._store = store
        self._sentence_vectors = sentence_vectors
        self._stats = stats
        self._min_score = min_score
        self._max_list_items = max_list_items
        # Documents and sentences the last questions met, kept within bounds: a corpus of
        # thousands of documents is never all held in memory.
        # A document's cleaned text, its terms, its title's terms, by document id.
        self._text = lru_cache(maxsize=_CACHED_DOCUMENTS)(self._read_text)
        self._document_terms = lru_cache(maxsize=_CACHED_DOCUMENTS)(self._read_document_terms)
        self._title_terms = lru_cache(maxsize=_CACHED_DOCUMENTS)(self._read_title_terms)
        self._sentence_words: dict[int, _SentenceWords] = {}

    def _read_text(self, doc_id: str) -> str:
        document = self._store.document(doc_id)
        return document.text if document else ""

    def _words(self, sentence: StoredSentence) -> _SentenceWords:
        """A sentence's terms, token stems and tokens, from the cache when it has them."""
        found = self._sentence_words.get(sentence.id)
        if found is None:
            if len(self._sentence_words) >= _CACHED_SENTENCES:
                self._sentence_words.clear()
            found = _words_of(self._text(sentence.doc_id), sentence)
            self._sentence_words[sentence.id] = found
        return found

    def read(
        self, question: QuestionAnalysis, query_vector: np.ndarray, passages: Sequence[Passage]
    ) -> list[Answer]:
        """The answers, best first; empty means the passages do not answer the question."""
        sentences = self._scored_sentences(question, query_vector, passages)
        if not sentences:
            return []
        if question.defines:
            candidates = self._description_candidates(question, sentences)
        elif question.wants_sentence:
            candidates = self._sentence_candidates(sentences)
        elif question.answer_type is AnswerType.PHRASE and not question.options:
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
        # The question's main verb names the relation asked about: it weighs double.
        weights = [self._term_weight(t, question) for t in question.focus_terms]
        head_stem = stem(question.head) if question.head else None
        # Where the question's own words stand (not their variants: "Dutch" is not
        # "Amsterdam" when cutting a clause).
        question_words = [
            t for t in terms(question.text) if any(t in f for f in question.focus_terms)
        ]
        total = sum(weights) or 1.0
        # The two sentences before each one are its context ("It said ...").
        by_id = {
            s.id: s
            for s in self._store.sentences(
                {i - back for i in ids for back in (1, 2) if i - back >= 0} - ids
            )
        }
        by_id.update({s.id: s for s in stored})
        scored: list[_ScoredSentence] = []
        question_stems = frozenset(question_words)
        for sentence, similarity in zip(stored, similarities, strict=True):
            text = self._text(sentence.doc_id)
            sentence_words = self._words(sentence)
            own = sentence_words.terms
            context: set[str] = set()
            for back in (1, 2):
                before = by_id.get(sentence.id - back)
                if before is not None and before.doc_id == sentence.doc_id:
                    context |= self._words(before).terms
            covered = 0.0
            for term, weight in zip(question.focus_terms, weights, strict=True):
                if term & own:
                    covered += weight
                elif term & context:
                    covered += 0.5 * weight  # said just before ("It ...")
            coverage = covered / total if question.focus_terms else 0.5
            relevance = 0.55 * float(similarity) + 0.45 * coverage
            positions = sentence_words.positions(question_stems)
            seen = own | context | self._title_terms(sentence.doc_id)
            names_present = all(term & seen for term in question.named_terms)
            places_present = all(term & seen for term in question.place_terms)
            in_other_words = similarity >= _SAYS_THE_SAME  # "established" for "founded"
            relation_present = (
                not question.relation_terms
                or any(term & (own | context) for term in question.relation_terms)
                or (head_stem is not None and head_stem in own)
                or in_other_words
            ) and (_names_what_is_counted(question, sentence_words) or in_other_words)
            if not names_present:
                # About something else than what the question names -- unless the document
                # names it elsewhere and this sentence says "the NGO", "the facilities".
                in_document = places_present and all(
                    term & self._document_terms(sentence.doc_id) for term in question.named_terms
                )
                relevance *= 0.85 if in_document else 0.6
            scored.append(
                _ScoredSentence(
                    sentence,
                    text,
                    relevance,
                    coverage,
                    positions,
                    float(similarity),
                    names_present,
                    places_present,
                    relation_present,
                )
            )
        scored.sort(key=lambda s: -s.relevance)
        return scored

    def _read_document_terms(self, doc_id: str) -> frozenset[str]:
        return _sentence_terms(self._text(doc_id))

    def _read_title_terms(self, doc_id: str) -> frozenset[str]:
        return _sentence_terms(self._store.titles().get(doc_id, ""))

    def _term_weight(self, term: frozenset[str], question: QuestionAnalysis) -> float:
        """How much a question term counts: rare words more, and the question's main verb
        double, since it names the relation asked about."""
        return max(self._idf(term), 0.0) * (2.0 if term & question.verb_terms else 1.0)

    def _idf(self, term: frozenset[str]) -> float:
        return max(self._stats.idf(t) for t in term)

    # --- typed spans ---------------------------------------------------------------------

    def _span_candidates(
        self, question: QuestionAnalysis, sentences: list[_ScoredSentence]
    ) -> dict[str, _Candidate]:
        limit = 40 if question.is_list else 12
        head_stem = stem(question.head) if question.head else None
        # The question's own words (not their variants: "Japanese" must not rule out "Tokyo").
        # A day of a date ("as of June *21*") is no figure the question already gives.
        question_stems = set(terms(_MONTH_DAY.sub(" ", question.text))) | {head_stem}
        weights = {t: self._term_weight(t, question) for t in question.focus_terms}
        candidates: dict[str, _Candidate] = {}
        for scored in sentences[:limit]:
            sentence_words = self._words(scored.sentence)
            tokens = sentence_words.tokens
            closeness = _closeness_map(sentence_words, question.focus_terms, weights)
            spans = list(_candidate_spans(scored, question, head_stem))
            # "Where ...?": "in the U.S. ... in New York City": the city says more.
            countries_of_cities = (
                {c for sp in spans for c in city_countries(scored.text[sp.start : sp.end])}
                if question.answer_type is AnswerType.PLACE
                else set()
            )
            for span in spans:
                answer = scored.text[span.start : span.end]
                if not question.options and _echoes(answer, question_stems):
                    continue  # only repeats the question
                key = _answer_key(answer, question.answer_type)
                if key is None or key.removeprefix("country:") in question.countries_named:
                    continue
                proximity = _proximity(tokens, span, closeness)
                apposition = (
                    1.0 if span.label == "HEADED" else _next_to_head(tokens, span, head_stem)
                )
                score = scored.relevance * (0.7 + 0.3 * proximity) * (1.0 + 0.3 * apposition)
                score += _label_preference(span.label, question.answer_type)
                score += _date_precision(answer, question.head)
                if key.removeprefix("country:") in countries_of_cities:
                    score *= _BROADER_PLACE
                if question.answer_type is AnswerType.NUMBER:
                    score += _increment_fit(scored.text, span.start, question.text)
                candidate = candidates.setdefault(key, _Candidate(key, 0.0, 0.0))
                candidate.occurrences.append((score, scored, span.start, span.end))
                if score > candidate.score:
                    candidate.score, candidate.coverage = score, scored.coverage
                    candidate.similarity = scored.similarity
        if _asks_for_author(question):
            self._add_bylines(candidates, sentences)
        return candidates

    def _add_bylines(
        self, candidates: dict[str, _Candidate], sentences: list[_ScoredSentence]
    ) -> None:
        """ "Who wrote the story?": the byline ("By Jung Min-ho") of the document that best
        matches the rest of the question, scored as that document's best sentence."""
        best_by_document: dict[str, _ScoredSentence] = {}
        for scored in sentences:
            best_by_document.setdefault(scored.sentence.doc_id, scored)
        for doc_id, best in best_by_document.items():
            ids = self._store.document_sentence_ids(doc_id)[:_BYLINE_SENTENCES]
            text = self._text(doc_id)
            for sentence in self._store.sentences(ids):
                match = _BYLINE.match(text, sentence.start, sentence.end)
                if not match or match.end() != sentence.end:
                    continue
                byline = _ScoredSentence(
                    sentence,
                    text,
                    best.relevance,
                    best.coverage,
                    [],
                    best.similarity,
                    best.names_present,
                    best.places_present,
                    relation_present=True,  # "By Jung Min-ho" itself says who wrote it
                )
                key = " ".join(words(match.group(1)))
                candidate = candidates.setdefault(key, _Candidate(key, 0.0, 0.0))
                candidate.occurrences.append((best.relevance, byline, match.start(1), match.end(1)))
                if best.relevance > candidate.score:
                    candidate.score, candidate.coverage = best.relevance, best.coverage
                    candidate.similarity = best.similarity

    # --- descriptions ---

    def _description_candidates(
        self, question: QuestionAnalysis, sentences: list[_ScoredSentence]
    ) -> dict[str, _Candidate]:
        """ "Who is Laura Harth?": what the text says she is -- an apposition ("Laura Harth,
        campaign director at the NGO,") or a predicate ("Laura Harth is ...")."""
        name = re.escape(question.defines)
        short = re.escape(question.defines.split()[-1])
        pattern = re.compile(
            rf"\b(?:{name}|{short})(?:,\s+|\s+(?:is|was|are|were)\s+)((?:an?|the)?\s*[^,.;:()]{{3,200}}?)(?=,|\.|;|\s\(|$)"
        )
        # "FBI Director Christopher Wray": a title written before the name.
        title_before = re.compile(rf"((?:[A-Z][\w.’'-]*\s+){{1,4}})(?={name}\b)")
        candidates: dict[str, _Candidate] = {}
        for scored in sentences[:20]:
            body_start = scored.sentence.start
            body = scored.text[body_start : scored.sentence.end]
            matches = [*pattern.finditer(body), *title_before.finditer(body)]
            for match in matches:
                piece = match.group(1)
                if not piece.strip() or piece.split()[0].lower() in _DESCRIPTION_STARTS_NOT:
                    continue
                if piece.rstrip().endswith(("'s", "’s")):
                    continue  # "The CCP's United Front ...": an owner, not a title
                start = body_start + match.start(1)
                end = start + len(piece.rstrip())
                key = " ".join(words(piece))
                candidate = candidates.setdefault(key, _Candidate(key, 0.0, 0.0))
                score = 0.4 + 0.6 * scored.relevance
                candidate.occurrences.append((score, scored, start, end))
                if score > candidate.score:
                    candidate.score, candidate.coverage = score, max(scored.coverage, 0.5)
                    candidate.similarity = scored.similarity
        return candidates

    # --- clauses -------------------------------------------------------------------------

    def _sentence_candidates(self, sentences: list[_ScoredSentence]) -> dict[str, _Candidate]:
        """The best sentences themselves, for a question no question word shapes."""
        candidates: dict[str, _Candidate] = {}
        for scored in sentences[:3]:
            start, end = scored.sentence.start, scored.sentence.end
            end -= len(scored.text[start:end]) - len(scored.text[start:end].rstrip(" ."))
            key = normalise_place(scored.text[start:end])
            score = scored.relevance * 0.95
            candidates[key] = _Candidate(
                key, score, scored.coverage, scored.similarity, [(score, scored, start, end)]
            )
        return candidates

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
                candidate.similarity = scored.similarity
        return candidates

    # --- choosing ------------------------------------------------------------------------

    def _select(
        self, question: QuestionAnalysis, candidates: dict[str, _Candidate]
    ) -> list[Answer]:
        ranked = sorted(candidates.values(), key=lambda c: (-c.score, c.key))
        # Supported means the sentence holds the question's words, or says the same in other
        # words (a paraphrase matches by meaning, not by terms).
        ranked = [c for c in ranked if c.coverage >= 0.34 or c.similarity >= 0.55]
        if not question.is_list:
            # A single answer must come from a sentence that speaks of what the question names
            # ("in Germany"): a figure for the whole world is no answer for one country.
            ranked = [c for c in ranked if any(o[1].places_present for o in c.occurrences)]
        ranked = [c for c in ranked if any(o[1].relation_present for o in c.occurrences)]
        if not ranked:
            return []
        best = ranked[0]
        if _confidence(best.score) < self._min_score:
            return []
        if not question.is_list:
            return [self._answer(c) for c in [best, *_coordinated_with(best, ranked[1:])]]
        # Items of one enumeration ("Nantong, Wenzhou, Qingtian and Fuzhou") stand together.
        for mate in _coordinated_with(best, ranked[1:], within=0.0):
            mate.score = max(mate.score, 0.98 * best.score)
        ranked.sort(key=lambda c: (-c.score, c.key))
        if question.expected_count:
            chosen = ranked[: question.expected_count]
            return [self._answer(c) for c in chosen]
        # An item stated in the same sentence as the best one ("one in Serbia, the other in
        # Spain") stands on that sentence's support; others must be supported on their own.
        relative = 0.75 * best.score
        absolute = _score_for_confidence(self._min_score)
        best_sentences = {o[1].sentence.id for o in best.occurrences}
        chosen = [
            c
            for c in ranked
            if c.score >= relative
            and (c.score >= absolute or {o[1].sentence.id for o in c.occurrences} & best_sentences)
        ]
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
            document = self._store.metadata(sentence.doc_id)
            where = self._store.location(sentence.doc_id, o_start)
            citations.append(
                Citation(
                    doc_id=sentence.doc_id,
                    title=document.title if document else sentence.doc_id,
                    source=document.source if document else "",
                    publisher=document.publisher if document else "",
                    start=o_start,
                    end=o_end,
                    quote=scored.text[sentence.start : sentence.end],
                    quote_start=sentence.start,
                    quote_end=sentence.end,
                    page=where.page,
                    section=where.section,
                )
            )
        # Each citation must slice to the answer text itself; other spellings of the same
        # answer ("U.S." / "United States") stay as their own exact citations of that text.
        exact = [c for c in citations if self._text(c.doc_id)[c.start : c.end] == text]
        return Answer(text=text, score=round(_confidence(candidate.score), 4), citations=exact)


# --- pieces ------------------------------------------------------------------------------


def _sentence_terms(text: str) -> frozenset[str]:
    """A sentence's stems, plus the acronyms of its capitalised runs ("RCMP") and the other
    words for any country it names ("United States" also reads as "US")."""
    found = set(terms(text))
    for run in re.findall(
        r"(?:[A-Z][\w’'-]+\s+(?:(?:of|and|for|the|de)\s+)?){1,6}[A-Z][\w’'-]+", text
    ):
        parts = run.split()
        letters = "".join(w[0] for w in parts if w.lower() not in STOP_WORDS)
        if len(letters) >= 2:
            found.add(letters.lower())
        for size in (2, 3, 4):
            for first in range(len(parts) - size + 1):
                code = country_code(" ".join(parts[first : first + size]))
                if code:
                    found.update(stem(w) for w in country_words(code))
    return frozenset(found)


def _matching_text(text: str, sentence: StoredSentence) -> str:
    """A sentence as its terms are matched: irregular verb forms read as their lemmas ("found
    evidence" as "find evidence"), token for token."""
    body = text[sentence.start : sentence.end]
    return with_lemmas(body, sentence.start, lemma_spans(sentence.spans))


def _names_what_is_counted(question: QuestionAnalysis, sentence_words: _SentenceWords) -> bool:
    """Whether a sentence names what the question asks a figure of (or no figure is asked)."""
    if not (question.counted or question.counted_people):
        return True
    if question.counted & sentence_words.terms:
        return True
    return any(
        text.lower().rstrip(".") in question.counted_people for _, _, text in sentence_words.tokens
    )


def _words_of(text: str, sentence: StoredSentence) -> _SentenceWords:
    """A sentence's words as the reader matches them (``text`` is its document's)."""
    body = _matching_text(text, sentence)
    tokens = tuple(
        (m.start(), m.end(), m.group()) for m in _TOKEN.finditer(text, sentence.start, sentence.end)
    )
    stems = tuple(stem(m.group().lower().rstrip(".")) for m in _TOKEN.finditer(body))
    where: dict[str, list[int]] = {}
    for position, token_stem in enumerate(stems):
        where.setdefault(token_stem, []).append(position)
    return _SentenceWords(_sentence_terms(body), stems, tokens, where)


def _closeness_map(
    sentence_words: _SentenceWords,
    focus_terms: Sequence[frozenset[str]],
    weights: dict[frozenset[str], float],
) -> list[tuple[list[int], float]]:
    """For each question term found in the sentence: where it stands and how much it weighs."""
    found = []
    for term in focus_terms:
        positions = sentence_words.positions(term)
        if positions:
            found.append((positions, weights.get(term, 1.0)))
    return found


_DETERMINERS = (
    "the ",
    "a ",
    "an ",
    "its ",
    "their ",
    "his ",
    "her ",
    "this ",
    "that ",
    "these ",
    "those ",
    "of ",
    "in ",
    "on ",
    "at ",
    "with ",
    "from ",
    "for ",
    "by ",
)


def _candidate_spans(
    scored: _ScoredSentence, question: QuestionAnalysis, head_stem: str | None
) -> Iterable[Span]:
    """Spans of the sentence that could answer the question, list items split apart."""
    text = scored.text
    sentence = scored.sentence
    if question.options:
        body = text[sentence.start : sentence.end]
        for option in question.options:
            for match in re.finditer(rf"\b{re.escape(option)}\b", body):
                yield Span(sentence.start + match.start(), sentence.start + match.end(), "OPTION")
        return
    if head_stem and question.answer_type in _NAMED_BY_PHRASE:
        for span in _names_by_head(text, sentence.start, sentence.end, head_stem):
            if question.answer_type in _PLACE_TYPES:
                span = _without_owner(text, span)
            if question.is_list and question.answer_type in _PLACE_TYPES:
                # "Fujian and Zhejiang provinces": two provinces, each named by the kind-noun
                for start, end in _enumeration_items(text, span.start, span.end):
                    item = _trimmed_span(text, Span(start, end, span.label))
                    if item.end > item.start:
                        yield item
            else:
                yield span
    if head_stem and question.is_list and question.answer_type is AnswerType.ENTITY:
        yield from _examples_of_head(text, sentence.start, sentence.end, head_stem)
    if question.answer_type is AnswerType.ENTITY:
        yield from _names_in_phrases(text, sentence)
    for span in _typed_spans(sentence.spans, text, question, head_stem):
        if question.answer_type in {AnswerType.TITLE, AnswerType.ORGANISATION}:
            span = _whole_name(text, span, sentence.end)
        if question.answer_type is not AnswerType.NUMBER:
            span = _trimmed_span(text, span)
        if question.answer_type in _PLACE_TYPES:
            span = _without_owner(text, span)  # "China's Jiangsu" is Jiangsu
        if span.end <= span.start:
            continue
        if question.is_list and span.label != "QUOTE":
            yield from _list_parts(text, span, question, head_stem)
        else:
            yield span


_CAPITALISED_RUN = r"[A-Z][\w’'.-]*(?:\s+(?:(?:of|de|la|le|the|for|and|&)\s+)*[A-Z][\w’'.-]*)*"


def _is_nationality(name: str) -> bool:
    """ "Italian", "Norwegian": a people's adjective, not a country's name."""
    return bool(country_of_adjective(name)) and not country_code(name)


def _names_by_head(text: str, start: int, end: int, head_stem: str) -> Iterable[Span]:
    """A name standing right by the question's kind-noun, however the tagger labelled it:
    "a Canadian House of Commons *committee*", "the *newspaper* La Nazione"."""
    body = text[start:end]
    for match in re.finditer(rf"({_CAPITALISED_RUN})\s+([a-z][\w-]*)", body):
        if stem(match.group(2)) == head_stem and match.start(1) > 0:
            if _is_nationality(match.group(1)):
                continue  # "the Italian newspaper La Nazione": a nationality names nothing
            yield _trimmed_span(text, Span(start + match.start(1), start + match.end(1), "HEADED"))
    for match in re.finditer(rf"\b([a-z][\w-]*),?\s+({_CAPITALISED_RUN})", body):
        if stem(match.group(1)) == head_stem:
            yield _trimmed_span(text, Span(start + match.start(2), start + match.end(2), "HEADED"))


def _names_in_phrases(text: str, sentence: StoredSentence) -> Iterable[Span]:
    """Names the tagger did not label, inside a noun phrase: "the *WeChat* social media
    platform" (for "which app"). A capitalised word opening the sentence is no sign of a name."""
    labelled = [s for s in sentence.spans if s.label in _NOT_AN_ENTITY]
    for span in sentence.spans:
        if span.label != "NP":
            continue
        for match in re.finditer(_CAPITALISED_RUN, text[span.start : span.end]):
            start, end = span.start + match.start(), span.start + match.end()
            if (
                start > sentence.start
                and match.group().lower() not in STOP_WORDS
                and not is_place(match.group())
                and not any(s.start < end and start < s.end for s in labelled)
            ):
                yield _trimmed_span(text, Span(start, span.start + match.end(), "NAMED"))


def _examples_of_head(text: str, start: int, end: int, head_stem: str) -> Iterable[Span]:
    """The examples a sentence gives of the question's kind-noun: "unconventional measures,
    such as abduction and entrapment" -> "abduction", "entrapment"."""
    body = text[start:end]
    for match in re.finditer(r"\b([a-z][\w-]*)[\"”’',]*\s+(?:such as|including|like)\s+", body):
        if stem(match.group(1)) != head_stem:
            continue
        rest_start = match.end()
        stop = re.search(r"[.;:!?](?:\s|$)|\s[–—―]\s", body[rest_start:])
        listing_end = rest_start + (stop.start() if stop else len(body) - rest_start)
        for item_start, item_end in _enumeration_items(body, rest_start, listing_end):
            if len(body[item_start:item_end].split()) <= 5:
                yield Span(start + item_start, start + item_end, "EXAMPLE")


def _enumeration_items(text: str, start: int, end: int) -> Iterable[tuple[int, int]]:
    """The items of "A, B and C" between ``start`` and ``end``, without the commas and
    conjunctions."""
    position = start
    for separator in re.finditer(r",\s*(?:and\s+|or\s+)?|\s+(?:and|or)\s+", text[start:end]):
        yield from _stripped_piece(text, position, start + separator.start())
        position = start + separator.end()
    yield from _stripped_piece(text, position, end)


def _stripped_piece(text: str, start: int, end: int) -> Iterable[tuple[int, int]]:
    while start < end and text[start].isspace():
        start += 1
    while end > start and text[end - 1].isspace():
        end -= 1
    if end > start:
        yield start, end


_NAME_CONTINUES = re.compile(
    r"\s+(?:of|on|for|and|de)\s+(?:the\s+)?[A-Z][\w’'-]*(?:\s+[A-Z][\w’'-]*)*"
)


def _whole_name(text: str, span: Span, limit: int) -> Span:
    """A name the tagger cut short: "Vienna Convention" *on Consular Relations*."""
    end = span.end
    while True:
        more = _NAME_CONTINUES.match(text, end, limit)
        if not more:
            break
        end = more.end()
    return Span(span.start, end, span.label) if end != span.end else span


def _trimmed_span(text: str, span: Span) -> Span:
    """Leading determiners/prepositions and trailing punctuation out of a span."""
    start, end = span.start, span.end
    changed = True
    while changed:
        changed = False
        lowered = text[start:end].lower()
        for word in _DETERMINERS:
            if lowered.startswith(word) and end - start > len(word):
                start += len(word)
                changed = True
                break
    while end > start and text[end - 1] in ".,;:!?\"”’' ":
        if text[end - 1] == "." and re.search(r"\b[A-Z]\.$", text[start:end]):
            break  # "U.S.", "U.K.": the dot belongs to the name
        end -= 1
    return Span(start, end, span.label)


def _list_parts(
    text: str, span: Span, question: QuestionAnalysis, head_stem: str | None
) -> Iterable[Span]:
    """ "Nantong, Wenzhou, Qingtian and Fuzhou" as four items when a list is asked for."""
    piece = text[span.start : span.end]
    if "," not in piece and " and " not in piece:
        yield span
        return
    for start, end in _enumeration_items(text, span.start, span.end):
        item = _trimmed_span(text, Span(start, end, span.label))
        if item.end > item.start and any(_typed_spans([item], text, question, head_stem)):
            yield item


def _typed_spans(
    spans: Iterable[Span], text: str, question: QuestionAnalysis, head_stem: str | None
) -> Iterable[Span]:
    wanted = question.answer_type
    labels = _LABELS.get(wanted, _ANY_NAME)
    for span in spans:
        name = text[span.start : span.end]
        if (
            span.label == "NP"
            and wanted in {AnswerType.PERSON_OR_ORGANISATION, AnswerType.PERSON}
            and question.head is None
            and _names_people(name)
        ):
            yield Span(span.start, span.end, "PEOPLE")  # "who do they target?": a kind of people
            continue
        if span.label == "NP" and wanted in _NAMED_BY_PHRASE:
            headed = _headed_phrase(text, span, head_stem)
            if (
                headed is not None
                and question.is_list
                and not re.search(r"[A-Z]", text[headed.start : headed.end])
            ):
                headed = None  # a list wants names, not "four different jurisdictions"
            if headed is not None and _is_nationality(text[headed.start : headed.end]):
                headed = None  # "the Italian newspaper": which one is not said there
            if headed is not None:
                yield headed
                continue
        if span.label not in labels:
            continue
        if (
            wanted is AnswerType.ENTITY
            and question.head not in _KINDS_NAMED_BY_PLACE
            and (span.label in _PLACE_LABELS or is_place(name))
        ):
            continue  # "which app": a kind the tagger has no label for, but no place
        if span.label == "NP" and wanted not in {AnswerType.COUNTRY, AnswerType.CITY}:
            continue
        if wanted is AnswerType.COUNTRY and not country_code(name):
            continue
        if wanted is AnswerType.CITY:
            countries = city_countries(name)
            if question.country_filter and question.country_filter not in countries:
                continue
            if not countries and (span.label != "GPE" or country_code(name) or name.isupper()):
                continue
        if wanted is AnswerType.PLACE and question.head in _SUBNATIONAL and country_code(name):
            continue  # "which province": a country is not one
        if wanted is AnswerType.PLACE and question.country_filter:
            countries = city_countries(name)
            if countries and question.country_filter not in countries:
                continue
        if span.label == "QUOTE" and not _looks_like_title(name):
            continue
        yield span


def _echoes(answer: str, question_stems: set[str | None]) -> bool:
    """The answer only repeats the question: all its words, or all but a country the question
    names another way ("United States Justice Department" for "the US Justice Department")."""
    answer_words = words(answer)
    new_words = [w for w in answer_words if stem(w) not in question_stems and w not in STOP_WORDS]
    if not new_words:
        return True
    code = country_code(" ".join(new_words))
    return bool(code) and bool({stem(w) for w in country_words(code)} & question_stems)


def _names_people(phrase: str) -> bool:
    """A plural noun phrase for a kind of people ("public officials", "Chinese dissidents")."""
    found = words(phrase)
    return len(found) >= 2 and found[-1] in _PEOPLE_NOUNS and not phrase[:1].isupper()


_PEOPLE_NOUNS = frozenset(
    """officials businesspeople people dissidents activists critics nationals citizens
    fugitives residents students exiles journalists officers agents suspects victims families
    relatives workers members leaders politicians lawmakers experts researchers children
    women men refugees migrants immigrants diplomats police""".split()
)


def _headed_phrase(text: str, span: Span, head_stem: str | None) -> Span | None:
    """A noun phrase ending in the question's kind-noun, when it says more than the noun:
    "Jiangsu province" for "which province", "Le Journal de Montreal" (newspaper) for "which
    newspaper", "transnational crime" for "what kind of crime"."""
    if not head_stem:
        return None
    start, end = span.start, span.end
    phrase = text[start:end]
    found = words(phrase)
    if len(found) < 2 or stem(found[-1]) != head_stem:
        return None
    if all(w in STOP_WORDS for w in found[:-1]):
        return None
    possessive = max(phrase.rfind("'s "), phrase.rfind("’s "))
    if possessive >= 0:  # "China's southeastern Jiangsu province": the possessor is not it
        start += possessive + 3
        phrase = text[start:end]
    capital = re.search(r"\b[A-Z]", phrase)
    if capital:
        start += capital.start()  # "southeastern Jiangsu province" -> "Jiangsu province"
        phrase = text[start:end]
        last = re.search(r"\s+(\w+)$", phrase)
        if last and last.group(1)[0].islower():
            end -= len(last.group(0))  # a lowercase kind-noun after a name is not part of it
    return Span(start, end, "HEADED") if end > start else None


def _looks_like_title(text: str) -> bool:
    """A quoted stretch that reads as a name: mostly capitalised words, not a whole sentence."""
    tokens = text.split()
    capitals = sum(1 for t in tokens if t[:1].isupper() or t[:1].isdigit())
    return 1 <= len(tokens) <= 12 and capitals / len(tokens) >= 0.5 and not text.endswith(".")


def _answer_key(answer: str, answer_type: AnswerType) -> str | None:
    """Two spans with the same key are the same answer (aliases merged)."""
    if answer_type is not AnswerType.PHRASE:
        code = country_code(answer)
        if code:
            return f"country:{code}"
    parts = words(answer)
    if answer_type in _PLACE_TYPES and len(parts) > 1 and parts[-1] in _SUBNATIONAL:
        parts = parts[:-1]  # "Zhejiang province" is Zhejiang
    key = " ".join(parts)
    return key or None


_OWNER = re.compile(r"(?:[A-Z][\w.-]*\s+){0,3}[A-Z][\w.-]*[’']s\s+(?=[A-Z])")


def _without_owner(text: str, span: Span) -> Span:
    """A place name without the place it belongs to written first ("China's Jiangsu")."""
    owner = _OWNER.match(text, span.start, span.end)
    return Span(owner.end(), span.end, span.label) if owner else span


def _proximity(
    tokens: Sequence[tuple[int, int, str]], span: Span, closeness: list[tuple[list[int], float]]
) -> float:
    """How close the span stands to the question's words, rare words counting for more."""
    if not closeness:
        return 0.3
    inside = [i for i, (s, e, _) in enumerate(tokens) if s < span.end and e > span.start]
    if not inside:
        return 0.3
    total = sum(weight for _, weight in closeness) or 1.0
    near = 0.0
    for positions, weight in closeness:
        distance = min(abs(i - j) for i in inside for j in positions)
        near += weight / (1.0 + distance / 3.0)
    return near / total


def _next_to_head(
    tokens: Sequence[tuple[int, int, str]], span: Span, head_stem: str | None
) -> float:
    """1 when the question's kind-noun stands right by the span ("Le Journal newspaper"), or
    just after it ("54 such police *stations*")."""
    if not head_stem:
        return 0.0
    inside = [i for i, (s, e, _) in enumerate(tokens) if s < span.end and e > span.start]
    if not inside:
        return 0.0
    near = list(range(max(0, inside[0] - 2), inside[0])) + list(
        range(inside[-1] + 1, min(len(tokens), inside[-1] + 4))
    )
    return 1.0 if any(stem(tokens[i][2].lower().rstrip(".")) == head_stem for i in near) else 0.0


def _label_preference(label: str, answer_type: AnswerType) -> float:
    if answer_type is AnswerType.PERSON_OR_ORGANISATION and label == "PERSON":
        return 0.03
    if label == "PEOPLE":
        return -0.03  # a name, when there is one, answers "who" better than a description
    if answer_type is AnswerType.CITY and label == "GPE":
        return 0.02
    return 0.0


_MONTH_DAY = re.compile(
    r"\b(?:Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Sept|Oct|Nov|Dec)[a-z]*\.?\s+\d{1,2}\b"
    r"|\b\d{1,2}\s+(?:Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Sept|Oct|Nov|Dec)[a-z]*\b"
    r"|\b\d{4}-\d{2}-\d{2}\b"
)
_YEAR = re.compile(r"\b(?:1[89]|20)\d{2}\b")


_INCREMENT_BEFORE = re.compile(r"\b(?:a further|another|an additional|additional|more)\s+$", re.I)
_ASKS_INCREMENT = re.compile(r"\b(?:more|further|additional|another|new)\b", re.I)


def _increment_fit(text: str, start: int, question: str) -> float:
    """ "a further 48" counts what was added: it answers "how many more", not "how many first"."""
    if not _INCREMENT_BEFORE.search(text[max(0, start - 20) : start]):
        return 0.0
    return 0.05 if _ASKS_INCREMENT.search(question) else -0.1


def _date_precision(answer: str, head: str | None) -> float:
    """ "On what date": a day beats a bare year; "in what year": a year beats a day."""
    if head in {"date", "day"}:
        return 0.04 if _MONTH_DAY.search(answer) else -0.04
    if head == "year":
        return 0.0 if _YEAR.search(answer) else -0.08
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
        while after < len(tokens) and (
            tokens[after].group().lower() in _CLAUSE_LEADS
            or (tokens[after].group()[:1].isupper() and tokens[after - 1].group()[:1].isupper())
        ):
            after += 1  # linking words, and the rest of a name ("New York *City*")
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
    stop = re.search(
        r"[.;:!?]\s|[.;:!?]$|\s[–—―]\s|,\s(?:and\s)?(?:which|who|but|while)\b|,\s(?:and|but)\s"
        r"|,\s(?:according to|said|says|reported)\b"
        r"|,\s(?:[\w-]+\s){1,3}(?:said|says|say|reported|report)\b",
        rest,
    )
    end = clause_start + (stop.start() if stop else len(rest))
    piece = body[clause_start:end].rstrip(' ,;:"”’')
    return offset + clause_start, offset + clause_start + len(piece)


def _coordinated_with(
    best: _Candidate, others: list[_Candidate], within: float = 0.95
) -> list[_Candidate]:
    """Answers listed together with the best one in its sentence ("in Australia, Canada,
    Southeast Asia, the U.S."), scoring at least ``within`` of it."""
    _, sentence, start, end = max(best.occurrences, key=lambda o: o[0])
    text = sentence.text
    together: list[_Candidate] = []
    spans = [(start, end)]
    for other in others:
        if other.score < within * best.score:
            continue
        for _, other_sentence, o_start, o_end in other.occurrences:
            if other_sentence.sentence.id != sentence.sentence.id:
                continue
            nearest = min(spans, key=lambda s: min(abs(o_start - s[1]), abs(s[0] - o_end)))
            gap = text[min(nearest[1], o_end) : max(nearest[0], o_start)]
            if re.fullmatch(r"\s*(?:,|,?\s*and|,?\s*or)\s*(?:the\s+)?", gap):
                together.append(other)
                spans.append((o_start, o_end))
                break
    return together


def _confidence(score: float) -> float:
    """Map a raw candidate score to 0..1 (a logistic curve fitted on the gold set's bands)."""
    return 1.0 / (1.0 + math.exp(-10.0 * (score - 0.45)))


def _score_for_confidence(confidence: float) -> float:
    confidence = min(max(confidence, 1e-6), 1 - 1e-6)
    return 0.45 - math.log(1.0 / confidence - 1.0) / 10.0
