"""A request id on every response (``X-Request-ID``) and on every access log line.

An incoming id is reused when it looks like an id (so a proxy's or a client's id can be
followed through the logs); anything else is replaced, so a header cannot forge log lines. The
path is logged percent-encoded, as it came on the wire: a ``%0A`` or an escape sequence in it is
shown, never written out as a line break or a terminal colour.
"""

from __future__ import annotations

import logging
import re
import time
import uuid
from urllib.parse import quote

from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

REQUEST_ID_HEADER = "X-Request-ID"
_SCOPE_KEY = "request_id"  # in the scope's per-request ``state``, i.e. ``request.state``
_SANE_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._:-]{0,127}")

access_log = logging.getLogger("api.access")


# What may stand unencoded in a logged path: RFC 3986's path characters, not the quote mark
# that delimits the request line in the log.
_PATH_SAFE = "/!$&'()*+,;=:@-._~"


def loggable_path(scope: Scope) -> str:
    """The request's path for a log line: control characters, quotes and spaces encoded."""
    return quote(str(scope.get("path", "")), safe=_PATH_SAFE)


def request_id_of(scope: Scope) -> str:
    """The id ``RequestIdMiddleware`` gave this request ("-" outside of it)."""
    return str(scope.get("state", {}).get(_SCOPE_KEY, "-"))


def _incoming_id(scope: Scope) -> str | None:
    for name, value in scope.get("headers", ()):
        if name == b"x-request-id":
            text = value.decode("latin-1")
            return text if _SANE_ID.fullmatch(text) else None
    return None


class RequestIdMiddleware:
    """Gives each request an id, echoes it in ``X-Request-ID`` and logs one access line."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request_id = _incoming_id(scope) or uuid.uuid4().hex
        # The server hands each request its own copy of ``state``, so this stays per request.
        scope.setdefault("state", {})[_SCOPE_KEY] = request_id
        started = time.perf_counter()
        status = 500  # what the client sees if the app fails before responding

        async def send_with_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                MutableHeaders(scope=message)[REQUEST_ID_HEADER] = request_id
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        finally:
            client = scope.get("client")
            access_log.info(
                '%s "%s %s" %d %.1fms request_id=%s',
                client[0] if client else "-",
                scope["method"],
                loggable_path(scope),
                status,
                (time.perf_counter() - started) * 1000,
                request_id,
            )
