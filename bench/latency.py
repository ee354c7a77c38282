"""In-process answering latency: `Answerer.ask` over the gold questions, against the floor.

The floor is what any retrieve-and-read system must pay per question: one query embedding, one
FAISS search and one forward pass of the reader model over the windows it reads (the passages
cut to the windows around their best sentences, as the reader cuts them), with the same
models and index the answerer uses. Everything above it is question analysis, BM25, fusion,
SQLite reads, tokenising and the span search.
"""

from __future__ import annotations

import json
import time
from dataclasses import asdict
from pathlib import Path

from bench.measures import Latency
from bench.reader import retrieved_passages
from qa.answering import Answerer
from qa.questions import analyse_question
from qa.reader_model import window_contexts
from qa.settings import Settings

WARM_UP_QUESTIONS = 5


def gold_questions(path: Path) -> list[str]:
    """The standalone questions of a gold file (follow-ups with a history are left out)."""
    questions = []
    for line in path.read_text().splitlines():
        if line.strip():
            row = json.loads(line)
            if not row.get("history"):
                questions.append(str(row["question"]))
    return questions


def measure_ask(settings: Settings, questions: list[str], rounds: int = 1) -> dict[str, object]:
    answerer = Answerer(settings)
    # The build's own dense index (FAISS files, or its Milvus collection).
    vectors = answerer._build.search.vectors
    embedder = answerer._embedder
    candidates = settings.retrieval_candidates

    model = answerer._reader_model
    reader = answerer._build.reader
    windows = {
        question: window_contexts(
            model.tokenizer,
            question,
            reader.contexts(analyse_question(question), passages),
            model.max_length,
            model.stride,
        )
        for question, passages in zip(
            questions, retrieved_passages(answerer, questions), strict=True
        )
    }

    def floor(question: str) -> None:
        vector = embedder.encode([question])
        vectors.search(vector, candidates)
        model.logits(windows[question])

    for question in questions[:WARM_UP_QUESTIONS]:
        answerer.ask(question)
        floor(question)
    ask_times: list[float] = []
    floor_times: list[float] = []
    # Interleave the two so background load on the machine hits both alike.
    for _ in range(rounds):
        for question in questions:
            started = time.perf_counter()
            answerer.ask(question)
            ask_times.append(time.perf_counter() - started)
            started = time.perf_counter()
            floor(question)
            floor_times.append(time.perf_counter() - started)
    ask, base = Latency.of(ask_times), Latency.of(floor_times)
    return {
        "questions": len(questions),
        "rounds": rounds,
        "index_kind": answerer._build.manifest.index_kind,
        "ask": asdict(ask),
        "floor": asdict(base),
        "ratio_p50": round(ask.p50_ms / base.p50_ms, 2),
        "ratio_p95": round(ask.p95_ms / base.p95_ms, 2),
        "reader_overhead_p50_ms": round(ask.p50_ms - base.p50_ms, 2),
        "reader_overhead_p95_ms": round(ask.p95_ms - base.p95_ms, 2),
        "reader_overhead_mean_ms": round(ask.mean_ms - base.mean_ms, 2),
    }
