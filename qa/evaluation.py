"""Gold questions and the metrics that score answers against them.

Single answers are scored SQuAD-style (exact match and token F1, best over the aliases); list
answers by precision/recall over the gold items. The metrics are pure functions of their
arguments, so they are unit-tested on their own.

The runner (``evaluate``) asks every gold question through ``Answerer.ask``, the code path of
``POST /ask``, conversations included; ``score_item`` turns one response into figures and is pure,
so tests feed it hand-made responses. ``run_cli`` is `qa eval`: report files, baseline gate.
"""

from __future__ import annotations

import json
import math
import os
import re
import string
import sys
import time
import unicodedata
from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Literal, Protocol, get_args

from pydantic import BaseModel, ConfigDict, ValidationError, model_validator

from qa.answering import AskResponse
from qa.answers import Answer, Citation
from qa.conversation import Turn
from qa.retrieval import Passage
from qa.settings import Settings
from qa.terms import terms

Category = Literal[
    "who", "what", "where", "when", "how_many", "list", "paraphrase", "unanswerable", "followup"
]
AnswerType = Literal[
    "person", "organisation", "place", "country", "city", "number", "date", "title", "phrase"
]

# A list prediction that is not an exact alias still counts when it is this close (token F1).
LIST_MATCH_F1 = 0.8

_QUOTE_FOLD = str.maketrans({"‘": "'", "’": "'", "‚": "'", "‛": "'", "“": '"', "”": '"', "„": '"'})
_ARTICLES = re.compile(r"\b(a|an|the)\b")
_ASCII_PUNCTUATION = frozenset(string.punctuation)


class GoldFileError(ValueError):
    """The gold file is malformed: names the line and what is wrong with it."""


