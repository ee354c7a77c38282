"""The trained span reader at question time: the model folder loaded once, (question, passage)
pairs read in overlapping windows in one batch, spans mapped back to character offsets.

The model is a BERT-style encoder with start/end logits (``AutoModelForQuestionAnswering``);
the first token ([CLS]) is where it points when the window does not answer (SQuAD 2.0 style).
A span's ``margin`` is its score minus that no-answer score; ``calibration.json`` beside the
weights maps a margin to the probability that the span is right, fitted on the dev split.
"""

from __future__ import annotations

import copy
import json
import math
import os
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

CALIBRATION_FILE = "calibration.json"
MAX_QUESTION_TOKENS = 64


@dataclass(frozen=True)
class Window:
    """One model input: the question and a stretch of one context."""

    context_index: int
    input_ids: list[int]
    token_type_ids: list[int]
    # Each token's character span in its context, or None for the question and specials.
    offsets: list[tuple[int, int] | None]


@dataclass(frozen=True)
class ScoredSpan:
    start: int  # character offsets into the context
    end: int
    score: float  # start logit + end logit


@dataclass(frozen=True)
class ContextReading:
    """What the model says about one context: its best spans and how sure it is of none."""

    context_index: int
    spans: tuple[ScoredSpan, ...]  # best first, not overlapping
    null_score: float  # the lowest no-answer score of the context's windows

    @property
    def best(self) -> ScoredSpan | None:
        return self.spans[0] if self.spans else None

    @property
    def margin(self) -> float:
        """Best span over no answer: above 0 the model would rather answer."""
        return self.spans[0].score - self.null_score if self.spans else -math.inf


@dataclass(frozen=True)
class Calibration:
    """P(span is right) = sigmoid(slope * margin + intercept), fitted on the dev split."""

    slope: float = 1.0
    intercept: float = 0.0
    # The score at the no-answer threshold chosen on the dev split: the service's default.
    threshold_probability: float = 0.5

    def probability(self, margin: float) -> float:
        if margin == -math.inf:
            return 0.0
        return 1.0 / (1.0 + math.exp(-(self.slope * margin + self.intercept)))

    def margin_for(self, probability: float) -> float:
        """The margin at which ``probability`` is reached."""
        p = min(max(probability, 1e-6), 1 - 1e-6)
        return (math.log(p / (1 - p)) - self.intercept) / self.slope

    @classmethod
    def read(cls, folder: Path) -> Calibration:
        path = folder / CALIBRATION_FILE
        if not path.exists():
            return cls()
        data = json.loads(path.read_text())
        return cls(
            float(data["slope"]),
            float(data["intercept"]),
            float(data.get("threshold_probability", 0.5)),
        )

    def write(self, folder: Path, **extra: object) -> None:
        data = {
            "slope": self.slope,
            "intercept": self.intercept,
            "threshold_probability": self.threshold_probability,
            **extra,
        }
        (folder / CALIBRATION_FILE).write_text(json.dumps(data, indent=2) + "\n")


def window_contexts(
    tokenizer: Any, question: str, contexts: Sequence[str], max_length: int, stride: int
) -> list[Window]:
    """Each context cut into windows of at most ``max_length`` tokens with the question first,
    neighbouring windows sharing ``stride`` tokens, so no answer is cut at a window's edge."""
    return window_pairs(tokenizer, [question] * len(contexts), contexts, max_length, stride)


def window_pairs(
    tokenizer: Any,
    questions: Sequence[str],
    contexts: Sequence[str],
    max_length: int,
    stride: int,
) -> list[Window]:
    """``window_contexts`` for pairs: ``questions[i]`` with ``contexts[i]``, tokenised in one
    call (``Window.context_index`` is the pair's index)."""
    if not contexts:
        return []
    capped = {q: _capped_question(tokenizer, q) for q in set(questions)}
    encoded = tokenizer(
        [capped[q] for q in questions],
        list(contexts),
        truncation="only_second",
        max_length=max_length,
        stride=stride,
        return_overflowing_tokens=True,
        return_offsets_mapping=True,
        padding=False,
    )
    windows: list[Window] = []
    for number, input_ids in enumerate(encoded["input_ids"]):
        sequence_ids = encoded.sequence_ids(number)
        offsets = [
            (int(span[0]), int(span[1])) if sequence_ids[i] == 1 else None
            for i, span in enumerate(encoded["offset_mapping"][number])
        ]
        windows.append(
            Window(
                context_index=int(encoded["overflow_to_sample_mapping"][number]),
                input_ids=list(input_ids),
                token_type_ids=list(encoded["token_type_ids"][number]),
                offsets=offsets,
            )
        )
    return windows


