"""An OpenAI-compatible chat endpoint, so existing chat clients and SDKs can ask the documents.

``POST /v1/chat/completions`` is stateless, as OpenAI's is: the client sends the whole
conversation each time, and its user messages, in order, are the questions of the conversation
(``ChatService.reply_to_transcript``). The reply is the extracted answer with numbered source
footnotes; the structured answer (citations with offsets) rides along in the extra field
``qa`` of the completion and ``citations`` of the message, which OpenAI clients keep as extras.

As a chat does, it replies to every well-formed conversation: one with no question in it, or
whose last question cannot be asked (no letters, too long), is answered with what is wrong, as
an abstention (``qa.abstained``, ``qa.message``), where ``/ask`` and ``/chat`` answer 422.
"""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Iterator
from typing import Literal

from fastapi import APIRouter
from fastapi.responses import StreamingResponse
from pydantic import BaseModel, ConfigDict, Field

from api.errors import ApiError, ErrorResponse
from api.routes_chat import ChatServiceDep
from qa.answering import AskResponse, InvalidQuestionError
from qa.answers import Citation, citation_place

router = APIRouter(prefix="/v1", tags=["openai"])

MODEL_ID = "qa-extractive"
OWNER = "qa"

_ERRORS: dict[int | str, dict[str, object]] = {
    status: {"model": ErrorResponse} for status in (401, 413, 422, 429, 503)
}


NO_QUESTION = "There is no question to answer: ask something about the documents."


class ContentPart(BaseModel):
    """One part of a multi-part message; only text parts carry a question."""

    # Strict, like every request model: the types the schema says, no "true" for a boolean.
    model_config = ConfigDict(extra="allow", strict=True)

    type: str
    text: str = ""


class ChatMessage(BaseModel):
    model_config = ConfigDict(extra="allow", strict=True)

    role: str = Field(description="system, user, assistant, ...: only user messages are asked")
    content: str | list[ContentPart] | None = None

    def text(self) -> str:
        if isinstance(self.content, list):
            return " ".join(part.text for part in self.content if part.type == "text")
        return self.content or ""


class ChatCompletionRequest(BaseModel):
    """The fields of OpenAI's request that mean something here; the rest are accepted and ignored
    (there is nothing to sample, so temperature and the like have no effect)."""

    model_config = ConfigDict(extra="allow", strict=True)

    model: str = MODEL_ID
    messages: list[ChatMessage] = Field(min_length=1)
    stream: bool = False


class Usage(BaseModel):
    """No tokens are generated: the answer is copied from the documents."""

    prompt_tokens: int = 0
    completion_tokens: int = 0
    total_tokens: int = 0


class AssistantMessage(BaseModel):
    role: Literal["assistant"] = "assistant"
    content: str
    citations: list[Citation] = Field(default_factory=list)


class Choice(BaseModel):
    index: int = 0
    message: AssistantMessage
    finish_reason: Literal["stop"] = "stop"
    logprobs: None = None


class ChatCompletion(BaseModel):
    id: str
    object: Literal["chat.completion"] = "chat.completion"
    created: int
    model: str = MODEL_ID
    choices: list[Choice]
    usage: Usage = Field(default_factory=Usage)
    qa: AskResponse = Field(description="The full structured answer, as `POST /ask` returns it")


class ModelCard(BaseModel):
    id: str = MODEL_ID
    object: Literal["model"] = "model"
    created: int = 0
    owned_by: str = OWNER


class ModelList(BaseModel):
    object: Literal["list"] = "list"
    data: list[ModelCard]


def questions_of(messages: list[ChatMessage]) -> list[str]:
    """The user messages, in order: the conversation's questions (assistant turns are our own
    answers, which the resolver does not need as text; system prompts ask nothing)."""
    return [m.text() for m in messages if m.role == "user" and m.text().strip()]


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


def _citations(response: AskResponse) -> list[Citation]:
    return [citation for answer in response.answers for citation in answer.citations]


def _content_pieces(text: str) -> list[str]:
    """A few streamed pieces: the answer lines, then the sources block (never a word split)."""
    answer, _, notes = text.partition("\n\n")
    pieces = [line + "\n" for line in answer.split("\n")]
    pieces[-1] = pieces[-1].rstrip("\n")
    if notes:
        pieces.append("\n\n" + notes)
    return pieces


@router.post(
    "/chat/completions",
    response_model=ChatCompletion,
    responses={
        400: {"model": ErrorResponse, "description": "The body is not text"},
        **_ERRORS,
        200: {"content": {"text/event-stream": {}}, "description": "with `stream: true`"},
    },
)
def chat_completions(
    request: ChatCompletionRequest, service: ChatServiceDep
) -> ChatCompletion | StreamingResponse:
    """OpenAI's chat completions: the last user message answered, the earlier ones as its
    conversation. With ``stream: true`` the reply comes as server-sent events."""
    questions = questions_of(request.messages)
    try:
        response = (
            service.reply_to_transcript(questions) if questions else _unasked("", NO_QUESTION)
        )
    except InvalidQuestionError as error:
        response = _unasked(questions[-1], f"{str(error)[:1].upper()}{str(error)[1:]}.")
    completion = ChatCompletion(
        id=f"chatcmpl-{uuid.uuid4().hex}",
        created=int(time.time()),
        choices=[
            Choice(
                message=AssistantMessage(
                    content=format_reply(response), citations=_citations(response)
                )
            )
        ],
        qa=response,
    )
    if not request.stream:
        return completion
    return StreamingResponse(
        _sse(_chunks(completion)),
        media_type="text/event-stream",
        headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
    )


def _chunks(completion: ChatCompletion) -> Iterator[dict[str, object]]:
    """``chat.completion.chunk`` objects: the role, the content in pieces, then the finish (which
    also carries the structured answer, as the one chunk a client can read it from whole)."""
    message = completion.choices[0].message

    def chunk(delta: dict[str, object], finish: str | None = None) -> dict[str, object]:
        return {
            "id": completion.id,
            "object": "chat.completion.chunk",
            "created": completion.created,
            "model": completion.model,
            "choices": [{"index": 0, "delta": delta, "finish_reason": finish, "logprobs": None}],
        }

    yield chunk({"role": "assistant", "content": ""})
    for piece in _content_pieces(message.content):
        yield chunk({"content": piece})
    final = chunk({}, "stop")
    final["usage"] = Usage().model_dump()
    final["qa"] = completion.qa.model_dump()
    yield final


def _sse(chunks: Iterator[dict[str, object]]) -> Iterator[str]:
    for item in chunks:
        yield f"data: {json.dumps(item, ensure_ascii=False)}\n\n"
    yield "data: [DONE]\n\n"


@router.get("/models", response_model=ModelList, responses=_ERRORS)
def list_models() -> ModelList:
    """The one model: extractive answers from the indexed documents."""
    return ModelList(data=[ModelCard()])


@router.get(
    "/models/{model_id}",
    response_model=ModelCard,
    responses={404: {"model": ErrorResponse}, **_ERRORS},
)
def get_model(model_id: str) -> ModelCard:
    if model_id != MODEL_ID:
        raise ApiError(
            404, "model_not_found", f"no model {model_id!r}; the one model is {MODEL_ID}"
        )
    return ModelCard()
