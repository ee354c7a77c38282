"""`qa index`: incremental builds, unreadable files reported by name, atomic publication.

Builds use the hashing embedder (fast, exact); a counting wrapper shows what was embedded.
"""

from __future__ import annotations

import hashlib
import multiprocessing
import os
import time
from functools import partial
from pathlib import Path

import numpy as np
import pytest
from conftest import SEARCH_FILES

from qa import cli
from qa.answering import Answerer
from qa.embedding import HashingEmbedder
from qa.index_manifest import (
    BUILDS_DIR,
    CHUNK_VECTORS_FILE,
    CURRENT_FILE,
    MANIFEST_FILE,
    STORE_FILE,
    Manifest,
    current_build_dir,
    model_name_of,
    read_manifest,
    staleness,
)
from qa.indexing import BuildReport, EmptyCorpusError, build_index
from qa.layout import Location
from qa.settings import Settings
from qa.store import Store

DIMENSIONS = 64

CORPUS = {
    "tower.txt": (
        "The Harbour Tower\n\n"
        "The Harbour Tower was completed in 1998 in the city of Halifax. It stands 112 metres "
        "tall and was designed by the architect Maria Lopez.\n\n"
        "The Halifax Chronicle reported that the tower cost 40 million dollars to build.\n"
    ),
    "bridge.md": (
        "# The Old Stone Bridge\n\n"
        "The Old Stone Bridge crosses the Avon River near the town of Windsor. It was built "
        "in 1832 by the engineer Thomas Grant.\n\n"
        "The bridge was closed to cars in 2004 because its arches were cracking.\n"
    ),
    "festival.html": (
        "<html><head><title>The Lantern Festival</title></head><body><article>"
        "<h1>The Lantern Festival</h1>"
        "<p>Every October the village of Lunenburg holds a lantern festival on the waterfront. "
        "The festival was founded in 1975 by the teacher Anne Whitby.</p>"
        "<p>The Lunenburg Gazette reported that 12,000 visitors came to the festival.</p>"
        "</article></body></html>"
    ),
    "metadata.json": '{"tower.txt": {"title": "The Harbour Tower", "publisher": "City Desk"}}',
}

MILL = "The Water Mill\n\nThe water mill at Grand Pre was restored in 1990 by Ruth Hale.\n"

BUILD_FILES = (MANIFEST_FILE, STORE_FILE, CHUNK_VECTORS_FILE, *SEARCH_FILES)


class CountingEmbedder:
    """The hashing embedder, counting how often it is made and how many texts it encodes."""

    def __init__(self) -> None:
        self.inner = HashingEmbedder(DIMENSIONS)
        self.name = self.inner.name
        self.dimensions = DIMENSIONS
        self.loaded = 0
        self.encoded = 0

    def __call__(self) -> CountingEmbedder:  # used as the build's embedder factory
        self.loaded += 1
        return self

    def encode(self, texts: list[str]) -> np.ndarray:
        self.encoded += len(texts)
        return self.inner.encode(texts)


def write_files(folder: Path, files: dict[str, str | bytes]) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for name, content in files.items():
        path = folder / name
        if isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_text(content, encoding="utf-8")
    return folder


@pytest.fixture()
def settings(tmp_path: Path) -> Settings:
    # A model folder of our own naming, so the manifest's model name is not a coincidence.
    model = tmp_path / "models" / "hashing-64"
    model.mkdir(parents=True)
    return Settings(
        corpus_dir=write_files(tmp_path / "corpus", dict(CORPUS)),
        index_dir=tmp_path / "index",
        model_path=str(model),
    )


def build(
    settings: Settings, embedder: CountingEmbedder | None = None, *, force: bool = False
) -> BuildReport:
    return build_index(settings, embedder or CountingEmbedder(), force=force, progress=False)


def answerer(settings: Settings) -> Answerer:
    return Answerer(settings, embedder=HashingEmbedder(DIMENSIONS))


def answer_texts(settings: Settings, question: str) -> list[str]:
    return [a.text for a in answerer(settings).ask(question).answers]


def live_manifest(settings: Settings) -> Manifest:
    folder = current_build_dir(settings.index_dir)
    assert folder is not None
    return read_manifest(folder)


# --- building and rebuilding -----------------------------------------------------------------


