"""OpenAI's error shape, for every response under ``/v1/``: ``{"error": {"message", "type",
"param", "code"}}``, with the statuses OpenAI uses (400, not 422, for a bad request).

The official clients pick the exception class from the status (``BadRequestError`` for 400,
``AuthenticationError`` for 401, ``NotFoundError`` for 404, ``RateLimitError`` for 429) and read
``type``, ``param`` and ``code`` from the body, so an integrator's ``except`` clauses work here as
they do against OpenAI. The request id travels in the ``X-Request-ID`` header, which the clients
expose as ``error.request_id``.
"""

from __future__ import annotations

from pydantic import BaseModel

OPENAI_PREFIX = "/v1"


class OpenAIErrorDetail(BaseModel):
    message: str
    type: str
    param: str | None = None
    code: str | None = None


class OpenAIErrorResponse(BaseModel):
    """The body of every error under ``/v1/``, as OpenAI's API writes it."""

    error: OpenAIErrorDetail


def is_openai_path(path: str) -> bool:
    return path == OPENAI_PREFIX or path.startswith(OPENAI_PREFIX + "/")


def openai_status(status: int) -> int:
    """OpenAI answers a request it cannot take with 400, where FastAPI would say 422."""
    return 400 if status == 422 else status


def openai_error_type(status: int) -> str:
    """OpenAI's ``type`` for a status: what its own API sends for the same fault."""
    if status == 401:
        return "authentication_error"
    if status == 403:
        return "permission_error"
    if status == 429:
        return "rate_limit_error"
    if status >= 500:
        return "server_error"
    return "invalid_request_error"


# Our codes where OpenAI's API has its own word for the same fault.
_OPENAI_CODES = {"unauthorized": "invalid_api_key", "rate_limited": "rate_limit_exceeded"}


def openai_error_body(
    status: int, message: str, code: str | None, param: str | None
) -> dict[str, object]:
    detail = OpenAIErrorDetail(
        message=message,
        type=openai_error_type(status),
        param=param,
        code=_OPENAI_CODES.get(code, code) if code else None,
    )
    return OpenAIErrorResponse(error=detail).model_dump()
