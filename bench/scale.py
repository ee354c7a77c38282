"""Vector search at scale: exact Flat against the approximate kinds of ``qa.vectors``.

For each corpus size we build every kind through ``FaissIndex.build`` (the code `qa index` runs),
then sweep its search effort (HNSW efSearch, IVF nprobe) and record recall@10 against exact
search, single-query latency, index bytes and build time.
"""

from __future__ import annotations

import time
from dataclasses import asdict, dataclass, field

import faiss
import numpy as np

from bench.measures import Latency, recall_at_k
from bench.synthetic import clustered_queries, clustered_vectors
from qa.vectors import SEARCH_EFFORT, FaissIndex, choose_index_kind

K = 10
RECALL_QUERIES = 500
TIMED_QUERIES = 300
EFFORTS = {"hnsw": [16, 32, 64, 128, 256], "ivf-sq8": [4, 8, 16, 32, 64, 128]}


@dataclass
class EffortPoint:
    effort: int
    recall_at_10: float
    latency: Latency


@dataclass
class KindResult:
    kind: str
    count: int
    build_seconds: float
    index_bytes: int
    default_effort: int | None
    points: list[EffortPoint] = field(default_factory=list)

    def at_default(self) -> EffortPoint:
        if self.default_effort is None:
            return self.points[0]
        return next(p for p in self.points if p.effort == self.default_effort)


def index_bytes(index: FaissIndex) -> int:
    """Size of the serialised index: what `qa index` writes and a server maps into memory."""
    return int(faiss.serialize_index(index._index).nbytes)


def _timed_single_queries(index: FaissIndex, queries: np.ndarray) -> Latency:
    for q in queries[:20]:  # warm caches and the thread pool
        index.search(q.reshape(1, -1), K)
    spent = []
    for q in queries:
        started = time.perf_counter()
        index.search(q.reshape(1, -1), K)
        spent.append(time.perf_counter() - started)
    return Latency.of(spent)


def measure_size(count: int, kinds: list[str], seed: int = 0) -> dict[str, object]:
    """Everything for one corpus size; returns a JSON-ready dict."""
    started = time.perf_counter()
    vectors = clustered_vectors(count, seed=seed)
    queries = clustered_queries(max(RECALL_QUERIES, TIMED_QUERIES), count, seed=seed)
    generated = time.perf_counter() - started
    results: list[KindResult] = []
    exact_ids: np.ndarray | None = None
    for kind in ["flat", *[k for k in kinds if k != "flat"]]:
        t0 = time.perf_counter()
        index = FaissIndex.build(vectors, kind)
        build_seconds = time.perf_counter() - t0
        default = _default_effort(kind)
        result = KindResult(kind, count, round(build_seconds, 2), index_bytes(index), default)
        if kind == "flat":
            _, exact_ids = index.search(queries[:RECALL_QUERIES], K)
            lat = _timed_single_queries(index, queries[:TIMED_QUERIES])
            result.points.append(EffortPoint(0, 1.0, lat))
        else:
            assert exact_ids is not None
            for effort in EFFORTS[kind]:
                index.set_search_effort(effort)
                _, found = index.search(queries[:RECALL_QUERIES], K)
                recall = round(recall_at_k(found, exact_ids, K), 4)
                lat = _timed_single_queries(index, queries[:TIMED_QUERIES])
                result.points.append(EffortPoint(effort, recall, lat))
        results.append(result)
        del index
    return {
        "count": count,
        "chosen_kind": choose_index_kind(count),
        "generate_seconds": round(generated, 2),
        "kinds": [asdict(r) | {"at_default": asdict(r.at_default())} for r in results],
    }


def _default_effort(kind: str) -> int | None:
    """The effort `FaissIndex.build` and `FaissIndex.load` set for ``kind``."""
    return SEARCH_EFFORT.get(kind)
