"""The gold file: one JSON object per line, each a question with its answers or items."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, ValidationError, model_validator

Category = Literal[
    "who", "what", "where", "when", "how_many", "list", "paraphrase", "unanswerable", "followup"
]
AnswerType = Literal[
    "person", "organisation", "place", "country", "city", "number", "date", "title", "phrase"
]


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
