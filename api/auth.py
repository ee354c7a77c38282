"""The optional API key: when ``QA_API_KEY`` is set, every endpoint but the public ones needs it.

The key may come as ``Authorization: Bearer <key>`` or ``X-API-Key: <key>``. A middleware
(rather than a per-route dependency) guards the whole app, so a route added later is closed
until it is listed here as public; routes authenticated otherwise (Slack's signed requests)
must be listed too.
"""

from __future__ import annotations

import hmac

from pydantic import SecretStr
from starlette.datastructures import Headers
from starlette.types import ASGIApp, Receive, Scope, Send

from api.errors import error_response
from api.request_ids import request_id_of

# Probes, the chat page and its assets: what a load balancer or a browser fetches unasked;
# and Slack's endpoint, whose requests are signed (Bolt checks the signature) instead.
PUBLIC_PATHS = frozenset({"/", "/health", "/ready", "/favicon.ico", "/slack/events"})
PUBLIC_PREFIXES = ("/static/",)


def is_public_path(path: str) -> bool:
    return path in PUBLIC_PATHS or path.startswith(PUBLIC_PREFIXES)


def presented_key(scope: Scope) -> str | None:
    """The key a request carries, from either header; None when it carries none."""
    headers = Headers(scope=scope)
    scheme, _, token = headers.get("authorization", "").partition(" ")
    if scheme.lower() == "bearer" and token.strip():
        return token.strip()
    return headers.get("x-api-key") or None


def key_matches(presented: str | None, expected: SecretStr) -> bool:
    """Constant-time comparison, so response timing does not reveal how much of a key is right."""
    if presented is None:
        return False
    return hmac.compare_digest(presented.encode(), expected.get_secret_value().encode())


class ApiKeyMiddleware:
    """Answers 401 in the error shape to a request without the right key."""

    def __init__(self, app: ASGIApp, api_key: SecretStr) -> None:
        self.app = app
        self.api_key = api_key

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if (
            scope["type"] != "http"
            or is_public_path(scope["path"])
            or key_matches(presented_key(scope), self.api_key)
        ):
            await self.app(scope, receive, send)
            return
        message = (
            "missing API key: send `Authorization: Bearer <key>` or `X-API-Key: <key>`"
            if presented_key(scope) is None
            else "wrong API key"
        )
        response = error_response(
            401, message, request_id_of(scope), headers={"WWW-Authenticate": "Bearer"}
        )
        await response(scope, receive, send)
