"""A build folder read back: where the live build is, its manifest (checked against the
checksums it records), the corpus's fingerprint, and why the index is stale, if it is.

The names of a build's files live here too, so readers of a build (``qa.answering``, the bench)
and the build itself (``qa.indexing``) agree on them."""

from __future__ import annotations

import hashlib
from pathlib import Path

from pydantic import BaseModel, Field, ValidationError

from qa.documents import file_checksum, list_corpus_files
from qa.embedding import precision_suffix, resolve_precision
from qa.integrity import DamagedBuildError, verify_build
from qa.settings import Settings

# Bump when what a build stores changes shape (2: page and heading tables; 3: file checksums;
# 4: no sentence vectors, term statistics or spans: the trained reader reads the text itself).
FORMAT_VERSION = 4
# Bump when reading, cleaning or sentence annotation changes, so unchanged files are
# processed again (8: format-aware reading into blocks; 9: no sentence without a letter or digit;
# 10: sentences only, no spaCy annotation).
PROCESSING_VERSION = 10

CURRENT_FILE = "CURRENT"
BUILDS_DIR = "builds"
MANIFEST_FILE = "manifest.json"
STORE_FILE = "store.sqlite3"
CHUNK_INDEX_FILE = "chunks.faiss"
CHUNK_VECTORS_FILE = "chunk_vectors.npy"
BM25_DIR = "bm25"
CASED_WORDS_FILE = "cased_words.json"


class IndexMissingError(Exception):
    """No index has been built yet in this folder."""


class OutdatedBuildError(Exception):
    """The live build was made by another version of qa, whose files this one cannot trust."""


class ManifestDocument(BaseModel):
    file: str
    checksum: str
    sentences: int
    chunks: int


class ManifestFailure(BaseModel):
    file: str
    reason: str


class Manifest(BaseModel):
    """What a build holds and how it was made; compared with the corpus to tell staleness."""

    format_version: int = FORMAT_VERSION
    processing_version: int = PROCESSING_VERSION
    build_id: str
    created: str
    model: str
    dimensions: int
    chunk_max_words: int
    chunk_overlap_sentences: int
    index_kind: str
    backend: str = Field(default="faiss", description="where the vectors and BM25 terms are")
    milvus_collection: str = Field(default="", description="the build's collection in Milvus")
    chunk_count: int
    sentence_count: int
    files: dict[str, str] = Field(description="checksum of every corpus file, read or not")
    documents: dict[str, ManifestDocument]
    failures: list[ManifestFailure] = Field(default_factory=list)
    checksums: dict[str, str] = Field(
        default_factory=dict, description="SHA-256 of every other file of the build, by path"
    )


# --- where things are -----------------------------------------------------------------------


def current_build_dir(index_dir: Path) -> Path | None:
    """The live build's folder, or None when nothing has been published yet."""
    pointer = index_dir / CURRENT_FILE
    try:
        build_id = pointer.read_text(errors="replace").strip()
    except (FileNotFoundError, IsADirectoryError):
        return None
    if not build_id or build_id.startswith(".") or "/" in build_id:
        return None  # not a build's name: as if nothing had been published
    folder = index_dir / BUILDS_DIR / build_id
    return folder if (folder / MANIFEST_FILE).is_file() else None


def read_manifest(build_dir: Path) -> Manifest:
    """The build's manifest; ``DamagedBuildError`` when it is truncated or not a manifest."""
    try:
        return Manifest.model_validate_json((build_dir / MANIFEST_FILE).read_bytes())
    except ValidationError as error:
        raise DamagedBuildError(
            build_dir.name, f"{MANIFEST_FILE} is not a whole manifest"
        ) from error


def verified_manifest(build_dir: Path) -> Manifest:
    """The manifest of a build whose files are all as they were published; raises
    ``DamagedBuildError`` (run `qa index`) or ``OutdatedBuildError`` (made by another version)."""
    manifest = read_manifest(build_dir)
    if manifest.format_version != FORMAT_VERSION:
        raise OutdatedBuildError(
            f"the index build {build_dir.name} was made by another version of qa "
            f"(format {manifest.format_version}, this one reads {FORMAT_VERSION})"
        )
    verify_build(build_dir, manifest.checksums, leave_out=frozenset({MANIFEST_FILE}))
    return manifest


def corpus_fingerprint(
    corpus_dir: Path, *, follow_outside_links: bool = False, max_file_bytes: int | None = None
) -> dict[str, str]:
    """Checksums of every file that shapes the index: the documents and the metadata sidecar.

    A file that cannot be read stands as the reason instead of a checksum: the loader reports
    it by name, and the index goes stale again once it can be read.
    """
    paths = list_corpus_files(
        corpus_dir, follow_outside_links=follow_outside_links, max_file_bytes=max_file_bytes
    )
    files = {str(p.relative_to(corpus_dir)): _checksum_or_reason(p) for p in paths}
    sidecar = corpus_dir / "metadata.json"
    if sidecar.is_file():
        files["metadata.json"] = _checksum_or_reason(sidecar)
    return files


def _checksum_or_reason(path: Path) -> str:
    try:
        return file_checksum(path)
    except OSError as error:
        return f"unreadable: {error.strerror or error}"


def staleness(settings: Settings, model_name: str) -> str:
    """Why the index must be rebuilt, or "" when it is up to date."""
    build_dir = current_build_dir(settings.index_dir)
    if build_dir is None:
        return "no index has been built yet"
    try:
        manifest = verified_manifest(build_dir)
    except OutdatedBuildError:
        return "the index was built by another version"
    except DamagedBuildError as error:
        return f"the live build was damaged ({error.problem}): rebuilt from scratch"
    from qa.index_backends import search_problem

    problem = search_problem(manifest, settings)
    if problem:
        return f"the live build was damaged ({problem}): rebuilt from scratch"
    if manifest.processing_version != PROCESSING_VERSION:
        return "cleaning or annotation changed"
    if not (build_dir / CASED_WORDS_FILE).exists():
        return "the index has no table of how words are capitalised yet"
    if manifest.backend != settings.index_backend:
        return f"the index backend changed ({manifest.backend} -> {settings.index_backend})"
    if manifest.model != model_name:
        return f"the model changed ({manifest.model} -> {model_name})"
    if (manifest.chunk_max_words, manifest.chunk_overlap_sentences) != (
        settings.chunk_max_words,
        settings.chunk_overlap_sentences,
    ):
        return "chunking settings changed"
    fingerprint = corpus_fingerprint(
        settings.corpus_dir,
        follow_outside_links=settings.follow_outside_links,
        max_file_bytes=settings.max_file_bytes,
    )
    if manifest.files != fingerprint:
        return "the corpus changed"
    return ""


def model_name_of(settings: Settings) -> str:
    """The model's identity for the manifest: its folder and a digest of its configuration and
    weights' sizes, so another model in a folder of the same name still makes the index stale;
    and the precision it runs in, so vectors of another precision are embedded again."""
    folder = Path(settings.resolved_model_path())
    digest = hashlib.sha256()
    for path in sorted(folder.rglob("*")):
        if path.is_file():
            digest.update(str(path.relative_to(folder)).encode())
            if path.suffix in {".json", ".txt"} and path.stat().st_size < 5_000_000:
                digest.update(path.read_bytes())
            else:
                digest.update(str(path.stat().st_size).encode())
    suffix = precision_suffix(resolve_precision(settings.embed_precision))
    return f"{folder.parent.name}/{folder.name}@{digest.hexdigest()[:12]}{suffix}"
