"""The corpus folder is the boundary: links leading out are not followed, every entry skipped
is named with its reason, and one unreadable file never stops `qa index` or `qa serve`."""

from __future__ import annotations

import errno
import os
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from conftest import hashing_embedder
from fastapi.testclient import TestClient

from api.main import create_app
from qa import cli
from qa.answering import Answerer
from qa.corpus_walk import walk_corpus
from qa.documents import load_corpus
from qa.index_manifest import model_name_of, staleness
from qa.indexing import build_index
from qa.settings import Settings

GOOD = "The Harbour Tower was completed in 1998 in the city of Halifax.\n"
SECRET = "The vault code is 4711. Nobody outside the office may read this.\n"


@pytest.fixture()
def deny_access(monkeypatch: pytest.MonkeyPatch) -> Iterator[Callable[[Path], None]]:
    """Makes a file or folder unreadable: chmod 000, and, where the tests run as root (who
    reads whatever the mode says), the calls that read it fail as they would for anyone else."""
    denied: list[Path] = []
    real_open, real_scandir = Path.open, os.scandir

    def refuse(path: object) -> None:
        if Path(str(path)) in denied:
            raise PermissionError(errno.EACCES, "Permission denied", str(path))

    def guarded_open(self: Path, *args: object, **kwargs: object):  # type: ignore[no-untyped-def]
        refuse(self)
        return real_open(self, *args, **kwargs)  # type: ignore[arg-type]

    def guarded_scandir(path: object = ".") -> object:
        refuse(path)
        return real_scandir(path)  # type: ignore[call-overload]

    if os.geteuid() == 0:
        monkeypatch.setattr(Path, "open", guarded_open)
        monkeypatch.setattr(os, "scandir", guarded_scandir)

    def deny(path: Path) -> None:
        path.chmod(0)
        denied.append(path)

    yield deny
    for path in denied:
        path.chmod(0o755)


@pytest.fixture()
def outside(tmp_path: Path) -> Path:
    folder = tmp_path / "outside"
    folder.mkdir()
    (folder / "secret.txt").write_text(SECRET, encoding="utf-8")
    return folder


def corpus_with_every_kind_of_entry(
    root: Path, outside: Path, deny: Callable[[Path], None]
) -> Path:
    corpus = root / "corpus"
    (corpus / "sub").mkdir(parents=True)
    (corpus / "good.txt").write_text(GOOD, encoding="utf-8")
    (corpus / "sub" / "nested.txt").write_text("The bridge was built in 1832.\n", encoding="utf-8")
    (corpus / "leak.txt").symlink_to(outside / "secret.txt")
    (corpus / "elsewhere").symlink_to(outside)
    (corpus / "loop").symlink_to(".")
    (corpus / "ping.txt").symlink_to(corpus / "pong.txt")
    (corpus / "pong.txt").symlink_to(corpus / "ping.txt")
    (corpus / "gone.txt").symlink_to(root / "nowhere.txt")
    os.mkfifo(corpus / "pipe.txt")
    (corpus / "photo.jpg").write_bytes(b"\xff\xd8\xff")
    (corpus / "locked").mkdir()
    (corpus / "locked" / "inside.txt").write_text("Hidden by its folder.\n", encoding="utf-8")
    deny(corpus / "locked")
    (corpus / "private.txt").write_text("Nobody may read this file.\n", encoding="utf-8")
    deny(corpus / "private.txt")
    return corpus


EXPECTED_REASONS = {
    "leak.txt": "symlink to outside the corpus folder, not followed",
    "elsewhere": "symlink to outside the corpus folder, not followed",
    "loop": "symlink loop",
    "ping.txt": "symlink loop",
    "pong.txt": "symlink loop",
    "gone.txt": "broken symlink",
    "pipe.txt": "a FIFO (named pipe), not a file",
    "photo.jpg": "unsupported file type '.jpg'",
    "locked": "unreadable folder (permission denied)",
    "private.txt": "could not be read (permission denied)",
}


