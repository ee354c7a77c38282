"""Conversations: earlier turns resolve a follow-up into a standalone question."""

from __future__ import annotations

from pydantic import BaseModel, Field


class Turn(BaseModel):
    """One finished exchange of a conversation, as the resolver needs it."""

    question: str
    resolved_question: str = ""
    answers: list[str] = Field(default_factory=list)