class GoldItem(BaseModel):
    """A gold question: ``answers`` (aliases) for one answer, ``items`` (alias lists) for a list."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    id: str
    question: str
    category: Category
    answer_type: AnswerType
    answerable: bool
    answers: tuple[str, ...] = ()
    items: tuple[tuple[str, ...], ...] = ()
    doc_ids: tuple[str, ...] = ()
    evidence: tuple[str, ...] = ()
    history: tuple[str, ...] = ()

    @model_validator(mode="after")
    def _check_consistency(self) -> GoldItem:
        if (self.category == "followup") != bool(self.history):
            raise ValueError("follow-ups, and only follow-ups, have a history")
        if not self.answerable:
            if self.answers or self.items or self.doc_ids or self.evidence:
                raise ValueError(
                    "an unanswerable question has no answers, items, doc_ids or evidence"
                )
            return self
        if bool(self.answers) == bool(self.items):
            raise ValueError("an answerable question has either answers or items, not both")
        if not self.doc_ids or not self.evidence:
            raise ValueError("an answerable question needs doc_ids and evidence")
        if any(not item for item in self.items):
            raise ValueError("every list item needs at least one alias")
        return self

    @property
    def is_list(self) -> bool:
        return bool(self.items)


def load_gold(path: Path) -> list[GoldItem]:
    """Read a JSON-lines gold file; blank lines are skipped, ids must be unique."""
    gold: list[GoldItem] = []
    seen: set[str] = set()
    for line_no, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip():
            continue
        try:
            item = GoldItem.model_validate_json(line)
        except ValidationError as error:
            raise GoldFileError(f"{path}:{line_no}: {error}") from error
        if item.id in seen:
            raise GoldFileError(f"{path}:{line_no}: duplicate id {item.id!r}")
        seen.add(item.id)
        gold.append(item)
    return gold


def normalize_answer(text: str) -> str:
    """SQuAD normalisation: fold quotes, lowercase, drop punctuation and articles, squash space."""
    text = text.translate(_QUOTE_FOLD).lower()
    # Beyond SQuAD's ASCII set, Unicode punctuation too (the "―" and "—" of scraped pages).
    text = "".join(
        ch
        for ch in text
        if ch not in _ASCII_PUNCTUATION and not unicodedata.category(ch).startswith("P")
    )
    text = _ARTICLES.sub(" ", text)
    return " ".join(text.split())


def exact_match(prediction: str, aliases: Sequence[str]) -> float:
    """1.0 when the normalised prediction equals any normalised alias, else 0.0."""
    predicted = normalize_answer(prediction)
    return float(any(predicted == normalize_answer(alias) for alias in aliases))


def _token_f1(prediction: str, alias: str) -> float:
    predicted, gold = normalize_answer(prediction).split(), normalize_answer(alias).split()
    if not predicted or not gold:
        # As in SQuAD 2.0: two empty answers agree, one empty answer scores nothing.
        return float(predicted == gold)
    common = sum((Counter(predicted) & Counter(gold)).values())
    if common == 0:
        return 0.0
    precision, recall = common / len(predicted), common / len(gold)
    return 2 * precision * recall / (precision + recall)


def token_f1(prediction: str, aliases: Sequence[str]) -> float:
    """SQuAD token F1 of the prediction against its best alias (0.0 when there are no aliases)."""
    return max((_token_f1(prediction, alias) for alias in aliases), default=0.0)


@dataclass(frozen=True)
class ListScores:
    precision: float
    recall: float
    f1: float


def _matches(prediction: str, item: Sequence[str]) -> bool:
    return exact_match(prediction, item) == 1.0 or token_f1(prediction, item) >= LIST_MATCH_F1


def list_scores(predictions: Sequence[str], items: Sequence[Sequence[str]]) -> ListScores:
    """Precision, recall and F1 of predicted entries against gold items (each a list of aliases).

    Predictions that normalise alike count once. Each item is matched at most once, and the
    pairing is a maximum matching, so one prediction that fits two items cannot starve another.
    With nothing predicted and nothing expected every score is 1.0.
    """
    unique: dict[str, str] = {}
    for prediction in predictions:
        key = normalize_answer(prediction)
        if key:
            unique.setdefault(key, prediction)
    preds = list(unique.values())
    if not preds and not items:
        return ListScores(1.0, 1.0, 1.0)

    fits = [[j for j, item in enumerate(items) if _matches(p, item)] for p in preds]
    owner: dict[int, int] = {}  # item index -> prediction index

    def assign(i: int, visited: set[int]) -> bool:
        # Kuhn's augmenting path: take a free item, or move its current owner elsewhere.
        for j in fits[i]:
            if j not in visited:
                visited.add(j)
                if j not in owner or assign(owner[j], visited):
                    owner[j] = i
                    return True
        return False

    matched = sum(assign(i, set()) for i in range(len(preds)))
    precision = matched / len(preds) if preds else 0.0
    recall = matched / len(items) if items else 0.0
    f1 = 2 * precision * recall / (precision + recall) if matched else 0.0
    return ListScores(precision, recall, f1)


def percentile(values: Sequence[float], p: float) -> float:
    """The p-th percentile (0..100) with linear interpolation between ranks, as numpy's default."""
    if not values:
        raise ValueError("percentile of no values")
    if not 0.0 <= p <= 100.0:
        raise ValueError(f"percentile must be within 0..100, got {p}")
    ordered = sorted(values)
    rank = (len(ordered) - 1) * p / 100.0
    low, high = math.floor(rank), math.ceil(rank)
    return ordered[low] + (ordered[high] - ordered[low]) * (rank - low)


# ================================================================ the runner

# Passages kept per response: recall@k is measured up to this k.
EVAL_TOP_K = 10
RECALL_KS = (1, 5, 10)
# A single answer counts as right with an exact match or at least this token F1; a list with at
# least this list F1. The same rule scores follow-ups, calibration and the failure list.
CORRECT_F1 = 0.5
CALIBRATION_BANDS = 5
DEFAULT_TOLERANCE = 0.02

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


class SupportsAsk(Protocol):
    """What the runner needs of an answerer: ``Answerer`` itself, or a fake in tests."""

    def ask(self, question: str, top_k: int = 5, history: Sequence[Turn] = ()) -> AskResponse: ...


class ItemResult(BaseModel):
    """One gold question scored: what was predicted and the figures it contributes to."""

    model_config = ConfigDict(frozen=True)

    id: str
    category: Category
    question: str
    history: tuple[str, ...]
    resolved_question: str
    expected: str
    predictions: tuple[str, ...]
    score: float | None  # the first answer's score; None when abstained
    answerable: bool
    is_list: bool
    abstained: bool
    exact_match: float | None  # single-answer answerable questions only
    f1: float | None
    list_precision: float | None  # list questions only
    list_recall: float | None
    list_f1: float | None
    citation: float | None  # answered answerable questions only
    correct: bool
    relevant_rank: int | None  # 1-based rank of the first relevant passage, None if none
    latency_ms: float


