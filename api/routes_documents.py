"""Documents over HTTP, for an administrator: ``POST /documents`` (a multipart upload) and
``DELETE /documents/{doc_id}`` add and remove a corpus file, and ``GET /document-changes/{id}``
says where a change stands. A thin layer over ``qa.corpus_edits.CorpusEditor``, which rebuilds
the index in the background; the service switches to the new build when it is published.

Mounted only when ``QA_ADMIN_KEY`` is set: without it these routes do not exist (a 404 or 405,
as for any unknown route, and absent from the OpenAPI schema). Every request carries the key as
``X-Admin-Key`` (a header of its own, so it never clashes with an API key in
``Authorization``): missing is a 401, wrong a 403. With API keys set, an API key is needed
as well, as everywhere.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Header, Request, UploadFile
from pydantic import SecretStr

from api.auth import matching_key
from api.errors import ApiError, ErrorResponse
from qa.corpus_edits import (
    CorpusChange,
    CorpusEditError,
    CorpusEditor,
    DocumentExistsError,
    DocumentNameError,
    DocumentNotFoundError,
    DocumentTooLargeError,
    UnreadableDocumentError,
    UnsupportedDocumentTypeError,
)

ADMIN_KEY_HEADER = "X-Admin-Key"
UPLOAD_PATH = "/documents"

# Each refusal of the library, with its status and code.
_REFUSALS: dict[type[CorpusEditError], tuple[int, str]] = {
    DocumentNameError: (400, "invalid_document_name"),
    UnsupportedDocumentTypeError: (415, "unsupported_document_type"),
    DocumentTooLargeError: (413, "document_too_large"),
    UnreadableDocumentError: (422, "unreadable_document"),
    DocumentExistsError: (409, "document_exists"),
    DocumentNotFoundError: (404, "document_not_found"),
}


def _errors(*statuses: int) -> dict[int | str, dict[str, object]]:
    return {status: {"model": ErrorResponse} for status in (401, 403, 429, 503, *statuses)}


def require_admin(
    request: Request,
    x_admin_key: Annotated[
        str | None, Header(description="The admin key (QA_ADMIN_KEY)", alias=ADMIN_KEY_HEADER)
    ] = None,
) -> None:
    """Route dependency: 401 without the admin key, 403 with another."""
    admin_key: SecretStr = request.app.state.settings.admin_key
    if x_admin_key is None:
        raise ApiError(
            401, "admin_key_required", f"this route needs the admin key: send {ADMIN_KEY_HEADER}"
        )
    if matching_key(x_admin_key, [admin_key]) is None:
        raise ApiError(403, "wrong_admin_key", "wrong admin key")


def corpus_editor(request: Request) -> CorpusEditor:
    editor: CorpusEditor = request.app.state.corpus_editor
    return editor


EditorDep = Annotated[CorpusEditor, Depends(corpus_editor)]
router = APIRouter(tags=["documents"], dependencies=[Depends(require_admin)])


def _refused(error: CorpusEditError) -> ApiError:
    status, code = next(
        (refusal for kind, refusal in _REFUSALS.items() if isinstance(error, kind)),
        (400, "bad_request"),
    )
    return ApiError(status, code, str(error))


@router.post(
    UPLOAD_PATH,
    status_code=202,
    response_model=CorpusChange,
    responses=_errors(400, 404, 409, 413, 415, 422),
)
def add_document(file: UploadFile, editor: EditorDep) -> CorpusChange:
    """Add a document (multipart field ``file``; its file name is its name in the corpus, a
    subfolder allowed: ``reports/2024.pdf``). Checked now (name, type, size, that it reads
    into text), indexed in the background: 202 with the change, which ``GET
    /document-changes/{change_id}`` follows; ``GET /documents`` lists it once indexed."""
    # A plain ``def``: the file is read and parsed here, off the event loop.
    data = file.file.read(editor.settings.max_upload_bytes + 1)
    try:
        return editor.add(file.filename or "", data)
    except CorpusEditError as error:
        raise _refused(error) from None


@router.delete(
    "/documents/{doc_id:path}",
    status_code=202,
    response_model=CorpusChange,
    responses=_errors(404),
)
def remove_document(doc_id: str, editor: EditorDep) -> CorpusChange:
    """Remove a document from the corpus; the index drops it in the background (202)."""
    try:
        return editor.remove(doc_id)
    except CorpusEditError as error:
        raise _refused(error) from None


@router.get(
    "/document-changes/{change_id}",
    response_model=CorpusChange,
    responses=_errors(404),
)
def get_change(change_id: str, editor: EditorDep) -> CorpusChange:
    """Where an addition or removal stands: queued, indexed (and in which build), or failed
    (and why; the corpus and the index are then as they were before it)."""
    change = editor.change(change_id)
    if change is None:
        raise ApiError(404, "change_not_found", f"no document change {change_id!r}")
    return change
