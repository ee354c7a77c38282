"""Shared fixtures: a tiny real corpus indexed with the hashing embedder, an app over it, the
real model's index over the bundled corpus (built once), and a guard against network calls."""

from __future__ import annotations

import shutil
import socket
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from api.main import create_app
from qa.answering import Answerer
from qa.embedding import Embedder, HashingEmbedder, load_embedder
from qa.index_manifest import BM25_DIR, CHUNK_INDEX_FILE
from qa.indexing import build_index
from qa.settings import Settings

ROOT = Path(__file__).resolve().parent.parent
EMBEDDING_DIMENSIONS = 64

# The whole suite runs on either index backend: QA_INDEX_BACKEND=milvus runs it on Milvus Lite.
INDEX_BACKEND = Settings().index_backend
# The files a build folder holds for its search side, on this backend (Milvus keeps them in its
# collection instead).
SEARCH_FILES = (CHUNK_INDEX_FILE, BM25_DIR) if INDEX_BACKEND == "faiss" else ()
on_faiss_only = pytest.mark.skipif(
    INDEX_BACKEND != "faiss", reason="about the FAISS backend's own files"
)

TINY_CORPUS = {
    "tower.txt": (
        "The Harbour Tower\n\n"
        "The Harbour Tower was completed in 1998 in the city of Halifax. It stands 112 metres "
        "tall and was designed by the architect Maria Lopez.\n\n"
        "The Halifax Chronicle reported that the tower cost 40 million dollars to build. "
        "The tower has 31 floors and a public observation deck.\n"
    ),
    "bridge.txt": (
        "The Old Stone Bridge\n\n"
        "The Old Stone Bridge crosses the Avon River near the town of Windsor. It was built "
        "in 1832 by the engineer Thomas Grant.\n\n"
        "The bridge was closed to cars in 2004 because its arches were cracking. Today only "
        "walkers and cyclists may cross it.\n"
    ),
    "festival.txt": (
        "The Lantern Festival\n\n"
        "Every October the village of Lunenburg holds a lantern festival on the waterfront. "
        "The festival was founded in 1975 by the teacher Anne Whitby.\n\n"
        "The Lunenburg Gazette reported that 12,000 visitors came to the festival last year.\n"
    ),
    "metadata.json": (
        '{"tower.txt": {"title": "The Harbour Tower", "publisher": "City Desk",'
        ' "published": "2020-01-02"},'
        ' "bridge.txt": {"title": "The Old Stone Bridge", "publisher": "Heritage Notes"}}'
    ),
}


# --- no network -------------------------------------------------------------------------------


class NetworkAccessError(RuntimeError):
    """A test tried to reach a host other than this one."""


_LOCAL_HOSTS = {"localhost", "127.0.0.1", "::1", "0.0.0.0"}
_network_attempts: list[str] = []


def _is_local(address: Any) -> bool:
    if not isinstance(address, tuple):  # AF_UNIX paths and the like
        return True
    host = str(address[0])
    return host in _LOCAL_HOSTS or host.startswith("127.")


@pytest.fixture(scope="session", autouse=True)
def _network_guard() -> Iterator[list[str]]:
    """Refuse every connection to a non-local host, for the whole session (session fixtures
    such as the real model's index included)."""
    real_connect, real_connect_ex = socket.socket.connect, socket.socket.connect_ex

    def _check(address: Any) -> None:
        if not _is_local(address):
            _network_attempts.append(repr(address))
            raise NetworkAccessError(f"tests must not use the network (tried {address!r})")

    def connect(self: socket.socket, address: Any) -> None:
        _check(address)
        real_connect(self, address)

    def connect_ex(self: socket.socket, address: Any) -> int:
        _check(address)
        return real_connect_ex(self, address)

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(socket.socket, "connect", connect)
        patch.setattr(socket.socket, "connect_ex", connect_ex)
        yield _network_attempts


@pytest.fixture(autouse=True)
def no_network(_network_guard: list[str]) -> Iterator[list[str]]:
    """Fails the test that tried to connect out, even if the code under test swallowed the
    error; yields the list of attempts so a test of the guard itself can inspect and clear it."""
    already = len(_network_guard)
    yield _network_guard
    tried = _network_guard[already:]
    if tried:
        del _network_guard[already:]
        pytest.fail(f"the test tried to use the network: {tried}")


