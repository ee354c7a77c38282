"""`qa feedback export`: rated turns as candidate gold questions, in eval/gold.jsonl's format.

A 👍 on an answer is a candidate gold item whose answer is the one given (its documents and
quotes as evidence); a 👍 on an abstention is a candidate unanswerable question. A 👎 says the
answer was wrong but not what is right: those turns go to a second file, gold items without an
answer plus the rejected answers and the person's comment, for someone to complete. Nothing is
added to eval/gold.jsonl by itself: a person reviews the candidates and copies in what holds.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from qa.chat import HISTORY_TURNS
from qa.evaluation.gold import GoldItem
from qa.sessions import RatedTurn, SessionStore

CANDIDATES_FILE = "gold-candidates.jsonl"
REVIEW_FILE = "needs-review.jsonl"

# The question word says what kind of answer it wants; a reviewer corrects the rest.
_KINDS = (
    ("how many", "how_many", "number"),
    ("how much", "how_many", "number"),
    ("who", "who", "person"),
    ("where", "where", "place"),
    ("when", "when", "date"),
    ("what year", "when", "date"),
)


@dataclass(frozen=True)
class ExportReport:
    candidates: int
    needs_review: int
    folder: Path


def _kind(question: str, answers: int) -> tuple[str, str]:
    text = question.strip().lower()
    for start, category, answer_type in _KINDS:
        if text.startswith(start):
            return ("list" if answers > 1 else category), answer_type
    return ("list" if answers > 1 else "what"), "phrase"


def _base(rated: RatedTurn) -> dict[str, object]:
    turn = rated.turn
    answers = turn.response.answers if turn.response is not None else []
    follow_up = turn.resolved_question.casefold() != turn.question.casefold() and bool(
        rated.earlier_questions
    )
    category, answer_type = _kind(turn.resolved_question, len(answers))
    return {
        "id": f"feedback-{rated.session_id[:8]}-{turn.position}",
        "question": turn.question,
        "category": "followup" if follow_up else category,
        "answer_type": answer_type,
        "history": rated.earlier_questions[-HISTORY_TURNS:] if follow_up else [],
    }


def gold_candidate(rated: RatedTurn) -> GoldItem:
    """A 👍-rated turn as a gold item: the answers given are taken as right."""
    turn = rated.turn
    answers = turn.response.answers if turn.response is not None else []
    item = _base(rated)
    if turn.abstained or not answers:
        return GoldItem.model_validate({**item, "category": "unanswerable", "answerable": False})
    citations = [c for a in answers for c in a.citations]
    texts = [a.text for a in answers]
    return GoldItem.model_validate(
        {
            **item,
            "answerable": True,
            "answers": texts if len(texts) == 1 else [],
            "items": [[text] for text in texts] if len(texts) > 1 else [],
            "doc_ids": list(dict.fromkeys(c.doc_id for c in citations)),
            "evidence": list(dict.fromkeys(c.quote for c in citations)),
        }
    )


def review_item(rated: RatedTurn) -> dict[str, object]:
    """A 👎-rated turn: a gold item still to be answered, with what was wrong about it."""
    turn = rated.turn
    feedback = turn.feedback
    return {
        **_base(rated),
        "answerable": True,
        "answers": [],
        "items": [],
        "doc_ids": [],
        "evidence": [],
        "rejected_answers": turn.answers,
        "comment": feedback.comment if feedback is not None else "",
    }


def export_feedback(store: SessionStore, folder: Path) -> ExportReport:
    """Write the candidates and the turns to review into ``folder``."""
    rated = store.rated_turns()
    liked = [r for r in rated if r.turn.feedback is not None and r.turn.feedback.rating == "up"]
    disliked = [
        r for r in rated if r.turn.feedback is not None and r.turn.feedback.rating == "down"
    ]
    folder.mkdir(parents=True, exist_ok=True)
    with (folder / CANDIDATES_FILE).open("w", encoding="utf-8") as out:
        for candidate in liked:
            out.write(gold_candidate(candidate).model_dump_json() + "\n")
    with (folder / REVIEW_FILE).open("w", encoding="utf-8") as out:
        for turn in disliked:
            out.write(json.dumps(review_item(turn), ensure_ascii=False) + "\n")
    return ExportReport(len(liked), len(disliked), folder)
