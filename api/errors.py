"""One JSON error shape for every 4xx and 5xx: ``{"error": {"code", "message", "request_id"}}``;
under ``/v1/`` OpenAI's instead (``api.openai_errors``), so OpenAI's clients read it.

FastAPI's own errors (validation, unknown route, wrong method), the library's errors and
anything unexpected are all turned into it here, so a client parses one shape.
"""

from __future__ import annotations

import logging
from http import HTTPStatus

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from api.methods import allowed_methods, received_method
from api.openai_errors import is_openai_path, openai_error_body, openai_status
from api.request_ids import REQUEST_ID_HEADER, loggable_path, request_id_of
from qa.answering import InvalidQuestionError
from qa.sessions import (
    IdempotencyKeyReusedError,
    SessionFullError,
    SessionStoreFullError,
    SessionStoreUnavailableError,
)

logger = logging.getLogger("api.errors")

# Machine-readable codes for statuses raised without a more specific one.
_CODES = {
    400: "bad_request",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    413: "payload_too_large",
    415: "unsupported_media_type",
    422: "invalid_request",
    409: "conflict",
    429: "rate_limited",
    500: "internal_error",
    503: "not_ready",
    507: "insufficient_storage",
}
_RETRY_SESSIONS_SECONDS = 5


class ErrorDetail(BaseModel):
    code: str
    message: str
    request_id: str


class ErrorResponse(BaseModel):
    """The body of every error response."""

    error: ErrorDetail


