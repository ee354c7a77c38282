"""The app's one ``Answerer``, kept current: it follows new `qa index` builds without a restart.

The service starts even when no index has been built; it then reports why it is not ready
and loads the index as soon as one is published.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from pathlib import Path

from fastapi import Request

from api.errors import ApiError
from qa.answering import Answerer
from qa.indexing import IndexMissingError, current_build_dir

logger = logging.getLogger("api.live_answerer")


class LiveAnswerer:
    """Holds the ``Answerer`` (or the reason there is none) and refreshes it at most once a
    ``refresh_seconds``, so the check costs one small file read per second, not per request."""

    def __init__(
        self,
        load: Callable[[], Answerer],
        index_dir: Path,
        answerer: Answerer | None = None,
        refresh_seconds: float = 1.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._load = load
        self._index_dir = index_dir
        self._answerer = answerer
        self._problem = "" if answerer else "the index has not been loaded yet"
        self._refresh_seconds = refresh_seconds
        self._clock = clock
        self._next_refresh = clock() + refresh_seconds
        self._lock = threading.Lock()

    def start(self) -> None:
        """Load the index if there is one; a missing index is reported, not raised."""
        if self._answerer is not None:
            return
        try:
            self._answerer = self._load()
        except IndexMissingError as error:
            self._problem = f"{error}, then this service picks it up within a second"
            logger.warning("not ready: %s", error)
        except Exception as error:  # a damaged build: say so on /ready, keep serving /health
            self._problem = f"the index could not be loaded ({error}); run `qa index --force`"
            logger.exception("not ready: the index could not be loaded")

    def refresh(self) -> None:
        """Pick up a newly published build (or the first one), at most once a period."""
        now = self._clock()
        if now < self._next_refresh or not self._lock.acquire(blocking=False):
            return  # checked recently, or another request is checking right now
        try:
            self._next_refresh = now + self._refresh_seconds
            if self._answerer is None:
                if current_build_dir(self._index_dir) is not None:
                    self._answerer = self._load()
                    logger.info("index loaded: build %s", self._answerer.manifest.build_id)
            elif self._answerer.reload_if_changed():
                logger.info("switched to build %s", self._answerer.manifest.build_id)
        except Exception as error:
            # Keep serving the build already loaded; the next period tries again.
            logger.exception("could not load the new index build")
            if self._answerer is None:
                self._problem = f"the index in {self._index_dir} could not be loaded: {error}"
        finally:
            self._lock.release()

    def require(self) -> Answerer:
        if self._answerer is None:
            raise ApiError(503, "not_ready", self._problem)
        return self._answerer


def current_answerer(request: Request) -> Answerer:
    """Route dependency: the refreshed ``Answerer``, or 503 while there is none.

    A plain ``def`` so FastAPI runs it in the threadpool: loading a new build reads files.
    """
    live: LiveAnswerer = request.app.state.live_answerer
    live.refresh()
    return live.require()
