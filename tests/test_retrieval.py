"""Lexical ranking and fusion: which chunks a question's words find, and in what order."""

from __future__ import annotations

from pathlib import Path

import bm25s

from qa.retrieval import LexicalIndex, fuse_scores
from qa.terms import terms


def _lexical_index(folder: Path, chunks: list[str]) -> LexicalIndex:
    bm25 = bm25s.BM25()
    bm25.index([terms(chunk) or [""] for chunk in chunks], show_progress=False)
    bm25.save(str(folder), show_progress=False)
    return LexicalIndex(folder)


CHUNKS = [
    "The harbour tower opened in 1999 and is 120 metres tall.",  # 0
    "A ferry crosses the harbour every hour.",  # 1
    "The museum of modern art opened in 2004.",  # 2
    "A ferry crosses the harbour every hour.",  # 3: the same words as chunk 1
    "Tickets for the tower are sold at the harbour.",  # 4
]


def _ids(ranking: list[tuple[int, float]]) -> list[int]:
    return [item for item, _ in ranking]


def test_the_chunk_holding_more_of_the_question_ranks_first(tmp_path: Path) -> None:
    index = _lexical_index(tmp_path, CHUNKS)
    ranking = _ids(index.search("When did the harbour tower open?", 10))
    assert ranking[0] == 0
    assert 2 in ranking  # "opened" alone still counts
    assert set(ranking) == {0, 1, 2, 3, 4}


def test_chunks_without_any_of_the_words_are_left_out(tmp_path: Path) -> None:
    index = _lexical_index(tmp_path, CHUNKS)
    assert _ids(index.search("modern museum", 10)) == [2]
    assert index.search("volcano", 10) == []
    assert index.search("", 10) == []


def test_equal_scores_come_in_chunk_order_and_k_caps_the_ranking(tmp_path: Path) -> None:
    index = _lexical_index(tmp_path, CHUNKS)
    assert _ids(index.search("ferry", 10)) == [1, 3]
    assert _ids(index.search("ferry", 1)) == [1]
    assert len(index.search("harbour", 2)) == 2


def test_fusion_favours_chunks_both_rankings_hold() -> None:
    dense = [(4, 0.9), (1, 0.7), (2, 0.6)]
    lexical = [(2, 12.0), (4, 11.0), (9, 3.0)]
    fused = fuse_scores(dense, lexical, dense_weight=0.5)
    assert [r.chunk_id for r in fused][:2] == [4, 2]
    assert {r.chunk_id for r in fused} == {1, 2, 4, 9}
    assert all(0.0 <= r.score <= 1.0 for r in fused)


def test_fusion_weighs_scores_not_just_ranks() -> None:
    # Chunk 7 is first lexically by far; chunk 3 barely leads the dense ranking.
    dense = [(3, 0.81), (7, 0.80), (5, 0.30)]
    lexical = [(7, 20.0), (3, 2.0), (5, 1.0)]
    fused = fuse_scores(dense, lexical, dense_weight=0.4)
    assert fused[0].chunk_id == 7
    # All weight on one ranker: its order.
    assert [r.chunk_id for r in fuse_scores(dense, lexical, 1.0)][:3] == [3, 7, 5]


def test_one_empty_ranking_leaves_the_other_in_order() -> None:
    fused = fuse_scores([(2, 0.5), (1, 0.4)], [], dense_weight=0.4)
    assert [r.chunk_id for r in fused] == [2, 1]


def test_which_tied_chunks_make_the_cut_is_chunk_order(tmp_path: Path) -> None:
    index = _lexical_index(tmp_path, ["A ferry crosses the harbour."] * 6 + ["A tower."])
    assert _ids(index.search("ferry", 3)) == [0, 1, 2]
