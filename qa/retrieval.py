"""Retrieval: dense and lexical (BM25) rankings of chunks, fused by their scores.

The rankings come from the build's backend: FAISS and bm25s files in the build folder, or the
build's collection in Milvus (``qa.milvus_index``); both answer the two protocols below.

Each ranking's scores are min-max normalised over its own candidates and summed with a weight
(score-weighted fusion). On the reader's held-out dev split it put the right paragraph first
for 0.652 of the questions where reciprocal rank fusion did for 0.606 (top 8: 0.838 vs 0.832).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

import bm25s
import numpy as np
from pydantic import BaseModel

from qa.store import Store
from qa.terms import terms


class DenseSearch(Protocol):
    def search(self, queries: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
        """(scores, ids) of the ``k`` nearest chunks of each query, -1 padding."""
        ...


class LexicalSearch(Protocol):
    def search(self, text: str, k: int) -> list[tuple[int, float]]:
        """The ``k`` best (chunk id, BM25 score) for ``text``, best first."""
        ...


class Passage(BaseModel):
    """A retrieved chunk: where it sits in its document and how well it ranked."""

    doc_id: str
    title: str
    chunk_id: int
    start: int
    end: int
    text: str
    score: float


@dataclass(frozen=True)
class RankedChunk:
    chunk_id: int
    score: float


def _normalised(ranking: list[tuple[int, float]]) -> dict[int, float]:
    """Scores mapped to 0..1 over the ranking's own candidates (all equal: all 1)."""
    if not ranking:
        return {}
    scores = [score for _, score in ranking]
    low, high = min(scores), max(scores)
    if high <= low:
        return {item: 1.0 for item, _ in ranking}
    return {item: (score - low) / (high - low) for item, score in ranking}


def fuse_scores(
    dense: list[tuple[int, float]], lexical: list[tuple[int, float]], dense_weight: float
) -> list[RankedChunk]:
    """Score-weighted fusion of two rankings of (item, score): ``dense_weight`` times the
    normalised dense score plus the rest times the normalised lexical one; an item a ranking
    did not return scores 0 there. Best first, ties in item order; 1.0 is first in both."""
    dense_scores, lexical_scores = _normalised(dense), _normalised(lexical)
    fused = {
        item: dense_weight * dense_scores.get(item, 0.0)
        + (1.0 - dense_weight) * lexical_scores.get(item, 0.0)
        for item in dense_scores.keys() | lexical_scores.keys()
    }
    ordered = sorted(fused.items(), key=lambda pair: (-pair[1], pair[0]))
    return [RankedChunk(chunk_id, score) for chunk_id, score in ordered]


class LexicalIndex:
    """BM25 over chunk terms (bm25s keeps the scores in a sparse matrix, memory-mapped)."""

    def __init__(self, folder: Path) -> None:
        self._bm25 = bm25s.BM25.load(str(folder), mmap=True, load_corpus=False)
        self._vocab: dict[str, int] = dict(self._bm25.vocab_dict)

    def search(self, text: str, k: int) -> list[tuple[int, float]]:
        """The ``k`` best chunks for ``text`` with their BM25 scores (none that score 0)."""
        query = [t for t in terms(text) if t in self._vocab]
        if not query or k < 1:
            return []
        # Scores straight from the sparse matrix: `retrieve` would start a thread pool for
        # every question, which costs more than the scoring itself.
        scores = self._bm25.get_scores(query)
        k = min(k, len(scores))
        kth = scores[np.argpartition(-scores, k - 1)[k - 1]]
        # Every chunk scoring at least the k-th, highest first and equal scores in chunk order,
        # then cut: which of several tied chunks make the cut never depends on the partition.
        best = np.flatnonzero(scores >= kth)
        ranked = best[np.lexsort((best, -scores[best]))][:k]
        return [(int(i), float(scores[i])) for i in ranked if scores[i] > 0]


class Retriever:
    """Dense and lexical search over one build, fused; the one interface the reader sees."""

    def __init__(
        self,
        store: Store,
        vectors: DenseSearch,
        lexical: LexicalSearch,
        candidates: int = 30,
        dense_weight: float = 0.4,
    ) -> None:
        self.store = store
        self._vectors = vectors
        self._lexical = lexical
        self._candidates = candidates
        self._dense_weight = dense_weight

    def probe(self, dimensions: int) -> None:
        """One tiny search through each part (store, vectors, BM25), raising what a question
        would: the first chunk is read back and looked up by its own words."""
        first = self.store.chunks([0])
        if not first:
            raise LookupError("the store holds no chunk")
        self._vectors.search(np.full((1, dimensions), dimensions**-0.5, dtype=np.float32), 1)
        self._lexical.search(first[0].text, 1)

    def lexical_ranking(self, question: str, top_k: int) -> list[tuple[int, float]]:
        """The BM25 ranking ``search`` fuses: it needs no embedding, so it can be done first."""
        return self._lexical.search(question, max(top_k, self._candidates))

    def search(
        self,
        question: str,
        query_vector: np.ndarray,
        top_k: int,
        lexical: list[tuple[int, float]] | None = None,
    ) -> list[Passage]:
        """The ``top_k`` best chunks for a question whose embedding is ``query_vector``
        (``lexical``: its ``lexical_ranking`` for this ``top_k``, if already made)."""
        wanted = max(top_k, self._candidates)
        scores, ids = self._vectors.search(query_vector.reshape(1, -1), wanted)
        dense = [(int(i), float(s)) for i, s in zip(ids[0], scores[0], strict=True) if i >= 0]
        if lexical is None:
            lexical = self.lexical_ranking(question, wanted)
        fused = fuse_scores(dense, lexical, self._dense_weight)[:top_k]
        chunks = self.store.chunks(r.chunk_id for r in fused)
        titles = self.store.titles()
        score_of = {r.chunk_id: r.score for r in fused}
        return [
            Passage(
                doc_id=c.doc_id,
                title=titles.get(c.doc_id, c.doc_id),
                chunk_id=c.id,
                start=c.start,
                end=c.end,
                text=c.text,
                score=round(score_of[c.id], 4),
            )
            for c in chunks
        ]
