"""One response scored against its gold item: answer metrics, citation support and the rank
of the first relevant passage. ``score_item`` is pure, so tests feed it hand-made responses."""

from __future__ import annotations

from collections.abc import Sequence

from pydantic import BaseModel, ConfigDict

from qa.answering import AskResponse
from qa.answers import Answer
from qa.evaluation.gold import Category, GoldItem
from qa.evaluation.metrics import (
    ListScores,
    _matches,
    exact_match,
    list_scores,
    normalize_answer,
    token_f1,
)
from qa.retrieval import Passage

# Passages kept per response: recall@k is measured up to this k.
EVAL_TOP_K = 10
# A single answer counts as right with an exact match or at least this token F1; a list with at
# least this list F1. The same rule scores follow-ups, calibration and the failure list.
CORRECT_F1 = 0.5


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