def _contains(haystack: str, needle: str) -> bool:
    """Whether the normalised ``needle`` occurs in the normalised ``haystack`` as whole words."""
    wanted = normalize_answer(needle)
    return bool(wanted) and f" {wanted} " in f" {normalize_answer(haystack)} "


def citation_supported(answer: Answer, doc_ids: Sequence[str]) -> bool:
    """The answer's first citation quotes the answer text and comes from a gold document."""
    if not answer.citations:
        return False
    first = answer.citations[0]
    # Verbatim first: normalisation glues "Madrid-based" into one word and would miss "Madrid".
    quoted = answer.text in first.quote or _contains(first.quote, answer.text)
    return first.doc_id in doc_ids and quoted


def citation_score(item: GoldItem, answers: Sequence[Answer]) -> float:
    """1/0 for a single answer; for a list, the share of answers that are right and well cited."""
    if not answers:
        raise ValueError("citation_score needs at least one answer")
    if not item.is_list:
        return float(citation_supported(answers[0], item.doc_ids))
    good = sum(
        1
        for answer in answers
        if any(_matches(answer.text, aliases) for aliases in item.items)
        and citation_supported(answer, item.doc_ids)
    )
    return good / len(answers)


def passage_is_relevant(passage: Passage, item: GoldItem) -> bool:
    """From a gold document, and holding a gold evidence sentence or an answer alias."""
    if passage.doc_id not in item.doc_ids:
        return False
    needles = (
        *item.evidence,
        *item.answers,
        *(alias for aliases in item.items for alias in aliases),
    )
    return any(_contains(passage.text, needle) for needle in needles)


def relevant_rank(item: GoldItem, passages: Sequence[Passage]) -> int | None:
    """The 1-based rank of the first relevant passage, None when none is (or nothing to find)."""
    if not item.answerable:
        return None
    for rank, passage in enumerate(passages, start=1):
        if passage_is_relevant(passage, item):
            return rank
    return None


def expected_text(item: GoldItem) -> str:
    """The gold answer as a reader of the report wants to see it."""
    if not item.answerable:
        return "(abstain)"
    if item.is_list:
        return "; ".join(" / ".join(aliases) for aliases in item.items)
    return " / ".join(item.answers)


def score_item(item: GoldItem, response: AskResponse, latency_ms: float = 0.0) -> ItemResult:
    """Score one response against its gold item; pure, so tests hand in made-up responses."""
    predictions = tuple(answer.text for answer in response.answers)
    answered = bool(response.answers) and not response.abstained
    em = f1 = None
    listed: ListScores | None = None
    if not item.answerable:
        correct = not answered
    elif item.is_list:
        listed = list_scores(predictions if answered else (), item.items)
        correct = listed.f1 >= CORRECT_F1
    else:
        first = predictions[0] if answered else ""
        em, f1 = exact_match(first, item.answers), token_f1(first, item.answers)
        correct = em > 0.0 or f1 >= CORRECT_F1
    return ItemResult(
        id=item.id,
        category=item.category,
        question=item.question,
        history=item.history,
        resolved_question=response.resolved_question,
        expected=expected_text(item),
        predictions=predictions if answered else (),
        score=response.answers[0].score if answered else None,
        answerable=item.answerable,
        is_list=item.is_list,
        abstained=not answered,
        exact_match=em,
        f1=f1,
        list_precision=listed.precision if listed else None,
        list_recall=listed.recall if listed else None,
        list_f1=listed.f1 if listed else None,
        citation=citation_score(item, response.answers) if answered and item.answerable else None,
        correct=correct,
        relevant_rank=relevant_rank(item, response.passages[:EVAL_TOP_K]),
        latency_ms=latency_ms,
    )


# ---------------------------------------------------------------- the plain baseline

# Sentence ends inside one line: . ! or ? (perhaps closing a quote or bracket), then space, then
# what looks like a sentence start. Crude around "U.S. officials", which is fine for a baseline.
_SENTENCE_END = re.compile(r"(?:(?<=[.!?])|(?<=[.!?][\"”’)]))\s+(?=[\"“‘(]?[A-Z0-9])")


