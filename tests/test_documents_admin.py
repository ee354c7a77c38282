"""Documents over HTTP with ``QA_ADMIN_KEY``: uploads and removals change the corpus, the index
is rebuilt in the background and the service switches to it; every refusal is clear and leaves
the corpus and the live index as they were; without the key the routes do not exist."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from conftest import hashing_embedder
from fastapi.testclient import TestClient

from api.main import create_app
from qa.answering import Answerer
from qa.corpus_edits import CorpusEditor
from qa.index_manifest import current_build_dir
from qa.indexing import BuildReport
from qa.reader_model import SpanModel
from qa.settings import Settings

KEY = "admin-secret"
ADMIN = {"X-Admin-Key": KEY}
NEW_TEXT = (
    "The Glass Library\n\n"
    "The Glass Library opened in 2011 in the town of Truro. Its reading room holds "
    "forty thousand books and was designed by the architect Paul Okafor.\n"
)
AdminApp = Callable[..., TestClient]


@pytest.fixture(scope="module")
def reader_model() -> SpanModel:
    """The reader (QA_READER_MODEL_PATH), loaded once for the module's many small apps."""
    return SpanModel.load(Settings().resolved_reader_path())


@pytest.fixture()
def admin_app(index_copy: Settings, reader_model: SpanModel) -> Iterator[AdminApp]:
    """Starts an app over a private copy of the tiny corpus and index, with the admin key."""
    clients: list[TestClient] = []

    def start(**overrides: Any) -> TestClient:
        settings = Settings(**{**index_copy.model_dump(), "admin_key": KEY, **overrides})
        answerer = Answerer(settings, embedder=hashing_embedder(), reader_model=reader_model)
        client = TestClient(create_app(settings, answerer)).__enter__()
        clients.append(client)
        return client

    yield start
    for client in clients:
        client.__exit__(None, None, None)


def editor_of(client: TestClient) -> CorpusEditor:
    editor: CorpusEditor = client.app.state.corpus_editor  # type: ignore[attr-defined]
    return editor


def settled(client: TestClient, change: dict[str, Any]) -> dict[str, Any]:
    """The change once the background build is done with it."""
    assert editor_of(client).wait_until_idle(timeout=120)
    response = client.get(f"/document-changes/{change['change_id']}", headers=ADMIN)
    assert response.status_code == 200
    return dict(response.json())


def upload(client: TestClient, name: str, data: bytes, headers: dict[str, str] = ADMIN) -> Any:
    return client.post("/documents", files={"file": (name, data)}, headers=headers)


def listed(client: TestClient) -> list[str]:
    return [d["doc_id"] for d in client.get("/documents").json()["documents"]]


def folder_state(settings: Settings) -> tuple[list[str], str]:
    """Every entry of the corpus folder (hidden ones too) and the live build."""
    corpus = settings.corpus_dir
    entries = sorted(p.relative_to(corpus).as_posix() for p in corpus.rglob("*"))
    build = current_build_dir(settings.index_dir)
    return entries, build.name if build else ""


def test_an_upload_is_indexed_and_served_after_the_switch(
    admin_app: AdminApp, index_copy: Settings
) -> None:
    client = admin_app()
    before = client.get("/ready").json()["build_id"]
    response = upload(client, "library.txt", NEW_TEXT.encode())
    assert response.status_code == 202
    change = response.json()
    assert (change["action"], change["doc_id"], change["status"]) == ("add", "library", "queued")
    done = settled(client, change)
    assert done["status"] == "indexed" and done["build_id"] != before
    assert client.get("/ready").json()["build_id"] == done["build_id"]
    assert listed(client) == ["bridge", "festival", "library", "tower"]
    assert "Paul Okafor" in client.get("/documents/library").json()["text"]
    assert (index_copy.corpus_dir / "library.txt").read_text() == NEW_TEXT


