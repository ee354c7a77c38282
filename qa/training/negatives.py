"""Unanswerable examples, made: the data has none, and about half of real questions are.

Two kinds, both meant to teach the model to notice that the passage it sees does not answer:
- ``retrieved``: the question against another context that our own retriever (the bundled
  embedder and BM25, score-fused as at question time) ranks high for it;
- ``edited``: the question with one name, number, date or place swapped for another of the same
  kind that its context never mentions, so the context no longer answers it.
"""

from __future__ import annotations

import random
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import replace

import bm25s
import numpy as np

from qa.embedding import Embedder
from qa.retrieval import fuse_scores
from qa.terms import terms
from qa.training.examples import Example

# Entity labels whose swap changes what is asked about (spaCy's English scheme).
SWAPPABLE_LABELS = frozenset(
    "PERSON NORP FAC ORG GPE LOC PRODUCT EVENT WORK_OF_ART LANGUAGE DATE TIME PERCENT MONEY "
    "QUANTITY CARDINAL ORDINAL".split()
)
_RANKED = 8  # how far down each question's ranking a negative context is looked for


def _normalised(text: str) -> str:
    return " ".join(text.lower().split())


def mentions_an_answer(context: str, example: Example) -> bool:
    lowered = _normalised(context)
    return any(_normalised(a.text) in lowered for a in example.answers)


def retrieved_negatives(
    examples: Sequence[Example], embedder: Embedder, dense_weight: float = 0.4
) -> dict[str, Example]:
    """For each example, its question against the best-ranked other context of its own source
    that holds none of its answers (by example id; missing where no such context ranks)."""
    made: dict[str, Example] = {}
    by_source: dict[str, list[Example]] = defaultdict(list)
    for example in examples:
        by_source[example.source].append(example)
    for source_examples in by_source.values():
        contexts = sorted({e.context for e in source_examples})
        if len(contexts) < 2:
            continue
        context_vectors = embedder.encode(contexts)
        lexical = bm25s.BM25()
        lexical.index([terms(c) for c in contexts], show_progress=False)
        question_vectors = embedder.encode([e.question for e in source_examples])
        similarities = question_vectors @ context_vectors.T
        dense_order = np.argsort(-similarities, axis=1)[:, : _RANKED * 2]
        for number, (example, dense) in enumerate(zip(source_examples, dense_order, strict=True)):
            query = terms(example.question)
            bm25_ranking: list[tuple[int, float]] = []
            if query:
                scores = lexical.get_scores(query)
                bm25_ranking = [
                    (int(i), float(scores[i]))
                    for i in np.argsort(-scores)[: _RANKED * 2]
                    if scores[i] > 0
                ]
            dense_ranking = [(int(i), float(similarities[number, i])) for i in dense]
            fused = fuse_scores(dense_ranking, bm25_ranking, dense_weight)
            for ranked in fused[:_RANKED]:
                context = contexts[ranked.chunk_id]
                if context != example.context and not mentions_an_answer(context, example):
                    made[example.id] = replace(
                        example,
                        id=example.id + "-retrieved",
                        context=context,
                        answers=(),
                        kind="retrieved",
                    )
                    break
    return made


def edited_negatives(examples: Sequence[Example], rng: random.Random) -> dict[str, Example]:
    """For each example whose question names something, the question with that name swapped
    for another of its kind (from other questions of the same set) that the context lacks."""
    import spacy

    from qa.sentences import SPACY_PIPELINE

    nlp = spacy.load(SPACY_PIPELINE, disable=["lemmatizer"])
    found = [
        [(e.start_char, e.end_char, e.label_) for e in doc.ents if e.label_ in SWAPPABLE_LABELS]
        for doc in nlp.pipe((e.question for e in examples), batch_size=256)
    ]
    pool: dict[str, list[str]] = defaultdict(list)
    for example, entities in zip(examples, found, strict=True):
        for start, end, label in entities:
            pool[label].append(example.question[start:end])
    made: dict[str, Example] = {}
    for example, entities in zip(examples, found, strict=True):
        if not entities:
            continue
        start, end, label = rng.choice(entities)
        original = example.question[start:end]
        context = _normalised(example.context)
        for _ in range(20):
            other = rng.choice(pool[label])
            if _normalised(other) != _normalised(original) and _normalised(other) not in context:
                question = example.question[:start] + other + example.question[end:]
                made[example.id] = replace(
                    example,
                    id=example.id + "-edited",
                    question=question,
                    answers=(),
                    kind="edited",
                    meta={"swapped": f"{original} -> {other}"},
                )
                break
    return made


def with_negatives(
    examples: Sequence[Example],
    retrieved: dict[str, Example],
    edited: dict[str, Example],
    share: float,
    rng: random.Random,
) -> list[Example]:
    """The examples plus made unanswerable ones, so that about ``share`` of the result is
    unanswerable: half retrieved, half edited, each falling back on the other kind."""
    wanted = round(len(examples) * share / (1.0 - share)) if share < 1.0 else len(examples)
    order = list(examples)
    rng.shuffle(order)
    negatives: list[Example] = []
    for number, example in enumerate(order):
        if len(negatives) >= wanted:
            break
        first, second = (retrieved, edited) if number % 2 == 0 else (edited, retrieved)
        made = first.get(example.id) or second.get(example.id)
        if made is not None:
            negatives.append(made)
    return list(examples) + negatives
