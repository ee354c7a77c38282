"""Schema-driven fuzzing of /ask and /chat (schemathesis over the app's own OpenAPI schema): no
input makes a 5xx, and every answer returned keeps the offsets invariant."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from api.main import create_app
from qa.answering import Answerer
from qa.settings import Settings


@pytest.fixture(scope="module")
def fuzzed_app(answerer: Answerer, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    sessions = tmp_path_factory.mktemp("fuzz") / "sessions.sqlite3"
    app_settings = Settings(
        **{**answerer.settings.model_dump(), "database_url": f"sqlite:///{sessions}"}
    )
    app = create_app(app_settings, answerer)
    with TestClient(app):  # runs the lifespan, which opens the session store
        yield app


@pytest.fixture(scope="module")
def api_schema(fuzzed_app: Any) -> Any:
    return schemathesis.openapi.from_asgi("/openapi.json", fuzzed_app).include(
        path_regex=r"^/(ask|chat)$"
    )


def offsets_hold(body: dict[str, Any], document_text: Callable[[str], str]) -> None:
    for answer in body.get("answers", []):
        assert answer["citations"], answer
        for citation in answer["citations"]:
            text = document_text(citation["doc_id"])
            assert text[citation["start"] : citation["end"]] == answer["text"]
            assert text[citation["quote_start"] : citation["quote_end"]] == citation["quote"]
            assert citation["quote_start"] <= citation["start"] <= citation["end"]
            assert citation["end"] <= citation["quote_end"]


# schemathesis's pytest plugin (``from_fixture``) does not run under this pytest, so its
# strategies are drawn by plain hypothesis instead.
@pytest.mark.parametrize("path", ["/ask", "/chat"])
def test_no_server_errors_and_offsets_hold(api_schema: Any, answerer: Answerer, path: str) -> None:
    operation = api_schema[path]["POST"]

    def document_text(doc_id: str) -> str:
        document = answerer.document(doc_id)
        assert document is not None
        return document.text

    @settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
    @given(data=st.data())
    def check(data: st.DataObject) -> None:
        case = data.draw(operation.as_strategy())
        response = case.call()
        assert response.status_code < 500, response.text
        body = response.json()
        if response.status_code == 200:
            assert body["abstained"] == (not body["answers"])
            offsets_hold(body, document_text)
        else:
            assert set(body) == {"error"}, body

    check()


def test_fuzz_reaches_real_answers(fuzzed_app: Any, tmp_path: Path) -> None:
    """The invariant above is checked on real answers too, not only on random noise."""
    with TestClient(fuzzed_app) as client:
        body = client.post("/ask", json={"question": "How tall is the Harbour Tower?"}).json()
    assert body["answers"]
