"""Text embeddings: the bundled all-MiniLM-L6-v2 through sentence-transformers, or a fake for tests.

Vectors are L2-normalised, so an inner product is a cosine similarity everywhere downstream.
"""

from __future__ import annotations

import hashlib
import os
import re
from typing import Protocol

import numpy as np


class Embedder(Protocol):
    """Anything that turns texts into normalised float32 vectors of a fixed size."""

    name: str
    dimensions: int

    def encode(self, texts: list[str]) -> np.ndarray: ...


class SentenceTransformerEmbedder:
    """all-MiniLM-L6-v2 (or any local sentence-transformers folder), loaded once, offline."""

    def __init__(self, model_path: str, batch_size: int = 32) -> None:
        # The model is a local folder: never let the hub client try the network.
        os.environ.setdefault("HF_HUB_OFFLINE", "1")
        os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
        from sentence_transformers import SentenceTransformer

        self._model = SentenceTransformer(model_path, device="cpu", local_files_only=True)
        self._batch_size = batch_size
        self.name = os.path.basename(os.path.normpath(model_path)) or model_path
        dimension = getattr(self._model, "get_embedding_dimension", None) or (
            self._model.get_sentence_embedding_dimension
        )
        self.dimensions = int(dimension() or 0)

    def encode(self, texts: list[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dimensions), dtype=np.float32)
        vectors = self._model.encode(
            texts,
            batch_size=self._batch_size,
            normalize_embeddings=True,
            convert_to_numpy=True,
            show_progress_bar=False,
        )
        return np.asarray(vectors, dtype=np.float32)


_WORD = re.compile(r"\w+")


class HashingEmbedder:
    """A deterministic stand-in for tests: each word's vector is seeded from its SHA-256.

    Texts sharing words get similar vectors, so retrieval behaves sensibly, with no model.
    """

    def __init__(self, dimensions: int = 64) -> None:
        self.name = f"hashing-{dimensions}"
        self.dimensions = dimensions

    def _word_vector(self, word: str) -> np.ndarray:
        seed = int.from_bytes(hashlib.sha256(word.encode()).digest()[:8], "little")
        return np.random.default_rng(seed).standard_normal(self.dimensions).astype(np.float32)

    def encode(self, texts: list[str]) -> np.ndarray:
        out = np.zeros((len(texts), self.dimensions), dtype=np.float32)
        for row, text in enumerate(texts):
            for word in _WORD.findall(text.lower()):
                out[row] += self._word_vector(word)
            norm = float(np.linalg.norm(out[row]))
            if norm > 0:
                out[row] /= norm
        return out


def load_embedder(model_path: str, batch_size: int = 32) -> Embedder:
    """The production embedder for a model folder."""
    return SentenceTransformerEmbedder(model_path, batch_size=batch_size)