def _capped_question(tokenizer: Any, question: str) -> str:
    """A question of at most ``MAX_QUESTION_TOKENS`` tokens (cut at a token's end)."""
    encoded = tokenizer(question, add_special_tokens=False, return_offsets_mapping=True)
    offsets = encoded["offset_mapping"]
    if len(offsets) <= MAX_QUESTION_TOKENS:
        return question
    return question[: offsets[MAX_QUESTION_TOKENS - 1][1]]


def best_spans(
    window: Window,
    start_logits: np.ndarray,
    end_logits: np.ndarray,
    max_answer_tokens: int,
    candidates: int = 20,
) -> list[ScoredSpan]:
    """The window's best-scoring spans inside its context, best first (may overlap)."""
    in_context = np.array([o is not None for o in window.offsets])
    if not in_context.any():
        return []
    starts = np.where(in_context, start_logits[: len(in_context)], -np.inf)
    ends = np.where(in_context, end_logits[: len(in_context)], -np.inf)
    top_starts = np.argsort(-starts)[:candidates]
    top_ends = np.argsort(-ends)[:candidates]
    spans: list[ScoredSpan] = []
    for s in top_starts:
        if not in_context[s]:
            continue
        for e in top_ends:
            if not in_context[e] or e < s or e - s + 1 > max_answer_tokens:
                continue
            start_offset, end_offset = window.offsets[s], window.offsets[e]
            assert start_offset is not None and end_offset is not None
            spans.append(ScoredSpan(start_offset[0], end_offset[1], float(starts[s] + ends[e])))
    spans.sort(key=lambda span: -span.score)
    return spans


def _not_overlapping(spans: list[ScoredSpan], wanted: int) -> tuple[ScoredSpan, ...]:
    kept: list[ScoredSpan] = []
    for span in spans:
        if all(span.end <= k.start or span.start >= k.end for k in kept):
            kept.append(span)
            if len(kept) == wanted:
                break
    return tuple(kept)


