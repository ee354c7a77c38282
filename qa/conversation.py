"""Conversations: earlier turns resolve a follow-up into a standalone question."""

from __future__ import annotations

from collections.abc import Sequence

from pydantic import BaseModel, Field


class Turn(BaseModel):
    """One finished exchange of a conversation, as the resolver needs it."""

    question: str
    resolved_question: str = ""
    answers: list[str] = Field(default_factory=list)


def resolve_question(question: str, history: Sequence[Turn] = ()) -> str:
    """The standalone form of ``question`` given the earlier turns (unchanged if it stands)."""
    return question
