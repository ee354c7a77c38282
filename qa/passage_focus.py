"""Windows around the best sentences: the part of each passage the reader model reads.

A passage is up to ``chunk_max_words`` words, and the model's cost grows with every token it
reads. Most of a passage does not bear on the question, so each passage is cut down to the run
of neighbouring sentences around the one that shares the most (and the rarest) of the
question's terms, up to a word budget. The window is a slice of the passage, so every offset the
model finds in it maps back by adding the window's start.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

from qa.terms import terms

Bounds = tuple[int, int]


@dataclass(frozen=True)
class Window:
    """``text[start:end]`` of a passage: what the model reads of it."""

    start: int
    end: int


def _word_count(text: str) -> int:
    return len(text.split())


def _weights(question: str, sentence_terms: Sequence[set[str]]) -> dict[str, float]:
    """Each question term's weight: rarer among the sentences read means more telling."""
    count = len(sentence_terms)
    weights: dict[str, float] = {}
    for term in set(terms(question)):
        holding = sum(term in found for found in sentence_terms)
        if holding:
            weights[term] = math.log(1.0 + count / holding)
    return weights


def focus_windows(
    question: str,
    texts: Sequence[str],
    sentences: Sequence[Sequence[Bounds]],
    budget_words: int,
) -> list[Window]:
    """For each passage text (with its sentences' bounds, relative to it), the window read.

    A passage within ``budget_words`` is read whole, as is one whose sentences are unknown or
    that shares no term with the question (nothing says where to look). Otherwise the window
    grows from the best sentence to the better-scoring neighbour on either side while it stays
    within the budget; the best sentence alone is kept even when it is longer.
    """
    per_passage = [
        [(s, e) for s, e in bounds if 0 <= s < e <= len(text)]
        for text, bounds in zip(texts, sentences, strict=True)
    ]
    found = [
        [set(terms(text[s:e])) for s, e in bounds]
        for text, bounds in zip(texts, per_passage, strict=True)
    ]
    weights = _weights(question, [t for passage in found for t in passage])
    windows: list[Window] = []
    for text, bounds, passage_terms in zip(texts, per_passage, found, strict=True):
        whole = Window(0, len(text))
        if budget_words <= 0 or _word_count(text) <= budget_words or not bounds:
            windows.append(whole)
            continue
        scores = [sum(weights.get(t, 0.0) for t in sentence) for sentence in passage_terms]
        best = max(range(len(bounds)), key=lambda i: (scores[i], -i))
        if scores[best] <= 0.0:
            windows.append(whole)
            continue
        windows.append(_grown(text, bounds, scores, best, budget_words))
    return windows


def _grown(
    text: str, bounds: Sequence[Bounds], scores: Sequence[float], best: int, budget_words: int
) -> Window:
    first = last = best
    used = _word_count(text[bounds[best][0] : bounds[best][1]])
    while True:
        options = []
        if first > 0:
            options.append((scores[first - 1], 0, first - 1))
        if last < len(bounds) - 1:
            # Ties go to the sentence after: an answer often follows what the question names.
            options.append((scores[last + 1], 1, last + 1))
        grown = False
        for _, _, index in sorted(options, reverse=True):
            words = _word_count(text[bounds[index][0] : bounds[index][1]])
            if used + words <= budget_words:
                used += words
                first, last = min(first, index), max(last, index)
                grown = True
                break
        if not grown:
            return Window(bounds[first][0], bounds[last][1])
