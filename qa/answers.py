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


def number_sources(answers: list[Answer]) -> tuple[list[list[int]], list[Citation]]:
    """Number the sources of one reply as the chat page and OpenAI replies do: each cited
    sentence (document and quote) gets a number once, in order of first citation.

    Returns, per answer, the numbers of its sources (without repeats), and the sources in
    number order (``sources[n - 1]`` is source ``[n]``).
    """
    numbers: dict[tuple[str, int], int] = {}
    sources: list[Citation] = []
    marks: list[list[int]] = []
    for answer in answers:
        own: list[int] = []
        for citation in answer.citations:
            key = (citation.doc_id, citation.quote_start)
            if key not in numbers:
                numbers[key] = len(numbers) + 1
                sources.append(citation)
            if numbers[key] not in own:
                own.append(numbers[key])
        marks.append(own)
    return marks, sources
