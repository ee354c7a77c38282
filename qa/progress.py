"""Progress of a long build: a bar on a terminal, a plain line every few seconds elsewhere
(a log file, a container's output), so a build that takes an hour is never silent."""

from __future__ import annotations

import sys
import time
from collections.abc import Callable, Iterable, Iterator
from enum import Enum
from typing import TextIO, TypeVar

from tqdm import tqdm

T = TypeVar("T")
LINE_EVERY_SECONDS = 5.0


class ProgressMode(Enum):
    BAR = "bar"
    LINES = "lines"
    OFF = "off"


def progress_mode(progress: bool | None, stream: TextIO | None = None) -> ProgressMode:
    """``progress`` None: a bar on a terminal, lines otherwise; False: nothing; True: a bar."""
    if progress is False:
        return ProgressMode.OFF
    if progress is True:
        return ProgressMode.BAR
    return ProgressMode.BAR if (stream or sys.stderr).isatty() else ProgressMode.LINES


def _duration(seconds: float) -> str:
    if seconds < 90:
        return f"{seconds:.0f} s"
    if seconds < 5400:
        return f"{seconds / 60:.0f} min"
    return f"{seconds / 3600:.1f} h"


class ProgressLines:
    """Counts work done and writes "qa: embedding: 1,200/5,000 chunks, 310 chunks/s, about
    12 s left" at most every ``every`` seconds, and a last line when the stage ends."""

    def __init__(
        self,
        stage: str,
        total: int,
        unit: str,
        stream: TextIO | None = None,
        every: float | None = None,
    ) -> None:
        self.stage, self.total, self.unit = stage, total, unit
        self.stream = stream or sys.stderr
        self.every = LINE_EVERY_SECONDS if every is None else every
        self.done = self.written = 0
        self.started = self.last = time.monotonic()

    def update(self, count: int = 1) -> None:
        self.done += count
        now = time.monotonic()
        if now - self.last >= self.every:
            self.last = now
            self._write(now)

    def close(self) -> None:
        if self.done != self.written and time.monotonic() - self.started >= self.every:
            self._write(time.monotonic())

    def _write(self, now: float) -> None:
        self.written = self.done
        elapsed = max(now - self.started, 1e-9)
        rate = self.done / elapsed
        line = f"qa: {self.stage}: {self.done:,}/{self.total:,} {self.unit}, "
        line += f"{rate:,.1f} {self.unit}/s"
        if 0 < self.done < self.total and rate > 0:
            line += f", about {_duration((self.total - self.done) / rate)} left"
        print(line, file=self.stream, flush=True)


def tracked(
    items: Iterable[T],
    mode: ProgressMode,
    stage: str,
    total: int,
    unit: str,
    size: Callable[[T], int] | None = None,
) -> Iterator[T]:
    """``items`` as they are consumed, with progress shown as ``mode`` says; ``size`` says how
    many units an item counts for (a batch of chunks), else one each."""
    if mode is ProgressMode.OFF:
        yield from items
        return
    if mode is ProgressMode.BAR:
        bar = tqdm(total=total, desc=stage, unit=unit, file=sys.stderr)
        counter = bar.update
    else:
        lines = ProgressLines(stage, total, unit)
        counter = lines.update
    try:
        for item in items:
            yield item
            counter(size(item) if size else 1)
    finally:
        if mode is ProgressMode.BAR:
            bar.close()
        else:
            lines.close()
