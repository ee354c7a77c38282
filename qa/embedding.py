"""Text embeddings: the bundled all-MiniLM-L6-v2 through sentence-transformers, or a fake for tests.

Vectors are L2-normalised, so an inner product is a cosine similarity everywhere downstream.
"""

from __future__ import annotations

import hashlib
import os
import re
from collections.abc import Iterator
from contextlib import contextmanager
from functools import lru_cache
from pathlib import Path
from typing import Literal, Protocol

import numpy as np

# "auto" is bfloat16 where the CPU multiplies bf16 natively (AVX512-BF16 or AMX), else float32.
Precision = Literal["auto", "float32", "bfloat16"]


class Embedder(Protocol):
    """Anything that turns texts into normalised float32 vectors of a fixed size."""

    name: str
    dimensions: int

    def encode(self, texts: list[str]) -> np.ndarray: ...


class SentenceTransformerEmbedder:
    """all-MiniLM-L6-v2 (or any local sentence-transformers folder), loaded once, offline."""

    def __init__(
        self, model_path: str, batch_size: int = 32, precision: Precision = "auto"
    ) -> None:
        # The model is a local folder: never let the hub client try the network.
        os.environ.setdefault("HF_HUB_OFFLINE", "1")
        os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
        from sentence_transformers import SentenceTransformer

        self._model = SentenceTransformer(model_path, device="cpu", local_files_only=True)
        self._batch_size = batch_size
        self.precision = resolve_precision(precision)
        name = os.path.basename(os.path.normpath(model_path)) or model_path
        self.name = name + precision_suffix(self.precision)
        dimension = getattr(self._model, "get_embedding_dimension", None) or (
            self._model.get_sentence_embedding_dimension
        )
        self.dimensions = int(dimension() or 0)

    def encode(self, texts: list[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dimensions), dtype=np.float32)
        if len(texts) <= SINGLE_THREAD_MAX_TEXTS:
            with _one_torch_thread():
                return self._encode(texts)
        return self._encode(texts)

    def _encode(self, texts: list[str]) -> np.ndarray:
        with _autocast(self.precision):
            vectors = self._model.encode(
                texts,
                batch_size=self._batch_size,
                normalize_embeddings=True,
                convert_to_numpy=True,
                show_progress_bar=False,
            )
        return np.asarray(vectors, dtype=np.float32)


@contextmanager
def _autocast(precision: Literal["float32", "bfloat16"]) -> Iterator[None]:
    """bfloat16 as torch's autocast runs it: the matrix products (linear, attention) in bf16 and
    the rest (residual sums, LayerNorm, pooling, normalising) in float32, so the vectors come
    out float32 and closer to float32's than with the whole model cast to bf16."""
    if precision == "float32":
        yield
        return
    import torch

    with torch.autocast("cpu", dtype=torch.bfloat16):
        yield


# bfloat16 on a CPU with native bf16 dot products (avx512_bf16 or AMX): `python -m bench` on
# 256 chunks of 120 words, in the same run as plain float32, 1.8-1.9x the chunks/s (1.3x for
# the whole build, which also annotates with spaCy). Vectors stay at cosine >= 0.9999 with
# float32's and the eval figures are unchanged (bench/REPORT.md, section 3). Without native
# bf16, torch emulates it more slowly than float32, so "auto" keeps float32 there.
def resolve_precision(precision: Precision) -> Literal["float32", "bfloat16"]:
    """The precision ``precision`` means on this machine."""
    if precision != "auto":
        return precision
    return "bfloat16" if _native_bf16() else "float32"


@lru_cache(maxsize=1)
def _native_bf16() -> bool:
    # Read from the CPU flags rather than torch.cpu.get_capabilities(): the index's staleness
    # check names the precision, and an up-to-date `qa index` should not pay torch's import.
    # Where there is no /proc/cpuinfo (not Linux), "auto" stays float32.
    try:
        cpuinfo = Path("/proc/cpuinfo").read_text()
    except OSError:
        return False
    flags = next((line for line in cpuinfo.splitlines() if line.startswith("flags")), "")
    return bool({"avx512_bf16", "amx_bf16"} & set(flags.split()))


def precision_suffix(precision: Literal["float32", "bfloat16"]) -> str:
    """What a precision adds to the model's name: vectors of another precision are another
    encoder's, so an index built in one is embedded again in the other (float32 adds nothing,
    so indexes from before the choice stay valid)."""
    return "" if precision == "float32" else "+bf16"


# A question is encoded on the calling thread alone. Spread over torch's thread pool, one short
# text gains little on an idle machine and loses badly on a busy one (server workers, parallel
# requests, an index build): threads spin at barriers waiting for a core. Measured by
# `python -m bench` on 2 busy cores: p50 130 ms with 2 threads, 17-60 ms with 1. Batches (an
# index build) keep the whole pool.
SINGLE_THREAD_MAX_TEXTS = 4


@contextmanager
def _one_torch_thread() -> Iterator[None]:
    import torch

    threads = torch.get_num_threads()
    if threads == 1:
        yield
        return
    # torch keeps the count per calling thread (OpenMP and MKL), so threads already running keep
    # theirs; only a thread making its first torch call inside this window starts with one.
    torch.set_num_threads(1)
    try:
        yield
    finally:
        torch.set_num_threads(threads)


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


def load_embedder(model_path: str, batch_size: int = 32, precision: Precision = "auto") -> Embedder:
    """The production embedder for a model folder."""
    return SentenceTransformerEmbedder(model_path, batch_size=batch_size, precision=precision)