def simple_sentences(text: str) -> list[tuple[int, int]]:
    """(start, end) offsets of the sentences of ``text``: lines, cut at sentence ends."""
    spans: list[tuple[int, int]] = []
    for line in re.finditer(r"[^\n]+", text):
        start = line.start()
        for cut in _SENTENCE_END.finditer(line.group()):
            spans.append((start, line.start() + cut.start()))
            start = line.start() + cut.end()
        spans.append((start, line.end()))
    stripped = []
    for start, end in spans:
        piece = text[start:end]
        if piece.strip():
            lead = len(piece) - len(piece.lstrip())
            stripped.append((start + lead, start + len(piece.rstrip())))
    return stripped


def baseline_response(response: AskResponse) -> AskResponse:
    """The plain baseline: "the top retrieved sentence is the answer".

    Of the first passage's sentences, the one sharing most distinct content terms with the
    (resolved) question, the earliest on a tie; it never abstains while there is a passage. A
    regex split rather than the store's sentence offsets keeps this a pure function of the
    response (the store sits behind the Answerer's private build, and fakes have none).
    """
    if not response.passages:
        return response.model_copy(update={"answers": [], "abstained": True})
    top = response.passages[0]
    sentences = simple_sentences(top.text) or [(0, len(top.text))]
    wanted = set(terms(response.resolved_question or response.question))
    start, end = max(sentences, key=lambda s: len(wanted & set(terms(top.text[s[0] : s[1]]))))
    text = top.text[start:end]
    citation = Citation(
        doc_id=top.doc_id,
        title=top.title,
        start=top.start + start,
        end=top.start + end,
        quote=text,
        quote_start=top.start + start,
        quote_end=top.start + end,
    )
    answer = Answer(text=text, score=min(max(top.score, 0.0), 1.0), citations=[citation])
    return response.model_copy(update={"answers": [answer], "abstained": False, "message": ""})


# ---------------------------------------------------------------- figures


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


# ---------------------------------------------------------------- the baseline gate


class BaselineFileError(ValueError):
    """The baseline file cannot be read as figures."""


@dataclass(frozen=True)
class Regression:
    """A gated figure that fell by more than the tolerance."""

    figure: str
    baseline: float
    current: float
    tolerance: float

    def describe(self) -> str:
        return (
            f"{self.figure} fell: {self.baseline:.3f} -> {self.current:.3f} "
            f"(tolerance {self.tolerance:.3f})"
        )


def baseline_figures(figures: Figures, tolerance: float = DEFAULT_TOLERANCE) -> dict[str, float]:
    """What `--write-baseline` saves: the gated figures, the tolerance, and a few for context."""
    saved: dict[str, float] = {}
    for name in (*GATED_FIGURES, "list_precision", "list_recall", "recall_at_1", "recall_at_10"):
        value = getattr(figures, name)
        if value is not None:
            saved[name] = round(value, 4)
    saved["tolerance"] = tolerance
    saved["questions"] = figures.questions
    return saved


def load_baseline(path: Path) -> dict[str, float]:
    if not path.exists():
        raise FileNotFoundError(
            f"no baseline at {path}: run `qa eval --write-baseline` to record one"
        )
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as error:
        raise BaselineFileError(f"{path}: not JSON ({error})") from error
    if not isinstance(raw, dict) or not all(
        isinstance(v, int | float) and not isinstance(v, bool) for v in raw.values()
    ):
        raise BaselineFileError(f"{path}: expected an object of figures (numbers)")
    return {str(k): float(v) for k, v in raw.items()}


def check_against_baseline(current: Figures, baseline: Mapping[str, float]) -> list[Regression]:
    """The gated figures that are worse than the baseline by more than its tolerance.

    Worse means lower, except for the false-abstention rate where it means higher. A figure
    missing on either side is not compared.
    """
    tolerance = float(baseline.get("tolerance", DEFAULT_TOLERANCE))
    regressions = []
    for name, higher_is_better in GATED_FIGURES.items():
        before, now = baseline.get(name), getattr(current, name)
        if before is None or now is None:
            continue
        drop = before - now if higher_is_better else now - before
        if drop > tolerance + 1e-9:  # the epsilon keeps a drop of exactly the tolerance passing
            regressions.append(Regression(name, before, now, tolerance))
    return regressions


# ---------------------------------------------------------------- rendering

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


# ---------------------------------------------------------------- `qa eval`


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