def test_every_skipped_entry_is_named_with_its_reason(
    tmp_path: Path, outside: Path, deny_access: Callable[[Path], None]
) -> None:
    corpus = corpus_with_every_kind_of_entry(tmp_path, outside, deny_access)

    loaded = load_corpus(corpus)

    assert sorted(d.doc_id for d in loaded.documents) == ["good", "nested"]
    reasons = {f.path.relative_to(corpus).as_posix(): f.reason for f in loaded.failures}
    assert set(reasons) == set(EXPECTED_REASONS)
    for name, reason in EXPECTED_REASONS.items():
        assert reasons[name].startswith(reason), (name, reasons[name])


def test_links_out_of_the_folder_are_followed_only_when_the_settings_allow(
    tmp_path: Path, outside: Path
) -> None:
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    (corpus / "leak.txt").symlink_to(outside / "secret.txt")
    (corpus / "elsewhere").symlink_to(outside)

    assert walk_corpus(corpus).files == []
    followed = walk_corpus(corpus, follow_outside_links=True).files
    assert [p.relative_to(corpus).as_posix() for p in followed] == [
        "elsewhere/secret.txt",
        "leak.txt",
    ]


def test_a_link_to_a_file_inside_the_folder_is_read(tmp_path: Path) -> None:
    corpus = tmp_path / "corpus"
    (corpus / "notes").mkdir(parents=True)
    (corpus / "notes" / "tower.txt").write_text(GOOD, encoding="utf-8")
    (corpus / "latest.txt").symlink_to(corpus / "notes" / "tower.txt")
    (corpus / "again").symlink_to(corpus / "notes")

    entries = walk_corpus(corpus)

    assert [p.relative_to(corpus).as_posix() for p in entries.files] == [
        "latest.txt",
        "notes/tower.txt",
    ]
    assert [e.reason for e in entries.skipped] == [
        "symlink to a folder of the corpus, read where it is"
    ]


def test_build_and_server_go_on_past_every_bad_entry(
    tmp_path: Path,
    outside: Path,
    deny_access: Callable[[Path], None],
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    settings = Settings(
        corpus_dir=corpus_with_every_kind_of_entry(tmp_path, outside, deny_access),
        index_dir=tmp_path / "index",
    )
    factory = hashing_embedder

    report = build_index(settings, factory, progress=False)

    assert report.built and report.documents == 2
    assert {f.file for f in report.failures} == set(EXPECTED_REASONS)
    # The checksum step reads every file too: the unreadable one leaves the index up to date.
    assert staleness(settings, model_name_of(settings)) == ""

    # What `qa index` and `qa serve` print: one line per skipped entry, naming it.
    monkeypatch.setattr(cli, "_embedder_factory", lambda _settings: factory)
    cli.ensure_index(settings)
    printed = capsys.readouterr().err.splitlines()
    for name, reason in EXPECTED_REASONS.items():
        assert sum(line.startswith(f"skipped {name}: {reason}") for line in printed) == 1, name

    answerer = Answerer(settings, embedder=hashing_embedder())
    with TestClient(create_app(settings, answerer)) as client:
        assert client.get("/ready").status_code == 200
        listed = {d["doc_id"] for d in client.get("/documents").json()["documents"]}
        assert listed == {"good", "nested"}
        assert client.get("/documents/leak").status_code == 404
        answer = client.post("/ask", json={"question": "What is the vault code?"}).json()
        assert "4711" not in str(answer)


def test_a_file_over_the_size_limit_is_skipped_whole_and_named(tmp_path: Path) -> None:
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    (corpus / "tower.txt").write_text(GOOD, encoding="utf-8")
    (corpus / "dump.txt").write_text(GOOD * 200, encoding="utf-8")
    settings = Settings(corpus_dir=corpus, index_dir=tmp_path / "index", max_file_bytes=1_000)

    report = build_index(settings, hashing_embedder, progress=False)

    assert report.documents == 1
    [failure] = report.failures
    assert failure.file == "dump.txt"
    assert failure.reason.startswith("too large (0.0 MB, the limit is 0.0 MB; raise QA_MAX")
    # Raising the limit makes the index stale, and the file is then read whole.
    raised = Settings(corpus_dir=corpus, index_dir=tmp_path / "index", max_file_bytes=100_000)
    assert staleness(raised, model_name_of(raised)) == "the corpus changed"
    assert build_index(raised, hashing_embedder, progress=False).documents == 2
