"""A damaged build is found and named: `/ready` says 503 instead of letting every answer fail,
`qa index` rebuilds it from scratch without `--force`, and no command prints a traceback.

The damage is what the fault-injection run did: files of the live build truncated, overwritten
with other bytes of the same size, or removed; the manifest cut short.
"""

from __future__ import annotations

import logging
import os
import shutil
from collections.abc import Callable
from pathlib import Path

import pytest
from conftest import INDEX_BACKEND, SEARCH_FILES, hashing_embedder
from fastapi.testclient import TestClient

from api.main import create_app
from qa import cli
from qa.answering import Answerer
from qa.index_manifest import (
    BM25_DIR,
    CASED_WORDS_FILE,
    CHUNK_INDEX_FILE,
    CHUNK_VECTORS_FILE,
    MANIFEST_FILE,
    STORE_FILE,
    current_build_dir,
    read_manifest,
)
from qa.indexing import build_index
from qa.integrity import DamagedBuildError, verify_build
from qa.milvus_index import drop_build
from qa.settings import Settings


def live_folder(settings: Settings) -> Path:
    folder = current_build_dir(settings.index_dir)
    assert folder is not None
    return folder


def truncate(path: Path) -> None:
    path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])


def overwrite(path: Path) -> None:
    """Other bytes of the same length, as a stray `dd` or a bad disk block would leave."""
    path.write_bytes(bytes(255 - b for b in path.read_bytes()))


def bm25_file(folder: Path) -> Path:
    return sorted((folder / BM25_DIR).iterdir())[0]


def drop_collection(folder: Path) -> None:
    """The build's Milvus collection gone (dropped by hand, or its Lite data deleted)."""
    drop_build(Settings().milvus_uri, folder.parent.parent, folder.name)


DAMAGE: dict[str, Callable[[Path], None]] = {
    "store truncated": lambda f: truncate(f / STORE_FILE),
    "store overwritten": lambda f: overwrite(f / STORE_FILE),
    "chunk vectors overwritten": lambda f: overwrite(f / CHUNK_VECTORS_FILE),
    "chunk vectors removed": lambda f: (f / CHUNK_VECTORS_FILE).unlink(),
    "capitalisation table overwritten": lambda f: overwrite(f / CASED_WORDS_FILE),
    "capitalisation table removed": lambda f: (f / CASED_WORDS_FILE).unlink(),
    "manifest truncated": lambda f: truncate(f / MANIFEST_FILE),
}
if INDEX_BACKEND == "faiss":
    DAMAGE["FAISS index truncated"] = lambda f: truncate(f / CHUNK_INDEX_FILE)
    DAMAGE["a BM25 file truncated"] = lambda f: truncate(bm25_file(f))
else:
    DAMAGE["Milvus collection dropped"] = drop_collection


@pytest.fixture()
def use_hashing_embedder(monkeypatch: pytest.MonkeyPatch) -> None:
    """`qa` commands embed with the hashing embedder of the tiny index, not the real model."""
    monkeypatch.setattr(cli, "_embedder_factory", lambda _settings: hashing_embedder)
    monkeypatch.setattr("qa.answering.load_embedder", lambda *_args: hashing_embedder())


def paths(settings: Settings) -> list[str]:
    return ["--corpus", str(settings.corpus_dir), "--index", str(settings.index_dir)]


# --- /ready -----------------------------------------------------------------------------------


@pytest.mark.parametrize("damage", ["store truncated", "store overwritten"])
def test_a_store_damaged_under_a_running_server_makes_it_not_ready(
    index_copy: Settings, damage: str, caplog: pytest.LogCaptureFixture
) -> None:
    answerer = Answerer(index_copy, embedder=hashing_embedder())
    with TestClient(create_app(index_copy, answerer)) as client:
        assert client.get("/ready").status_code == 200
        DAMAGE[damage](live_folder(index_copy))
        with caplog.at_level(logging.WARNING, logger="api"):
            response = client.get("/ready")
        assert response.status_code == 503
        error = response.json()["error"]
        assert error == {
            "code": "not_ready",
            "message": "the index is damaged: run `qa index` to rebuild it",
            "request_id": response.headers["x-request-id"],
        }
        # The details are for the operator's log, not for whoever probes the port.
        assert f"{STORE_FILE} has changed since it was built" in caplog.text


@pytest.mark.parametrize("damage", sorted(DAMAGE))
def test_a_server_started_on_a_damaged_build_is_not_ready_and_says_why_briefly(
    index_copy: Settings, damage: str
) -> None:
    DAMAGE[damage](live_folder(index_copy))
    settings = index_copy
    with TestClient(create_app(settings)) as client:  # loads the index in its lifespan
        response = client.get("/ready")
        assert response.status_code == 503
        message = response.json()["error"]["message"]
        assert message == "the index is damaged: run `qa index` to rebuild it"
        assert client.post("/ask", json={"question": "Who?"}).status_code == 503


