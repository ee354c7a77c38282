"""Synthetic embedding corpora for the scale bench: clustered, low intrinsic dimension, normalised.

Uniform random vectors in 384 dimensions are a worst case no real corpus resembles (every point
is nearly equidistant from every other, so ANN recall collapses). Sentence embeddings have an
intrinsic dimension of a few dozen and cluster by topic, so we draw topic centres and points in a
48-dimensional latent space, lift them to 384 dimensions with a fixed random orthonormal map, add
a little full-rank noise, and normalise. Queries are drawn from the same mixture, never copied
from the corpus.
"""

from __future__ import annotations

import numpy as np

LATENT_DIMENSIONS = 48
POINTS_PER_TOPIC = 200


def clustered_vectors(
    count: int, dimensions: int = 384, seed: int = 0, block: int = 100_000
) -> np.ndarray:
    """``count`` normalised float32 vectors of ``dimensions``, drawn from a topic mixture."""
    return _Mixture(count, dimensions, seed).draw(count, np.random.default_rng(seed + 1), block)


def clustered_queries(
    count: int, corpus_size: int, dimensions: int = 384, seed: int = 0
) -> np.ndarray:
    """Queries from the same mixture as ``clustered_vectors(corpus_size, dimensions, seed)``."""
    return _Mixture(corpus_size, dimensions, seed).draw(count, np.random.default_rng(seed + 2))


class _Mixture:
    def __init__(self, corpus_size: int, dimensions: int, seed: int) -> None:
        rng = np.random.default_rng(seed)
        self.dimensions = dimensions
        topics = max(1, corpus_size // POINTS_PER_TOPIC)
        self.centres = rng.standard_normal((topics, LATENT_DIMENSIONS)).astype(np.float32)
        # Topics differ in how tight they are, as real subjects do.
        self.spread = rng.uniform(0.4, 0.9, size=topics).astype(np.float32)
        basis, _ = np.linalg.qr(rng.standard_normal((dimensions, LATENT_DIMENSIONS)))
        self.lift = basis.T.astype(np.float32)  # (latent, dimensions), orthonormal rows

    def draw(self, count: int, rng: np.random.Generator, block: int = 100_000) -> np.ndarray:
        out = np.empty((count, self.dimensions), dtype=np.float32)
        for start in range(0, count, block):
            n = min(block, count - start)
            topic = rng.integers(0, len(self.centres), size=n)
            latent = self.centres[topic] + self.spread[topic, None] * rng.standard_normal(
                (n, LATENT_DIMENSIONS), dtype=np.float32
            )
            full = latent @ self.lift
            full += 0.15 * rng.standard_normal((n, self.dimensions), dtype=np.float32)
            full /= np.linalg.norm(full, axis=1, keepdims=True)
            out[start : start + n] = full
        return out
