"""The Milvus backend on Milvus Lite, whatever QA_INDEX_BACKEND the run has: the same rankings
as the FAISS backend over the same build, collections that come and go with their builds, and
one-line errors when Milvus cannot be had."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from conftest import hashing_embedder, write_corpus

from qa import cli
from qa.answering import Answerer
from qa.index_manifest import BUILDS_DIR, current_build_dir, read_manifest
from qa.indexing import build_index
from qa.milvus_index import LITE_DIR, MilvusUnavailableError, collection_name, connect
from qa.settings import Settings

QUESTIONS = [
    "Who designed the Harbour Tower?",
    "When was the Old Stone Bridge built?",
    "How many visitors came to the lantern festival?",
    "Why was the bridge closed to cars?",
    "Which newspaper reported on the tower's cost?",
]


def _settings(root: Path, backend: str) -> Settings:
    return Settings(
        corpus_dir=root / "corpus", index_dir=root / f"index-{backend}", index_backend=backend
    )


@pytest.fixture(scope="module")
def both(tmp_path_factory: pytest.TempPathFactory) -> tuple[Answerer, Answerer]:
    root = tmp_path_factory.mktemp("backends")
    write_corpus(root / "corpus")
    answerers = []
    for backend in ("faiss", "milvus"):
        settings = _settings(root, backend)
        build_index(settings, hashing_embedder, progress=False)
        answerers.append(Answerer(settings, embedder=hashing_embedder()))
    return answerers[0], answerers[1]


def test_a_milvus_build_ranks_chunks_as_the_faiss_build_does(
    both: tuple[Answerer, Answerer],
) -> None:
    faiss_answerer, milvus_answerer = both
    assert milvus_answerer.manifest.backend == "milvus"
    for question in QUESTIONS:
        vector = faiss_answerer._embedder.encode([question])[0]
        on_faiss = faiss_answerer._build.retriever.search(question, vector, 6)
        on_milvus = milvus_answerer._build.retriever.search(question, vector, 6)
        assert [p.chunk_id for p in on_milvus] == [p.chunk_id for p in on_faiss], question
        lexical = faiss_answerer._build.retriever.lexical_ranking(question, 6)
        assert [c for c, _ in milvus_answerer._build.retriever.lexical_ranking(question, 6)] == [
            c for c, _ in lexical
        ]


def test_a_milvus_build_answers_with_citations(both: tuple[Answerer, Answerer]) -> None:
    _, milvus_answerer = both
    answer = milvus_answerer.ask("Who designed the Harbour Tower?")
    assert [a.text for a in answer.answers] == ["Maria Lopez"]
    citation = answer.answers[0].citations[0]
    document = milvus_answerer.document(citation.doc_id)
    assert document is not None
    assert document.text[citation.start : citation.end] == "Maria Lopez"


def test_each_build_has_its_own_collection_and_old_ones_are_dropped(tmp_path: Path) -> None:
    write_corpus(tmp_path / "corpus")
    settings = _settings(tmp_path, "milvus")
    builds = [build_index(settings, hashing_embedder, force=True, progress=False).build_id]
    builds.append(build_index(settings, hashing_embedder, force=True, progress=False).build_id)
    lite = settings.index_dir / LITE_DIR
    assert sorted(p.name for p in lite.iterdir()) == sorted(
        f"{collection_name(b)}.db" for b in builds
    )
    # A third build removes the first (older than the one before the live one) with its data.
    for folder in (settings.index_dir / BUILDS_DIR).iterdir():
        if folder.name == builds[0]:
            os.utime(folder, (0, 0))
    third = build_index(settings, hashing_embedder, force=True, progress=False).build_id
    assert sorted(p.name for p in lite.iterdir()) == sorted(
        f"{collection_name(b)}.db" for b in builds[1:] + [third]
    )
    folder = current_build_dir(settings.index_dir)
    assert folder is not None and read_manifest(folder).milvus_collection == collection_name(third)


def test_switching_the_backend_makes_the_index_stale_and_keeps_the_vectors(
    tmp_path: Path,
) -> None:
    write_corpus(tmp_path / "corpus")
    settings = _settings(tmp_path, "faiss")
    build_index(settings, hashing_embedder, progress=False)
    moved = Settings(**{**settings.model_dump(), "index_backend": "milvus"})
    report = build_index(moved, hashing_embedder, progress=False)
    assert report.reason == "the index backend changed (faiss -> milvus)"
    assert report.embedded_chunks == 0 and report.reused_documents == 3
    answer = Answerer(moved, embedder=hashing_embedder()).ask("Who designed the Harbour Tower?")
    assert [a.text for a in answer.answers] == ["Maria Lopez"]


def test_a_milvus_server_out_of_reach_is_one_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(MilvusUnavailableError, match="Milvus at http://127.0.0.1:18209"):
        connect("http://127.0.0.1:18209")
    write_corpus(tmp_path / "corpus")
    monkeypatch.setenv("QA_INDEX_BACKEND", "milvus")
    monkeypatch.setenv("QA_MILVUS_URI", "http://127.0.0.1:18209")
    monkeypatch.setattr(cli, "_embedder_factory", lambda _settings: hashing_embedder)
    paths = ["--corpus", str(tmp_path / "corpus"), "--index", str(tmp_path / "index")]
    assert cli.main(["index", *paths]) == 2
    err = capsys.readouterr().err
    assert err.startswith("qa: Milvus at http://127.0.0.1:18209 could not be opened")
    assert len(err.strip().splitlines()) == 1


def test_serving_milvus_lite_from_several_workers_is_refused_with_the_way_out(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("QA_INDEX_BACKEND", "milvus")
    monkeypatch.setattr("uvicorn.run", lambda *_a, **_k: pytest.fail("the server started"))
    paths = ["--corpus", str(write_corpus(tmp_path / "corpus")), "--index", str(tmp_path)]
    assert cli.main(["serve", *paths, "--workers", "2"]) == 2
    err = capsys.readouterr().err
    assert "serve it with --workers 1" in err and "QA_MILVUS_URI" in err


def _open_lite_folders(lite: Path) -> set[str]:
    """The Lite data folders this process holds files open in."""
    held = set()
    for fd in os.listdir("/proc/self/fd"):
        try:
            target = Path(os.readlink(f"/proc/self/fd/{fd}"))
        except OSError:
            continue
        if target.is_relative_to(lite):
            held.add(target.relative_to(lite).parts[0])
    return held


@pytest.mark.skipif(not Path("/proc/self/fd").is_dir(), reason="needs /proc to see open files")
def test_a_server_switching_builds_lets_go_of_the_old_builds_lite_folder(tmp_path: Path) -> None:
    write_corpus(tmp_path / "corpus")
    settings = _settings(tmp_path, "milvus")
    build_index(settings, hashing_embedder, progress=False)
    answerer = Answerer(settings, embedder=hashing_embedder())
    lite = (settings.index_dir / LITE_DIR).resolve()
    for _ in range(3):
        live = build_index(settings, hashing_embedder, force=True, progress=False).build_id
        assert answerer.reload_if_changed()
        answer = answerer.ask("Who designed the Harbour Tower?")
        assert [a.text for a in answer.answers] == ["Maria Lopez"]
        # Only the live build's embedded server runs, with its folder open.
        assert _open_lite_folders(lite) == {f"{collection_name(live)}.db"}
