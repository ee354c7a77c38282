"""Item results averaged into figures, the calibration of the first answer's score, and the
targets and gated figures."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from pydantic import BaseModel, ConfigDict

from qa.evaluation.metrics import percentile
from qa.evaluation.scoring import ItemResult

RECALL_KS = (1, 5, 10)
CALIBRATION_BANDS = 5

# The figures `--check` gates, each with whether higher is better. Latency is not gated: it
# depends on the machine, not on the change.
GATED_FIGURES: dict[str, bool] = {
    "exact_match": True,
    "f1": True,
    "list_f1": True,
    "citation_accuracy": True,
    "abstention_accuracy": True,
    "false_abstention_rate": False,
    "followup_accuracy": True,
    "recall_at_5": True,
    "mrr": True,
}

# The targets: a floor for each figure, a ceiling for the false-abstention rate.
TARGETS: dict[str, float] = {
    "exact_match": 0.75,
    "f1": 0.85,
    "list_f1": 0.80,
    "citation_accuracy": 0.95,
    "abstention_accuracy": 0.90,
    "false_abstention_rate": 0.10,
    "followup_accuracy": 0.80,
    "recall_at_5": 0.95,
}


class Figures(BaseModel):
    """The headline figures of one system over some gold questions; None where none applies."""

    model_config = ConfigDict(frozen=True)

    questions: int
    accuracy: float | None  # share right by the CORRECT_F1 rule, every question
    exact_match: float | None
    f1: float | None
    list_precision: float | None
    list_recall: float | None
    list_f1: float | None
    citation_accuracy: float | None
    abstention_accuracy: float | None
    false_abstention_rate: float | None
    followup_accuracy: float | None
    recall_at_1: float | None
    recall_at_5: float | None
    recall_at_10: float | None
    mrr: float | None
    latency_p50_ms: float | None
    latency_p95_ms: float | None


def _mean(values: Iterable[float | None]) -> float | None:
    present = [v for v in values if v is not None]
    return sum(present) / len(present) if present else None


def _recall_at(results: Sequence[ItemResult], k: int) -> float | None:
    answerable = [r for r in results if r.answerable]
    if not answerable:
        return None
    return sum(r.relevant_rank is not None and r.relevant_rank <= k for r in answerable) / len(
        answerable
    )


def summarise(results: Sequence[ItemResult]) -> Figures:
    """Average item results into figures (list scores macro-averaged over list questions)."""
    answerable = [r for r in results if r.answerable]
    latencies = [r.latency_ms for r in results]
    recall = {k: _recall_at(results, k) for k in RECALL_KS}
    return Figures(
        questions=len(results),
        accuracy=_mean(float(r.correct) for r in results),
        exact_match=_mean(r.exact_match for r in results),
        f1=_mean(r.f1 for r in results),
        list_precision=_mean(r.list_precision for r in results),
        list_recall=_mean(r.list_recall for r in results),
        list_f1=_mean(r.list_f1 for r in results),
        citation_accuracy=_mean(r.citation for r in results),
        abstention_accuracy=_mean(float(r.abstained) for r in results if not r.answerable),
        false_abstention_rate=_mean(float(r.abstained) for r in answerable),
        followup_accuracy=_mean(float(r.correct) for r in results if r.history),
        recall_at_1=recall[1],
        recall_at_5=recall[5],
        recall_at_10=recall[10],
        mrr=_mean(1.0 / r.relevant_rank if r.relevant_rank else 0.0 for r in answerable),
        latency_p50_ms=percentile(latencies, 50) if latencies else None,
        latency_p95_ms=percentile(latencies, 95) if latencies else None,
    )


class CalibrationBand(BaseModel):
    """Answered questions whose first answer scored in [low, high), and how many were right."""

    low: float
    high: float
    answered: int
    right: int

    @property
    def share_right(self) -> float | None:
        return self.right / self.answered if self.answered else None


def calibrate(
    results: Sequence[ItemResult], bands: int = CALIBRATION_BANDS
) -> list[CalibrationBand]:
    """Per score band, how often an answer was right (an answer to an unanswerable is wrong)."""
    counts = [[0, 0] for _ in range(bands)]
    for result in results:
        if result.score is None:
            continue
        band = min(int(result.score * bands), bands - 1)  # a score of 1.0 joins the top band
        counts[band][0] += 1
        counts[band][1] += int(result.correct)
    return [
        CalibrationBand(low=i / bands, high=(i + 1) / bands, answered=n, right=right)
        for i, (n, right) in enumerate(counts)
    ]


class TargetCheck(BaseModel):
    figure: str
    target: float
    value: float | None
    met: bool | None  # None when the figure could not be computed


def check_targets(figures: Figures) -> list[TargetCheck]:
    """The issue's targets, met or not; the false-abstention rate is a ceiling."""
    checks = []
    for name, target in TARGETS.items():
        value = getattr(figures, name)
        met = None
        if value is not None:
            met = value >= target if GATED_FIGURES.get(name, True) else value <= target
        checks.append(TargetCheck(figure=name, target=target, value=value, met=met))
    return checks
