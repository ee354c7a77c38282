"""The vector index over chunk embeddings (FAISS), its kind chosen from the corpus size.

Vectors are normalised, so inner product is cosine similarity. Exact search is cheap up to tens
of thousands of vectors; past that an HNSW graph keeps search under a millisecond with
near-exact recall, and past half a million an IVF index with 8-bit scalar quantisation keeps
memory down. The limits and search efforts come from `python -m bench` (bench/REPORT.md).
"""

from __future__ import annotations

from pathlib import Path
from typing import Protocol

import faiss
import numpy as np

# Exact search reads every vector per query: 0.2 ms at 10k (in cache), 21 ms at 100k (memory
# bound, ~7 GB/s), so about 10 ms at 50k; 20k keeps it a few milliseconds.
FLAT_MAX = 20_000
# HNSW keeps the float32 vectors plus its graph, about 1.8 kB per 384-d vector with M=32: past
# ~550k vectors it outgrows the 1 GB target, and its build takes many minutes on two cores.
# IVF-SQ8 holds one byte per dimension (0.4 GB at 1M) and met p95 < 1 ms at recall@10 0.97.
HNSW_MAX = 500_000

# Below this many queries a search runs on the calling thread alone. FAISS would otherwise fan a
# single query out over OpenMP threads, and when the cores are busy (several server workers, or
# requests in parallel) the threads spin at barriers: measured 18 ms instead of 0.5 ms for one
# query over 10k vectors on 2 busy cores. The OpenMP thread count is per calling thread, so this
# leaves builds and batch searches on other threads at full width.
SINGLE_THREAD_MAX_QUERIES = 16

# Search effort set on every built or loaded index: HNSW efSearch, IVF nprobe.
# Measured on clustered synthetic vectors: efSearch 64 gives recall@10 0.999 at 100k; nprobe 32
# (of 4*sqrt(n) lists) gives 0.97 at 1M where nprobe 16 gave 0.96, for 0.2 ms more.
SEARCH_EFFORT = {"hnsw": 64, "ivf-sq8": 32}


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
            # 64 training points per list is within FAISS's advice (30-256) and keeps k-means
            # over a million vectors to seconds rather than minutes on two cores.
            sample = vectors[np.random.default_rng(0).permutation(count)[: 64 * _lists(count)]]
            index.train(np.ascontiguousarray(sample, dtype=np.float32))
        made = cls(index, kind)
        made.add(vectors)
        made.set_search_effort(SEARCH_EFFORT.get(kind, 0))
        return made

    def add(self, vectors: np.ndarray) -> None:
        if len(vectors):
            self._index.add(np.ascontiguousarray(vectors, dtype=np.float32))

    def search(self, queries: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
        """Scores and positions of the ``k`` nearest vectors; position -1 pads short results."""
        k = max(1, min(k, len(self) or 1))
        queries = np.ascontiguousarray(queries, dtype=np.float32)
        if len(queries) > SINGLE_THREAD_MAX_QUERIES:
            return self._index.search(queries, k)
        threads = faiss.omp_get_max_threads()
        faiss.omp_set_num_threads(1)
        try:
            return self._index.search(queries, k)
        finally:
            faiss.omp_set_num_threads(threads)

    def set_search_effort(self, effort: int) -> None:
        """HNSW efSearch / IVF nprobe: higher is slower and closer to exact (0: leave as is)."""
        if effort <= 0:
            return
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
        loaded.set_search_effort(SEARCH_EFFORT.get(kind, 0))
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
