"""An OpenAI-compatible chat endpoint, so existing chat clients and SDKs can ask the documents.

``POST /v1/chat/completions`` is stateless, as OpenAI's is: the client sends the whole
conversation each time, and its user messages, in order, are the questions of the conversation
(``ChatService.reply_to_transcript``). The reply is the extracted answer with numbered source
footnotes; the structured answer (citations with offsets) rides along in the extra field
``qa`` of the completion and ``citations`` of the message, which OpenAI clients keep as extras.

OpenAI's parameters are all accepted by name; an unknown one is a 400 naming it, as OpenAI's
API answers. Those that ask for what an extractive reader cannot do (``n`` above 1,
``logprobs``, a forced tool call, audio) are a 400 naming them too; sampling knobs
(``temperature``, ``seed``, ``max_tokens``, ...) have nothing to act on and are ignored.
``tools`` are accepted and never called: the reply is always the answer.
``response_format`` ``json_object`` / ``json_schema`` makes the content the structured answer
as JSON (``api.openai_replies.StructuredAnswer``). Errors have OpenAI's shape
(``api.openai_errors``).
"""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Iterator
from typing import Annotated, Any, Literal

from fastapi import APIRouter
from fastapi.responses import StreamingResponse
from pydantic import BaseModel, BeforeValidator, ConfigDict, Field

from api.errors import ApiError
from api.openai_errors import OpenAIErrorResponse
from api.openai_replies import (
    JsonObjectFormat,
    JsonSchemaFormat,
    TextFormat,
    answer_conversation,
    citations_of,
    count_usage,
    format_reply,
    questions_of,
    reply_content,
    requested_fields,
)
from api.routes_chat import ChatServiceDep
from qa.answering import AskResponse
from qa.answers import Citation

__all__ = ["format_reply", "router"]

router = APIRouter(prefix="/v1", tags=["openai"])

MODEL_ID = "qa-extractive"
OWNER = "qa"

# Under /v1/ a bad request is a 400 in OpenAI's shape, never a 422.
OPENAI_ERRORS: dict[int | str, dict[str, object]] = {
    status: {"model": OpenAIErrorResponse} for status in (400, 401, 413, 429, 503)
}

_REQUEST_CONFIG = ConfigDict(strict=True, extra="forbid")
# Any JSON object, as OpenAI's own schemas give tools, audio and the like.
JsonObject = dict[str, Any]


class ContentPart(BaseModel):
    """One part of a multi-part message; only text parts carry a question."""

    # Strict, like every request model: the types the schema says, no "true" for a boolean.
    model_config = ConfigDict(extra="allow", strict=True)

    type: str
    text: str = ""


class ChatMessage(BaseModel):
    # Messages keep whatever else clients put in them (name, tool_calls, ...): nothing reads it.
    model_config = ConfigDict(extra="allow", strict=True)

    role: str = Field(description="system, user, assistant, ...: only user messages are asked")
    content: str | list[ContentPart] | None = None

    def text(self) -> str:
        if isinstance(self.content, list):
            return " ".join(part.text for part in self.content if part.type == "text")
        return self.content or ""


class StreamOptions(BaseModel):
    model_config = _REQUEST_CONFIG
    include_usage: bool | None = None
    include_obfuscation: bool | None = None


def _boolean(value: object) -> object:
    """Only true and false are booleans: ``Literal[False]`` alone would take 0 (0 == False)."""
    if not isinstance(value, bool):
        raise ValueError("Input should be a valid boolean")
    return value


# A switch that can only be off: what it would turn on is not available here.
OnlyFalse = Annotated[Literal[False], BeforeValidator(_boolean)]

ResponseFormat = Annotated[
    TextFormat | JsonObjectFormat | JsonSchemaFormat, Field(discriminator="type")
]
# "none" and "auto" are honoured (no tool is called either way); "required" or a named
# function would ask for a call this server never makes.
ToolChoice = Literal["none", "auto"]


