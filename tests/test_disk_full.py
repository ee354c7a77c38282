"""A full disk is named as one: `qa index` says which folder's disk is full and keeps the live
build; `POST /chat` answers 507 with a plain message rather than a generic 500.

The full disk is real where it can be: writes go to ``/dev/full`` (every write fails with ENOSPC)
and SQLite hits its own page limit (SQLITE_FULL), so each library words the fault its own way.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from pathlib import Path
from typing import Any

import faiss
import numpy as np
import pytest
from conftest import hashing_embedder
from fastapi.testclient import TestClient

import qa.indexing
from qa import cli
from qa.disk_space import is_disk_full
from qa.index_manifest import BUILDS_DIR, CASED_WORDS_FILE, current_build_dir
from qa.settings import Settings

DEV_FULL = Path("/dev/full")
pytestmark = pytest.mark.skipif(not DEV_FULL.exists(), reason="needs Linux's /dev/full")


def _raised(action: Callable[[], object]) -> BaseException:
    try:
        action()
    except BaseException as error:  # returned for inspection
        return error
    raise AssertionError("expected the write to fail")


def _sqlite_full(tmp_path: Path) -> BaseException:
    db = sqlite3.connect(tmp_path / "full.sqlite3")
    db.execute("CREATE TABLE t (x TEXT)")
    (pages,) = db.execute("PRAGMA page_count").fetchone()
    db.execute(f"PRAGMA max_page_count = {pages}")
    return _raised(lambda: db.execute("INSERT INTO t VALUES (?)", ("x" * 100_000,)))


def test_each_librarys_full_disk_is_told_apart_from_other_failures(tmp_path: Path) -> None:
    index = faiss.IndexFlatIP(8)
    index.add(np.zeros((5000, 8), dtype=np.float32))
    full = [
        _raised(lambda: DEV_FULL.write_bytes(b"x" * 100_000)),
        _raised(lambda: faiss.write_index(index, str(DEV_FULL))),  # a RuntimeError
        _sqlite_full(tmp_path),
        OSError("79872 requested and 19424 written"),  # numpy's short write has no errno
    ]
    assert [is_disk_full(error) for error in full] == [True] * len(full)
    other = [
        _raised(lambda: (tmp_path / "missing" / "x").write_text("x")),
        PermissionError(13, "Permission denied"),
        RuntimeError("Error in faiss: bad index"),
    ]
    assert [is_disk_full(error) for error in other] == [False] * len(other)


def test_an_error_chain_that_loops_is_read_once() -> None:
    first, second = RuntimeError("connection reset"), ValueError("bad reply")
    first.__context__, second.__context__ = second, first
    assert is_disk_full(first) is False
    second.__context__ = OSError(28, "No space left on device")
    assert is_disk_full(first) is True


@pytest.fixture()
def full_disk_for_builds(monkeypatch: pytest.MonkeyPatch) -> None:
    """The next build's capitalisation table goes to /dev/full, as to a disk with no room left."""
    write_build = qa.indexing._write_build

    def on_a_full_disk(folder: Path, *args: Any, **kwargs: Any) -> Any:
        (folder / CASED_WORDS_FILE).symlink_to(DEV_FULL)
        return write_build(folder, *args, **kwargs)

    monkeypatch.setattr(qa.indexing, "_write_build", on_a_full_disk)
    monkeypatch.setattr(cli, "_embedder_factory", lambda _settings: hashing_embedder)


def test_qa_index_on_a_full_disk_names_the_folder_and_keeps_the_live_build(
    index_copy: Settings, full_disk_for_builds: None, capsys: pytest.CaptureFixture[str]
) -> None:
    live = current_build_dir(index_copy.index_dir)
    (index_copy.corpus_dir / "mill.txt").write_text("The Water Mill\n\nIt was restored in 1990.\n")
    paths = ["--corpus", str(index_copy.corpus_dir), "--index", str(index_copy.index_dir)]

    assert cli.main(["index", *paths]) == 2
    (line,) = capsys.readouterr().err.strip().splitlines()
    assert line.startswith(f"qa: the disk holding {index_copy.index_dir} is full (writing index")
    assert line.endswith("free some space there and try again")
    assert current_build_dir(index_copy.index_dir) == live
    leftovers = [p.name for p in (index_copy.index_dir / BUILDS_DIR).iterdir()]
    assert not [name for name in leftovers if name.startswith(".staging-")]


# --- POST /chat -------------------------------------------------------------------------------


def fill_session_database(monkeypatch: pytest.MonkeyPatch) -> None:
    """Session database connections made from now on may not grow the file by another page."""
    connect = sqlite3.connect

    def connect_to_a_full_disk(*args: Any, **kwargs: Any) -> sqlite3.Connection:
        db = connect(*args, **kwargs)
        (pages,) = db.execute("PRAGMA page_count").fetchone()
        db.execute(f"PRAGMA max_page_count = {max(pages, 1)}")
        return db

    monkeypatch.setattr("qa.sessions_sqlite.sqlite3.connect", connect_to_a_full_disk)


def test_a_turn_on_a_full_disk_is_a_507_with_a_plain_message(
    make_client: Callable[..., TestClient], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    client = make_client(database_url=f"sqlite:///{tmp_path / 'sessions.sqlite3'}")
    fill_session_database(monkeypatch)  # the store is open: now its disk fills up
    # A question long enough that its turn needs a page the database may not add.
    question = "Who founded the Lantern Festival? " + "Tell me about the lanterns. " * 30
    response = client.post("/chat", json={"message": question})
    assert response.status_code == 507, response.text
    error = response.json()["error"]
    assert error["code"] == "insufficient_storage"
    assert error["message"] == "the server's disk is full, so nothing was saved; try again later"
    assert client.get("/ready").status_code == 200  # reading still works: answers go on