def test_a_second_build_of_an_unchanged_corpus_does_nothing(settings: Settings) -> None:
    first = build(settings)
    assert first.built and first.documents == 3 and first.failures == []
    # Where the build's time went, stage by stage, adding up to no more than the whole.
    assert list(first.stage_seconds) == ["read", "prepare", "embed", "write"]
    assert 0 < sum(first.stage_seconds.values()) <= first.seconds + 0.01

    embedder = CountingEmbedder()
    second = build(settings, embedder)

    assert not second.built
    assert second.reason == "up to date"
    assert second.build_id == first.build_id
    assert (second.documents, second.chunks) == (first.documents, first.chunks)
    assert embedder.loaded == 0, "an up-to-date index must not even load the model"


def test_changing_one_file_embeds_only_that_document(settings: Settings) -> None:
    build(settings)
    tower = settings.corpus_dir / "tower.txt"
    tower.write_text(tower.read_text().replace("Maria Lopez", "Jonas Berg"), encoding="utf-8")

    embedder = CountingEmbedder()
    report = build(settings, embedder)

    changed = live_manifest(settings).documents["tower"]
    assert report.built and report.reason == "the corpus changed"
    assert report.reused_documents == 2
    assert report.embedded_chunks == changed.chunks
    assert embedder.encoded == changed.chunks  # chunks only: sentences are not embedded
    answers = answer_texts(settings, "Which architect designed the Harbour Tower?")
    assert answers and "Jonas Berg" in answers[0]


def test_a_new_document_is_added_without_a_full_rebuild(settings: Settings) -> None:
    build(settings)
    (settings.corpus_dir / "mill.txt").write_text(MILL, encoding="utf-8")

    embedder = CountingEmbedder()
    report = build(settings, embedder)

    mill = live_manifest(settings).documents["mill"]
    assert (report.documents, report.reused_documents) == (4, 3)
    assert embedder.encoded == mill.chunks
    qa = answerer(settings)
    assert qa.document("mill") is not None
    response = qa.ask("When was the water mill at Grand Pre restored?")
    assert "1990" in response.answers[0].text
    assert response.answers[0].citations[0].doc_id == "mill"


def test_a_forced_build_reads_and_embeds_every_document_again(settings: Settings) -> None:
    first = build(settings)
    embedder = CountingEmbedder()
    forced = build(settings, embedder, force=True)
    assert forced.reused_documents == 0
    assert forced.embedded_chunks == first.chunks
    assert embedder.loaded == 1


def test_a_removed_document_is_gone_from_answers_without_embedding_anything(
    settings: Settings,
) -> None:
    build(settings)
    assert answerer(settings).document("bridge") is not None
    (settings.corpus_dir / "bridge.md").unlink()

    embedder = CountingEmbedder()
    report = build(settings, embedder)

    assert (report.documents, report.reused_documents, report.embedded_chunks) == (2, 2, 0)
    assert embedder.loaded == 0
    qa = answerer(settings)
    assert qa.document("bridge") is None
    assert set(qa.titles()) == {"tower", "festival"}
    response = qa.ask("Which river does the Old Stone Bridge cross?")
    assert all(c.doc_id != "bridge" for a in response.answers for c in a.citations)
    assert all(p.doc_id != "bridge" for p in response.passages)


def test_editing_metadata_makes_the_index_stale_and_shows_the_new_title(
    settings: Settings,
) -> None:
    build(settings)
    model = model_name_of(settings)
    assert staleness(settings, model) == ""

    (settings.corpus_dir / "metadata.json").write_text(
        '{"tower.txt": {"title": "A Tower by the Sea", "publisher": "City Desk"}}'
    )
    assert staleness(settings, model) == "the corpus changed"

    build(settings)
    assert staleness(settings, model) == ""
    view = answerer(settings).document("tower")
    assert view is not None and view.title == "A Tower by the Sea"


def test_changed_chunk_settings_make_the_index_stale(settings: Settings) -> None:
    build(settings)
    for change in ({"chunk_max_words": 40}, {"chunk_overlap_sentences": 0}):
        changed = settings.model_copy(update=change)
        assert staleness(changed, model_name_of(changed)) == "chunking settings changed"


def test_another_model_makes_the_index_stale(settings: Settings, tmp_path: Path) -> None:
    build(settings)
    other = tmp_path / "models" / "other-model"
    other.mkdir()
    changed = settings.model_copy(update={"model_path": str(other)})
    assert staleness(changed, model_name_of(changed)).startswith("the model changed")


