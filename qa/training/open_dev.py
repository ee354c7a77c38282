"""The dev split read the way the service reads: each question against the passages our
retriever finds among all dev contexts, the best span of the best passage against the no-answer
threshold. A question and its unanswerable twin (the same question with every context that
answers it taken out of the pool) are both asked, so the split stays half unanswerable.

Reading several passages gives a wrong span more chances to score high than one paragraph
does, so the service's threshold is chosen here, not on single paragraphs.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import replace

import bm25s
import numpy as np

from qa.embedding import Embedder
from qa.passage_focus import focus_windows
from qa.reader_model import SpanModel
from qa.retrieval import fuse_scores
from qa.terms import terms
from qa.training.dev import DevFigures, Prediction, dev_figures
from qa.training.examples import Example
from qa.training.negatives import mentions_an_answer

PASSAGES_READ = 8  # as the service reads for a single answer
_CANDIDATES = 30  # from each ranker before fusion, as in the service


def _sample(examples: Sequence[Example], size: int) -> list[Example]:
    """``size`` of the answerable originals, the same ones on every run (chosen by id hash)."""
    originals = [e for e in examples if e.answerable and e.kind == "original"]
    originals.sort(key=lambda e: hashlib.sha256(e.id.encode()).hexdigest())
    return originals[:size]


def open_questions(
    examples: Sequence[Example], size: int | None = None
) -> list[tuple[Example, list[str]]]:
    """Each of ``size`` answerable dev questions (all when None), twice: over every dev
    context, and (made unanswerable) over the contexts that neither are its own nor hold one of
    its answers."""
    contexts = sorted({e.context for e in examples})
    pairs: list[tuple[Example, list[str]]] = []
    for example in _sample(examples, len(examples) if size is None else size):
        pairs.append((example, contexts))
        others = [
            c for c in contexts if c != example.context and not mentions_an_answer(c, example)
        ]
        twin = replace(example, id=example.id + "-open", answers=(), kind="not in the pool")
        pairs.append((twin, others))
    return pairs


def _ranked_contexts(
    pairs: Sequence[tuple[Example, list[str]]], embedder: Embedder, dense_weight: float
) -> list[list[str]]:
    """The ``PASSAGES_READ`` best contexts of each question's pool, dense and BM25 fused."""
    every = sorted({c for _, pool in pairs for c in pool})
    position = {c: i for i, c in enumerate(every)}
    vectors = embedder.encode(every)
    lexical = bm25s.BM25()
    lexical.index([terms(c) for c in every], show_progress=False)
    question_vectors = embedder.encode([e.question for e, _ in pairs])
    ranked: list[list[str]] = []
    for (example, pool), question_vector in zip(pairs, question_vectors, strict=True):
        allowed = np.zeros(len(every), dtype=bool)
        allowed[[position[c] for c in pool]] = True
        similarity = np.where(allowed, vectors @ question_vector, -np.inf)
        dense = [
            (int(i), float(similarity[i]))
            for i in np.argsort(-similarity)[:_CANDIDATES]
            if allowed[i]
        ]
        query = terms(example.question)
        lexical_ranking: list[tuple[int, float]] = []
        if query:
            scores = np.where(allowed, lexical.get_scores(query), 0.0)
            lexical_ranking = [
                (int(i), float(scores[i]))
                for i in np.argsort(-scores)[:_CANDIDATES]
                if scores[i] > 0
            ]
        fused = fuse_scores(dense, lexical_ranking, dense_weight)[:PASSAGES_READ]
        ranked.append([every[r.chunk_id] for r in fused])
    return ranked


def _focused(
    pairs: Sequence[tuple[Example, list[str]]], ranked: list[list[str]], focus_words: int
) -> list[list[str]]:
    """Each question's passages cut to the windows the service's reader reads of them."""
    from qa.sentences import split_many

    every = sorted({c for contexts in ranked for c in contexts})
    bounds = {
        c: [(s.start, s.end) for s in found]
        for c, found in zip(every, split_many(every), strict=True)
    }
    focused: list[list[str]] = []
    for (example, _), contexts in zip(pairs, ranked, strict=True):
        windows = focus_windows(
            example.question, contexts, [bounds[c] for c in contexts], focus_words
        )
        focused.append([c[w.start : w.end] for c, w in zip(contexts, windows, strict=True)])
    return focused


def open_predictions(
    model: SpanModel,
    examples: Sequence[Example],
    embedder: Embedder,
    dense_weight: float = 0.4,
    size: int | None = None,
    batch: int = 8,
    focus_words: int = 0,
) -> list[Prediction]:
    """Each question's best span over its retrieved passages (each read as a window of
    ``focus_words`` around its best sentences, as the service reads; 0: whole), and that span's
    margin."""
    pairs = open_questions(examples, size)
    if not pairs:
        return []
    ranked = _ranked_contexts(pairs, embedder, dense_weight)
    if focus_words > 0:
        ranked = _focused(pairs, ranked, focus_words)
    predictions: list[Prediction] = []
    for first in range(0, len(pairs), batch):
        part = pairs[first : first + batch]
        part_contexts = ranked[first : first + batch]
        readings = model.read_batch(
            [(e.question, c) for (e, _), c in zip(part, part_contexts, strict=True)]
        )
        for (example, _), contexts, per_context in zip(part, part_contexts, readings, strict=True):
            best = max(per_context, key=lambda r: r.margin, default=None)
            if best is None or best.best is None:
                predictions.append(Prediction.of(example, "", float("-inf")))
                continue
            span = best.best
            text = contexts[best.context_index][span.start : span.end]
            predictions.append(Prediction.of(example, text, best.margin))
    return predictions


def open_dev_figures(
    model: SpanModel,
    examples: Sequence[Example],
    embedder: Embedder,
    dense_weight: float = 0.4,
    size: int | None = None,
    focus_words: int = 0,
) -> DevFigures:
    """The dev figures as the service would get them, at the threshold chosen on them."""
    return dev_figures(
        open_predictions(model, examples, embedder, dense_weight, size, focus_words=focus_words)
    )
