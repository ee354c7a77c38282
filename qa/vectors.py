"""The vector index over chunk embeddings (FAISS), its kind chosen from the corpus size.

Vectors are normalised, so inner product is cosine similarity. Exact search is cheap up to tens
of thousands of vectors; past that an HNSW graph keeps search in milliseconds with near-exact
recall, and past a million an IVF index with 8-bit scalar quantisation keeps memory down.
"""

from __future__ import annotations

from pathlib import Path
from typing import Protocol

import faiss
import numpy as np

FLAT_MAX = 50_000
HNSW_MAX = 2_000_000


class VectorIndex(Protocol):
    kind: str

    def add(self, vectors: np.ndarray) -> None: ...

    def search(self, queries: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]: ...

    def save(self, path: Path) -> None: ...

    def __len__(self) -> int: ...


def choose_index_kind(count: int) -> str:
    """The index kind for a corpus of ``count`` chunks."""
    if count <= FLAT_MAX:
        return "flat"
    if count <= HNSW_MAX:
        return "hnsw"
    return "ivf-sq8"


class FaissIndex:
    """A FAISS inner-product index of one of the kinds above."""

    def __init__(self, index: faiss.Index, kind: str) -> None:
        self._index = index
        self.kind = kind

    @classmethod
    def build(cls, vectors: np.ndarray, kind: str | None = None) -> FaissIndex:
        count, dimensions = vectors.shape
        kind = kind or choose_index_kind(count)
        index = _new_index(kind, dimensions, count)
        if not index.is_trained:
            sample = vectors[np.random.default_rng(0).permutation(count)[: 256 * _lists(count)]]
            index.train(np.ascontiguousarray(sample, dtype=np.float32))
        made = cls(index, kind)
        made.add(vectors)
        return made

    def add(self, vectors: np.ndarray) -> None:
        if len(vectors):
            self._index.add(np.ascontiguousarray(vectors, dtype=np.float32))

    def search(self, queries: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
        """Scores and positions of the ``k`` nearest vectors; position -1 pads short results."""
        k = max(1, min(k, len(self) or 1))
        scores, ids = self._index.search(np.ascontiguousarray(queries, dtype=np.float32), k)
        return scores, ids

    def set_search_effort(self, effort: int) -> None:
        """HNSW efSearch / IVF nprobe: higher is slower and closer to exact."""
        if self.kind == "hnsw":
            faiss.downcast_index(self._index).hnsw.efSearch = effort
        elif self.kind.startswith("ivf"):
            faiss.extract_index_ivf(self._index).nprobe = effort

    def save(self, path: Path) -> None:
        faiss.write_index(self._index, str(path))

    @classmethod
    def load(cls, path: Path, kind: str) -> FaissIndex:
        # Memory-map where FAISS can, so several server processes share one copy in the page
        # cache instead of each holding its own.
        try:
            index = faiss.read_index(str(path), faiss.IO_FLAG_MMAP | faiss.IO_FLAG_READ_ONLY)
        except RuntimeError:
            index = faiss.read_index(str(path))
        loaded = cls(index, kind)
        if kind == "hnsw":
            loaded.set_search_effort(64)
        elif kind.startswith("ivf"):
            loaded.set_search_effort(16)
        return loaded

    def __len__(self) -> int:
        return int(self._index.ntotal)


def _lists(count: int) -> int:
    return max(1, min(65536, int(4 * np.sqrt(count))))


def _new_index(kind: str, dimensions: int, count: int) -> faiss.Index:
    if kind == "flat":
        return faiss.IndexFlatIP(dimensions)
    if kind == "hnsw":
        index = faiss.IndexHNSWFlat(dimensions, 32, faiss.METRIC_INNER_PRODUCT)
        index.hnsw.efConstruction = 80
        return index
    if kind == "ivf-sq8":
        quantizer = faiss.IndexFlatIP(dimensions)
        return faiss.IndexIVFScalarQuantizer(
            quantizer,
            dimensions,
            _lists(count),
            faiss.ScalarQuantizer.QT_8bit,
            faiss.METRIC_INNER_PRODUCT,
        )
    raise ValueError(f"unknown index kind {kind!r}")