class SpanModel:
    """A span-extraction model and its tokenizer, loaded once; ``read`` many times."""

    def __init__(
        self,
        model: Any,
        tokenizer: Any,
        calibration: Calibration | None = None,
        max_length: int = 256,
        stride: int = 64,
        max_answer_tokens: int = 30,
        batch_size: int = 32,
    ) -> None:
        self.model = model
        self.tokenizer = tokenizer
        self.calibration = calibration or Calibration()
        self.max_length = max_length
        self.stride = stride
        self.max_answer_tokens = max_answer_tokens
        self.batch_size = batch_size
        self._bf16 = _native_bf16()
        self._lock = threading.Lock()
        self._counting_tokenizer: Any = None
        self._counting_lock = threading.Lock()

    @classmethod
    def load(cls, folder: Path, **options: Any) -> SpanModel:
        """The model folder (Hugging Face format) with its calibration, offline."""
        os.environ.setdefault("HF_HUB_OFFLINE", "1")
        os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
        import torch
        from transformers import AutoModelForQuestionAnswering, AutoTokenizer
        from transformers.utils import logging as hf_logging

        hf_logging.set_verbosity_error()
        hf_logging.disable_progress_bar()
        tokenizer = AutoTokenizer.from_pretrained(str(folder), local_files_only=True)
        model = AutoModelForQuestionAnswering.from_pretrained(
            str(folder), local_files_only=True, dtype=torch.float32
        )
        return cls(model.eval(), tokenizer, Calibration.read(folder), **options)

    def count_tokens(self, text: str) -> int:
        """How many of the model's tokens ``text`` is, without special tokens.

        Counted with a copy of the tokenizer: a fast tokenizer's truncation settings are
        state, and a call without them while a reading tokenises with them would clash.
        """
        with self._counting_lock:
            if self._counting_tokenizer is None:
                self._counting_tokenizer = copy.deepcopy(self.tokenizer)
            encoded = self._counting_tokenizer(text, add_special_tokens=False, truncation=False)
        return len(encoded["input_ids"])

    def read(
        self, question: str, contexts: Sequence[str], spans_per_context: int = 1
    ) -> list[ContextReading]:
        """One reading per context, in order: its best spans and its no-answer score."""
        return self.read_batch([(question, contexts)], spans_per_context)[0]

    def read_batch(
        self, items: Sequence[tuple[str, Sequence[str]]], spans_per_context: int = 1
    ) -> list[list[ContextReading]]:
        """``read`` for several questions, their windows batched together."""
        windows: list[tuple[int, Window]] = []
        for number, (question, contexts) in enumerate(items):
            windows.extend(
                (number, w)
                for w in window_contexts(
                    self.tokenizer, question, contexts, self.max_length, self.stride
                )
            )
        logits = self.logits([w for _, w in windows])
        found = [[[] for _ in contexts] for _, contexts in items]
        null = [[math.inf for _ in contexts] for _, contexts in items]
        for (number, window), (start_logits, end_logits) in zip(windows, logits, strict=True):
            index = window.context_index
            null[number][index] = min(null[number][index], float(start_logits[0] + end_logits[0]))
            found[number][index].extend(
                best_spans(window, start_logits, end_logits, self.max_answer_tokens)
            )
        readings: list[list[ContextReading]] = []
        for number, per_context in enumerate(found):
            row = []
            for index, spans in enumerate(per_context):
                spans.sort(key=lambda span: -span.score)
                kept = _not_overlapping(spans, spans_per_context)
                row.append(ContextReading(index, kept, null[number][index]))
            readings.append(row)
        return readings

    def logits(self, windows: Sequence[Window]) -> list[tuple[np.ndarray, np.ndarray]]:
        """Start and end logits of each window, computed in batches of similar length."""
        import torch

        results: list[tuple[np.ndarray, np.ndarray]] = [None] * len(windows)  # type: ignore[list-item]
        order = sorted(range(len(windows)), key=lambda i: len(windows[i].input_ids))
        pad_id = int(self.tokenizer.pad_token_id or 0)
        # On the CPU where it has native bf16; on a GPU (training's dev readings) always.
        device = next(self.model.parameters()).device
        with (
            self._lock,
            torch.inference_mode(),
            torch.autocast(
                device.type, dtype=torch.bfloat16, enabled=self._bf16 or device.type == "cuda"
            ),
        ):
            for first in range(0, len(order), self.batch_size):
                rows = order[first : first + self.batch_size]
                batch = pad_windows([windows[i] for i in rows], pad_id)
                output = self.model(**{k: v.to(device) for k, v in batch.items()})
                starts = output.start_logits.float().cpu().numpy()
                ends = output.end_logits.float().cpu().numpy()
                for row, index in enumerate(rows):
                    results[index] = (starts[row], ends[row])
        return results


def pad_windows(windows: Sequence[Window], pad_id: int = 0) -> dict[str, Any]:
    """A batch of windows as padded tensors (input ids, token types, attention mask)."""
    import torch

    width = max(len(w.input_ids) for w in windows)
    ids = torch.full((len(windows), width), pad_id, dtype=torch.long)
    types = torch.zeros_like(ids)
    mask = torch.zeros_like(ids)
    for row, window in enumerate(windows):
        n = len(window.input_ids)
        ids[row, :n] = torch.tensor(window.input_ids)
        types[row, :n] = torch.tensor(window.token_type_ids)
        mask[row, :n] = 1
    return {"input_ids": ids, "token_type_ids": types, "attention_mask": mask}


def _native_bf16() -> bool:
    from qa.embedding import resolve_precision

    return resolve_precision("auto") == "bfloat16"
