"""Text embeddings: the bundled all-MiniLM-L6-v2 through sentence-transformers, or a fake for tests.

Vectors are L2-normalised, so an inner product is a cosine similarity everywhere downstream.
"""

from __future__ import annotations

import hashlib
import logging
import os
import re
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from functools import lru_cache
from pathlib import Path
from typing import Any, Literal, Protocol

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
        self._question_graph: _QuestionGraph | None = None
        self._question_graph_tried = False
        self._question_graph_lock = threading.Lock()

    def encode(self, texts: list[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dimensions), dtype=np.float32)
        if len(texts) <= SINGLE_THREAD_MAX_TEXTS:
            with _one_torch_thread():
                graph = self._graph_for_questions() if len(texts) == 1 else None
                return graph.encode(texts[0]) if graph else self._encode(texts)
        return self._encode(texts)

    def _graph_for_questions(self) -> _QuestionGraph | None:
        """The traced graph for one text at a time, made on first use; None where the model
        cannot be traced (then ``encode`` stays on sentence-transformers' own path)."""
        if not self._question_graph_tried:
            with self._question_graph_lock:
                if not self._question_graph_tried:
                    self._question_graph = _QuestionGraph.trace(self._model, self.precision)
                    self._question_graph_tried = True
        return self._question_graph

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


logger = logging.getLogger(__name__)

# The traced graph must give the vectors sentence-transformers gives, or it is not used.
_TRACE_AGREEMENT = 0.9999


class _QuestionGraph:
    """The transformer, mean pooling and normalising traced into one TorchScript graph, for
    embedding one question at a time.

    Two reasons, both measured by `python -m bench` (bench/REPORT.md): sentence-transformers'
    Python path costs milliseconds per short text that the graph does not (a question's vector
    in about 8 ms instead of 12 on one core), and a graph call lets go of Python's GIL for the
    whole forward pass, so the answerer reads the question on its own thread meanwhile instead
    of the two taking turns operation by operation. One text has no padding, so tracing with
    one example length serves them all (checked against the eager vectors at trace time).
    Batches (an index build) stay on sentence-transformers.
    """

    def __init__(self, model: Any, graph: Any) -> None:
        self._model = model
        self._graph = graph

    @classmethod
    def trace(cls, model: Any, precision: Literal["float32", "bfloat16"]) -> _QuestionGraph | None:
        """The graph for ``model`` (a SentenceTransformer), or None when its modules are not
        a transformer with mean pooling, or the trace does not reproduce its vectors."""
        import torch

        modules = [type(m).__name__ for m in model]
        if modules[:2] != ["Transformer", "Pooling"] or set(modules[2:]) - {"Normalize"}:
            return None
        if getattr(model[1], "pooling_mode", None) != "mean":
            return None
        example = "Which cities had a station, and who reported it first?"
        try:
            features = model.preprocess([example])
            inputs = (features["input_ids"], features["attention_mask"])
            with torch.inference_mode(), _autocast(precision), _quiet_tracer():
                graph = torch.jit.trace(
                    _mean_pooled(model[0].auto_model).eval(), inputs, check_trace=False
                )
            traced = cls(model, graph)
            with _autocast(precision):
                expected = model.encode([example], normalize_embeddings=True)[0]
            if float(np.dot(traced.encode(example)[0], expected)) < _TRACE_AGREEMENT:
                raise ValueError("the traced vectors differ from the model's")
        except Exception as error:  # any failure leaves the eager path, which always works
            logger.warning("questions are embedded without a traced graph: %s", error)
            return None
        return traced

    def encode(self, text: str) -> np.ndarray:
        import torch

        features = self._model.preprocess([text])
        with torch.inference_mode():
            vector = self._graph(features["input_ids"], features["attention_mask"])
        return np.asarray(vector.numpy(), dtype=np.float32)


def _mean_pooled(transformer: Any) -> Any:
    """``transformer`` as one torch module that returns its token vectors averaged over the
    attention mask and L2-normalised, in float32 (sentence-transformers' mean pooling)."""
    import torch

    class MeanPooled(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.transformer = transformer

        def forward(self, input_ids: Any, attention_mask: Any) -> Any:
            output = self.transformer(input_ids=input_ids, attention_mask=attention_mask)
            tokens = output.last_hidden_state.float()
            mask = attention_mask.unsqueeze(-1).to(tokens.dtype)
            pooled = (tokens * mask).sum(1) / mask.sum(1).clamp(min=1e-9)
            return torch.nn.functional.normalize(pooled, dim=-1)

    return MeanPooled()


@contextmanager
def _quiet_tracer() -> Iterator[None]:
    """The tracer warns that masks are constants: true, and harmless for one unpadded text."""
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        yield


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
