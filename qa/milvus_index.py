"""A build's chunk vectors and BM25 terms in Milvus, one collection per build.

Each chunk is a row: its id (its position in the build, as in the FAISS index), its dense vector
and its terms (the words ``qa.terms`` makes of it, the same the FAISS backend's BM25 indexes),
from which Milvus's own BM25 function makes the sparse vector it searches. The store of
documents, sentences and chunk texts stays in the build folder's SQLite file.

A server URI (``http://host:19530``) is one index that every replica queries. An empty URI is
Milvus Lite, the same engine embedded: each build then has its own data folder under the index
folder, so a rebuild in one process never waits on the lock another process holds on the build
it is serving (Lite allows one process per data folder).
"""

from __future__ import annotations

import logging
import os
import re
from pathlib import Path
from typing import Any

import numpy as np

LITE_DIR = "milvus-lite"
_ID, _DENSE, _TERMS, _SPARSE = "id", "dense", "terms", "sparse"
_INSERT_ROWS = 2_000
# Milvus caps one search's limit.
_MAX_LIMIT = 16_384


class MilvusUnavailableError(RuntimeError):
    """Milvus could not be reached or opened; the message says which and why."""


def collection_name(build_id: str) -> str:
    """The collection of a build: Milvus names take letters, digits and underscores."""
    return "qa_" + re.sub(r"[^0-9A-Za-z_]", "_", build_id)


def is_lite(uri: str) -> bool:
    return not uri or not re.match(r"^[a-z]+://", uri)


def build_uri(uri: str, index_dir: Path, build_id: str) -> str:
    """Where a build's collection lives: the server itself, or a Lite data folder of its own
    (under ``uri`` when it is a local path, else under the index folder)."""
    if not is_lite(uri):
        return uri
    path = _lite_path(uri, index_dir, build_id)
    path.parent.mkdir(parents=True, exist_ok=True)
    return str(path)


def _lite_path(uri: str, index_dir: Path, build_id: str) -> Path:
    folder = Path(uri) if uri else index_dir / LITE_DIR
    return folder / f"{collection_name(build_id)}.db"


def connect(uri: str, token: str = "") -> Any:
    """A client for ``uri``, or ``MilvusUnavailableError`` saying why there is none."""
    try:
        from pymilvus import MilvusClient
    except ImportError as error:  # pragma: no cover - pymilvus is a dependency
        raise MilvusUnavailableError("pymilvus is not installed") from error
    if is_lite(uri):
        # Lite serves the client in this process over gRPC and logs a traceback at ERROR for
        # each call it does not implement and the client then does without (AllocTimestamp).
        logging.getLogger("grpc._server").setLevel(logging.CRITICAL)
        # And gRPC's core logs their keepalive quarrel ("too_many_pings") to stderr: read when
        # grpc is first imported, which is below. Failures still reach us as exceptions.
        os.environ.setdefault("GRPC_VERBOSITY", "NONE")
    try:
        return MilvusClient(uri, token=token) if token else MilvusClient(uri)
    except Exception as error:
        where = "Milvus Lite" if is_lite(uri) else "Milvus"
        raise MilvusUnavailableError(f"{where} at {uri} could not be opened: {error}") from error


def release_lite(uri: str) -> None:
    """Stop the Milvus Lite server this process runs for the data folder ``uri``, if it runs one
    (a client's ``close`` leaves it running, with the folder open); nothing for a server URI."""
    if not is_lite(uri):
        return
    from milvus_lite.server_manager import server_manager_instance

    server_manager_instance.release_server(uri)


