"""Indexing and retrieval beside the peers: qa, Haystack 3 and txtai over the same paragraphs,
the same bundled all-MiniLM-L6-v2, dense + BM25 fused in each, in the same run.

The corpus is encyclopedia paragraphs with crowd-written questions whose answer paragraph is
known (SQuADShifts' Wikipedia file, read from the datasets folder, never copied): a hit at k is
the question's own paragraph among the first k passages. Each system builds and searches in its
own child process (``python -m bench.peers SYSTEM SAMPLE OUT``), so none pays for another's
imports or memory. Every build time leaves out loading the models (the embedder, and spaCy's
pipeline for qa) and counts everything from the paragraphs to a searchable index; a search
counts the query's embedding, both searches and the fusion.
"""

from __future__ import annotations

import json
import os
import random
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from bench.measures import Latency

SYSTEMS = ("qa", "haystack", "txtai")
WIKI_FILE = "squadshifts/new_wiki_v1.0.json"
WARM_UP = 5
TOP_K = 5


@dataclass(frozen=True)
class Sample:
    """Paragraphs (their ids are file stems) and questions, each with its paragraph's id."""

    paragraphs: dict[str, str]
    questions: list[tuple[str, str]]


def encyclopedia_sample(data_dir: Path, paragraphs: int, questions: int, seed: int = 7) -> Sample:
    """The first ``paragraphs`` paragraphs of the Wikipedia file, article by article, and
    ``questions`` of their questions drawn at random (seeded)."""
    data = json.loads((data_dir / WIKI_FILE).read_text())
    texts: dict[str, str] = {}
    asked: list[tuple[str, str]] = []
    for article in data["data"]:
        for paragraph in article["paragraphs"]:
            if len(texts) == paragraphs:
                break
            key = f"p{len(texts):04d}"
            texts[key] = paragraph["context"].strip()
            asked += [(qa["question"].strip(), key) for qa in paragraph["qas"]]
    random.Random(seed).shuffle(asked)
    return Sample(texts, asked[:questions])


def compare_peers(
    data_dir: Path, scratch: Path, paragraphs: int = 400, questions: int = 500
) -> dict[str, object]:
    """Each system's figures on one sample, or why the peers were not run."""
    if not (data_dir / WIKI_FILE).exists():
        return {"skipped": f"no {data_dir / WIKI_FILE}: the peers need the datasets folder"}
    sample = encyclopedia_sample(data_dir, paragraphs, questions)
    sample_file = scratch / "peer-sample.json"
    sample_file.write_text(json.dumps(asdict(sample)))
    figures: dict[str, object] = {"paragraphs": len(sample.paragraphs)}
    figures["questions"] = len(sample.questions)
    for system in SYSTEMS:
        out = scratch / f"peer-{system}.json"
        done = subprocess.run(
            [sys.executable, "-m", "bench.peers", system, str(sample_file), str(out)],
            capture_output=True,
            text=True,
            check=False,
        )
        if done.returncode != 0 or not out.exists():
            figures[system] = {"skipped": (done.stderr or done.stdout).strip()[-600:]}
        else:
            figures[system] = json.loads(out.read_text())
    return figures


def _measure(
    build: Callable[[], None], search: Callable[[str], list[str]], sample: Sample
) -> dict[str, object]:
    started = time.perf_counter()
    build()
    build_seconds = time.perf_counter() - started
    for question, _ in sample.questions[:WARM_UP]:
        search(question)
    seconds: list[float] = []
    first = in_top = 0
    for question, wanted in sample.questions:
        started = time.perf_counter()
        found = search(question)
        seconds.append(time.perf_counter() - started)
        first += bool(found) and found[0] == wanted
        in_top += wanted in found[:TOP_K]
    count = max(1, len(sample.questions))
    return {
        "build_seconds": round(build_seconds, 2),
        "search": asdict(Latency.of(seconds)),
        "recall_at_1": round(first / count, 3),
        "recall_at_5": round(in_top / count, 3),
    }


def _model_path() -> str:
    from qa.settings import Settings

    return str(Settings().resolved_model_path())


def _run_qa(sample: Sample, scratch: Path) -> dict[str, object]:
    from qa.answering import Answerer
    from qa.embedding import load_embedder
    from qa.indexing import build_index
    from qa.sentences import load_pipeline
    from qa.settings import Settings

    corpus = scratch / "corpus"
    corpus.mkdir()
    for key, text in sample.paragraphs.items():
        (corpus / f"{key}.txt").write_text(text + "\n")
    settings = Settings(corpus_dir=corpus, index_dir=scratch / "index")
    embedder = load_embedder(
        settings.resolved_model_path(), settings.embed_batch_size, settings.embed_precision
    )
    load_pipeline()
    holder: dict[str, Any] = {}

    def build() -> None:
        holder["report"] = build_index(settings, lambda: embedder, force=True, progress=False)

    def search(question: str) -> list[str]:
        if "answerer" not in holder:
            holder["answerer"] = Answerer(settings)
        answerer = holder["answerer"]
        vector = answerer._embedder.encode([question])[0]
        passages = answerer._build.retriever.search(question, vector, TOP_K)
        return _first_of_each([p.doc_id for p in passages])

    figures = _measure(build, search, sample)
    figures["stage_seconds"] = holder["report"].stage_seconds
    figures["chunks"] = holder["report"].chunks
    return figures


