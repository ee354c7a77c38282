"""A minimal OpenAI Responses API (``POST /v1/responses``), the protocol the Agents SDK and
Codex speak: ``input`` (a string, or messages whose user turns are the conversation's
questions) in, one assistant message with the answer out; with ``stream: true`` the events
OpenAI sends (``response.created``, ``response.output_text.delta``, ...,
``response.completed``).

Stateless, like the chat completions: nothing is stored, so ``previous_response_id``,
``conversation`` and ``background`` are a 400 naming them; send the earlier turns in ``input``
instead. ``tools`` are accepted and never called. ``text.format`` ``json_object`` /
``json_schema`` makes the output text the structured answer as JSON. The structured answer
rides along in the extra field ``qa``, as on chat completions.
"""

from __future__ import annotations

import json
import logging
import time
import uuid
from collections.abc import Iterator
from typing import Annotated, Any, Literal

from fastapi import APIRouter
from fastapi.responses import StreamingResponse
from pydantic import BaseModel, ConfigDict, Field

from api.openai_replies import (
    FlatJsonSchemaFormat,
    JsonObjectFormat,
    TextFormat,
    answer_conversation,
    count_usage,
    questions_of,
    reply_content,
    requested_fields,
)
from api.routes_chat import ChatServiceDep
from api.routes_openai import MODEL_ID, OPENAI_ERRORS, OnlyFalse, ToolChoice
from qa.answering import AskResponse
from qa.chat import ChatService

router = APIRouter(prefix="/v1", tags=["openai"])
logger = logging.getLogger("api.responses")

_REQUEST_CONFIG = ConfigDict(strict=True, extra="forbid")
JsonObject = dict[str, Any]
# The kinds of content part that hold text a person wrote or was shown.
_TEXT_PARTS = frozenset({"input_text", "output_text", "text"})


class InputPart(BaseModel):
    model_config = ConfigDict(extra="allow", strict=True)
    type: str
    text: str = ""


class InputItem(BaseModel):
    """One item of ``input``: a message (``role``, ``content``); items of other types (tool
    outputs and the like) ask nothing and are passed over."""

    model_config = ConfigDict(extra="allow", strict=True)
    type: str | None = None
    role: str | None = None
    content: str | list[InputPart] | None = None

    def text(self) -> str:
        if isinstance(self.content, list):
            return " ".join(part.text for part in self.content if part.type in _TEXT_PARTS)
        return self.content or ""


TextFormatParam = Annotated[
    TextFormat | JsonObjectFormat | FlatJsonSchemaFormat, Field(discriminator="type")
]


class TextConfig(BaseModel):
    model_config = _REQUEST_CONFIG
    format: TextFormatParam | None = None
    verbosity: str | None = None


class ResponsesRequest(BaseModel):
    """OpenAI's Responses request, field by field; as with chat completions, what cannot be
    honoured is refused by the schema, and the sampling knobs do nothing."""

    model_config = _REQUEST_CONFIG

    model: str = MODEL_ID
    input: str | list[InputItem]
    instructions: str | None = None
    stream: bool | None = False
    stream_options: JsonObject | None = None
    text: TextConfig | None = None
    tools: list[JsonObject] | None = Field(default=None, description="Accepted, never called")
    tool_choice: ToolChoice | None = None
    parallel_tool_calls: bool | None = None
    max_tool_calls: int | None = None
    previous_response_id: None = Field(
        default=None, description="Not available: nothing is stored; send the turns in input"
    )
    conversation: None = Field(default=None, description="Not available: nothing is stored")
    background: OnlyFalse | None = Field(default=None, description="Not available")
    prompt: None = Field(default=None, description="Not available: no stored prompts")
    top_logprobs: int | None = Field(default=None, ge=0, le=0, description="Not available")
    store: bool | None = None
    include: list[str] | None = None
    temperature: float | None = None
    top_p: float | None = None
    max_output_tokens: int | None = None
    truncation: Literal["auto", "disabled"] | None = None
    reasoning: JsonObject | None = None
    metadata: dict[str, str] | None = None
    user: str | None = None
    service_tier: str | None = None
    safety_identifier: str | None = None
    prompt_cache_key: str | None = None
    prompt_cache_retention: str | None = None


class OutputText(BaseModel):
    type: Literal["output_text"] = "output_text"
    text: str
    annotations: list[JsonObject] = Field(default_factory=list)
    logprobs: list[JsonObject] = Field(default_factory=list)


class OutputMessage(BaseModel):
    type: Literal["message"] = "message"
    id: str
    status: Literal["in_progress", "completed"] = "completed"
    role: Literal["assistant"] = "assistant"
    content: list[OutputText]


class InputTokensDetails(BaseModel):
    cached_tokens: int = 0


class OutputTokensDetails(BaseModel):
    reasoning_tokens: int = 0


class ResponseUsage(BaseModel):
    """Token counts in the reader model's tokenizer: the input sent, the output written."""

    input_tokens: int
    input_tokens_details: InputTokensDetails = Field(default_factory=InputTokensDetails)
    output_tokens: int
    output_tokens_details: OutputTokensDetails = Field(default_factory=OutputTokensDetails)
    total_tokens: int


class ResponseObject(BaseModel):
    """OpenAI's ``response`` object, with the fields its clients read."""

    id: str
    object: Literal["response"] = "response"
    created_at: int
    completed_at: int | None = None
    status: Literal["in_progress", "completed", "failed"]
    model: str = MODEL_ID
    output: list[OutputMessage] = Field(default_factory=list)
    usage: ResponseUsage | None = None
    error: JsonObject | None = None
    incomplete_details: None = None
    instructions: str | None = None
    metadata: dict[str, str] = Field(default_factory=dict)
    parallel_tool_calls: bool = True
    tool_choice: str = "auto"
    tools: list[JsonObject] = Field(default_factory=list)
    temperature: float | None = None
    top_p: float | None = None
    max_output_tokens: int | None = None
    previous_response_id: None = None
    store: bool = False  # nothing is kept: a response cannot be fetched again
    truncation: str = "disabled"
    text: JsonObject = Field(default_factory=lambda: {"format": {"type": "text"}})
    qa: AskResponse | None = Field(
        default=None, description="The full structured answer, as `POST /ask` returns it"
    )


