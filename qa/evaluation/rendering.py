"""The report as people read it: report.md, and the compact table `qa eval` prints."""

from __future__ import annotations

from qa.evaluation.figures import GATED_FIGURES, TARGETS, TargetCheck
from qa.evaluation.metrics import LIST_MATCH_F1
from qa.evaluation.report import EvaluationReport
from qa.evaluation.scoring import CORRECT_F1, EVAL_TOP_K

_HEADLINE_ROWS: tuple[tuple[str, str], ...] = (
    ("exact_match", "Exact match"),
    ("f1", "Token F1"),
    ("list_precision", "List precision"),
    ("list_recall", "List recall"),
    ("list_f1", "List F1"),
    ("citation_accuracy", "Citation accuracy"),
    ("abstention_accuracy", "Abstention accuracy"),
    ("false_abstention_rate", "False-abstention rate"),
    ("followup_accuracy", "Follow-up accuracy"),
    ("accuracy", "Right overall"),
)

_RETRIEVAL_ROWS: tuple[tuple[str, str], ...] = (
    ("recall_at_1", "Recall@1"),
    ("recall_at_5", "Recall@5"),
    ("recall_at_10", "Recall@10"),
    ("mrr", "MRR"),
)

RULES = f"""\
- **Exact match / token F1**: SQuAD normalisation, best alias; single-answer answerable questions;
  the prediction is the first answer's text, "" when the service abstained.
- **List precision / recall / F1**: list questions, every answer's text a prediction; a prediction
  matches an item on an exact alias match or token F1 >= {LIST_MATCH_F1}; macro-averaged.
- **Right** (follow-up accuracy, per-category "right", calibration, failures): single answers EM > 0
  or F1 >= {CORRECT_F1}; lists list F1 >= {CORRECT_F1}; unanswerable questions abstained.
- **Citation accuracy**: answered answerable questions; a single answer scores 1 when its first
  citation's quote contains the answer text and comes from a gold document; a list scores the
  share of its answers that are right items so cited. Averaged per question.
- **Abstention accuracy**: unanswerable questions abstained on. **False-abstention rate**:
  answerable questions abstained on.
- **Follow-up accuracy**: questions with a history, asked after their history questions through
  the same conversation code (each earlier response becomes a `Turn`), scored by the "right" rule.
- **Recall@k / MRR**: answerable questions; a passage is relevant when it comes from a gold
  document and holds a gold evidence sentence or an answer alias (normalised text); `ask` is called
  with top_k={EVAL_TOP_K}. MRR counts 0 when no relevant passage is in the top {EVAL_TOP_K}.
- **Latency**: wall time of the scored `ask` call (history turns not timed); not gated.
- **Baseline**: "the top retrieved sentence is the answer": of the first passage of the same
  response, the sentence (regex split) sharing most content terms with the resolved question,
  cited to that passage; it never abstains. Same passages, so retrieval is shared.
"""


def _fmt(value: float | None, digits: int = 3) -> str:
    return "n/a" if value is None else f"{value:.{digits}f}"


def _met(check: TargetCheck) -> str:
    return "n/a" if check.met is None else ("met" if check.met else "not met")


def _cell(text: str, limit: int = 160) -> str:
    """Text fit for a markdown table cell: one line, pipes escaped, long text cut."""
    flat = " ".join(text.split()).replace("|", "\\|")
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"


def _target_text(name: str) -> str:
    if name not in TARGETS:
        return ""
    return ("≥ " if GATED_FIGURES.get(name, True) else "≤ ") + f"{TARGETS[name]:.2f}"