def test_an_upload_into_a_subfolder_keeps_its_path(
    admin_app: AdminApp, index_copy: Settings
) -> None:
    client = admin_app()
    assert (
        settled(client, upload(client, "towns/library.md", NEW_TEXT.encode()).json())["status"]
        == "indexed"
    )
    assert (index_copy.corpus_dir / "towns" / "library.md").is_file()
    assert "library" in listed(client)


def test_a_removed_document_leaves_the_corpus_and_the_index(
    admin_app: AdminApp, index_copy: Settings
) -> None:
    client = admin_app()
    response = client.delete("/documents/bridge", headers=ADMIN)
    assert response.status_code == 202
    assert settled(client, response.json())["status"] == "indexed"
    assert listed(client) == ["festival", "tower"]
    assert client.get("/documents/bridge").status_code == 404
    assert folder_state(index_copy)[0] == ["festival.txt", "metadata.json", "tower.txt"]


def test_removing_an_unknown_document_is_a_404(admin_app: AdminApp) -> None:
    response = admin_app().delete("/documents/nothing-here", headers=ADMIN)
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "document_not_found"


@pytest.mark.parametrize(
    ("name", "data", "status", "code"),
    [
        ("setup.exe", b"MZ\x90\x00", 415, "unsupported_document_type"),
        ("notes", b"no suffix", 415, "unsupported_document_type"),
        ("../escape.txt", NEW_TEXT.encode(), 400, "invalid_document_name"),
        ("towns/../../escape.txt", NEW_TEXT.encode(), 400, "invalid_document_name"),
        ("/tmp/escape.txt", NEW_TEXT.encode(), 400, "invalid_document_name"),
        (".hidden.txt", NEW_TEXT.encode(), 400, "invalid_document_name"),
        ("metadata.json", b"{}", 400, "invalid_document_name"),
        ("empty.txt", b"  \n", 422, "unreadable_document"),
        ("towns/new/empty.txt", b"  \n", 422, "unreadable_document"),
        ("broken.pdf", b"%PDF-1.4 not really a pdf", 422, "unreadable_document"),
        ("tower.txt", NEW_TEXT.encode(), 409, "document_exists"),
        ("tower.md", NEW_TEXT.encode(), 409, "document_exists"),
    ],
)
def test_a_refused_upload_changes_nothing(
    admin_app: AdminApp,
    index_copy: Settings,
    name: str,
    data: bytes,
    status: int,
    code: str,
) -> None:
    client = admin_app()
    before = folder_state(index_copy)
    response = upload(client, name, data)
    assert response.status_code == status, response.text
    assert response.json()["error"]["code"] == code
    assert editor_of(client).wait_until_idle(timeout=5)
    assert folder_state(index_copy) == before
    assert not (index_copy.corpus_dir.parent / "escape.txt").exists()


def test_an_upload_over_the_limit_is_a_413_naming_the_setting(admin_app: AdminApp) -> None:
    client = admin_app(max_upload_bytes=100)
    small_overflow = upload(client, "long.txt", b"word " * 40)  # in the route
    huge = upload(client, "huge.txt", b"word " * 20_000)  # at the front door
    for response in (small_overflow, huge):
        assert response.status_code == 413
        assert "QA_MAX_UPLOAD_BYTES" in response.json()["error"]["message"]


def test_a_failed_build_puts_the_corpus_back(admin_app: AdminApp, index_copy: Settings) -> None:
    client = admin_app()

    def full_disk(*args: object, **kwargs: object) -> BuildReport:
        raise OSError(28, "No space left on device")

    client.app.state.corpus_editor = CorpusEditor(  # type: ignore[attr-defined]
        index_copy, hashing_embedder, build=full_disk
    )
    before = folder_state(index_copy)
    added = settled(client, upload(client, "library.txt", NEW_TEXT.encode()).json())
    removed = settled(client, client.delete("/documents/bridge", headers=ADMIN).json())
    for change in (added, removed):
        assert change["status"] == "failed"
        assert "No space left on device" in change["reason"]
    assert folder_state(index_copy) == before
    assert listed(client) == ["bridge", "festival", "tower"]


