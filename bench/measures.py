"""Pure figures the bench reports: percentiles, recall against exact search, overlap of rankings."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class Latency:
    """Summary of a list of durations, in milliseconds."""

    count: int
    p50_ms: float
    p95_ms: float
    mean_ms: float

    @classmethod
    def of(cls, seconds: Sequence[float]) -> Latency:
        if not seconds:
            return cls(0, float("nan"), float("nan"), float("nan"))
        ms = np.asarray(seconds, dtype=np.float64) * 1000.0
        return cls(
            len(ms),
            round(float(np.percentile(ms, 50)), 3),
            round(float(np.percentile(ms, 95)), 3),
            round(float(ms.mean()), 3),
        )


def recall_at_k(found: np.ndarray, exact: np.ndarray, k: int) -> float:
    """Mean share of the exact top-``k`` ids that the approximate top-``k`` also holds.

    Both arrays are (queries, >=k) id matrices; -1 pads short results and never counts.
    """
    if found.shape[0] != exact.shape[0]:
        raise ValueError("found and exact must hold the same number of queries")
    if found.shape[0] == 0:
        return float("nan")
    total = 0.0
    for approx_row, exact_row in zip(found[:, :k], exact[:, :k], strict=True):
        truth = {int(i) for i in exact_row if i >= 0}
        if truth:
            total += len(truth & {int(i) for i in approx_row if i >= 0}) / len(truth)
        else:
            total += 1.0
    return total / found.shape[0]


def top_k_overlap(a: Sequence[int], b: Sequence[int], k: int) -> float:
    """Share of the first ``k`` items of ``a`` found among the first ``k`` of ``b``."""
    first = list(a)[:k]
    if not first:
        return 1.0 if not list(b)[:k] else 0.0
    return len(set(first) & set(list(b)[:k])) / len(first)


def row_cosines(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Cosine similarity of each row of ``a`` with the same row of ``b``."""
    num = (a * b).sum(axis=1)
    den = np.linalg.norm(a, axis=1) * np.linalg.norm(b, axis=1)
    return num / np.clip(den, 1e-12, None)
