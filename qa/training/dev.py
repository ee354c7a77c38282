"""The dev-split evaluation: answerable F1 and unanswerable accuracy at the chosen no-answer
threshold, the calibration of the margin, and a score-band table."""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import asdict, dataclass

import numpy as np

from qa.evaluation.metrics import exact_match, token_f1
from qa.reader_model import Calibration, SpanModel
from qa.training.examples import Example

BANDS = 10


@dataclass(frozen=True)
class Prediction:
    example: Example
    text: str  # the best span, whatever the threshold
    margin: float  # best span score minus the no-answer score
    span_f1: float  # of ``text`` against the gold answers (0 for an unanswerable question)
    span_exact: float

    @classmethod
    def of(cls, example: Example, text: str, margin: float) -> Prediction:
        aliases = [a.text for a in example.answers]
        return cls(example, text, margin, token_f1(text, aliases), exact_match(text, aliases))

    def f1(self, threshold: float) -> float:
        """F1 at ``threshold``; abstaining on an unanswerable question is worth 1."""
        answered = self.margin >= threshold
        if not self.example.answerable:
            return float(not answered)
        return self.span_f1 if answered else 0.0

    def exact(self, threshold: float) -> float:
        answered = self.margin >= threshold
        if not self.example.answerable:
            return float(not answered)
        return self.span_exact if answered else 0.0

    @property
    def span_right(self) -> bool:
        """The best span is a right answer (F1 >= 0.5 with some gold answer)."""
        return self.span_f1 >= 0.5


@dataclass(frozen=True)
class DevFigures:
    threshold: float  # the margin at which the reader answers
    answerable_f1: float
    answerable_exact: float
    unanswerable_accuracy: float
    overall_f1: float
    span_f1: float  # answerable F1 with no threshold (the best span always given)
    answerable: int
    unanswerable: int
    by_source: dict[str, dict[str, float]]
    by_kind: dict[str, float]  # unanswerable accuracy per way of making them
    bands: list[dict[str, float]]
    calibration: dict[str, float]

    def as_dict(self) -> dict[str, object]:
        return asdict(self)


def predict(model: SpanModel, examples: Sequence[Example], batch: int = 64) -> list[Prediction]:
    predictions: list[Prediction] = []
    for first in range(0, len(examples), batch):
        part = examples[first : first + batch]
        readings = model.read_batch([(e.question, [e.context]) for e in part])
        for example, (reading,) in zip(part, readings, strict=True):
            best = reading.best
            text = example.context[best.start : best.end] if best else ""
            predictions.append(Prediction.of(example, text, reading.margin))
    return predictions


def choose_threshold(predictions: Sequence[Prediction]) -> float:
    """The margin that maximises overall F1 (answerable F1 and unanswerable accuracy alike),
    as SQuAD 2.0's best-threshold search does."""
    candidates = sorted({p.margin for p in predictions if math.isfinite(p.margin)})
    if not candidates:
        return 0.0
    best, best_f1 = 0.0, -1.0
    # Sweeping up the sorted margins: at threshold t everything with margin >= t answers.
    for threshold in candidates[:: max(1, len(candidates) // 400)] + [0.0]:
        f1 = sum(p.f1(threshold) for p in predictions) / len(predictions)
        if f1 > best_f1:
            best, best_f1 = threshold, f1
    return best


def fit_calibration(predictions: Sequence[Prediction]) -> Calibration:
    """Logistic regression of "the best span is right" on the margin (Newton's method)."""
    margins = np.array([p.margin for p in predictions if math.isfinite(p.margin)])
    right = np.array([p.span_right for p in predictions if math.isfinite(p.margin)], float)
    if len(margins) < 2 or right.min() == right.max():
        return Calibration()
    weights = np.zeros(2)
    design = np.stack([margins, np.ones_like(margins)], axis=1)
    for _ in range(50):
        p = 1.0 / (1.0 + np.exp(-(design @ weights)))
        gradient = design.T @ (p - right)
        hessian = design.T @ (design * (p * (1 - p))[:, None]) + 1e-6 * np.eye(2)
        step = np.linalg.solve(hessian, gradient)
        weights -= step
        if np.abs(step).max() < 1e-8:
            break
    return Calibration(float(weights[0]), float(weights[1]))


def score_bands(
    predictions: Sequence[Prediction], calibration: Calibration, threshold: float
) -> list[dict[str, float]]:
    """Per band of calibrated score, the answers given and the share of them that were right."""
    counts = [[0, 0] for _ in range(BANDS)]
    for p in predictions:
        if p.margin < threshold:
            continue
        band = min(int(calibration.probability(p.margin) * BANDS), BANDS - 1)
        counts[band][0] += 1
        counts[band][1] += int(p.span_right)
    return [
        {
            "low": i / BANDS,
            "high": (i + 1) / BANDS,
            "answered": n,
            "right": (right / n if n else float("nan")),
        }
        for i, (n, right) in enumerate(counts)
    ]


def _mean(values: Sequence[float]) -> float:
    return sum(values) / len(values) if values else float("nan")


def dev_figures(predictions: Sequence[Prediction], threshold: float | None = None) -> DevFigures:
    """The dev figures at ``threshold`` (chosen on these predictions when not given)."""
    if threshold is None:
        threshold = choose_threshold(predictions)
    calibration = fit_calibration(predictions)
    answerable = [p for p in predictions if p.example.answerable]
    unanswerable = [p for p in predictions if not p.example.answerable]
    by_source: dict[str, dict[str, float]] = {}
    sources: dict[str, list[Prediction]] = defaultdict(list)
    for p in predictions:
        sources[p.example.source].append(p)
    for source, items in sorted(sources.items()):
        by_source[source] = {
            "answerable_f1": _mean([p.f1(threshold) for p in items if p.example.answerable]),
            "unanswerable_accuracy": _mean(
                [p.f1(threshold) for p in items if not p.example.answerable]
            ),
        }
    kinds: dict[str, list[float]] = defaultdict(list)
    for p in unanswerable:
        kinds[p.example.kind].append(p.f1(threshold))
    return DevFigures(
        threshold=threshold,
        answerable_f1=_mean([p.f1(threshold) for p in answerable]),
        answerable_exact=_mean([p.exact(threshold) for p in answerable]),
        unanswerable_accuracy=_mean([p.f1(threshold) for p in unanswerable]),
        overall_f1=_mean([p.f1(threshold) for p in predictions]),
        span_f1=_mean([p.f1(-math.inf) for p in answerable]),
        answerable=len(answerable),
        unanswerable=len(unanswerable),
        by_source=by_source,
        by_kind={kind: _mean(values) for kind, values in sorted(kinds.items())},
        bands=score_bands(predictions, calibration, threshold),
        calibration={
            "slope": calibration.slope,
            "intercept": calibration.intercept,
            "threshold_probability": calibration.probability(threshold),
        },
    )