class ChatCompletionRequest(BaseModel):
    """OpenAI's request, field by field. What cannot be honoured is refused by the schema
    (``n`` is 1, ``logprobs`` false, ``tool_choice`` none or auto, no audio output), so the
    400 names the parameter; there is nothing to sample, so the sampling knobs do nothing."""

    model_config = _REQUEST_CONFIG

    model: str = MODEL_ID
    messages: list[ChatMessage] = Field(min_length=1)
    stream: bool | None = False
    stream_options: StreamOptions | None = None
    n: int | None = Field(
        default=None, ge=1, le=1, description="Only 1: there is one extracted answer"
    )
    logprobs: OnlyFalse | None = Field(
        default=None, description="Not available: the answer is copied, not generated"
    )
    top_logprobs: int | None = Field(default=None, ge=0, le=0, description="Not available")
    response_format: ResponseFormat | None = Field(
        default=None,
        description="json_object or json_schema: the content is the structured answer as JSON",
    )
    tools: list[JsonObject] | None = Field(default=None, description="Accepted, never called")
    tool_choice: ToolChoice | None = None
    parallel_tool_calls: bool | None = None
    functions: list[JsonObject] | None = Field(default=None, description="Accepted, never called")
    function_call: Literal["none", "auto"] | None = None
    modalities: list[Literal["text"]] | None = Field(default=None, description="Text only")
    audio: None = Field(default=None, description="Not available: text only")
    temperature: float | None = None
    top_p: float | None = None
    max_tokens: int | None = None
    max_completion_tokens: int | None = None
    stop: str | list[str] | None = None
    presence_penalty: float | None = None
    frequency_penalty: float | None = None
    logit_bias: dict[str, float] | None = None
    seed: int | None = None
    user: str | None = None
    metadata: dict[str, str] | None = None
    store: bool | None = None
    service_tier: str | None = None
    reasoning_effort: str | None = None
    verbosity: str | None = None
    prediction: JsonObject | None = None
    web_search_options: JsonObject | None = None
    prompt_cache_key: str | None = None
    prompt_cache_retention: str | None = None
    safety_identifier: str | None = None


class Usage(BaseModel):
    """Token counts in the reader model's tokenizer: the messages sent, the reply written."""

    prompt_tokens: int = 0
    completion_tokens: int = 0
    total_tokens: int = 0


class AssistantMessage(BaseModel):
    role: Literal["assistant"] = "assistant"
    content: str
    refusal: None = None
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
        **OPENAI_ERRORS,
        200: {"content": {"text/event-stream": {}}, "description": "with `stream: true`"},
    },
)
def chat_completions(
    request: ChatCompletionRequest, service: ChatServiceDep
) -> ChatCompletion | StreamingResponse:
    """OpenAI's chat completions: the last user message answered, the earlier ones as its
    conversation. With ``stream: true`` the reply comes as server-sent events."""
    fields = requested_fields(request.response_format, "response_format")
    messages = [(message.role, message.text()) for message in request.messages]
    response = answer_conversation(service, questions_of(messages))
    content = reply_content(response, fields)
    tokens = count_usage(service.answerer, [text for _, text in messages], content)
    completion = ChatCompletion(
        id=f"chatcmpl-{uuid.uuid4().hex}",
        created=int(time.time()),
        choices=[
            Choice(message=AssistantMessage(content=content, citations=citations_of(response)))
        ],
        usage=Usage(
            prompt_tokens=tokens.prompt,
            completion_tokens=tokens.completion,
            total_tokens=tokens.total,
        ),
        qa=response,
    )
    if not request.stream:
        return completion
    usage_chunk = bool(request.stream_options and request.stream_options.include_usage)
    return StreamingResponse(
        _sse(_chunks(completion, usage_chunk)),
        media_type="text/event-stream",
        headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
    )


def _chunks(completion: ChatCompletion, usage_chunk: bool) -> Iterator[dict[str, object]]:
    """``chat.completion.chunk`` objects: the role, the content in pieces, then the finish (which
    also carries the structured answer, as the one chunk a client can read it from whole).

    Usage rides on the finish chunk; with ``stream_options.include_usage`` it comes instead, as
    OpenAI sends it, in one more chunk with no choices (clients that add up usage across chunks
    then count it once).
    """
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
    final["usage"] = None if usage_chunk else completion.usage.model_dump()
    final["qa"] = completion.qa.model_dump()
    yield final
    if usage_chunk:
        yield {**chunk({}), "choices": [], "usage": completion.usage.model_dump()}


def _sse(chunks: Iterator[dict[str, object]]) -> Iterator[str]:
    for item in chunks:
        yield f"data: {json.dumps(item, ensure_ascii=False)}\n\n"
    yield "data: [DONE]\n\n"


@router.get("/models", response_model=ModelList, responses=OPENAI_ERRORS)
def list_models() -> ModelList:
    """The one model: extractive answers from the indexed documents."""
    return ModelList(data=[ModelCard()])


@router.get(
    "/models/{model_id}",
    response_model=ModelCard,
    responses={404: {"model": OpenAIErrorResponse}, **OPENAI_ERRORS},
)
def get_model(model_id: str) -> ModelCard:
    """The one model by its id; any other id is a 404 (``model_not_found``)."""
    if model_id != MODEL_ID:
        raise ApiError(
            404,
            "model_not_found",
            f"The model {model_id!r} does not exist; the one model is {MODEL_ID}",
            param="model",
        )
    return ModelCard()