def test_a_damaged_new_build_is_not_switched_to(index_copy: Settings) -> None:
    answerer = Answerer(index_copy, embedder=hashing_embedder())
    before = answerer.manifest.build_id
    (index_copy.corpus_dir / "mill.txt").write_text("The Water Mill\n\nIt was restored in 1990.\n")
    build_index(index_copy, hashing_embedder, progress=False)
    overwrite(live_folder(index_copy) / STORE_FILE)
    with pytest.raises(DamagedBuildError):
        answerer.reload_if_changed()
    assert answerer.manifest.build_id == before
    assert answerer.ask("Who founded the Lantern Festival?").answers  # the old build still serves


# --- qa index ---------------------------------------------------------------------------------


@pytest.mark.parametrize("damage", sorted(DAMAGE))
def test_qa_index_rebuilds_a_damaged_build_from_scratch_and_says_so(
    index_copy: Settings,
    damage: str,
    use_hashing_embedder: None,
    capsys: pytest.CaptureFixture[str],
) -> None:
    damaged = live_folder(index_copy)
    DAMAGE[damage](damaged)

    assert cli.main(["index", *paths(index_copy)]) == 0
    err = capsys.readouterr().err
    assert "Traceback" not in err
    assert "indexed 3 documents" in err and "0 documents reused" in err
    assert f"the live build was damaged ({damaged.name}" not in err  # the problem, not the id
    assert "the live build was damaged (" in err and "rebuilt from scratch" in err

    rebuilt = live_folder(index_copy)
    assert rebuilt != damaged
    answer = Answerer(index_copy, embedder=hashing_embedder()).ask("Who designed the tower?")
    assert [a.text for a in answer.answers] == ["Maria Lopez"]
    assert cli.main(["index", *paths(index_copy)]) == 0
    assert "index is up to date" in capsys.readouterr().err


def test_qa_ask_on_a_truncated_manifest_rebuilds_and_answers(
    index_copy: Settings, use_hashing_embedder: None, capsys: pytest.CaptureFixture[str]
) -> None:
    truncate(live_folder(index_copy) / MANIFEST_FILE)
    assert cli.main(["ask", "Who designed the Harbour Tower?", *paths(index_copy)]) == 0
    captured = capsys.readouterr()
    assert "Traceback" not in captured.err
    assert captured.out.startswith("Maria Lopez")


@pytest.mark.parametrize(
    "command", [["index"], ["ask", "Who designed the tower?"], ["eval"], ["serve"]]
)
def test_no_command_prints_a_traceback_when_the_index_cannot_be_rebuilt(
    index_copy: Settings,
    command: list[str],
    use_hashing_embedder: None,
    capsys: pytest.CaptureFixture[str],
) -> None:
    truncate(live_folder(index_copy) / MANIFEST_FILE)
    shutil.rmtree(index_copy.corpus_dir)  # nothing to rebuild it from
    assert cli.main([*command, *paths(index_copy)]) == 2
    err = capsys.readouterr().err
    assert "Traceback" not in err
    (line,) = err.strip().splitlines()
    assert line.startswith("qa: ") and "corpus folder not found" in line


def test_a_damaged_build_met_outside_qa_index_is_one_line_saying_what_to_run(
    index_copy: Settings,
    use_hashing_embedder: None,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    # `qa ask` checks the index first; damage done after that check is met by the answerer.
    monkeypatch.setattr(cli, "ensure_index", lambda *_args, **_kwargs: None)
    folder = live_folder(index_copy)
    overwrite(folder / CHUNK_VECTORS_FILE)
    assert cli.main(["ask", "Who designed the tower?", *paths(index_copy)]) == 2
    assert capsys.readouterr().err == (
        f"qa: the index build {folder.name} is damaged ({CHUNK_VECTORS_FILE} has changed since "
        "it was built): run `qa index` to rebuild it\n"
    )


# --- verification itself ----------------------------------------------------------------------


def test_a_byte_changed_in_place_with_its_times_put_back_is_still_found(
    index_copy: Settings,
) -> None:
    folder = live_folder(index_copy)
    checksums = read_manifest(folder).checksums
    verify_build(folder, checksums, frozenset({MANIFEST_FILE}))  # digests now cached
    path = folder / CASED_WORDS_FILE
    status = path.stat()
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 1
    path.write_bytes(bytes(data))
    os.utime(path, ns=(status.st_atime_ns, status.st_mtime_ns))
    assert path.stat().st_size == status.st_size and path.stat().st_mtime_ns == status.st_mtime_ns
    with pytest.raises(DamagedBuildError, match="cased_words.json has changed"):
        verify_build(folder, checksums, frozenset({MANIFEST_FILE}))


def test_every_file_of_a_build_is_checksummed(index_copy: Settings) -> None:
    folder = live_folder(index_copy)
    recorded = set(read_manifest(folder).checksums)
    on_disk = {
        p.relative_to(folder).as_posix()
        for p in folder.rglob("*")
        if p.is_file() and p.name != MANIFEST_FILE
    }
    assert recorded == on_disk
    assert {STORE_FILE, CHUNK_VECTORS_FILE, CASED_WORDS_FILE} <= recorded
    for name in SEARCH_FILES:
        assert name in recorded or any(r.startswith(f"{name}/") for r in recorded)
