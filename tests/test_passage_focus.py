"""Windows around the best sentences: what the reader model reads of each passage."""

from __future__ import annotations

import re

from hypothesis import given, settings
from hypothesis import strategies as st

from qa.passage_focus import Window, focus_windows


def sentence_bounds(text: str) -> list[tuple[int, int]]:
    return [(m.start(), m.end()) for m in re.finditer(r"[^\s.!?][^.!?]*[.!?]", text)]


PASSAGE = (
    "The valley was settled by farmers in the eighteenth century. "
    "Its river floods most springs. "
    "The bridge over the river was built in 1931 by the engineer Ada Lund. "
    "It carries the old post road. "
    "A museum in the mill tells the valley's story."
)


def test_the_window_holds_the_sentence_that_answers() -> None:
    (window,) = focus_windows(
        "Who built the bridge?", [PASSAGE], [sentence_bounds(PASSAGE)], budget_words=20
    )
    read = PASSAGE[window.start : window.end]
    assert "built in 1931 by the engineer Ada Lund" in read
    assert len(read.split()) <= 20
    assert read != PASSAGE


def test_a_short_passage_is_read_whole() -> None:
    text = "The bridge was built in 1931."
    assert focus_windows("Who built it?", [text], [sentence_bounds(text)], 40) == [
        Window(0, len(text))
    ]


def test_no_shared_term_or_no_budget_reads_the_whole_passage() -> None:
    bounds = [sentence_bounds(PASSAGE)]
    assert focus_windows("Why?", [PASSAGE], bounds, 10) == [Window(0, len(PASSAGE))]
    assert focus_windows("Who built the bridge?", [PASSAGE], bounds, 0) == [Window(0, len(PASSAGE))]


def test_rarer_terms_choose_the_sentence() -> None:
    # "river" is in two sentences, "floods" in one: the flooding sentence wins.
    (window,) = focus_windows(
        "When does the river flood?", [PASSAGE], [sentence_bounds(PASSAGE)], budget_words=6
    )
    assert PASSAGE[window.start : window.end] == "Its river floods most springs."


@settings(max_examples=60, deadline=None)
@given(
    st.lists(
        st.text(alphabet="abcde fgh", min_size=3, max_size=40).map(lambda t: t.strip() + "."),
        min_size=1,
        max_size=8,
    ),
    st.integers(min_value=0, max_value=30),
)
def test_a_window_is_whole_sentences_of_the_passage(sentences: list[str], budget: int) -> None:
    text = " ".join(sentences)
    bounds = sentence_bounds(text)
    (window,) = focus_windows("abc fgh deed?", [text], [bounds], budget)
    assert 0 <= window.start < window.end <= len(text) or (window.start, window.end) == (0, 0)
    starts = {s for s, _ in bounds} | {0}
    ends = {e for _, e in bounds} | {len(text)}
    assert window.start in starts and window.end in ends
