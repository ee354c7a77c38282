"""A long build says how far it is: a line every few seconds when the output is not a
terminal (a log file), with the count, the rate and the time left."""

from __future__ import annotations

import io
import re
from pathlib import Path

import pytest
from conftest import TINY_CORPUS, hashing_embedder, write_corpus

from qa.indexing import build_index
from qa.progress import ProgressLines, ProgressMode, progress_mode, tracked
from qa.settings import Settings


def test_lines_give_count_rate_and_time_left() -> None:
    stream = io.StringIO()
    lines = ProgressLines("embedding", 400, "chunks", stream=stream, every=0.0)

    lines.update(100)
    lines.update(300)
    lines.close()  # the last count was written already: not again

    first, last = stream.getvalue().splitlines()
    assert re.fullmatch(
        r"qa: embedding: 100/400 chunks, [\d,.]+ chunks/s, about \d+ (s|min|h) left", first
    )
    assert re.fullmatch(r"qa: embedding: 400/400 chunks, [\d,.]+ chunks/s", last)


def test_a_log_file_gets_lines_a_terminal_a_bar_and_false_nothing() -> None:
    class Terminal(io.StringIO):
        def isatty(self) -> bool:
            return True

    assert progress_mode(None, io.StringIO()) is ProgressMode.LINES
    assert progress_mode(None, Terminal()) is ProgressMode.BAR
    assert progress_mode(False, Terminal()) is ProgressMode.OFF
    assert list(tracked(iter("abc"), ProgressMode.OFF, "x", 3, "items")) == ["a", "b", "c"]


def test_a_build_writing_to_a_log_reports_its_stages(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("qa.progress.LINE_EVERY_SECONDS", 0.0)
    settings = Settings(
        corpus_dir=write_corpus(tmp_path / "corpus", TINY_CORPUS), index_dir=tmp_path / "index"
    )

    build_index(settings, hashing_embedder, progress=None)  # stderr is captured: not a tty

    printed = capsys.readouterr().err
    assert re.search(r"qa: reading sentences: 3/3 docs", printed)
    assert re.search(r"qa: embedding: \d+/\d+ chunks", printed)
