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
    page: int | None = Field(
        default=None, ge=1, description="Page of the span, 1-based, in paged documents (PDF)"
    )
    section: str | None = Field(
        default=None, description="The nearest heading before the span, where the document has any"
    )


class Answer(BaseModel):
    """One extracted answer: verbatim text, a 0..1 confidence, and every place that supports it."""

    text: str
    score: float = Field(ge=0.0, le=1.0)
    citations: list[Citation]


def citation_place(citation: Citation) -> str:
    """Where in its document a citation is, in words: "p. 2, § Finances"; "" when unknown.

    A section that only repeats the document's title says nothing and is left out.
    """
    parts = [f"p. {citation.page}"] if citation.page is not None else []
    section = (citation.section or "").strip()
    if section and section.casefold() != citation.title.strip().casefold():
        parts.append(f"§ {section}")
    return ", ".join(parts)
