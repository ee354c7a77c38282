"""What the OpenAI-style endpoints (chat completions, responses) share: which messages are the
questions, the reply as chat text with numbered sources, the reply as structured JSON for
``response_format`` / ``text.format``, and the token counts of ``usage``.

As a chat does, they reply to every well-formed conversation: one with no question in it, or
whose last question cannot be asked (no letters, too long), is answered with what is wrong, as
an abstention (``qa.abstained``, ``qa.message``), where ``/ask`` and ``/chat`` answer 422.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from api.errors import ApiError
from qa.answering import Answerer, AskResponse, InvalidQuestionError
from qa.answers import Citation, citation_place
from qa.chat import ChatService

NO_QUESTION = "There is no question to answer: ask something about the documents."
ANSWER_SEPARATOR = "; "  # between the items of a list answer in the structured ``text``


class StructuredAnswer(BaseModel):
    """The answer as JSON content, for ``response_format`` ``json_object`` / ``json_schema``:
    a client's schema may ask for all of these fields or some of them."""

    text: str = Field(
        description="The answer, verbatim from the documents (list items joined "
        "by '; '), or why there is none"
    )
    citations: list[Citation] = Field(description="Where the answer was copied from")
    abstained: bool = Field(description="True when the documents do not answer the question")


STRUCTURED_FIELDS = tuple(StructuredAnswer.model_fields)


class TextFormat(BaseModel):
    model_config = ConfigDict(strict=True, extra="forbid")
    type: Literal["text"]


class JsonObjectFormat(BaseModel):
    model_config = ConfigDict(strict=True, extra="forbid")
    type: Literal["json_object"]


class JsonSchemaSpec(BaseModel):
    """Chat completions' ``response_format.json_schema``: the schema the reply must follow."""

    model_config = ConfigDict(strict=True, extra="forbid")
    name: str
    description: str | None = None
    # Named ``schema`` on the wire; ``schema`` would shadow a BaseModel attribute here.
    json_schema: dict[str, Any] | None = Field(default=None, alias="schema")
    strict: bool | None = None


class JsonSchemaFormat(BaseModel):
    model_config = ConfigDict(strict=True, extra="forbid")
    type: Literal["json_schema"]
    json_schema: JsonSchemaSpec


class FlatJsonSchemaFormat(BaseModel):
    """The Responses API's ``text.format`` for a schema: chat's ``json_schema``, flattened."""

    model_config = ConfigDict(strict=True, extra="forbid")
    type: Literal["json_schema"]
    name: str
    description: str | None = None
    json_schema: dict[str, Any] | None = Field(default=None, alias="schema")
    strict: bool | None = None


OutputFormat = TextFormat | JsonObjectFormat | JsonSchemaFormat | FlatJsonSchemaFormat


def questions_of(messages: Sequence[tuple[str, str]]) -> list[str]:
    """The user messages' texts (``(role, text)`` pairs), in order: the conversation's
    questions (assistant turns are our own answers, which the resolver does not need as text;
    system prompts ask nothing)."""
    return [text for role, text in messages if role == "user" and text.strip()]


def answer_conversation(service: ChatService, questions: list[str]) -> AskResponse:
    """The last question answered with the earlier ones as its conversation; a conversation
    without a question, or whose last one cannot be asked, is told why (as an abstention)."""
    if not questions:
        return _unasked("", NO_QUESTION)
    try:
        return service.reply_to_transcript(questions)
    except InvalidQuestionError as error:
        return _unasked(questions[-1], f"{str(error)[:1].upper()}{str(error)[1:]}.")


def _unasked(question: str, reason: str) -> AskResponse:
    """The reply to a conversation whose last question cannot be asked: the reason, abstaining."""
    return AskResponse(
        question=question, resolved_question=question, answers=[], abstained=True, message=reason
    )


def format_reply(response: AskResponse) -> str:
    """The answer as chat text: each answer with footnote marks, then the numbered sources,
    each the document's title and the sentence quoted; or the abstention message."""
    if response.abstained or not response.answers:
        return response.message
    footnotes: dict[tuple[str, int], int] = {}
    sources: list[Citation] = []
    lines = []
    for answer in response.answers:
        marks = []
        for citation in answer.citations:
            key = (citation.doc_id, citation.quote_start)
            if key not in footnotes:
                footnotes[key] = len(footnotes) + 1
                sources.append(citation)
            marks.append(f"[{footnotes[key]}]")
        lines.append(f"{answer.text} {''.join(dict.fromkeys(marks))}".rstrip())
    notes = [f"[{n}] {_source(c)} — “{c.quote.strip()}”" for n, c in enumerate(sources, start=1)]
    return "\n".join(lines) + "\n\n" + "\n".join(notes)


def _source(citation: Citation) -> str:
    """The document's title, and where in it the quote is: "Annual report, p. 2, § Finances"."""
    place = citation_place(citation)
    return f"{citation.title}, {place}" if place else citation.title


def citations_of(response: AskResponse) -> list[Citation]:
    return [citation for answer in response.answers for citation in answer.citations]


def structured_answer(response: AskResponse) -> StructuredAnswer:
    if response.abstained or not response.answers:
        return StructuredAnswer(text=response.message, citations=[], abstained=True)
    return StructuredAnswer(
        text=ANSWER_SEPARATOR.join(answer.text for answer in response.answers),
        citations=citations_of(response),
        abstained=False,
    )


def requested_fields(output: OutputFormat | None, param: str) -> tuple[str, ...] | None:
    """The structured answer's fields the client's format asks for; None for plain text.

    A JSON schema whose properties are some of ours gets those; one that requires a field we
    do not have is a 400 (``param`` names where the format was given), rather than JSON the
    client's parser would refuse.
    """
    if output is None or isinstance(output, TextFormat):
        return None
    if isinstance(output, JsonObjectFormat):
        return STRUCTURED_FIELDS
    spec = output.json_schema if isinstance(output, JsonSchemaFormat) else output
    schema = spec.json_schema or {}
    properties = schema.get("properties")
    wanted = list(properties) if isinstance(properties, dict) and properties else []
    required = schema.get("required")
    needed = [str(name) for name in required] if isinstance(required, list) else []
    unknown = [name for name in dict.fromkeys(wanted + needed) if name not in STRUCTURED_FIELDS]
    if any(name in unknown for name in needed):
        raise ApiError(
            400,
            "unsupported_value",
            f"the answer has the fields {', '.join(STRUCTURED_FIELDS)}; the schema requires "
            f"{', '.join(name for name in needed if name in unknown)}",
            param=param,
        )
    known = [name for name in wanted if name in STRUCTURED_FIELDS]
    return tuple(known) or STRUCTURED_FIELDS


def reply_content(response: AskResponse, fields: tuple[str, ...] | None) -> str:
    """The reply: chat text, or the structured answer's ``fields`` as a JSON object."""
    if fields is None:
        return format_reply(response)
    answer = structured_answer(response).model_dump(include=set(fields))
    return json.dumps({name: answer[name] for name in fields}, ensure_ascii=False)


class TokenCounts(BaseModel):
    """Usage in the reader model's tokens: the prompt as sent, the reply as written."""

    prompt: int
    completion: int

    @property
    def total(self) -> int:
        return self.prompt + self.completion


def count_usage(answerer: Answerer, prompt: Sequence[str], reply: str) -> TokenCounts:
    return TokenCounts(
        prompt=sum(answerer.count_tokens(text) for text in prompt if text),
        completion=answerer.count_tokens(reply) if reply else 0,
    )
