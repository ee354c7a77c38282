"""Retrieval: dense (FAISS) and lexical (BM25) rankings of chunks, fused by reciprocal rank."""

from __future__ import annotations

from pydantic import BaseModel


class Passage(BaseModel):
    """A retrieved chunk: where it sits in its document and how well it ranked."""

    doc_id: str
    title: str
    chunk_id: int
    start: int
    end: int
    text: str
    score: float
