"""Which methods a path answers: HEAD wherever GET is (RFC 9110: a server that answers GET
should answer HEAD), and every 405 names all the methods its path allows, not only those of the
first route with that path (``/sessions/{id}`` has a GET route and a DELETE route)."""

from __future__ import annotations

from collections.abc import Iterable

from starlette.routing import BaseRoute, Match, Route
from starlette.types import ASGIApp, Message, Receive, Scope, Send

_ORDER = ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS")
_RECEIVED_METHOD = "received_method"  # in the scope's per-request ``state``


def received_method(scope: Scope) -> str:
    """The method the client sent (a HEAD is served as a GET)."""
    return str(scope.get("state", {}).get(_RECEIVED_METHOD) or scope.get("method", ""))


def allowed_methods(routes: Iterable[BaseRoute], scope: Scope) -> list[str]:
    """Every method some route answers for the request's path (HEAD with GET), in order."""
    methods: set[str] = set()
    for route in routes:
        match, _ = route.matches({**scope, "method": "GET"})
        if match != Match.NONE and isinstance(route, Route) and route.methods:
            methods |= route.methods
    if "GET" in methods:
        methods.add("HEAD")
    return sorted(methods, key=lambda m: (_ORDER.index(m) if m in _ORDER else len(_ORDER), m))


class HeadAsGetMiddleware:
    """Serves a HEAD request as the GET it asks about, sending the headers without the body.
    The OpenAPI schema leaves HEAD out (``api.openapi``): it is implied by GET."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] != "HEAD":
            await self.app(scope, receive, send)
            return
        scope.setdefault("state", {})[_RECEIVED_METHOD] = "HEAD"

        async def headers_only(message: Message) -> None:
            if message["type"] != "http.response.body":
                await send(message)
            elif not message.get("more_body", False):
                await send({"type": "http.response.body", "body": b"", "more_body": False})

        # A copy with its own method: the server still knows the request as a HEAD.
        await self.app({**scope, "method": "GET"}, receive, headers_only)
