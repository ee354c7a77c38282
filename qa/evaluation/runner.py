"""The runner: ``evaluate`` asks every gold question through ``Answerer.ask``, the code path
of ``POST /ask``, conversations included; ``run_cli`` is `qa eval`: report files, baseline
gate."""

from __future__ import annotations

import json
import os
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Protocol

from qa.answering import AskResponse
from qa.conversation import Turn
from qa.evaluation.baseline_gate import (
    DEFAULT_TOLERANCE,
    BaselineFileError,
    baseline_figures,
    check_against_baseline,
    load_baseline,
)
from qa.evaluation.gold import GoldFileError, GoldItem, load_gold
from qa.evaluation.rendering import render_markdown, render_summary
from qa.evaluation.report import EvaluationReport, build_report
from qa.evaluation.scoring import EVAL_TOP_K
from qa.settings import Settings


class SupportsAsk(Protocol):
    """What the runner needs of an answerer: ``Answerer`` itself, or a fake in tests."""

    def ask(self, question: str, top_k: int = 5, history: Sequence[Turn] = ()) -> AskResponse: ...


def ask_gold(
    answerer: SupportsAsk,
    item: GoldItem,
    top_k: int = EVAL_TOP_K,
    clock: Callable[[], float] = time.perf_counter,
) -> tuple[AskResponse, float]:
    """Ask one gold question as a user would, after its history; the response and its ms."""
    turns: list[Turn] = []
    for earlier in item.history:
        response = answerer.ask(earlier, top_k=top_k, history=list(turns))
        turns.append(
            Turn(
                question=earlier,
                resolved_question=response.resolved_question,
                answers=[answer.text for answer in response.answers],
            )
        )
    started = clock()
    response = answerer.ask(item.question, top_k=top_k, history=list(turns))
    return response, (clock() - started) * 1000.0


def evaluate(
    answerer: SupportsAsk,
    gold: Sequence[GoldItem],
    clock: Callable[[], float] = time.perf_counter,
) -> EvaluationReport:
    """Run the gold set through ``answerer.ask`` and score it; the only part that asks."""
    responses: list[AskResponse] = []
    latencies: list[float] = []
    for item in gold:
        response, latency = ask_gold(answerer, item, clock=clock)
        responses.append(response)
        latencies.append(latency)
    return build_report(gold, responses, latencies)


def write_report(report: EvaluationReport, out_dir: Path) -> None:
    out_dir.mkdir(parents=True, exist_ok=True)
    _write_atomically(out_dir / "report.md", render_markdown(report))
    _write_atomically(out_dir / "report.json", report.model_dump_json(indent=2) + "\n")


def run_cli(
    settings: Settings,
    gold_path: Path,
    out_dir: Path,
    check: bool = False,
    baseline_path: Path = Path("eval/baseline.json"),
    write_baseline: bool = False,
    answerer: SupportsAsk | None = None,
) -> int:
    """`qa eval`: run the gold set, write the reports, gate on or record the baseline.

    Exit codes: 0 fine, 1 a gated figure fell beyond the tolerance, 2 unusable input.
    """
    try:
        gold = load_gold(gold_path)
        baseline = load_baseline(baseline_path) if check else None
    except (GoldFileError, BaselineFileError) as error:
        print(f"qa: {error}", file=sys.stderr)
        return 2
    if answerer is None:
        from qa.answering import Answerer

        answerer = Answerer(settings)
    report = evaluate(answerer, gold)
    write_report(report, out_dir)
    print(render_summary(report))
    print(f"report: {out_dir / 'report.md'}, {out_dir / 'report.json'}")

    status = 0
    if baseline is not None:
        regressions = check_against_baseline(report.reader, baseline)
        for regression in regressions:
            print(f"FAIL {regression.describe()}", file=sys.stderr)
        if regressions:
            status = 1
        else:
            tolerance = baseline.get("tolerance", DEFAULT_TOLERANCE)
            print(f"check passed: no gated figure fell by more than {tolerance:.3f}")
    if write_baseline:
        if status:
            print("baseline not written: this run fell below it", file=sys.stderr)
        else:
            baseline_path.parent.mkdir(parents=True, exist_ok=True)
            saved = baseline_figures(report.reader)
            _write_atomically(baseline_path, json.dumps(saved, indent=2) + "\n")
            print(f"baseline written: {baseline_path}")
    return status


def _write_atomically(path: Path, text: str) -> None:
    """Write beside the file, then rename: an interrupted run never leaves half a baseline."""
    pending = path.with_name(f".{path.name}.pending")
    pending.write_text(text, encoding="utf-8")
    os.replace(pending, path)