def test_another_model_in_a_folder_of_the_same_name_makes_the_index_stale(
    settings: Settings, tmp_path: Path
) -> None:
    first = tmp_path / "minilm" / "model"
    second = tmp_path / "mpnet" / "model"
    first.mkdir(parents=True)
    second.mkdir(parents=True)
    built = settings.model_copy(update={"model_path": str(first)})
    build(built)
    changed = settings.model_copy(update={"model_path": str(second)})
    assert staleness(changed, model_name_of(changed)) != ""


def test_the_chunk_settings_are_applied(settings: Settings) -> None:
    small = settings.model_copy(update={"chunk_max_words": 12})
    build(small)
    folder = current_build_dir(small.index_dir)
    assert folder is not None
    store = Store(folder / STORE_FILE)
    for doc_id in ("tower", "bridge", "festival"):
        for chunk in store.document_chunks(doc_id):
            assert len(chunk.text.split()) <= 12 or chunk.first_sentence == chunk.last_sentence


def test_the_manifest_records_how_the_index_was_made(settings: Settings) -> None:
    build(settings)
    manifest = live_manifest(settings)

    assert "hashing-64" in manifest.model  # its folder, with a digest of its files
    assert manifest.dimensions == DIMENSIONS
    assert (manifest.chunk_max_words, manifest.chunk_overlap_sentences) == (120, 1)
    assert manifest.index_kind
    assert set(manifest.documents) == {"tower", "bridge", "festival"}
    assert manifest.chunk_count == sum(d.chunks for d in manifest.documents.values())
    assert set(manifest.files) == set(CORPUS)
    for name, checksum in manifest.files.items():
        expected = hashlib.sha256((settings.corpus_dir / name).read_bytes()).hexdigest()
        assert checksum == expected, name


# --- unreadable files ------------------------------------------------------------------------

BAD_FILES: dict[str, str | bytes] = {
    "empty.txt": "",
    "binary.txt": b"PK\x03\x04\x00\x00 not text at all \x00\x01",
    "broken.pdf": b"%PDF-1.4\n1 0 obj << /Type /Catalog >> this is not a real pdf",
    "blank.html": "<html><head><script>var x = 1;</script></head><body>  </body></html>",
}


def test_unreadable_files_are_reported_by_name_and_the_rest_is_answerable(
    settings: Settings,
) -> None:
    write_files(settings.corpus_dir, BAD_FILES)

    report = build(settings)

    reported = {f.file: f.reason for f in report.failures}
    assert set(reported) == set(BAD_FILES)
    assert "empty" in reported["empty.txt"]
    assert "binary" in reported["binary.txt"]
    assert "PDF" in reported["broken.pdf"]
    assert "no text" in reported["blank.html"]
    assert {f.file for f in live_manifest(settings).failures} == set(BAD_FILES)
    assert report.documents == 3
    answers = answer_texts(settings, "Who founded the lantern festival?")
    assert answers and "Anne Whitby" in answers[0]


def test_a_corpus_with_no_readable_file_is_an_error_that_gives_the_reasons(
    tmp_path: Path,
) -> None:
    empty = Settings(
        corpus_dir=write_files(tmp_path / "corpus", BAD_FILES), index_dir=tmp_path / "index"
    )

    with pytest.raises(EmptyCorpusError) as raised:
        build(empty)

    message = str(raised.value)
    for name in BAD_FILES:
        assert name in message
    assert "binary file" in message
    assert current_build_dir(empty.index_dir) is None


# --- publication is atomic -------------------------------------------------------------------


def assert_complete(folder: Path) -> None:
    for name in BUILD_FILES:
        assert (folder / name).exists(), f"{folder.name} lacks {name}"


def test_concurrent_builds_never_show_a_reader_a_half_written_index(settings: Settings) -> None:
    initial = build(settings).build_id
    context = multiprocessing.get_context("spawn")
    factory = partial(HashingEmbedder, DIMENSIONS)
    builders = [
        context.Process(
            target=build_index, args=(settings, factory), kwargs={"force": True, "progress": False}
        )
        for _ in range(2)
    ]
    for process in builders:
        process.start()

    seen: set[str] = set()
    reads = 0
    deadline = time.monotonic() + 60
    try:
        while any(p.is_alive() for p in builders) and time.monotonic() < deadline:
            folder = current_build_dir(settings.index_dir)
            assert folder is not None
            manifest = read_manifest(folder)
            assert_complete(folder)
            qa = answerer(settings)
            assert qa.manifest.documents.keys() == manifest.documents.keys()
            answers = qa.ask("Which river does the Old Stone Bridge cross?").answers
            assert answers and "Avon" in answers[0].text
            seen.add(manifest.build_id)
            reads += 1
    finally:
        for process in builders:
            process.join(timeout=max(1.0, deadline - time.monotonic()))
            if process.is_alive():
                process.kill()

    assert [p.exitcode for p in builders] == [0, 0]
    assert reads > 0
    current = current_build_dir(settings.index_dir)
    assert current is not None and current.name != initial
    assert_complete(current)
    assert staleness(settings, model_name_of(settings)) == ""
    # Builds of the last minutes stay (a server may still read one); none is half-written.
    kept = sorted(p for p in (settings.index_dir / BUILDS_DIR).iterdir())
    assert current in kept and not [p for p in kept if p.name.startswith(".staging-")]
    for build_dir in kept:
        assert_complete(build_dir)
    assert not list(settings.index_dir.glob(f".{CURRENT_FILE}.*")), "a pending pointer was left"


