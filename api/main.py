"""The HTTP app: wiring only. ``qa serve`` runs ``uvicorn api.main:create_app --factory``."""

from __future__ import annotations

import logging
import sys
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager

from fastapi import FastAPI
from fastapi.middleware.cors import CORSMiddleware
from fastapi.staticfiles import StaticFiles
from fastapi_offline import FastAPIOffline

from api import (
    routes_ask,
    routes_chat,
    routes_documents,
    routes_openai,
    routes_page,
    routes_responses,
)
from api.auth import ApiKeyMiddleware
from api.errors import ApiError, UnhandledErrorMiddleware, install_error_handlers
from api.limits import BodySizeLimitMiddleware, RateLimitMiddleware, TokenBucketLimiter
from api.live_answerer import LiveAnswerer
from api.methods import HeadAsGetMiddleware
from api.openapi import describe_as_served
from api.proxies import TrustedProxyMiddleware, parse_networks
from api.request_ids import REQUEST_ID_HEADER, RequestIdMiddleware
from api.slack_app import mount_slack
from qa import __version__
from qa.answering import Answerer
from qa.corpus_edits import CorpusEditor
from qa.embedding import Embedder, load_embedder
from qa.sessions import SessionPolicy, open_session_store
from qa.settings import Settings, get_settings


def create_app(settings: Settings | None = None, answerer: Answerer | None = None) -> FastAPI:
    """The app over ``answerer``, or over an ``Answerer`` built from ``settings`` at startup."""
    settings = settings or (answerer.settings if answerer else get_settings())

    def load() -> Answerer:
        loaded = Answerer(settings)
        loaded.warm_up()  # the first request should not pay for loading the question path
        return loaded

    live = LiveAnswerer(load, settings.index_dir, answerer)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        live.start()  # loads the model and index once, before the first request
        # One store per process; SQLite in WAL mode lets every worker process share the file.
        app.state.session_store = store = open_session_store(
            settings.sessions_url(), SessionPolicy.of(settings)
        )
        yield
        close = getattr(store, "close", None)  # PostgreSQL: hand the pooled connections back
        if close is not None:
            close()

    # FastAPIOffline: /docs with Swagger UI's assets served from a package, not a CDN; under
    # /static/ so they are public, like the chat page's.
    app = FastAPIOffline(
        title="qa",
        version=__version__,
        description="Cited, extractive answers from a folder of documents.",
        lifespan=lifespan,
        static_url="/static/docs",
    )
    app.state.settings = settings
    app.state.live_answerer = live
    routers = [
        routes_ask.router,
        routes_chat.router,
        routes_openai.router,
        routes_responses.router,
        routes_page.router,
    ]
    if settings.admin_key is not None:  # without the key the admin routes do not exist
        app.state.corpus_editor = CorpusEditor(
            settings, _embedder_of(live, settings), on_published=lambda: live.refresh(force=True)
        )
        routers.insert(0, routes_documents.router)
    for router in routers:
        app.include_router(router)
    # Every route by path and method, for the Allow header of a 405 (api.methods).
    app.state.routes = [route for router in routers for route in router.routes]
    app.mount("/static", StaticFiles(directory=routes_page.STATIC_DIR), name="static")
    install_error_handlers(app)
    api_keys = settings.all_api_keys()

    # Each add_middleware wraps the app so far: the last added runs first on a request.
    app.add_middleware(HeadAsGetMiddleware)  # innermost: all the others see the HEAD
    if api_keys:
        app.add_middleware(ApiKeyMiddleware, api_keys=api_keys)
    app.add_middleware(
        BodySizeLimitMiddleware,
        max_bytes=settings.max_body_bytes,
        upload_paths=frozenset({routes_documents.UPLOAD_PATH} if settings.admin_key else ()),
        max_upload_bytes=settings.max_upload_bytes,
    )
    if settings.rate_limit_per_minute > 0:  # counts every request, refused ones too
        limiter = TokenBucketLimiter(settings.rate_limit_per_minute)
        app.add_middleware(RateLimitMiddleware, limiter=limiter, api_keys=api_keys)
    app.add_middleware(UnhandledErrorMiddleware)
    if settings.cors_origins:
        app.add_middleware(
            CORSMiddleware,
            allow_origins=settings.cors_origins,
            allow_methods=["GET", "HEAD", "POST", "DELETE"],
            allow_headers=[
                "Authorization",
                "X-API-Key",
                "Content-Type",
                "Idempotency-Key",
                REQUEST_ID_HEADER,
            ],
            expose_headers=[REQUEST_ID_HEADER, "Retry-After"],
        )
    app.add_middleware(RequestIdMiddleware)
    if settings.trusted_proxies:  # outermost: the rate limit and the access log see the client
        app.add_middleware(TrustedProxyMiddleware, trusted=parse_networks(settings.trusted_proxies))
    _log_to_stderr_unless_configured()
    mount_slack(app, settings, live)  # after logging is set up: it says whether Slack is on
    describe_as_served(app, settings, keys_required=bool(api_keys))
    return app


def _embedder_of(live: LiveAnswerer, settings: Settings) -> Callable[[], Embedder]:
    """What uploaded documents are embedded with: the live answerer's embedder (the index's
    model, already loaded), or the configured model while there is no index yet."""

    def embedder() -> Embedder:
        try:
            return live.require().embedder
        except ApiError:
            path = settings.resolved_model_path()
            return load_embedder(path, settings.embed_batch_size, settings.embed_precision)

    return embedder


def _log_to_stderr_unless_configured() -> None:
    """Uvicorn configures only its own loggers: give ours a handler unless someone else has."""
    logger = logging.getLogger("api")
    if logger.level == logging.NOTSET:
        logger.setLevel(logging.INFO)
    if not logger.hasHandlers():
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(logging.Formatter("%(levelname)s:     %(name)s %(message)s"))
        logger.addHandler(handler)