class ApiError(Exception):
    """An error the API means to return, with its status, code and a message for people."""

    def __init__(
        self,
        status: int,
        code: str,
        message: str,
        headers: dict[str, str] | None = None,
        param: str | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.headers = headers or {}
        self.param = param  # the request field at fault, for OpenAI's shape under /v1/


def error_response(
    status: int,
    message: str,
    request_id: str,
    code: str | None = None,
    headers: dict[str, str] | None = None,
    *,
    param: str | None = None,
    openai: bool = False,
) -> JSONResponse:
    """The error in our shape, or with ``openai`` in OpenAI's (and its status: 400 for 422)."""
    code = code or _CODES.get(status, HTTPStatus(status).phrase.lower().replace(" ", "_"))
    headers = {**(headers or {}), REQUEST_ID_HEADER: request_id}
    if openai:
        status = openai_status(status)
        return JSONResponse(
            openai_error_body(status, message, code, param), status_code=status, headers=headers
        )
    body = ErrorResponse(error=ErrorDetail(code=code, message=message, request_id=request_id))
    return JSONResponse(body.model_dump(), status_code=status, headers=headers)


def error_response_for(
    scope: Scope,
    status: int,
    message: str,
    code: str | None = None,
    headers: dict[str, str] | None = None,
    param: str | None = None,
) -> JSONResponse:
    """``error_response`` for the request of ``scope``: its request id, and OpenAI's shape
    where the path is under ``/v1/``."""
    return error_response(
        status,
        message,
        request_id_of(scope),
        code,
        headers,
        param=param,
        openai=is_openai_path(str(scope.get("path", ""))),
    )


async def _api_error(request: Request, error: Exception) -> JSONResponse:
    assert isinstance(error, ApiError)
    return error_response_for(
        request.scope, error.status, error.message, error.code, error.headers, error.param
    )


async def _http_error(request: Request, error: Exception) -> JSONResponse:
    assert isinstance(error, HTTPException)
    if error.status_code == 404 and error.detail == HTTPStatus.NOT_FOUND.phrase:
        message = f"no such endpoint: {request.url.path} (the endpoints are listed at /docs)"
    elif error.status_code == 405:
        message = f"{received_method(request.scope)} is not allowed on {request.url.path}"
    else:
        message = str(error.detail)
    headers = dict(error.headers or {})
    routes = getattr(request.app.state, "routes", None)
    allowed = allowed_methods(routes, request.scope) if error.status_code == 405 and routes else []
    if allowed:  # every method of the path, not only the first route's
        headers["Allow"] = ", ".join(allowed)
    return error_response_for(request.scope, error.status_code, message, headers=headers)


def _field_name(location: tuple[int | str, ...]) -> str:
    """``("body", "top_k")`` -> ``top_k``; the body itself -> ``body``."""
    parts = [str(part) for part in location[1:]] if location[:1] == ("body",) else location
    return ".".join(str(part) for part in parts) or "body"


async def _validation_error(request: Request, error: Exception) -> JSONResponse:
    assert isinstance(error, RequestValidationError)
    problems = []
    errors = error.errors()
    for item in errors:
        location = tuple(item.get("loc", ()))
        if item.get("type") == "json_invalid":
            problems.append(f"the body is not valid JSON ({item.get('ctx', {}).get('error')})")
        elif location == ("body",):
            problems.append(
                "the body must be a JSON object sent as `Content-Type: application/json`"
            )
        else:
            problems.append(f"{_field_name(location)}: {item.get('msg')}")
    message = "; ".join(problems)
    if not is_openai_path(request.url.path):
        return error_response(422, message, request_id_of(request.scope))
    # OpenAI's shape names one parameter: the first at fault, with OpenAI's word for the fault.
    first = errors[0] if errors else {}
    location = tuple(first.get("loc", ()))
    param = _field_name(location) if location[:1] == ("body",) and len(location) > 1 else None
    code = _OPENAI_CODES.get(str(first.get("type")), "invalid_value") if param else None
    return error_response(
        422, message, request_id_of(request.scope), code, param=param, openai=True
    )


# OpenAI's codes for a field at fault, by pydantic's error type (any other: invalid_value).
_OPENAI_CODES = {
    "missing": "missing_required_parameter",
    "extra_forbidden": "unknown_parameter",
    "string_type": "invalid_type",
    "int_type": "invalid_type",
    "float_type": "invalid_type",
    "bool_type": "invalid_type",
    "list_type": "invalid_type",
    "dict_type": "invalid_type",
    "model_type": "invalid_type",
}


async def _invalid_question(request: Request, error: Exception) -> JSONResponse:
    return error_response_for(request.scope, 422, str(error), "invalid_question")


async def _session_error(request: Request, error: Exception) -> JSONResponse:
    """The session store's faults, each with its status and a message for people."""
    request_id = request_id_of(request.scope)
    if isinstance(error, SessionFullError):
        return error_response_for(request.scope, 409, str(error), "session_full")
    if isinstance(error, IdempotencyKeyReusedError):  # a conflict with what is recorded
        return error_response_for(request.scope, 409, str(error), "idempotency_key_reused")
    if isinstance(error, SessionStoreFullError):
        logger.error("session store: %s [request_id=%s]", error, request_id)
        message = "the server's disk is full, so nothing was saved; try again later"
        return error_response_for(request.scope, 507, message)
    assert isinstance(error, SessionStoreUnavailableError)
    logger.warning("session store: %s [request_id=%s]", error.__cause__ or error, request_id)
    return error_response_for(
        request.scope,
        503,
        "the session database cannot be reached; try again shortly",
        "sessions_unavailable",
        headers={"Retry-After": str(_RETRY_SESSIONS_SECONDS)},
    )


async def _unhandled(request: Request, error: Exception) -> JSONResponse:
    """Last resort, reached only if something outside ``UnhandledErrorMiddleware`` fails."""
    request_id = request_id_of(request.scope)
    logger.error("unhandled error [request_id=%s]", request_id, exc_info=error)
    return error_response_for(request.scope, 500, _INTERNAL_MESSAGE.format(request_id))


_INTERNAL_MESSAGE = "internal error: it has been logged with request id {}"


class UnhandledErrorMiddleware:
    """Turns an unexpected exception into a logged 500 in the error shape, never a traceback.

    Caught here (inside the request-id middleware) rather than by Starlette's outermost error
    middleware, so the response carries the request id and the traceback is logged once.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = False

        async def send_tracking(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, receive, send_tracking)
        except Exception:
            request_id = request_id_of(scope)
            logger.exception(
                "unhandled error on %s %s [request_id=%s]",
                scope.get("method"),
                loggable_path(scope),
                request_id,
            )
            if started:  # too late for a clean error: let the server drop the connection
                raise
            response = error_response_for(scope, 500, _INTERNAL_MESSAGE.format(request_id))
            await response(scope, receive, send)


def install_error_handlers(app: FastAPI) -> None:
    app.add_exception_handler(ApiError, _api_error)
    app.add_exception_handler(HTTPException, _http_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(InvalidQuestionError, _invalid_question)
    for session_error in (
        SessionFullError,
        IdempotencyKeyReusedError,
        SessionStoreFullError,
        SessionStoreUnavailableError,
    ):
        app.add_exception_handler(session_error, _session_error)
    app.add_exception_handler(Exception, _unhandled)