def _messages(request: ResponsesRequest) -> list[tuple[str, str]]:
    """``input`` as (role, text) pairs; a plain string is one user message."""
    if isinstance(request.input, str):
        return [("user", request.input)]
    return [
        (item.role, item.text())
        for item in request.input
        if item.role is not None and item.type in (None, "message")
    ]


def _pending(request: ResponsesRequest) -> ResponseObject:
    """The response as it starts, echoing the request's settings as OpenAI does."""
    output_format = request.text.format if request.text else None
    return ResponseObject(
        id=f"resp_{uuid.uuid4().hex}",
        created_at=int(time.time()),
        status="in_progress",
        instructions=request.instructions,
        metadata=request.metadata or {},
        parallel_tool_calls=request.parallel_tool_calls is not False,
        tool_choice=request.tool_choice or "auto",
        tools=request.tools or [],
        temperature=request.temperature,
        top_p=request.top_p,
        max_output_tokens=request.max_output_tokens,
        text={"format": (output_format or TextFormat(type="text")).model_dump(by_alias=True)},
    )


def _answered(
    pending: ResponseObject,
    request: ResponsesRequest,
    service: ChatService,
    fields: tuple[str, ...] | None,
) -> ResponseObject:
    """``pending`` completed: the conversation answered, the output text and its usage."""
    messages = _messages(request)
    response = answer_conversation(service, questions_of(messages))
    content = reply_content(response, fields)
    prompt = [request.instructions or ""] + [text for _, text in messages]
    tokens = count_usage(service.answerer, prompt, content)
    message = OutputMessage(id=f"msg_{uuid.uuid4().hex}", content=[OutputText(text=content)])
    return pending.model_copy(
        update={
            "status": "completed",
            "completed_at": int(time.time()),
            "output": [message],
            "usage": ResponseUsage(
                input_tokens=tokens.prompt,
                output_tokens=tokens.completion,
                total_tokens=tokens.total,
            ),
            "qa": response,
        }
    )


@router.post(
    "/responses",
    response_model=ResponseObject,
    responses={
        **OPENAI_ERRORS,
        200: {"content": {"text/event-stream": {}}, "description": "with `stream: true`"},
    },
)
def create_response(
    request: ResponsesRequest, service: ChatServiceDep
) -> ResponseObject | StreamingResponse:
    """OpenAI's Responses API: the last user message of ``input`` answered, the earlier ones as
    its conversation. With ``stream: true`` the reply comes as OpenAI's server-sent events."""
    fields = requested_fields(request.text.format if request.text else None, "text.format")
    pending = _pending(request)
    if not request.stream:
        return _answered(pending, request, service, fields)
    return StreamingResponse(
        _sse(_events(pending, request, service, fields)),
        media_type="text/event-stream",
        headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
    )


def _events(
    pending: ResponseObject,
    request: ResponsesRequest,
    service: ChatService,
    fields: tuple[str, ...] | None,
) -> Iterator[dict[str, Any]]:
    """The stream OpenAI sends for one text message. ``response.created`` goes out before the
    question is answered, so a client sees at once that it was taken; a failure after that
    can only be told in the stream, as ``response.failed``."""
    yield {"type": "response.created", "response": _dumped(pending)}
    yield {"type": "response.in_progress", "response": _dumped(pending)}
    try:
        done = _answered(pending, request, service, fields)
    except Exception:
        logger.exception("the streamed response %s failed", pending.id)
        failed = pending.model_copy(
            update={
                "status": "failed",
                "error": {"code": "server_error", "message": "the answer could not be made"},
            }
        )
        yield {"type": "response.failed", "response": _dumped(failed)}
        return
    message = done.output[0]
    text = message.content[0].text
    where = {"item_id": message.id, "output_index": 0}
    empty = OutputText(text="").model_dump()
    started = message.model_copy(update={"status": "in_progress", "content": []})
    yield {"type": "response.output_item.added", "output_index": 0, "item": _dumped(started)}
    yield {"type": "response.content_part.added", **where, "content_index": 0, "part": empty}
    for piece in _pieces(text):
        yield {
            "type": "response.output_text.delta",
            **where,
            "content_index": 0,
            "delta": piece,
            "logprobs": [],
        }
    part = message.content[0].model_dump()
    yield {
        "type": "response.output_text.done",
        **where,
        "content_index": 0,
        "text": text,
        "logprobs": [],
    }
    yield {"type": "response.content_part.done", **where, "content_index": 0, "part": part}
    yield {"type": "response.output_item.done", "output_index": 0, "item": _dumped(message)}
    yield {"type": "response.completed", "response": _dumped(done)}


def _dumped(model: BaseModel) -> dict[str, Any]:
    return model.model_dump(mode="json")


def _pieces(text: str) -> list[str]:
    """The text in a few deltas, each ending at a line break (never a word split)."""
    pieces = text.splitlines(keepends=True)
    return pieces or [""]


def _sse(events: Iterator[dict[str, Any]]) -> Iterator[str]:
    """Each event as OpenAI frames it: its type as the SSE ``event``, numbered in order."""
    for number, event in enumerate(events):
        event["sequence_number"] = number
        yield f"event: {event['type']}\ndata: {json.dumps(event, ensure_ascii=False)}\n\n"
