"""Retrieval: dense (FAISS) and lexical (BM25) rankings of chunks, fused by reciprocal rank."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import bm25s
import numpy as np
from pydantic import BaseModel

from qa.store import Store
from qa.terms import terms
from qa.vectors import FaissIndex


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


def fuse_rankings(rankings: list[list[int]], k: int = 60) -> list[RankedChunk]:
    """Reciprocal rank fusion: each ranking adds 1 / (k + rank) to the items it holds."""
    scores: dict[int, float] = {}
    for ranking in rankings:
        for rank, item in enumerate(ranking, start=1):
            scores[item] = scores.get(item, 0.0) + 1.0 / (k + rank)
    ordered = sorted(scores.items(), key=lambda pair: (-pair[1], pair[0]))
    return [RankedChunk(chunk_id, score) for chunk_id, score in ordered]


class LexicalIndex:
    """BM25 over chunk terms (bm25s keeps the scores in a sparse matrix, memory-mapped)."""

    def __init__(self, folder: Path) -> None:
        self._bm25 = bm25s.BM25.load(str(folder), mmap=True, load_corpus=False)
        self._vocab: dict[str, int] = dict(self._bm25.vocab_dict)

    def search(self, text: str, k: int) -> list[int]:
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
        return [int(i) for i in ranked if scores[i] > 0]


class Retriever:
    """Dense and lexical search over one build, fused; the one interface the reader sees."""

    def __init__(
        self,
        store: Store,
        vectors: FaissIndex,
        lexical: LexicalIndex,
        candidates: int = 30,
        rrf_k: int = 60,
    ) -> None:
        self.store = store
        self._vectors = vectors
        self._lexical = lexical
        self._candidates = candidates
        self._rrf_k = rrf_k

    def probe(self, dimensions: int) -> None:
        """One tiny search through each part (store, vectors, BM25), raising what a question
        would: the first chunk is read back and looked up by its own words."""
        first = self.store.chunks([0])
        if not first:
            raise LookupError("the store holds no chunk")
        self._vectors.search(np.full((1, dimensions), dimensions**-0.5, dtype=np.float32), 1)
        self._lexical.search(first[0].text, 1)

    def lexical_ranking(self, question: str, top_k: int) -> list[int]:
        """The BM25 ranking ``search`` fuses: it needs no embedding, so it can be done first."""
        return self._lexical.search(question, max(top_k, self._candidates))

    def search(
        self,
        question: str,
        query_vector: np.ndarray,
        top_k: int,
        lexical: list[int] | None = None,
    ) -> list[Passage]:
        """The ``top_k`` best chunks for a question whose embedding is ``query_vector``
        (``lexical``: its ``lexical_ranking`` for this ``top_k``, if already made)."""
        wanted = max(top_k, self._candidates)
        _, ids = self._vectors.search(query_vector.reshape(1, -1), wanted)
        dense = [int(i) for i in ids[0] if i >= 0]
        if lexical is None:
            lexical = self.lexical_ranking(question, wanted)
        fused = fuse_rankings([dense, lexical], self._rrf_k)[:top_k]
        chunks = self.store.chunks(r.chunk_id for r in fused)
        titles = self.store.titles()
        score_of = {r.chunk_id: r.score for r in fused}
        # Normalise fused scores to 0..1: 1 is "ranked first by both rankers".
        best_possible = 2.0 / (self._rrf_k + 1)
        return [
            Passage(
                doc_id=c.doc_id,
                title=titles.get(c.doc_id, c.doc_id),
                chunk_id=c.id,
                start=c.start,
                end=c.end,
                text=c.text,
                score=round(score_of[c.id] / best_possible, 4),
            )
            for c in chunks
        ]
