"""The reader beside its peer: our span reader and Haystack's ``TransformersExtractiveReader``
with the same weights, over the same retrieved passages, in the same run.

Both get each question's passages (what ``Answerer`` hands its reader). Ours is the whole
reader the service runs (windows around the best sentences, the model, offsets mapped back,
citations); Haystack's reads every passage whole. The table shows p50 per question and how often
the two give the same best answer.
"""

from __future__ import annotations

import os
import time
from dataclasses import asdict
from typing import Any

from bench.measures import Latency
from qa.answering import READER_PASSAGES, READER_PASSAGES_FOR_LISTS, Answerer
from qa.questions import analyse_question
from qa.retrieval import Passage
from qa.settings import Settings

WARM_UP = 3


def retrieved_passages(answerer: Answerer, questions: list[str]) -> list[list[Passage]]:
    """The passages the answerer's reader reads for each question."""
    build = answerer._build
    found = []
    for question in questions:
        vector = answerer._embedder.encode([question])[0]
        wanted = (
            READER_PASSAGES_FOR_LISTS if analyse_question(question).is_list else READER_PASSAGES
        )
        passages = build.retriever.search(question, vector, wanted)
        found.append(passages)
    return found


def _haystack_reader(folder: str) -> Any:
    from haystack_integrations.components.readers.transformers import (
        TransformersExtractiveReader,
    )

    # Its defaults (windows of 384 with a stride of 128) read more than ours; give it ours.
    reader = TransformersExtractiveReader(
        model=folder, top_k=1, max_seq_length=256, stride=64, no_answer=True
    )
    reader.warm_up()
    return reader


def compare_readers(settings: Settings, questions: list[str]) -> dict[str, object]:
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    answerer = Answerer(settings)
    reader = answerer._build.reader
    passages = retrieved_passages(answerer, questions)
    try:
        from haystack import Document

        peer = _haystack_reader(str(settings.resolved_reader_path()))
    except ImportError as error:
        return {"skipped": f"haystack is not installed ({error}); pip install -e '.[bench]'"}

    def ours(question: str, found: list[Passage]) -> str:
        # The best span, whether or not it clears the threshold (Haystack's top answer is too).
        answers = reader.read(analysed[question], found, min_score=0.0)
        return answers[0].text if answers else ""

    def theirs(question: str, found: list[Passage]) -> str:
        answers = peer.run(query=question, documents=[Document(content=p.text) for p in found])
        spans = [a for a in answers["answers"] if a.data]
        return str(spans[0].data) if spans else ""

    # As the answerer does before reading (not timed).
    analysed = {q: analyse_question(q) for q in questions}
    for question, found in list(zip(questions, passages, strict=True))[:WARM_UP]:
        ours(question, found)
        theirs(question, found)
    our_times: list[float] = []
    peer_times: list[float] = []
    same = 0
    for question, found in zip(questions, passages, strict=True):
        started = time.perf_counter()
        a = ours(question, found)
        our_times.append(time.perf_counter() - started)
        started = time.perf_counter()
        b = theirs(question, found)
        peer_times.append(time.perf_counter() - started)
        same += int(a.strip() == b.strip())
    mine, peer_latency = Latency.of(our_times), Latency.of(peer_times)
    return {
        "questions": len(questions),
        "passages": f"{READER_PASSAGES} ({READER_PASSAGES_FOR_LISTS} for lists)",
        "focus_words": settings.reader_focus_words,
        "ours": asdict(mine),
        "haystack": asdict(peer_latency),
        "speedup_p50": round(peer_latency.p50_ms / mine.p50_ms, 2),
        "same_best_answer": round(same / len(questions), 3),
    }