def render_markdown(report: EvaluationReport) -> str:
    """report.md: headline, retrieval, categories, calibration, rules, then every failure."""
    met = {check.figure: _met(check) for check in report.targets}
    lines = [
        "# Evaluation report",
        "",
        f"{report.reader.questions} gold questions, asked through `Answerer.ask` "
        f"(top_k={report.top_k}).",
        "",
        "## Headline: reader against the baseline",
        "",
        "| Figure | Reader | Baseline | Target | Reader meets target |",
        "|---|---:|---:|---:|---|",
    ]
    for name, label in _HEADLINE_ROWS:
        reader, baseline = getattr(report.reader, name), getattr(report.baseline, name)
        lines.append(
            f"| {label} | {_fmt(reader)} | {_fmt(baseline)} | {_target_text(name)} "
            f"| {met.get(name, '')} |"
        )
    lines += [
        "",
        "## Retrieval and latency (shared by reader and baseline)",
        "",
        "| Figure | Value | Target | Meets target |",
        "|---|---:|---:|---|",
    ]
    for name, label in _RETRIEVAL_ROWS:
        lines.append(
            f"| {label} | {_fmt(getattr(report.reader, name))} | {_target_text(name)} "
            f"| {met.get(name, '')} |"
        )
    lines += [
        f"| Latency p50 (ms) | {_fmt(report.reader.latency_p50_ms, 1)} | | |",
        f"| Latency p95 (ms) | {_fmt(report.reader.latency_p95_ms, 1)} | | |",
        "",
        "## Per category",
        "",
        "| Category | n | Right | Baseline right | EM | F1 | List F1 | Citation | Abstained |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for category, figures in report.categories.items():
        base = report.baseline_categories[category]
        abstained = sum(r.abstained for r in report.items if r.category == category)
        lines.append(
            f"| {category} | {figures.questions} | {_fmt(figures.accuracy)} "
            f"| {_fmt(base.accuracy)} | {_fmt(figures.exact_match)} | {_fmt(figures.f1)} "
            f"| {_fmt(figures.list_f1)} | {_fmt(figures.citation_accuracy)} "
            f"| {abstained}/{figures.questions} |"
        )
    lines += [
        "",
        "## Calibration of the first answer's score",
        "",
        "| Score band | Answered | Right | Share right |",
        "|---|---:|---:|---:|",
    ]
    for band in report.calibration:
        lines.append(
            f"| {band.low:.1f}–{band.high:.1f} | {band.answered} | {band.right} "
            f"| {_fmt(band.share_right, 2)} |"
        )
    failures = report.failures
    lines += [
        "",
        "## How the figures are computed",
        "",
        RULES,
        f"## Failed questions ({len(failures)} of {report.reader.questions})",
        "",
        "| id | category | question | expected | got | score |",
        "|---|---|---|---|---|---:|",
    ]
    for failure in failures:
        question = failure.question
        if failure.history:
            question = f"{' → '.join(failure.history)} → {question}"
        if failure.resolved_question and failure.resolved_question != failure.question:
            question += f" (resolved: {failure.resolved_question})"
        got = "; ".join(failure.predictions) if failure.predictions else "(abstained)"
        lines.append(
            f"| {failure.id} | {failure.category} | {_cell(question, 300)} "
            f"| {_cell(failure.expected)} | {_cell(got)} | {_fmt(failure.score, 2)} |"
        )
    return "\n".join(lines) + "\n"


def render_summary(report: EvaluationReport) -> str:
    """The compact table `qa eval` prints."""
    met = {check.figure: _met(check) for check in report.targets}
    rows = [("figure", "reader", "baseline", "target", "")]
    for name, label in (*_HEADLINE_ROWS, *_RETRIEVAL_ROWS):
        baseline = "" if (name, label) in _RETRIEVAL_ROWS else _fmt(getattr(report.baseline, name))
        rows.append(
            (
                label,
                _fmt(getattr(report.reader, name)),
                baseline,
                _target_text(name),
                met.get(name, ""),
            )
        )
    rows.append(
        (
            "Latency p50/p95 ms",
            f"{_fmt(report.reader.latency_p50_ms, 0)}/{_fmt(report.reader.latency_p95_ms, 0)}",
            "",
            "",
            "",
        )
    )
    widths = [max(len(row[i]) for row in rows) for i in range(5)]
    lines = [
        "  ".join(
            cell.ljust(w) if i == 0 else cell.rjust(w)
            for i, (cell, w) in enumerate(zip(row, widths, strict=True))
        ).rstrip()
        for row in rows
    ]
    lines.append(f"{len(report.failures)} of {report.reader.questions} questions failed")
    return "\n".join(lines)
