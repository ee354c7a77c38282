"""How `qa ask` and `qa chat` show an answer to a person: the answer text emphasised on a
terminal, and ``[n]`` numbering sources the way the chat page and OpenAI replies do."""

from __future__ import annotations

from typing import TextIO

from qa.answering import AskResponse
from qa.answers import Citation, citation_place, number_sources

BOLD, RESET = "\033[1m", "\033[0m"


def use_colour(stream: TextIO, no_color: str) -> bool:
    """Colour only on a terminal, and never when NO_COLOR is set (to anything)."""
    return not no_color and stream.isatty()


def _emphasised(text: str, colour: bool) -> str:
    return f"{BOLD}{text}{RESET}" if colour else text


def answered_as(response: AskResponse) -> str | None:
    """The standalone question actually answered, when it says more than a change of capitals."""
    if response.resolved_question.casefold() == response.question.casefold():
        return None
    return response.resolved_question


def _quote(citation: Citation, colour: bool) -> str:
    """The cited sentence with the answer span inside it emphasised."""
    start = max(0, citation.start - citation.quote_start)
    end = max(start, citation.end - citation.quote_start)
    quote = citation.quote
    return quote[:start] + _emphasised(quote[start:end], colour) + quote[end:]


def _source_line(number: int, citation: Citation) -> str:
    place = citation_place(citation)
    where = f"{citation.doc_id} {citation.start}-{citation.end}" + (f", {place}" if place else "")
    return f"  [{number}] {citation.title} ({where})"


def render_response(response: AskResponse, colour: bool) -> str:
    """The human form of one reply: answers with their source marks, then the sources."""
    lines: list[str] = []
    resolved = answered_as(response)
    if resolved:
        lines.append(f"Answered as: {resolved}")
    if response.abstained or not response.answers:
        lines.append(response.message or "I could not find that in the documents.")
        return "\n".join(lines)
    marks, sources = number_sources(response.answers)
    for answer, numbers in zip(response.answers, marks, strict=True):
        refs = "".join(f"[{n}]" for n in numbers)
        lines.append(f"{_emphasised(answer.text, colour)} {refs}  (score {answer.score:.2f})")
    lines.append("Sources:")
    for number, citation in enumerate(sources, start=1):
        lines.append(_source_line(number, citation))
        lines.append(f'      "{_quote(citation, colour)}"')
    return "\n".join(lines)
