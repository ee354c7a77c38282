"""Where a build's chunk vectors and BM25 terms are searched: FAISS and bm25s files in the build
folder (the default), or the build's own collection in Milvus (``QA_INDEX_BACKEND=milvus``).

Either way the build folder keeps its manifest, its SQLite store and ``chunk_vectors.npy`` (from
which the next build copies unchanged documents' vectors), and a build becomes live by the same
atomic switch of ``index/CURRENT``: a Milvus build's collection is written before its folder is
published, and dropped when its folder is removed.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import bm25s
import numpy as np

from qa.index_manifest import BM25_DIR, CHUNK_INDEX_FILE, Manifest
from qa.integrity import DamagedBuildError
from qa.milvus_index import (
    MilvusChunkIndex,
    build_uri,
    collection_name,
    connect,
    drop_build,
    release_lite,
)
from qa.retrieval import DenseSearch, LexicalIndex, LexicalSearch
from qa.settings import Settings
from qa.terms import terms
from qa.vectors import FaissIndex, choose_index_kind


@dataclass(frozen=True)
class WrittenSearch:
    """What the manifest records of a build's search side."""

    backend: str
    index_kind: str
    milvus_collection: str = ""


def _nothing_to_close() -> None:
    return None


@dataclass(frozen=True)
class OpenedSearch:
    """A build's two rankings, and how to let go of what they hold once nothing reads them."""

    vectors: DenseSearch
    lexical: LexicalSearch
    close: Callable[[], None] = _nothing_to_close


def _token(settings: Settings) -> str:
    return settings.milvus_token.get_secret_value() if settings.milvus_token else ""


def write_search(
    folder: Path, build_id: str, vectors: np.ndarray, chunk_texts: list[str], settings: Settings
) -> WrittenSearch:
    """Index a new build's chunks where ``settings.index_backend`` says."""
    chunk_terms = [terms(text) for text in chunk_texts]
    if settings.index_backend == "milvus":
        uri = build_uri(settings.milvus_uri, settings.index_dir, build_id)
        client = connect(uri, _token(settings))
        try:
            name = collection_name(build_id)
            MilvusChunkIndex.create(client, name, vectors, chunk_terms)
        finally:
            client.close()
        return WrittenSearch("milvus", "milvus-flat", name)
    kind = choose_index_kind(len(vectors))
    FaissIndex.build(vectors, kind).save(folder / CHUNK_INDEX_FILE)
    bm25 = bm25s.BM25()
    bm25.index([found or [""] for found in chunk_terms], show_progress=False)
    bm25.save(str(folder / BM25_DIR), show_progress=False)
    return WrittenSearch("faiss", kind)


def open_search(folder: Path, manifest: Manifest, settings: Settings) -> OpenedSearch:
    """The rankings of a published build, from the backend its manifest names."""
    if manifest.backend == "milvus":
        uri = build_uri(settings.milvus_uri, settings.index_dir, manifest.build_id)
        client = connect(uri, _token(settings))

        def close() -> None:
            client.close()
            release_lite(uri)  # a Lite build's embedded server and open data folder

        if not client.has_collection(manifest.milvus_collection):
            close()
            raise _missing(manifest)
        index = MilvusChunkIndex.open(client, manifest.milvus_collection)
        return OpenedSearch(index, index.bm25, close)
    vectors = FaissIndex.load(folder / CHUNK_INDEX_FILE, manifest.index_kind)
    return OpenedSearch(vectors, LexicalIndex(folder / BM25_DIR))


def search_problem(manifest: Manifest, settings: Settings) -> str:
    """Why a published build's search side cannot be used ("" when it can): a Milvus build whose
    collection is gone is damaged, and is rebuilt. Milvus out of reach raises instead."""
    if manifest.backend != "milvus":
        return ""
    client = _client_for(manifest, settings)
    try:
        return (
            "" if client.has_collection(manifest.milvus_collection) else _missing(manifest).problem
        )
    finally:
        client.close()


def _client_for(manifest: Manifest, settings: Settings) -> Any:
    uri = build_uri(settings.milvus_uri, settings.index_dir, manifest.build_id)
    return connect(uri, _token(settings))


def _missing(manifest: Manifest) -> DamagedBuildError:
    return DamagedBuildError(
        manifest.build_id, f"its Milvus collection {manifest.milvus_collection} is missing"
    )


def remove_search(folder: Path, settings: Settings) -> None:
    """Drop what a build being removed holds outside its folder (its Milvus collection, or its
    Milvus Lite data folder); a killed build's staging folder is named after its build id."""
    from qa.index_manifest import read_manifest

    build_id = folder.name.removeprefix(".staging-")
    try:
        backend = read_manifest(folder).backend
    except Exception:  # a staging leftover: no manifest yet
        backend = settings.index_backend
    if backend == "milvus":
        drop_build(settings.milvus_uri, settings.index_dir, build_id, _token(settings))
