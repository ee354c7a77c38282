"""The bench's pure helpers: recall, overlap, percentiles, synthetic vectors, loopback guard."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import numpy as np
import pytest

# bench/ is a script folder beside the package, not part of the installed `qa`; make it
# importable from the repository root whichever way pytest was started.
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.build import synthetic_chunks
from bench.end_to_end import choose
from bench.load import require_loopback
from bench.measures import Latency, recall_at_k, row_cosines, top_k_overlap
from bench.report import table
from bench.serving import best_within_p95
from bench.synthetic import clustered_queries, clustered_vectors


def test_recall_counts_shared_ids_per_query() -> None:
    exact = np.array([[1, 2, 3, 4], [5, 6, 7, 8]])
    found = np.array([[4, 3, 9, 1], [5, 6, 7, 8]])
    # first query finds 3 of 4, second all 4
    assert recall_at_k(found, exact, 4) == pytest.approx((0.75 + 1.0) / 2)


def test_recall_looks_at_the_first_k_only_and_ignores_padding() -> None:
    exact = np.array([[1, 2, 3]])
    assert recall_at_k(np.array([[1, -1, 2]]), exact, 2) == pytest.approx(0.5)
    assert recall_at_k(np.array([[-1, -1, -1]]), exact, 3) == 0.0


def test_recall_refuses_mismatched_query_counts() -> None:
    with pytest.raises(ValueError):
        recall_at_k(np.zeros((2, 3)), np.zeros((3, 3)), 3)


def test_top_k_overlap() -> None:
    assert top_k_overlap([1, 2, 3, 4, 5], [5, 4, 3, 2, 1], 5) == 1.0
    assert top_k_overlap([1, 2, 3, 4, 5], [1, 2, 9, 9, 9, 3], 5) == pytest.approx(0.4)
    assert top_k_overlap([], [], 5) == 1.0


def test_latency_percentiles_are_in_milliseconds() -> None:
    summary = Latency.of([0.001 * i for i in range(1, 101)])
    assert summary.count == 100
    assert summary.p50_ms == pytest.approx(50.5)
    assert summary.p95_ms == pytest.approx(95.05)
    assert np.isnan(Latency.of([]).p50_ms)


def test_row_cosines() -> None:
    a = np.array([[1.0, 0.0], [0.0, 2.0]])
    b = np.array([[2.0, 0.0], [1.0, 0.0]])
    assert row_cosines(a, b) == pytest.approx([1.0, 0.0])


def test_synthetic_vectors_are_normalised_deterministic_and_clustered() -> None:
    vectors = clustered_vectors(2_000, dimensions=64, seed=3)
    assert vectors.dtype == np.float32 and vectors.shape == (2_000, 64)
    assert np.linalg.norm(vectors, axis=1) == pytest.approx(np.ones(2_000), abs=1e-5)
    assert np.array_equal(vectors, clustered_vectors(2_000, dimensions=64, seed=3))
    queries = clustered_queries(20, 2_000, dimensions=64, seed=3)
    nearest = (queries @ vectors.T).max(axis=1)
    # a query lands in a topic: its nearest corpus vector is far closer than a random pair
    assert float(np.median(nearest)) > 0.5
    assert abs(float(np.median(vectors[:100] @ vectors[100:200].T))) < 0.2


def test_synthetic_chunks_have_the_asked_length(tmp_path: Path) -> None:
    (tmp_path / "a.txt").write_text(" ".join(f"w{i}" for i in range(500)))
    chunks = synthetic_chunks(tmp_path, 10, words=120)
    assert len(chunks) == 10
    assert all(len(c.split()) == 120 for c in chunks)
    with pytest.raises(ValueError):
        synthetic_chunks(tmp_path, 1, words=1_000)


def test_load_test_runs_on_loopback_only() -> None:
    require_loopback("http://127.0.0.1:8000")
    require_loopback("http://localhost:8000")
    require_loopback("http://[::1]:8000")
    with pytest.raises(ValueError):
        require_loopback("http://example.com")
    with pytest.raises(ValueError):
        require_loopback("http://10.0.0.5:8000")


def test_table_aligns_columns() -> None:
    text = table(["a", "bb"], [[1, 2.5], ["xyz", 1234.0]])
    lines = text.splitlines()
    assert lines[0].startswith("a  ") and lines[1].startswith("---")
    assert "1,234.0" in lines[3]


def test_the_build_table_shows_both_precisions_beside_the_plain_encoder(
    capsys: pytest.CaptureFixture[str],
) -> None:
    from bench.report import print_tables

    def build(precision: str, seconds: float, embed: float) -> dict[str, object]:
        return {
            "precision": precision,
            "documents": 5,
            "chunks": 65,
            "texts_embedded": 273,
            "build_seconds": seconds,
            "embed_seconds": embed,
            "other_seconds": seconds - embed,
            "chunks_per_second": round(65 / seconds, 2),
            "model_load_seconds": 4.0,
            "rss_before_build_mb": 480.0,
            "peak_rss_mb": 800.0,
            "stage_seconds": {"read": 0.25, "prepare": 1.5, "embed": embed, "write": 0.25},
        }

    row = {"chunks_per_second": 20.0, "speedup": 1.0, "cosine_min": 1.0, "cosine_mean": 1.0}
    print_tables(
        {
            "build": {
                "rounds": 3,
                "default": build("bfloat16", 4.0, 2.0),
                "float32": build("float32", 5.5, 3.5),
            },
            "encoders": {
                "chunks": 256,
                "questions": 95,
                "rows": [{"encoder": "torch fp32 (baseline)", "top5_overlap": 1.0, **row}],
            },
        }
    )
    out = capsys.readouterr().out
    assert "bfloat16" in out and "float32" in out
    assert "32.5 chunks/s embedding" in out  # 65 chunks in 2.0 s of encoding
    stages = out[out.index("where a build's time goes") :].splitlines()
    assert all(name in stages[1] for name in ("read", "prepare", "embed", "write"))
    assert "1.5" in stages[3] and "3.5" in stages[4]  # each precision's own row


def _level(clients: int, per_second: float, p95_ms: float, failures: int = 0) -> dict[str, Any]:
    return {
        "clients": clients,
        "requests": 100,
        "failures": failures,
        "requests_per_second": per_second,
        "latency": {"p95_ms": p95_ms},
    }


def test_the_load_reported_is_the_busiest_level_within_the_p95_target() -> None:
    levels = [
        _level(1, 40.0, 30.0),
        _level(4, 90.0, 120.0),
        _level(8, 95.0, 199.0, failures=2),  # fast enough, but it failed requests
        _level(16, 96.0, 260.0),  # busier, past the target
    ]
    best = best_within_p95(levels, 200.0)
    assert (best["clients"], best["requests_per_second"]) == (4, 90.0)
    assert best_within_p95([_level(1, 40.0, 250.0)], 200.0) == {}


def _squad_file(folder: Path) -> Path:
    import json

    paragraphs = [
        {
            "context": f"Paragraph {n} says that river {n} runs north.",
            "qas": [
                {"id": f"q{n}-{m}", "question": f"Where does river {n} run ({m})?"} for m in (1, 2)
            ],
        }
        for n in range(6)
    ]
    data = {
        "data": [
            {"title": "A", "paragraphs": paragraphs[:4]},
            {"title": "B", "paragraphs": paragraphs[4:]},
        ]
    }
    path = folder / "squadshifts" / "new_wiki_v1.0.json"
    path.parent.mkdir(parents=True)
    path.write_text(json.dumps(data))
    return folder


def test_the_peer_sample_keeps_each_question_with_its_own_paragraph(tmp_path: Path) -> None:
    from bench.peers import encyclopedia_sample

    sample = encyclopedia_sample(_squad_file(tmp_path), paragraphs=5, questions=7)
    assert len(sample.paragraphs) == 5
    assert len(sample.questions) == 7
    for question, key in sample.questions:
        number = question.split()[3]
        assert f"river {number} runs" in sample.paragraphs[key]
    assert encyclopedia_sample(tmp_path, 5, 7) == sample


def test_the_peers_are_skipped_with_a_reason_without_the_datasets(tmp_path: Path) -> None:
    from bench.peers import compare_peers

    figures = compare_peers(tmp_path / "nowhere", tmp_path)
    assert "datasets folder" in str(figures["skipped"])


def test_the_peers_table_shows_each_build_as_a_multiple_of_haystacks(
    capsys: pytest.CaptureFixture[str],
) -> None:
    from bench.peers import print_peers

    search = {"count": 5, "p50_ms": 8.0, "p95_ms": 9.0, "mean_ms": 8.2}
    row = {"search": search, "recall_at_1": 0.9, "recall_at_5": 0.98}
    print_peers(
        {
            "paragraphs": 400,
            "questions": 500,
            "qa": {**row, "build_seconds": 12.0, "stage_seconds": {"embed": 9.0}},
            "haystack": {**row, "build_seconds": 15.0},
            "txtai": {"skipped": "txtai is not installed"},
        }
    )
    out = capsys.readouterr().out
    assert "0.80x" in out and "1.00x" in out
    assert "txtai is not installed" in out


def test_the_end_to_end_set_leaves_out_the_paragraphs_of_its_unanswerable_questions() -> None:
    from qa.training.examples import Answer, Example

    examples = []
    for n in range(40):
        context = f"Paragraph {n}: the bridge number {n} was built by engineer E{n}x."
        answer = f"E{n}x"
        examples.append(
            Example(
                f"q{n}",
                f"Who built bridge {n}?",
                context,
                (Answer(answer, context.index(answer)),),
                "wiki",
                f"wiki:{n}",
            )
        )
    corpus, questions = choose(examples, 5)
    answerable = [q for q in questions if q.answerable]
    unanswerable = [q for q in questions if not q.answerable]
    assert len(answerable) == 5 and len(unanswerable) == 5
    texts = set(corpus.values())
    assert all(q.context in texts for q in answerable)
    by_id = {e.id: e for e in examples}
    for question in unanswerable:
        answer = by_id[question.id].answers[0].text
        assert not any(answer in text for text in texts), question
    assert choose(examples, 5) == (corpus, questions)  # the same set on every run