# --- a tiny corpus and its index --------------------------------------------------------------


def write_corpus(folder: Path, files: dict[str, str] = TINY_CORPUS) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for name, text in files.items():
        (folder / name).write_text(text, encoding="utf-8")
    return folder


def hashing_embedder() -> HashingEmbedder:
    return HashingEmbedder(EMBEDDING_DIMENSIONS)


@pytest.fixture(scope="session")
def tiny_settings(tmp_path_factory: pytest.TempPathFactory) -> Settings:
    """Settings over the tiny corpus, whose index (hashing embedder) is built once."""
    root = tmp_path_factory.mktemp("tiny")
    settings = Settings(corpus_dir=write_corpus(root / "corpus"), index_dir=root / "index")
    build_index(settings, hashing_embedder, progress=False)
    return settings


@pytest.fixture(scope="session")
def answerer(tiny_settings: Settings) -> Answerer:
    return Answerer(tiny_settings, embedder=hashing_embedder())


@pytest.fixture()
def index_copy(tiny_settings: Settings, tmp_path: Path) -> Settings:
    """A private copy of the tiny corpus and index, for tests that rebuild or delete it."""
    shutil.copytree(tiny_settings.corpus_dir, tmp_path / "corpus")
    shutil.copytree(tiny_settings.index_dir, tmp_path / "index")
    return Settings(corpus_dir=tmp_path / "corpus", index_dir=tmp_path / "index")


@pytest.fixture()
def make_client(answerer: Answerer) -> Iterator[Callable[..., TestClient]]:
    """Starts an app over the tiny index with some settings changed: ``make_client(api_key="k")``."""
    clients: list[TestClient] = []

    def make(**overrides: Any) -> TestClient:
        settings = Settings(**{**answerer.settings.model_dump(), **overrides})
        client = TestClient(create_app(settings, answerer))
        clients.append(client)
        return client.__enter__()

    yield make
    for client in clients:
        client.__exit__(None, None, None)


@pytest.fixture()
def client(make_client: Callable[..., TestClient]) -> TestClient:
    """An app over the tiny index with the default settings (no key, no rate limit)."""
    return make_client()


# --- the real model over the bundled corpus ---------------------------------------------------


@pytest.fixture(scope="session")
def model_embedder() -> Embedder:
    """The real MiniLM embedder, loaded once per session."""
    return load_embedder(Settings().resolved_model_path())


def model_answerer_over(root: Path, pages: dict[str, str], embedder: Embedder) -> Answerer:
    """An answerer over made-up ``pages`` written to ``root/corpus``, indexed with ``embedder``."""
    settings = Settings(corpus_dir=write_corpus(root / "corpus", pages), index_dir=root / "index")
    build_index(settings, lambda: embedder, progress=False)
    return Answerer(settings, embedder=embedder)


@pytest.fixture(scope="session")
def real_answerer(tmp_path_factory: pytest.TempPathFactory) -> Answerer:
    """The real MiniLM index over ``corpus/``, built once per session into a temporary folder."""
    settings = Settings(
        corpus_dir=ROOT / "corpus", index_dir=tmp_path_factory.mktemp("real") / "index"
    )

    def embedder() -> Any:
        return load_embedder(settings.resolved_model_path(), settings.embed_batch_size)

    build_index(settings, embedder, progress=False)
    return Answerer(settings)


@pytest.fixture(scope="session")
def made_answerer(tmp_path_factory: pytest.TempPathFactory, model_embedder: Embedder) -> Answerer:
    """The real model's index over the made-up documents of every format (made_documents.py)."""
    import made_documents

    root = tmp_path_factory.mktemp("made")
    settings = Settings(
        corpus_dir=made_documents.write_all(root / "corpus"), index_dir=root / "index"
    )
    build_index(settings, lambda: model_embedder, progress=False)
    return Answerer(settings, embedder=model_embedder)


# --- what the shipped reader model does not do yet --------------------------------------------

# Behaviour a user should get that the shipped reader model misses: kept
# as tests so each one shows as XPASS when a better-trained model gets it right, and is then
# unmarked. Not strict: the cases of one test may be met by some models and not others.
READER_GAP = pytest.mark.xfail(
    reason="the shipped reader model misses this; see issue 15", strict=False
)
