"""The HTTP endpoints over a tiny real index: answers, citations, documents, health, readiness."""

from __future__ import annotations

import json
import shutil
import time
from pathlib import Path
from typing import Any

import pytest
from conftest import READER_GAP, TINY_CORPUS, hashing_embedder
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from api.errors import ApiError
from api.live_answerer import LiveAnswerer
from api.main import create_app
from qa.answering import Answerer
from qa.indexing import build_index
from qa.settings import Settings


def assert_citations_hold(client: TestClient, body: dict[str, Any]) -> None:
    """Every citation points at its answer's exact text, inside a verbatim quote around it."""
    texts: dict[str, str] = {}
    for answer in body["answers"]:
        assert answer["citations"], answer
        for citation in answer["citations"]:
            doc_id = citation["doc_id"]
            if doc_id not in texts:
                texts[doc_id] = client.get(f"/documents/{doc_id}").json()["text"]
            text = texts[doc_id]
            assert text[citation["start"] : citation["end"]] == answer["text"]
            assert text[citation["quote_start"] : citation["quote_end"]] == citation["quote"]
            assert citation["quote_start"] <= citation["start"] <= citation["end"]
            assert citation["end"] <= citation["quote_end"]


def assert_error_shape(response: Any, status: int, code: str | None = None) -> dict[str, str]:
    assert response.status_code == status, response.text
    error = response.json()["error"]
    assert set(error) == {"code", "message", "request_id"}
    assert error["message"]
    assert error["request_id"] == response.headers["x-request-id"]
    if code is not None:
        assert error["code"] == code
    return error


# --- /ask -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("question", "expected"),
    [
        ("Who designed the Harbour Tower?", "Maria Lopez"),
        ("Which newspaper reported the cost of the tower?", "Halifax Chronicle"),
        ("How many visitors came to the festival?", "12,000"),
    ],
)
def test_ask_returns_the_answer_with_citations(
    client: TestClient, question: str, expected: str
) -> None:
    response = client.post("/ask", json={"question": question})
    assert response.status_code == 200
    body = response.json()
    assert body["abstained"] is False
    assert body["question"] == question
    assert expected in body["answers"][0]["text"]
    assert 0.0 <= body["answers"][0]["score"] <= 1.0
    assert_citations_hold(client, body)


def test_ask_abstains_when_the_documents_do_not_say(client: TestClient) -> None:
    body = client.post("/ask", json={"question": "What is the capital of Peru?"}).json()
    assert body["abstained"] is True
    assert body["answers"] == []
    assert body["message"] == "I could not find that in the documents."


def test_invisible_characters_are_dropped_from_the_question(client: TestClient) -> None:
    body = client.post("/ask", json={"question": "What is\u0000 the capital\u200b of Peru?"})
    assert body.status_code == 200
    assert body.json()["question"] == "What is the capital of Peru?"
    only_invisible = client.post("/ask", json={"question": "\u200b\u0000\ufeff"})
    assert only_invisible.status_code == 422


def test_top_k_sets_the_number_of_passages(client: TestClient) -> None:
    one = client.post("/ask", json={"question": "Who built the bridge?", "top_k": 1}).json()
    assert len(one["passages"]) == 1
    assert one["passages"][0]["doc_id"] == "bridge"


def test_top_k_above_the_limit_is_lowered_not_refused(make_client: Any) -> None:
    client = make_client(max_top_k=2)
    response = client.post("/ask", json={"question": "tower", "top_k": 10**9})
    assert response.status_code == 200
    # The answerer's own limit (50) applies to the passages; the tiny index has 3 chunks.
    assert 1 <= len(response.json()["passages"]) <= 3


# --- /documents -------------------------------------------------------------------------------


def test_documents_lists_ids_and_titles(client: TestClient) -> None:
    body = client.get("/documents").json()
    assert body == {
        "documents": [
            {"doc_id": "bridge", "title": "The Old Stone Bridge"},
            {"doc_id": "festival", "title": "The Lantern Festival"},
            {"doc_id": "tower", "title": "The Harbour Tower"},
        ]
    }


def test_document_shows_metadata_and_cleaned_text(client: TestClient) -> None:
    body = client.get("/documents/tower").json()
    assert set(body) == {
        "doc_id",
        "title",
        "source",
        "published",
        "publisher",
        "text",
        "pages",
        "headings",
    }
    assert body["pages"] == []  # a text file has no pages
    assert body["publisher"] == "City Desk"
    assert body["published"] == "2020-01-02"
    assert "designed by the architect Maria Lopez" in body["text"]


def test_unknown_document_is_404_in_the_error_shape(client: TestClient) -> None:
    error = assert_error_shape(client.get("/documents/nope"), 404, "document_not_found")
    assert "nope" in error["message"]


# --- /health and /ready -----------------------------------------------------------------------


