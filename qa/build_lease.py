"""The live build, shared by the questions being answered, and replaced under them.

A question reads one build from start to end. When a newer build replaces it, what the old one
holds outside Python's reach (a Milvus client, an embedded Milvus Lite server with its data
folder open) is let go as soon as the last question reading it is done, not left running for
the life of the process.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Generic, TypeVar

T = TypeVar("T")

_log = logging.getLogger(__name__)


class Leases(Generic[T]):
    """The current one of a series of resources; each is closed once it has been replaced and
    nothing holds it any more."""

    def __init__(self, first: T, close: Callable[[T], None]) -> None:
        self._lock = threading.Lock()
        self._current = first
        self._close = close
        self._holders: dict[int, int] = {}  # id of a resource -> leases on it
        self._replaced: dict[int, T] = {}  # replaced while held: closed when let go

    @property
    def current(self) -> T:
        return self._current

    @contextmanager
    def lease(self) -> Iterator[T]:
        """The current resource, kept open until the ``with`` block ends."""
        with self._lock:
            held = self._current
            self._holders[id(held)] = self._holders.get(id(held), 0) + 1
        try:
            yield held
        finally:
            self._let_go(held)

    def replace(self, new: T) -> None:
        """Make ``new`` current; the old one is closed now, or when its last lease ends."""
        with self._lock:
            old, self._current = self._current, new
            if old is new:
                return
            if self._holders.get(id(old)):
                self._replaced[id(old)] = old
                return
        self._close_quietly(old)

    def _let_go(self, held: T) -> None:
        with self._lock:
            key = id(held)
            self._holders[key] -= 1
            if self._holders[key]:
                return
            del self._holders[key]
            done = self._replaced.pop(key, None)
        if done is not None:
            self._close_quietly(done)

    def _close_quietly(self, resource: T) -> None:
        # Nothing reads a replaced build again: a failure to close it is no failure to answer.
        try:
            self._close(resource)
        except Exception:
            _log.warning("closing a replaced build failed", exc_info=True)
