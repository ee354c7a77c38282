"""Limits on what one request and one client may ask of the service: body size and request rate."""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from pydantic import SecretStr
from starlette.datastructures import Headers
from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from api.auth import is_public_path, key_owner, matching_key, presented_key
from api.errors import error_response_for


class BodyTooLargeError(HTTPException):
    """Raised from ``receive`` when the streamed body passes the limit.

    An ``HTTPException`` so that FastAPI's body reading lets it through to the error
    handlers (it turns any other exception there into a 400).
    """

    def __init__(self, limit: int, what: str = "the request body") -> None:
        super().__init__(413, f"{what} is larger than the limit of {limit} bytes")


# A multipart body holds the file and a little framing (boundaries, part headers).
MULTIPART_FRAMING_BYTES = 64 * 1024


class BodySizeLimitMiddleware:
    """413 for a body over ``max_bytes``: at once from ``Content-Length``, else while streaming.
    Uploads (``upload_paths``, with ``max_upload_bytes``) may be larger, by so much.

    The declared length alone is not trusted: a chunked body has none, and a client may lie.
    """

    def __init__(
        self,
        app: ASGIApp,
        max_bytes: int,
        upload_paths: frozenset[str] = frozenset(),
        max_upload_bytes: int = 0,
    ) -> None:
        self.app = app
        self.max_bytes = max_bytes
        self.upload_paths = upload_paths
        self.max_upload_bytes = max_upload_bytes

    def _error(self, scope: Scope) -> BodyTooLargeError:
        if scope.get("method") == "POST" and scope["path"] in self.upload_paths:
            return BodyTooLargeError(self.max_upload_bytes, "the upload (QA_MAX_UPLOAD_BYTES)")
        return BodyTooLargeError(self.max_bytes)

    def _limit(self, scope: Scope) -> int:
        if scope.get("method") == "POST" and scope["path"] in self.upload_paths:
            return self.max_upload_bytes + MULTIPART_FRAMING_BYTES
        return self.max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = self._limit(scope)
        declared = Headers(scope=scope).get("content-length", "")
        if declared.isdigit() and int(declared) > limit:
            error = self._error(scope)
            await error_response_for(scope, 413, error.detail)(scope, receive, send)
            return
        received = 0

        async def receive_limited() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    raise self._error(scope)
            return message

        await self.app(scope, receive_limited, send)


@dataclass
class _Bucket:
    tokens: float
    updated: float


class TokenBucketLimiter:
    """Per-client token buckets: a client may burst ``per_minute`` requests, then one every
    ``60 / per_minute`` seconds.

    Written here rather than taken from a library: it is twenty lines, needs no storage
    backend, and is easy to test with a fake clock. Buckets live in this process, so with
    ``--workers N`` each worker counts separately.
    """

    _MAX_CLIENTS = 10_000  # beyond this, buckets that have refilled completely are forgotten

    def __init__(self, per_minute: int, clock: Callable[[], float] = time.monotonic) -> None:
        self.capacity = float(per_minute)
        self.rate = per_minute / 60.0  # tokens per second
        self._clock = clock
        self._buckets: dict[str, _Bucket] = {}
        self._lock = threading.Lock()

    def take(self, client: str) -> float:
        """Spend a token for ``client``: 0.0 when allowed, else seconds until one is free."""
        now = self._clock()
        with self._lock:
            bucket = self._buckets.get(client)
            if bucket is None:
                if len(self._buckets) >= self._MAX_CLIENTS:
                    self._forget_full(now)
                bucket = self._buckets[client] = _Bucket(self.capacity, now)
            bucket.tokens = min(self.capacity, bucket.tokens + (now - bucket.updated) * self.rate)
            bucket.updated = now
            if bucket.tokens >= 1.0:
                bucket.tokens -= 1.0
                return 0.0
            return (1.0 - bucket.tokens) / self.rate

    def _forget_full(self, now: float) -> None:
        full_after = self.capacity / self.rate
        self._buckets = {
            client: bucket
            for client, bucket in self._buckets.items()
            if now - bucket.updated < full_after
        }


class RateLimitMiddleware:
    """429 with ``Retry-After`` once a client has used up its bucket.

    The client is the API key when the request carries one of the keys, else its IP address
    (the proxy's client where a trusted proxy forwarded it: ``api.proxies``): an unchecked key
    would let a client mint itself fresh buckets. Public paths (health probes, the chat page)
    are not counted.
    """

    def __init__(
        self, app: ASGIApp, limiter: TokenBucketLimiter, api_keys: Sequence[SecretStr]
    ) -> None:
        self.app = app
        self.limiter = limiter
        self.api_keys = list(api_keys)

    def _client(self, scope: Scope) -> str:
        key = matching_key(presented_key(scope), self.api_keys)
        if key is not None:
            return key_owner(key)
        client = scope.get("client")
        return "ip:" + (client[0] if client else "unknown")

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or is_public_path(scope["path"]):
            await self.app(scope, receive, send)
            return
        wait = self.limiter.take(self._client(scope))
        if wait <= 0:
            await self.app(scope, receive, send)
            return
        seconds = max(1, math.ceil(wait))
        response = error_response_for(
            scope,
            429,
            f"too many requests: the limit is {int(self.limiter.capacity)} a minute; "
            f"retry in {seconds} s",
            headers={"Retry-After": str(seconds)},
        )
        await response(scope, receive, send)