def test_health_and_ready(client: TestClient, answerer: Answerer) -> None:
    assert client.get("/health").json() == {"status": "ok"}
    assert client.get("/ready").json() == {
        "status": "ready",
        "build_id": answerer.manifest.build_id,
        "documents": 3,
        "chunks": answerer.manifest.chunk_count,
    }


def test_without_an_index_the_app_starts_but_is_not_ready(tmp_path: Path) -> None:
    settings = Settings(corpus_dir=tmp_path / "corpus", index_dir=tmp_path / "index")
    with TestClient(create_app(settings)) as client:
        assert client.get("/health").status_code == 200
        error = assert_error_shape(client.get("/ready"), 503, "not_ready")
        assert "qa index" in error["message"]
        assert_error_shape(client.post("/ask", json={"question": "Who?"}), 503, "not_ready")
        assert_error_shape(client.get("/documents"), 503, "not_ready")


class _Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def test_an_index_published_after_start_is_loaded_within_a_second(
    index_copy: Settings, answerer: Answerer, tmp_path: Path
) -> None:
    published = index_copy.index_dir
    settings = Settings(corpus_dir=index_copy.corpus_dir, index_dir=tmp_path / "later")
    clock = _Clock()
    live = LiveAnswerer(
        lambda: Answerer(settings, embedder=hashing_embedder()), settings.index_dir, clock=clock
    )
    live.start()
    with pytest.raises(ApiError) as missing:
        live.require()
    assert missing.value.status == 503

    shutil.copytree(published, settings.index_dir)
    clock.now = 0.5
    live.refresh()  # checked less than a second ago: not yet
    with pytest.raises(ApiError):
        live.require()
    clock.now = 1.0
    live.refresh()
    assert live.require().manifest.build_id == answerer.manifest.build_id


def test_a_new_build_is_served_without_restart(index_copy: Settings) -> None:
    answerer = Answerer(index_copy, embedder=hashing_embedder())
    with TestClient(create_app(index_copy, answerer)) as client:
        before = client.get("/ready").json()
        (index_copy.corpus_dir / "mill.txt").write_text(
            "The Water Mill\n\nThe water mill at Grand Pre was restored in 1990.\n"
        )
        build_index(index_copy, hashing_embedder, progress=False)
        time.sleep(1.05)  # the app looks for a new build at most once a second
        after = client.get("/ready").json()
        assert after["build_id"] != before["build_id"]
        assert after["documents"] == before["documents"] + 1
        assert client.get("/documents/mill").status_code == 200


# --- property: random bodies never break the service ------------------------------------------

_WORDS = sorted({w.strip(".,?") for text in TINY_CORPUS.values() for w in text.split()})
_questions = st.one_of(
    st.lists(st.sampled_from(_WORDS), min_size=1, max_size=12).map(
        lambda words: " ".join(words) + "?"
    ),
    # A lone surrogate: JSON can carry one as a "\\ud800" escape, but it is not text.
    st.tuples(st.text(max_size=20), st.characters(categories=["Cs"]), st.text(max_size=20)).map(
        "".join
    ),
    st.text(max_size=1200),
)
_json = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner),
    max_leaves=8,
)
_bodies = st.one_of(
    st.fixed_dictionaries(
        {"question": _questions},
        optional={"top_k": st.one_of(st.integers(-3, 80), _json), "extra": _json},
    ),
    _json,
)


@pytest.fixture(scope="module")
def module_client(tiny_settings: Settings) -> Any:
    answerer = Answerer(tiny_settings, embedder=hashing_embedder())
    with TestClient(create_app(tiny_settings, answerer)) as client:
        yield client


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(body=_bodies)
def test_random_bodies_never_get_a_server_error(module_client: TestClient, body: Any) -> None:
    # ``json.dumps`` escapes lone surrogates, which httpx's own encoder would refuse to send.
    response = module_client.post(
        "/ask", content=json.dumps(body), headers={"Content-Type": "application/json"}
    )
    assert response.status_code < 500, response.text
    if response.status_code == 200:
        assert_citations_hold(module_client, response.json())
    else:
        assert_error_shape(response, 422)


@settings(max_examples=50, deadline=None)
@given(raw=st.binary(max_size=200))
def test_random_bytes_never_get_a_server_error(module_client: TestClient, raw: bytes) -> None:
    response = module_client.post("/ask", content=raw, headers={"Content-Type": "application/json"})
    assert response.status_code < 500, response.text
    if response.status_code != 200:
        assert_error_shape(response, response.status_code)


# --- the real model -----------------------------------------------------------------------------


@pytest.mark.model
@READER_GAP
def test_real_model_names_the_newspaper(real_answerer: Answerer) -> None:
    with TestClient(create_app(answerer=real_answerer)) as client:
        response = client.post(
            "/ask", json={"question": "Which newspaper reported the RCMP investigation?"}
        )
        assert response.status_code == 200
        body = response.json()
        first = body["answers"][0]
        assert "Le Journal de Montreal" in first["text"]
        assert "Le Journal de Montreal" in first["citations"][0]["quote"]
        assert_citations_hold(client, body)
