"""The evaluation metrics, checked against values worked out by hand."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from pydantic import ValidationError

from qa.evaluation.gold import GoldFileError, GoldItem, load_gold
from qa.evaluation.metrics import (
    ListScores,
    exact_match,
    list_scores,
    normalize_answer,
    percentile,
    token_f1,
)

# ---------------------------------------------------------------- normalize_answer


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("The  Fiji Times!", "fiji times"),
        ("U.S.", "us"),
        ("an Apple a day", "apple day"),
        ("Beijing’s “THAAD retaliation” ― its ban", "beijings thaad retaliation its ban"),
        ('Beijing\'s "THAAD retaliation"', "beijings thaad retaliation"),
        ("theory", "theory"),  # articles only as whole words
        ("", ""),
    ],
)
def test_normalize_answer(raw: str, expected: str) -> None:
    assert normalize_answer(raw) == expected


# ---------------------------------------------------------------- exact_match


def test_exact_match_ignores_articles_and_punctuation() -> None:
    assert exact_match("the U.S.", ["U.S."]) == 1.0


def test_exact_match_folds_curly_quotes() -> None:
    assert exact_match("“Patrol and Persuade”", ['"Patrol and Persuade"']) == 1.0


def test_exact_match_takes_the_best_alias() -> None:
    assert exact_match("Harth", ["Laura Harth", "Harth"]) == 1.0


def test_exact_match_rejects_a_partial_answer() -> None:
    assert exact_match("Harth", ["Laura Harth"]) == 0.0


def test_exact_match_without_aliases_is_zero() -> None:
    assert exact_match("Madrid", []) == 0.0


# ---------------------------------------------------------------- token_f1


def test_token_f1_extra_token() -> None:
    # 2 of 3 predicted tokens are right (P=2/3), both gold tokens found (R=1): F1 = 0.8.
    assert token_f1("Laura Harth said", ["Laura Harth"]) == pytest.approx(0.8)


def test_token_f1_missing_token() -> None:
    # P=1, R=1/2: F1 = 2/3.
    assert token_f1("Harth", ["Laura Harth"]) == pytest.approx(2 / 3)


def test_token_f1_counts_repeated_tokens_once_each() -> None:
    # "police" overlaps once, not twice: common=2, P=2/3, R=1.
    assert token_f1("police police station", ["police station"]) == pytest.approx(0.8)


def test_token_f1_takes_the_best_alias() -> None:
    assert token_f1("at least 54", ["54", "at least 54"]) == 1.0
    # Against "54" alone: P=1/3 ("at" and "least" are extra), R=1: F1 = 2*(1/3)/(4/3) = 1/2.
    assert token_f1("at least 54", ["54"]) == pytest.approx(0.5)


def test_token_f1_no_overlap_is_zero() -> None:
    assert token_f1("Madrid Spain", ["Rotterdam"]) == 0.0


def test_token_f1_empty_answers() -> None:
    assert token_f1("the", ["a"]) == 1.0  # both normalise to nothing
    assert token_f1("", ["Madrid"]) == 0.0
    assert token_f1("Madrid", []) == 0.0


# ---------------------------------------------------------------- list_scores

SPAIN = [["Madrid"], ["Barcelona"], ["Valencia"], ["Santiago de Compostela"]]


def test_list_scores_duplicate_and_miss() -> None:
    # "madrid." duplicates "Madrid" and counts once; "Lisbon" is wrong.
    # 2 right of 3 distinct predictions, 2 of 4 items found: F1 = 2*(2/3)*(1/2)/(2/3+1/2) = 4/7.
    scores = list_scores(["Madrid", "madrid.", "Barcelona", "Lisbon"], SPAIN)
    assert scores == ListScores(pytest.approx(2 / 3), 0.5, pytest.approx(4 / 7))


def test_list_scores_matches_any_alias() -> None:
    items = [["Netherlands", "Dutch"], ["Ireland", "Irish"]]
    assert list_scores(["the Netherlands", "Irish"], items) == ListScores(1.0, 1.0, 1.0)


def test_list_scores_accepts_a_near_miss_but_not_a_fragment() -> None:
    # "Santiago de Compostela city": P=3/4, R=1, F1=6/7 >= 0.8, so it matches.
    assert list_scores(["Santiago de Compostela city"], SPAIN).recall == 0.25
    # "Santiago": P=1, R=1/3, F1=1/2 < 0.8, so it does not.
    assert list_scores(["Santiago"], SPAIN).recall == 0.0


def test_list_scores_matches_each_item_once() -> None:
    scores = list_scores(["Madrid", "Madrid Spain"], [["Madrid", "Madrid Spain"]])
    assert scores == ListScores(0.5, 1.0, pytest.approx(2 / 3))


def test_list_scores_finds_the_best_pairing() -> None:
    # A greedy pass would give "Czech Republic" the first item and leave "Czechia" nothing.
    items = [["Czech Republic", "Czechia"], ["Czech Republic"]]
    assert list_scores(["Czech Republic", "Czechia"], items) == ListScores(1.0, 1.0, 1.0)


def test_list_scores_empty_cases() -> None:
    assert list_scores([], []) == ListScores(1.0, 1.0, 1.0)
    assert list_scores([], SPAIN) == ListScores(0.0, 0.0, 0.0)
    assert list_scores(["Madrid"], []) == ListScores(0.0, 0.0, 0.0)
    assert list_scores(["", "the"], SPAIN) == ListScores(0.0, 0.0, 0.0)


# ---------------------------------------------------------------- percentile


def test_percentile_interpolates_between_ranks() -> None:
    assert percentile([4.0, 1.0, 3.0, 2.0], 50) == 2.5
    assert percentile([10.0, 20.0, 30.0, 40.0, 50.0], 90) == pytest.approx(46.0)
    assert percentile([7.0], 95) == 7.0


def test_percentile_ends_are_min_and_max() -> None:
    assert percentile([3.0, 1.0, 2.0], 0) == 1.0
    assert percentile([3.0, 1.0, 2.0], 100) == 3.0


def test_percentile_rejects_bad_input() -> None:
    with pytest.raises(ValueError):
        percentile([], 50)
    with pytest.raises(ValueError):
        percentile([1.0], 101)


@given(
    st.lists(st.floats(-1e6, 1e6), min_size=1, max_size=50),
    st.floats(0, 100),
)
def test_percentile_agrees_with_numpy(values: list[float], p: float) -> None:
    assert percentile(values, p) == pytest.approx(float(np.percentile(values, p)), abs=1e-6)


# ---------------------------------------------------------------- GoldItem / load_gold

SINGLE = {
    "id": "q001",
    "question": "Which newspaper reported the RCMP investigation?",
    "category": "who",
    "answer_type": "organisation",
    "answerable": True,
    "answers": ["Le Journal de Montreal"],
    "items": [],
    "doc_ids": ["004_f1a9c2a80df80c41"],
    "evidence": ["The Royal Canadian Mounted Police confirmed ..."],
    "history": [],
}
UNANSWERABLE = {
    **SINGLE,
    "id": "q002",
    "question": "Who won the World Cup 2022 final?",
    "category": "unanswerable",
    "answer_type": "country",
    "answerable": False,
    "answers": [],
    "doc_ids": [],
    "evidence": [],
}


def _write(path: Path, *records: dict[str, object]) -> Path:
    path.write_text("\n".join(json.dumps(r) for r in records) + "\n\n", encoding="utf-8")
    return path


def test_load_gold_reads_records_and_skips_blank_lines(tmp_path: Path) -> None:
    listed = {
        **SINGLE,
        "id": "q003",
        "category": "list",
        "answers": [],
        "items": [["Amsterdam"], ["Rotterdam"]],
    }
    gold = load_gold(_write(tmp_path / "gold.jsonl", SINGLE, UNANSWERABLE, listed))
    assert [item.id for item in gold] == ["q001", "q002", "q003"]
    assert gold[0].answers == ("Le Journal de Montreal",)
    assert not gold[0].is_list
    assert gold[2].items == (("Amsterdam",), ("Rotterdam",))
    assert gold[2].is_list


def test_gold_item_is_frozen() -> None:
    item = GoldItem.model_validate(SINGLE)
    with pytest.raises(ValidationError):
        item.question = "changed"  # type: ignore[misc]


def test_load_gold_rejects_duplicate_ids(tmp_path: Path) -> None:
    with pytest.raises(GoldFileError, match="duplicate id 'q001'"):
        load_gold(_write(tmp_path / "gold.jsonl", SINGLE, SINGLE))


@pytest.mark.parametrize(
    "broken",
    [
        {**UNANSWERABLE, "answers": ["Argentina"]},  # unanswerable but answered
        {**SINGLE, "answers": []},  # answerable without an answer
        {**SINGLE, "items": [["Amsterdam"]]},  # both answers and items
        {**SINGLE, "category": "followup"},  # follow-up without history
        {**SINGLE, "history": ["Who is Laura Harth?"]},  # history outside a follow-up
        {**SINGLE, "category": "why"},  # unknown category
        {**SINGLE, "extra": 1},  # unknown field
    ],
)
def test_load_gold_names_the_bad_line(tmp_path: Path, broken: dict[str, object]) -> None:
    with pytest.raises(GoldFileError, match=r"gold\.jsonl:2:"):
        load_gold(_write(tmp_path / "gold.jsonl", UNANSWERABLE, broken))
