"""The span model's windows and spans: offsets that slice the context exactly, windows that
overlap so no answer is cut, the best span chosen from the logits, the calibration."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from qa.reader_model import Calibration, Window, best_spans, window_contexts
from qa.settings import Settings
from qa.training.features import answer_positions


@pytest.fixture(scope="module")
def tokenizer():  # type: ignore[no-untyped-def]
    from transformers import AutoTokenizer

    return AutoTokenizer.from_pretrained(Settings().resolved_model_path(), local_files_only=True)


CONTEXT = (
    "The Harbour Tower was completed in 1998 in the city of Halifax. It stands 112 metres "
    "tall and was designed by the architect Maria López."
)


def test_window_offsets_slice_the_context(tokenizer) -> None:  # type: ignore[no-untyped-def]
    (window,) = window_contexts(tokenizer, "Who designed it?", [CONTEXT], 256, 64)
    pieces = [CONTEXT[a:b] for a, b in (o for o in window.offsets if o is not None)]
    assert "".join(pieces).replace(" ", "") == CONTEXT.replace(" ", "")
    assert window.offsets[0] is None  # [CLS]: where "no answer" points


def test_long_contexts_are_cut_into_overlapping_windows(tokenizer) -> None:  # type: ignore[no-untyped-def]
    long_context = " ".join(
        f"Sentence number {i} says that item {i} costs {i * 3} dollars." for i in range(80)
    )
    windows = window_contexts(tokenizer, "What does item 70 cost?", [long_context], 128, 32)
    assert len(windows) > 3
    assert all(len(w.input_ids) <= 128 for w in windows)
    for first, second in zip(windows, windows[1:], strict=False):
        first_end = max(o[1] for o in first.offsets if o is not None)
        second_start = min(o[0] for o in second.offsets if o is not None)
        assert second_start < first_end  # they share tokens
    # "210 dollars" is whole in some window, and its positions slice back to it exactly.
    start = long_context.index("210 dollars")
    end = start + len("210 dollars")
    found = [answer_positions(w, start, end) for w in windows]
    inside = [(w, p) for w, p in zip(windows, found, strict=True) if p != (0, 0)]
    assert inside
    window, (s, e) = inside[0]
    assert long_context[window.offsets[s][0] : window.offsets[e][1]] == "210 dollars"


@settings(max_examples=40, deadline=None)
@given(st.data())
def test_any_answer_span_maps_to_tokens_and_back(tokenizer, data) -> None:  # type: ignore[no-untyped-def]
    (window,) = window_contexts(tokenizer, "What?", [CONTEXT], 256, 64)
    words = [(m.start(), m.end()) for m in __import__("re").finditer(r"\S+", CONTEXT)]
    first = data.draw(st.integers(0, len(words) - 1))
    last = data.draw(st.integers(first, min(first + 5, len(words) - 1)))
    start, end = words[first][0], words[last][1]
    s, e = answer_positions(window, start, end)
    assert (s, e) != (0, 0)
    assert CONTEXT[window.offsets[s][0] : window.offsets[e][1]] == CONTEXT[start:end]


def test_best_span_is_the_highest_start_plus_end_inside_the_context() -> None:
    window = Window(
        0,
        [101, 2040, 102, 7, 8, 9, 102],
        [0, 0, 0, 1, 1, 1, 1],
        [None, None, None, (0, 3), (4, 7), (8, 11), None],
    )
    start = np.array([9.0, 8.0, 0.0, 1.0, 5.0, 0.0, 9.0])
    end = np.array([9.0, 0.0, 0.0, 0.0, 1.0, 6.0, 9.0])
    spans = best_spans(window, start, end, max_answer_tokens=30)
    assert (spans[0].start, spans[0].end) == (4, 11)  # tokens 4..5, not [CLS] or [SEP]
    assert spans[0].score == pytest.approx(11.0)
    assert all(s.end >= s.start for s in spans)
    # A span longer than allowed is not offered.
    short = best_spans(window, start, end, max_answer_tokens=1)
    assert all(s.end - s.start <= 3 for s in short)


def test_calibration_maps_margins_to_probabilities_and_back(tmp_path: Path) -> None:
    calibration = Calibration(slope=0.8, intercept=-1.0, threshold_probability=0.4)
    assert calibration.probability(-math.inf) == 0.0
    assert calibration.probability(10) > calibration.probability(0) > calibration.probability(-5)
    assert calibration.probability(calibration.margin_for(0.7)) == pytest.approx(0.7)
    calibration.write(tmp_path)
    assert Calibration.read(tmp_path) == calibration
    assert Calibration.read(tmp_path / "missing") == Calibration()
