"""What the service answers with: verbatim answer spans and the citations that support them.

The API returns these models as they are, so the HTTP schema is the library's type.
"""

from __future__ import annotations

from pydantic import BaseModel, Field


class Citation(BaseModel):
    """Where an answer was copied from: ``cleaned_text(doc_id)[start:end] == answer.text``."""

    doc_id: str
    title: str
    source: str = ""
    publisher: str = ""
    start: int = Field(ge=0, description="Offset of the answer span in the cleaned document text")
    end: int = Field(ge=0)
    quote: str = Field(description="The whole sentence around the span, verbatim")
    quote_start: int = Field(ge=0, description="Offset of the quote in the cleaned text")
    quote_end: int = Field(ge=0)


class Answer(BaseModel):
    """One extracted answer: verbatim text, a 0..1 confidence, and every place that supports it."""

    text: str
    score: float = Field(ge=0.0, le=1.0)
    citations: list[Citation]