def test_old_builds_and_staging_leftovers_are_removed(settings: Settings) -> None:
    build(settings)
    first = current_build_dir(settings.index_dir)
    build(settings, force=True)
    second = current_build_dir(settings.index_dir)
    leftover = settings.index_dir / BUILDS_DIR / ".staging-killed-build"
    leftover.mkdir()
    assert first is not None and second is not None
    long_ago = time.time() - 3600
    os.utime(first, (long_ago, long_ago))
    build(settings, force=True)
    kept = {p.name for p in (settings.index_dir / BUILDS_DIR).iterdir()}
    assert first.name not in kept, "an old build outside the grace period stays"
    assert second.name in kept, "the build before the live one must stay"
    assert leftover.name not in kept


# --- the command line ------------------------------------------------------------------------


def test_qa_index_builds_then_reports_up_to_date(
    settings: Settings, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(cli, "_embedder_factory", lambda _settings: CountingEmbedder())
    paths = ["--corpus", str(settings.corpus_dir), "--index", str(settings.index_dir)]

    assert cli.main(["index", *paths]) == 0
    assert "indexed 3 documents" in capsys.readouterr().err
    assert cli.main(["index", *paths]) == 0
    assert "up to date" in capsys.readouterr().err


def test_qa_index_reports_skipped_files_and_an_empty_corpus(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(cli, "_embedder_factory", lambda _settings: CountingEmbedder())
    corpus = write_files(tmp_path / "corpus", {"empty.txt": ""})
    paths = ["--corpus", str(corpus), "--index", str(tmp_path / "index")]

    assert cli.main(["index", *paths]) == 2
    err = capsys.readouterr().err
    assert err.startswith("qa: no readable document") and "empty.txt: empty file" in err

    write_files(corpus, {"mill.txt": MILL})
    assert cli.main(["index", *paths]) == 0
    assert "skipped empty.txt: empty file" in capsys.readouterr().err


def test_qa_index_with_a_missing_corpus_folder_says_so(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    missing = tmp_path / "nowhere"
    assert cli.main(["index", "--corpus", str(missing), "--index", str(tmp_path / "i")]) == 2
    assert "corpus folder not found" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("argv", "code"), [(["index", "--help"], 0), ([], 2), (["index", "-x"], 2)]
)
def test_qa_index_help_and_argument_errors_exit_with_the_usual_codes(
    argv: list[str], code: int, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as raised:
        cli.main(argv)
    assert raised.value.code == code
    out = capsys.readouterr()
    assert "usage: qa" in (out.out if code == 0 else out.err)


def test_pages_and_headings_are_stored_and_kept_when_a_document_is_reused(
    settings: Settings,
) -> None:
    import made_documents as made

    made.write_report_pdf(settings.corpus_dir / "report.pdf")
    (settings.corpus_dir / "wiki.md").write_text(made.WIKI_MD, encoding="utf-8")
    build(settings)

    def located() -> list[Location]:
        store = Store(current_build_dir(settings.index_dir) / STORE_FILE)
        report, wiki = store.document("report"), store.document("wiki")
        assert report is not None and wiki is not None
        return [
            store.location("report", report.text.index("Grants —")),
            store.location("report", report.text.index("Margaret Osei")),
            store.location("wiki", wiki.text.index("12 dollars")),
            store.location("tower", 0),
        ]

    first = located()
    assert first == [
        Location(page=2, section="Finances"),
        Location(page=3, section="Board"),
        Location(page=None, section="Tickets"),
        Location(page=None, section=None),
    ]
    (settings.corpus_dir / "mill.txt").write_text(MILL, encoding="utf-8")
    report = build(settings)
    assert report.reused_documents == 5
    assert located() == first
