"""API keys: when any is set (``QA_API_KEY``, ``QA_API_KEYS``), every endpoint but the public
ones needs one, and the key a request carries is who it is: each key has sessions of its own.

The key may come as ``Authorization: Bearer <key>`` or ``X-API-Key: <key>``. A middleware
(rather than a per-route dependency) guards the whole app, so a route added later is closed
until it is listed here as public; routes authenticated otherwise (Slack's signed requests)
must be listed too.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Sequence

from fastapi import Request
from pydantic import SecretStr
from starlette.datastructures import Headers
from starlette.types import ASGIApp, Receive, Scope, Send

from api.errors import error_response_for
from qa.sessions import PUBLIC_OWNER

# Probes, the chat page and its assets: what a load balancer or a browser fetches unasked;
# and Slack's endpoint, whose requests are signed (Bolt checks the signature) instead.
PUBLIC_PATHS = frozenset({"/", "/health", "/ready", "/favicon.ico", "/slack/events"})
PUBLIC_PREFIXES = ("/static/",)
_OWNER_KEY = "owner"  # in the scope's per-request ``state``


def is_public_path(path: str) -> bool:
    return path in PUBLIC_PATHS or path.startswith(PUBLIC_PREFIXES)


def presented_key(scope: Scope) -> str | None:
    """The key a request carries, from either header; None when it carries none."""
    headers = Headers(scope=scope)
    scheme, _, token = headers.get("authorization", "").partition(" ")
    if scheme.lower() == "bearer" and token.strip():
        return token.strip()
    return headers.get("x-api-key") or None


def key_owner(key: str) -> str:
    """Who a key is, for its sessions and its rate limit: a digest, never the key itself."""
    return "key:" + hashlib.sha256(key.encode()).hexdigest()[:32]


def matching_key(presented: str | None, keys: Sequence[SecretStr]) -> str | None:
    """The key of ``keys`` that ``presented`` is, or None. Every key is compared, each in
    constant time, so response timing says neither how much of a key is right nor which."""
    if presented is None:
        return None
    found = None
    for key in keys:
        if hmac.compare_digest(presented.encode(), key.get_secret_value().encode()):
            found = key.get_secret_value()
    return found


def request_owner(request: Request) -> str:
    """Route dependency: whose sessions this request may reach (its key's, or the public ones
    of a server without keys)."""
    owner = request.scope.get("state", {}).get(_OWNER_KEY)
    return str(owner) if owner else PUBLIC_OWNER


class ApiKeyMiddleware:
    """Answers 401 in the error shape to a request without one of the keys; a request with one
    goes on as that key's owner."""

    def __init__(self, app: ASGIApp, api_keys: Sequence[SecretStr]) -> None:
        self.app = app
        self.api_keys = list(api_keys)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or is_public_path(scope["path"]):
            await self.app(scope, receive, send)
            return
        presented = presented_key(scope)
        key = matching_key(presented, self.api_keys)
        if key is not None:
            scope.setdefault("state", {})[_OWNER_KEY] = key_owner(key)
            await self.app(scope, receive, send)
            return
        message = (
            "missing API key: send `Authorization: Bearer <key>` or `X-API-Key: <key>`"
            if presented is None
            else "wrong API key"
        )
        response = error_response_for(scope, 401, message, headers={"WWW-Authenticate": "Bearer"})
        await response(scope, receive, send)
