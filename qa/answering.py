"""The answering pipeline: question -> retrieval -> reader -> cited answers (or an abstention)."""

from __future__ import annotations

from pydantic import BaseModel, Field

from qa.reader import Answer
from qa.retrieval import Passage

ABSTAIN_MESSAGE = "I could not find that in the documents."


class AskRequest(BaseModel):
    question: str
    top_k: int = 5


class AskResponse(BaseModel):
    """What `POST /ask` and `qa ask --json` return."""

    question: str
    resolved_question: str
    answers: list[Answer]
    abstained: bool
    message: str = ""
    passages: list[Passage] = Field(default_factory=list)
