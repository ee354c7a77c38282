"""Index build throughput and peak memory, at the default embedding precision and at float32.

Each build runs in a child process (``python -m bench.build <corpus> <index>``, the precision
passed as ``QA_EMBED_PRECISION``) so its peak resident memory and its first-call costs are its
own, not the bench's.
"""

from __future__ import annotations

import json
import os
import resource
import shutil
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

from qa.embedding import Embedder
from qa.settings import Settings

CHUNK_WORDS = 120


def _rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def measure_build(
    corpus_dir: Path, index_dir: Path, precision: str | None = None
) -> dict[str, object]:
    """Build ``corpus_dir`` from scratch into ``index_dir`` in a child process; its figures.

    ``precision`` overrides the embedding precision setting; None keeps the default.
    """
    env = dict(os.environ)
    if precision:
        env["QA_EMBED_PRECISION"] = precision
    done = subprocess.run(
        [sys.executable, "-m", "bench.build", str(corpus_dir), str(index_dir)],
        capture_output=True,
        text=True,
        check=True,
        env=env,
    )
    return dict(json.loads(done.stdout.strip().splitlines()[-1]))


def compare_builds(
    corpus_dir: Path, scratch: Path, index_dir: Path, rounds: int = 3
) -> dict[str, object]:
    """The build at the default precision and at float32 (the encoder before bf16), taking turns;
    each keeps its fastest of ``rounds``. The default's last build is left in ``index_dir``."""
    best: dict[str, dict[str, object]] = {}
    for _ in range(rounds):
        for key, precision, target in (
            ("default", None, index_dir),
            ("float32", "float32", scratch / "index-float32"),
        ):
            shutil.rmtree(target, ignore_errors=True)
            figures = measure_build(corpus_dir, target, precision)
            if key not in best or _seconds(figures) < _seconds(best[key]):
                best[key] = figures
    return {"rounds": rounds, **best}


def _seconds(figures: dict[str, object]) -> float:
    return float(str(figures["build_seconds"]))


class _TimedEmbedder:
    """An embedder that adds up the seconds spent in ``encode``, so the build's embedding stage
    can be told apart from the rest (cleaning, spaCy annotation, chunking, BM25, writing)."""

    def __init__(self, inner: Embedder) -> None:
        self._inner = inner
        self.name = inner.name
        self.dimensions = inner.dimensions
        self.seconds = 0.0

    def encode(self, texts: list[str]) -> np.ndarray:
        started = time.perf_counter()
        try:
            return self._inner.encode(texts)
        finally:
            self.seconds += time.perf_counter() - started


def _build_in_this_process(corpus_dir: Path, index_dir: Path) -> dict[str, object]:
    from qa.embedding import load_embedder
    from qa.indexing import build_index
    from qa.sentences import load_pipeline

    settings = Settings(corpus_dir=corpus_dir, index_dir=index_dir)
    started = time.perf_counter()
    loaded = load_embedder(
        settings.resolved_model_path(), settings.embed_batch_size, settings.embed_precision
    )
    model_seconds = time.perf_counter() - started
    # spaCy's pipeline is a model too: loaded before the clock starts, like the embedder.
    started = time.perf_counter()
    load_pipeline()
    spacy_seconds = time.perf_counter() - started
    embedder = _TimedEmbedder(loaded)
    rss_before = _rss_mb()
    report = build_index(settings, lambda: embedder, force=True, progress=False)
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    from qa.index_manifest import current_build_dir, read_manifest

    folder = current_build_dir(index_dir)
    assert folder is not None
    manifest = read_manifest(folder)
    return {
        "precision": getattr(loaded, "precision", "float32"),
        "documents": report.documents,
        "chunks": report.chunks,
        "sentences": manifest.sentence_count,
        "texts_embedded": report.embedded_chunks,
        "index_kind": manifest.index_kind,
        "model_load_seconds": round(model_seconds, 2),
        "spacy_load_seconds": round(spacy_seconds, 2),
        "build_seconds": round(report.seconds, 2),
        "chunks_per_second": round(report.chunks / report.seconds, 2),
        "embed_seconds": round(embedder.seconds, 2),
        "other_seconds": round(report.seconds - embedder.seconds, 2),
        "stage_seconds": report.stage_seconds,
        "rss_before_build_mb": round(rss_before, 1),
        "peak_rss_mb": round(peak_mb, 1),
    }


def synthetic_chunks(corpus_dir: Path, count: int, words: int = CHUNK_WORDS) -> list[str]:
    """``count`` chunks of ``words`` words cut from the corpus text at staggered offsets."""
    text = " ".join(p.read_text(errors="replace") for p in sorted(corpus_dir.glob("*.txt")))
    tokens = text.split()
    if len(tokens) <= words:
        raise ValueError(f"the corpus in {corpus_dir} has fewer than {words} words")
    span = len(tokens) - words
    # A stride coprime with most spans walks the text without repeating chunks early.
    return [" ".join(tokens[(i * 97) % span :][:words]) for i in range(count)]


if __name__ == "__main__":
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    print(json.dumps(_build_in_this_process(Path(sys.argv[1]), Path(sys.argv[2]))))