def _run_haystack(sample: Sample, scratch: Path) -> dict[str, object]:
    from haystack import Document, Pipeline
    from haystack.components.joiners import DocumentJoiner
    from haystack.components.retrievers.in_memory import (
        InMemoryBM25Retriever,
        InMemoryEmbeddingRetriever,
    )
    from haystack.document_stores.in_memory import InMemoryDocumentStore
    from haystack_integrations.components.embedders.sentence_transformers import (
        SentenceTransformersDocumentEmbedder,
        SentenceTransformersTextEmbedder,
    )

    model = _model_path()
    documents_embedder = SentenceTransformersDocumentEmbedder(model=model, local_files_only=True)
    documents_embedder.warm_up()
    store = InMemoryDocumentStore()
    pipeline = Pipeline()
    pipeline.add_component("embed", SentenceTransformersTextEmbedder(model=model))
    pipeline.add_component("dense", InMemoryEmbeddingRetriever(store, top_k=TOP_K))
    pipeline.add_component("bm25", InMemoryBM25Retriever(store, top_k=TOP_K))
    pipeline.add_component("join", DocumentJoiner(join_mode="reciprocal_rank_fusion"))
    pipeline.connect("embed.embedding", "dense.query_embedding")
    pipeline.connect("dense", "join")
    pipeline.connect("bm25", "join")
    pipeline.warm_up()

    def build() -> None:
        documents = [Document(id=key, content=text) for key, text in sample.paragraphs.items()]
        store.write_documents(documents_embedder.run(documents)["documents"])

    def search(question: str) -> list[str]:
        found = pipeline.run({"embed": {"text": question}, "bm25": {"query": question}})
        return [d.id for d in found["join"]["documents"]][:TOP_K]

    return _measure(build, search, sample)


def _run_txtai(sample: Sample, scratch: Path) -> dict[str, object]:
    from txtai import Embeddings

    embeddings = Embeddings(path=_model_path(), content=True, hybrid=True)
    embeddings.index([("warm", "one sentence to load the model", None)])

    def build() -> None:
        embeddings.index([(key, text, None) for key, text in sample.paragraphs.items()])

    def search(question: str) -> list[str]:
        return [str(row["id"]) for row in embeddings.search(question, TOP_K)]

    return _measure(build, search, sample)


def _first_of_each(ids: list[str]) -> list[str]:
    """Document ids in rank order, each once (qa may return two chunks of one paragraph)."""
    return list(dict.fromkeys(ids))


RUNNERS: dict[str, Callable[[Sample, Path], dict[str, object]]] = {
    "qa": _run_qa,
    "haystack": _run_haystack,
    "txtai": _run_txtai,
}


def print_peers(figures: dict[str, Any]) -> None:
    """The peers table, with each build's time as a multiple of Haystack's."""
    from bench.report import table

    if "skipped" in figures:
        print(f"\nIndexing beside the peers: skipped ({figures['skipped']})")
        return
    print(
        f"\nIndexing and retrieval beside the peers: {figures['paragraphs']} encyclopedia "
        f"paragraphs, {figures['questions']} questions, the same all-MiniLM-L6-v2, "
        "dense + BM25 fused in each (models loaded before each build's clock starts)"
    )
    haystack = figures.get("haystack", {}).get("build_seconds")
    rows = []
    for system in SYSTEMS:
        row = figures.get(system, {})
        if "skipped" in row:
            rows.append([system, "skipped", "", "", "", "", row["skipped"][-120:]])
            continue
        ratio = f"{row['build_seconds'] / haystack:.2f}x" if haystack else ""
        search = row["search"]
        rows.append(
            [
                system,
                row["build_seconds"],
                ratio,
                search["p50_ms"],
                row["recall_at_1"],
                row["recall_at_5"],
                json.dumps(row.get("stage_seconds", "")) if system == "qa" else "",
            ]
        )
    headers = ["system", "build s", "vs Haystack", "search p50 ms", "recall@1", "recall@5"]
    print(table([*headers, "qa's stages (s)"], rows))


def main(argv: list[str]) -> int:
    system, sample_file, out = argv
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    raw = json.loads(Path(sample_file).read_text())
    sample = Sample(raw["paragraphs"], [tuple(q) for q in raw["questions"]])
    with tempfile.TemporaryDirectory(prefix=f"qa-peer-{system}-") as scratch:
        figures = RUNNERS[system](sample, Path(scratch))
    Path(out).write_text(json.dumps(figures))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
