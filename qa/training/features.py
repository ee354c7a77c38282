"""Training inputs: each example's windows (the same windows the service reads) with the token
positions of its answer, or of [CLS] where the window holds no answer."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from qa.reader_model import Window, window_pairs
from qa.training.examples import Example


@dataclass(frozen=True)
class Feature:
    window: Window
    start_position: int
    end_position: int
    example_index: int


def answer_positions(window: Window, start: int, end: int) -> tuple[int, int]:
    """Token positions of the characters ``start:end`` in the window, or (0, 0) when the
    window does not hold all of them."""
    first = next((i for i, o in enumerate(window.offsets) if o is not None), None)
    last = next(
        (i for i in range(len(window.offsets) - 1, -1, -1) if window.offsets[i] is not None), None
    )
    if first is None or last is None:
        return 0, 0
    first_offset, last_offset = window.offsets[first], window.offsets[last]
    assert first_offset is not None and last_offset is not None
    if start < first_offset[0] or end > last_offset[1]:
        return 0, 0
    start_token = first
    while start_token <= last and _end_of(window, start_token) <= start:
        start_token += 1
    end_token = last
    while end_token >= start_token and _start_of(window, end_token) >= end:
        end_token -= 1
    if start_token > end_token:
        return 0, 0
    return start_token, end_token


def _start_of(window: Window, token: int) -> int:
    offset = window.offsets[token]
    return offset[0] if offset is not None else -1


def _end_of(window: Window, token: int) -> int:
    offset = window.offsets[token]
    return offset[1] if offset is not None else -1


def features_for(
    tokenizer: Any, examples: Sequence[Example], max_length: int, stride: int, batch: int = 2048
) -> list[Feature]:
    """Every window of every example, labelled with its example's first answer."""
    features: list[Feature] = []
    for first in range(0, len(examples), batch):
        part = examples[first : first + batch]
        windows = window_pairs(
            tokenizer, [e.question for e in part], [e.context for e in part], max_length, stride
        )
        for window in windows:
            index = first + window.context_index
            start, end = 0, 0
            if examples[index].answers:
                answer = examples[index].answers[0]
                start, end = answer_positions(window, answer.start, answer.end)
            features.append(Feature(window, start, end, index))
    return features
