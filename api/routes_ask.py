"""The question-answering endpoints: ``/ask``, ``/documents``, ``/health`` and ``/ready``.

The request and answer types are the library's own (``AskRequest``, ``AskResponse``,
``DocumentView``): the API schema is the library's type.
"""

from __future__ import annotations

import logging
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Request
from pydantic import BaseModel

from api.errors import ApiError, ErrorResponse
from api.live_answerer import LiveAnswerer, current_answerer
from qa.answering import Answerer, AskRequest, AskResponse, DocumentView
from qa.sessions import SessionStore, SessionStoreUnavailableError

router = APIRouter()
logger = logging.getLogger("api.ready")

LiveAnswererDep = Annotated[Answerer, Depends(current_answerer)]

_ERRORS: dict[int | str, dict[str, object]] = {
    status: {"model": ErrorResponse} for status in (401, 413, 422, 429, 503)
}
# A body that is not even text (FastAPI's "error parsing the body").
_BODY_ERRORS: dict[int | str, dict[str, object]] = {400: {"model": ErrorResponse}, **_ERRORS}


class DocumentSummary(BaseModel):
    doc_id: str
    title: str


class DocumentList(BaseModel):
    documents: list[DocumentSummary]


class HealthResponse(BaseModel):
    status: Literal["ok"] = "ok"


class ReadyResponse(BaseModel):
    status: Literal["ready"] = "ready"
    build_id: str
    documents: int
    chunks: int


@router.post("/ask", response_model=AskResponse, responses=_BODY_ERRORS, tags=["answers"])
def ask(request: AskRequest, answerer: LiveAnswererDep) -> AskResponse:
    """Answer a question with verbatim spans from the documents, each with its citations.

    ``top_k`` above the server's ``max_top_k`` is lowered to it, as the library does; an
    empty question, one without a letter or digit, or one over ``max_question_chars``, is a 422.
    """
    # A plain ``def``: answering is CPU-bound, so FastAPI runs it in its threadpool.
    return answerer.ask(request.question, request.top_k)


@router.get("/documents", response_model=DocumentList, responses=_ERRORS, tags=["documents"])
def list_documents(answerer: LiveAnswererDep) -> DocumentList:
    """Every indexed document's id and title."""
    return DocumentList(
        documents=[
            DocumentSummary(doc_id=doc_id, title=title)
            for doc_id, title in sorted(answerer.titles().items())
        ]
    )


@router.get(
    "/documents/{doc_id:path}",  # ids of documents in subfolders hold a "/"
    response_model=DocumentView,
    responses={404: {"model": ErrorResponse}, **_ERRORS},
    tags=["documents"],
)
def get_document(doc_id: str, answerer: LiveAnswererDep) -> DocumentView:
    """A document's cleaned text, the text that citation offsets point into."""
    document = answerer.document(doc_id)
    if document is None:
        raise ApiError(404, "document_not_found", f"no document with id {doc_id!r}")
    return document


@router.get("/health", response_model=HealthResponse, tags=["service"])
async def health() -> HealthResponse:
    """The process is up (it may still be waiting for an index: see ``/ready``)."""
    return HealthResponse()


def _check_sessions(store: SessionStore) -> None:
    """503 when the session database cannot be reached (within seconds: the store's own
    timeout for this check), since every chat would fail."""
    try:
        store.check()
    except SessionStoreUnavailableError:
        raise ApiError(503, "not_ready", "the session database cannot be reached") from None
    except Exception:
        logger.exception("not ready: the session database cannot be read")
        raise ApiError(
            503, "not_ready", "the session database cannot be read; the server log says why"
        ) from None


@router.get(
    "/ready",
    response_model=ReadyResponse,
    responses={503: {"model": ErrorResponse}},
    tags=["service"],
)
def ready(request: Request) -> ReadyResponse:
    """Questions can be answered: a cheap real query has just gone through the index (its files
    verified against their checksums, the store, the vectors and the lexical index each read).
    Otherwise 503 with a short reason; the details are in the server log."""
    live: LiveAnswerer = request.app.state.live_answerer
    answerer = live.ready()
    _check_sessions(request.app.state.session_store)
    manifest = answerer.manifest
    return ReadyResponse(
        build_id=manifest.build_id, documents=len(manifest.documents), chunks=manifest.chunk_count
    )
