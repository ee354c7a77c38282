"""The app's one ``Answerer``, kept current: it follows new `qa index` builds without a restart.

The service starts even when no index has been built, or the live build is damaged; it then
reports why it is not ready and loads the index as soon as a sound one is published. What it
reports is a short reason for whoever probes ``/ready`` (which is public): the details, with
paths and library messages, go to the log, once per distinct problem.
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
from qa.index_manifest import IndexMissingError, OutdatedBuildError, current_build_dir
from qa.integrity import DamagedBuildError
from qa.milvus_index import MilvusUnavailableError

logger = logging.getLogger("api.live_answerer")

NOT_BUILT = "no index has been built yet: run `qa index` (it is picked up within a second)"
DAMAGED = "the index is damaged: run `qa index` to rebuild it"
OUTDATED = "the index was made by another version of qa: run `qa index`"
NOT_LOADED = "the index could not be loaded; the server log says why"
NOT_ANSWERING = "the index does not answer; the server log says why"
NO_MILVUS = "the index's Milvus cannot be reached; the server log says why"


def _reason(error: Exception, fallback: str) -> str:
    """The short, public reason for an index problem."""
    if isinstance(error, IndexMissingError):
        return NOT_BUILT
    if isinstance(error, DamagedBuildError):
        return DAMAGED
    if isinstance(error, OutdatedBuildError):
        return OUTDATED
    if isinstance(error, MilvusUnavailableError):
        return NO_MILVUS
    return fallback


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
        self._last_logged = ""

    def start(self) -> None:
        """Load the index if there is one; a missing or damaged index is reported, not raised."""
        if self._answerer is not None:
            return
        try:
            self._answerer = self._load()
        except Exception as error:
            self._problem = _reason(error, NOT_LOADED)
            self._log("not ready", error)

    def refresh(self, force: bool = False) -> None:
        """Pick up a newly published build (or the first one), at most once a period; with
        ``force`` now (the corpus editor, as soon as it has published one)."""
        now = self._clock()
        if not force and now < self._next_refresh:
            return  # checked recently
        if not self._lock.acquire(blocking=force):
            return  # another request is checking right now
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
            self._log("could not load the new index build", error)
            if self._answerer is None:
                self._problem = _reason(error, NOT_LOADED)
        finally:
            self._lock.release()

    def require(self) -> Answerer:
        if self._answerer is None:
            raise ApiError(503, "not_ready", self._problem)
        return self._answerer

    def ready(self) -> Answerer:
        """The answerer, once a cheap real query through its build has worked; else 503 with a
        short reason (a build damaged since it was loaded is found here, before traffic is)."""
        self.refresh()
        answerer = self.require()
        try:
            answerer.probe()
        except Exception as error:
            self._log("not ready", error)
            raise ApiError(503, "not_ready", _reason(error, NOT_ANSWERING)) from None
        self._last_logged = ""  # a problem that comes back is logged again
        return answerer

    def _log(self, what: str, error: Exception) -> None:
        """Log a problem with its details, once until another problem takes its place (load
        balancers probe every few seconds; a log line each time would bury everything else)."""
        message = f"{what}: {error}"
        if message == self._last_logged:
            return
        self._last_logged = message
        known = isinstance(error, IndexMissingError | DamagedBuildError | OutdatedBuildError)
        logger.warning("%s", message, exc_info=None if known else error)


def current_answerer(request: Request) -> Answerer:
    """Route dependency: the refreshed ``Answerer``, or 503 while there is none.

    A plain ``def`` so FastAPI runs it in the threadpool: loading a new build reads files.
    """
    live: LiveAnswerer = request.app.state.live_answerer
    live.refresh()
    return live.require()
