"""Everything one `qa eval` run measured: the reader's responses scored, and the baseline's
made from the same responses, into one ``EvaluationReport`` (report.json is this model)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import get_args

from pydantic import BaseModel

from qa.answering import AskResponse
from qa.evaluation.figures import (
    CalibrationBand,
    Figures,
    TargetCheck,
    calibrate,
    check_targets,
    summarise,
)
from qa.evaluation.gold import Category, GoldItem
from qa.evaluation.plain_baseline import baseline_response
from qa.evaluation.scoring import EVAL_TOP_K, ItemResult, score_item


class EvaluationReport(BaseModel):
    """Everything one `qa eval` run measured; report.json is this model."""

    top_k: int
    reader: Figures
    baseline: Figures
    categories: dict[str, Figures]
    baseline_categories: dict[str, Figures]
    calibration: list[CalibrationBand]
    targets: list[TargetCheck]
    items: list[ItemResult]
    baseline_items: list[ItemResult]

    @property
    def failures(self) -> list[ItemResult]:
        return [r for r in self.items if not r.correct]


def _by_category(results: Sequence[ItemResult]) -> dict[str, Figures]:
    return {
        category: summarise([r for r in results if r.category == category])
        for category in get_args(Category)
        if any(r.category == category for r in results)
    }


def build_report(
    gold: Sequence[GoldItem], responses: Sequence[AskResponse], latencies_ms: Sequence[float]
) -> EvaluationReport:
    """Score the reader's responses, and the baseline's made from the same responses."""
    if not len(gold) == len(responses) == len(latencies_ms):
        raise ValueError("one response and one latency per gold item")
    items = [
        score_item(item, response, latency)
        for item, response, latency in zip(gold, responses, latencies_ms, strict=True)
    ]
    baseline_items = [
        score_item(item, baseline_response(response), latency)
        for item, response, latency in zip(gold, responses, latencies_ms, strict=True)
    ]
    reader = summarise(items)
    return EvaluationReport(
        top_k=EVAL_TOP_K,
        reader=reader,
        baseline=summarise(baseline_items),
        categories=_by_category(items),
        baseline_categories=_by_category(baseline_items),
        calibration=calibrate(items),
        targets=check_targets(reader),
        items=items,
        baseline_items=baseline_items,
    )