@pytest.mark.parametrize(
    ("headers", "status", "code"),
    [({}, 401, "admin_key_required"), ({"X-Admin-Key": "guess"}, 403, "wrong_admin_key")],
)
def test_the_admin_key_is_required(
    admin_app: AdminApp, headers: dict[str, str], status: int, code: str
) -> None:
    client = admin_app()
    for response in (
        upload(client, "library.txt", NEW_TEXT.encode(), headers),
        client.delete("/documents/bridge", headers=headers),
    ):
        assert response.status_code == status
        assert response.json()["error"]["code"] == code
    assert listed(client) == ["bridge", "festival", "tower"]


def test_with_api_keys_the_admin_needs_one_too(admin_app: AdminApp) -> None:
    client = admin_app(api_key="reader-key")
    assert upload(client, "library.txt", NEW_TEXT.encode()).status_code == 401
    both = {**ADMIN, "Authorization": "Bearer reader-key"}
    assert upload(client, "library.txt", NEW_TEXT.encode(), both).status_code == 202


def test_without_the_admin_key_the_routes_do_not_exist(client: TestClient, tmp_path: Path) -> None:
    assert upload(client, "library.txt", NEW_TEXT.encode()).status_code == 405
    assert client.delete("/documents/bridge", headers=ADMIN).status_code == 405
    assert client.get("/document-changes/x", headers=ADMIN).status_code == 404
    paths = client.get("/openapi.json").json()["paths"]
    assert set(paths["/documents"]) == {"get"}
    assert "/document-changes/{change_id}" not in paths
    assert "bridge" in listed(client)


def test_with_the_admin_key_the_routes_are_documented(admin_app: AdminApp) -> None:
    paths = admin_app().get("/openapi.json").json()["paths"]
    assert set(paths["/documents"]) == {"get", "post"}
    assert "delete" in paths["/documents/{doc_id}"]


def test_an_upload_the_build_cannot_index_is_taken_out_again(
    admin_app: AdminApp, index_copy: Settings
) -> None:
    client = admin_app()
    before = folder_state(index_copy)[0]
    # Text, so it passes the upload's check, but no sentence with a word for the index.
    change = settled(client, upload(client, "noise.txt", b"--- !!! ??? ---\n").json())
    assert change["status"] == "failed"
    assert "no text to index" in change["reason"]
    assert folder_state(index_copy)[0] == before
    assert listed(client) == ["bridge", "festival", "tower"]


def test_only_the_new_document_is_embedded(admin_app: AdminApp, index_copy: Settings) -> None:
    client = admin_app()
    embedded: list[str] = []
    embedder = hashing_embedder()

    class Counting:
        dimensions = embedder.dimensions

        def encode(self, texts: list[str]) -> Any:
            embedded.extend(texts)
            return embedder.encode(texts)

    client.app.state.corpus_editor = CorpusEditor(index_copy, Counting)  # type: ignore[attr-defined]
    assert (
        settled(client, upload(client, "library.txt", NEW_TEXT.encode()).json())["status"]
        == "indexed"
    )
    assert embedded and all("Glass Library" in text or "Okafor" in text for text in embedded)


def test_what_a_stopped_server_left_midway_is_cleaned_up(
    admin_app: AdminApp, index_copy: Settings
) -> None:
    corpus = index_copy.corpus_dir
    (corpus / "bridge.txt").rename(corpus / ".removed-0123abcd-bridge.txt")
    (corpus / ".upload-4567ef.txt").write_text(NEW_TEXT)
    admin_app()  # younger than an hour: perhaps another worker's change in progress
    assert ".upload-4567ef.txt" in folder_state(index_copy)[0]
    CorpusEditor(index_copy, hashing_embedder, leftover_seconds=0)
    assert folder_state(index_copy)[0] == [
        "bridge.txt",
        "festival.txt",
        "metadata.json",
        "tower.txt",
    ]