class MilvusChunkIndex:
    """Dense and BM25 search over one build's collection."""

    def __init__(self, client: Any, collection: str) -> None:
        self._client = client
        self.collection = collection

    @classmethod
    def create(
        cls, client: Any, collection: str, vectors: np.ndarray, chunk_terms: list[list[str]]
    ) -> MilvusChunkIndex:
        """A new collection holding these chunks (ids 0..n-1), indexed and loaded."""
        from pymilvus import DataType, Function, FunctionType

        if client.has_collection(collection):
            client.drop_collection(collection)
        schema = client.create_schema(auto_id=False)
        schema.add_field(_ID, DataType.INT64, is_primary=True)
        schema.add_field(_DENSE, DataType.FLOAT_VECTOR, dim=int(vectors.shape[1]))
        # The terms are made here (stemmed, stop words out: letters and digits only), so
        # Milvus only splits them apart again.
        schema.add_field(
            _TERMS,
            DataType.VARCHAR,
            max_length=65_535,
            enable_analyzer=True,
            analyzer_params={"tokenizer": "standard"},
        )
        schema.add_field(_SPARSE, DataType.SPARSE_FLOAT_VECTOR)
        schema.add_function(
            Function(
                name="bm25",
                function_type=FunctionType.BM25,
                input_field_names=[_TERMS],
                output_field_names=[_SPARSE],
            )
        )
        params = client.prepare_index_params()
        params.add_index(_DENSE, index_type="FLAT", metric_type="IP")
        params.add_index(_SPARSE, index_type="SPARSE_INVERTED_INDEX", metric_type="BM25")
        client.create_collection(collection, schema=schema, index_params=params)
        rows = [
            {_ID: i, _DENSE: vector.tolist(), _TERMS: _terms_text(words)}
            for i, (vector, words) in enumerate(zip(vectors, chunk_terms, strict=True))
        ]
        for start in range(0, len(rows), _INSERT_ROWS):
            client.insert(collection, rows[start : start + _INSERT_ROWS])
        client.flush(collection)
        client.load_collection(collection)
        return cls(client, collection)

    @classmethod
    def open(cls, client: Any, collection: str) -> MilvusChunkIndex:
        """An existing collection, loaded for search."""
        client.load_collection(collection)
        return cls(client, collection)

    def search(self, queries: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
        """The ``k`` nearest chunks of each query vector, as FAISS returns them: (scores, ids),
        -1 padding where fewer exist."""
        limit = min(k, _MAX_LIMIT)
        found = self._client.search(
            self.collection,
            data=[q.astype(np.float32).tolist() for q in queries],
            anns_field=_DENSE,
            limit=limit,
            search_params={"metric_type": "IP"},
        )
        scores = np.full((len(queries), k), -np.inf, dtype=np.float32)
        ids = np.full((len(queries), k), -1, dtype=np.int64)
        for row, hits in enumerate(found):
            for column, hit in enumerate(hits):
                scores[row, column] = float(hit["distance"])
                ids[row, column] = int(hit["id"])
        return scores, ids

    def lexical(self, words: list[str], k: int) -> list[tuple[int, float]]:
        """The ``k`` best chunks by BM25 for these terms, best first (none that score 0)."""
        if not words or k < 1:
            return []
        found = self._client.search(
            self.collection,
            data=[_terms_text(words)],
            anns_field=_SPARSE,
            limit=min(k, _MAX_LIMIT),
            search_params={"metric_type": "BM25"},
        )
        hits = [(int(h["id"]), abs(float(h["distance"]))) for h in found[0]]
        # Equal scores in chunk order, as the FAISS backend's BM25 ranks them.
        return sorted((h for h in hits if h[1] > 0), key=lambda h: (-h[1], h[0]))

    @property
    def bm25(self) -> MilvusBM25:
        """The BM25 side, searched by question text like the FAISS backend's BM25 files."""
        return MilvusBM25(self)

    def __len__(self) -> int:
        stats = self._client.get_collection_stats(self.collection)
        return int(stats.get("row_count", 0))


class MilvusBM25:
    """BM25 over a build's collection, asked with a question's text."""

    def __init__(self, index: MilvusChunkIndex) -> None:
        self._index = index

    def search(self, text: str, k: int) -> list[tuple[int, float]]:
        from qa.terms import terms

        return self._index.lexical(terms(text), k)


_MAX_TERMS_BYTES = 60_000  # under the VARCHAR field's 65,535


def _terms_text(words: list[str]) -> str:
    # A chunk with no terms still needs a row: one word nothing else has keeps BM25 quiet.
    text = " ".join(words) if words else "_"
    if len(text.encode()) > _MAX_TERMS_BYTES:  # thousands of words: BM25 gets the first 60 KB
        text = text.encode()[:_MAX_TERMS_BYTES].decode(errors="ignore").rsplit(" ", 1)[0]
    return text


def drop_build(uri: str, index_dir: Path, build_id: str, token: str = "") -> None:
    """Remove a build's collection (on a server) or its Lite data folder."""
    import shutil

    if is_lite(uri):
        path = _lite_path(uri, index_dir, build_id)
        release_lite(str(path))  # this process may still run its server
        shutil.rmtree(path, ignore_errors=True)
        return
    client = connect(uri, token)
    try:
        name = collection_name(build_id)
        if client.has_collection(name):
            client.drop_collection(name)
    finally:
        client.close()
