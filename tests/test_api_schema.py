"""The OpenAPI schema says what the server does: schemathesis runs over the whole schema, every
check on (response-schema conformance and ignored_auth among them), against the app on a real
socket, and must find nothing. Both ways: a request the schema allows is answered, one it forbids
is refused; every status, header and body returned is the one documented.

Run it by hand on a running server the same way:
``schemathesis run http://HOST:PORT/openapi.json --checks all -H "Authorization: Bearer KEY"``.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient
from live_server import server_in_thread

from api.main import create_app
from qa.answering import Answerer
from qa.settings import Settings

SCHEMATHESIS = shutil.which("schemathesis", path=str(Path(sys.executable).parent))
KEY = "schema-test-key"
MakeClient = Callable[..., TestClient]


def schemathesis_run(url: str, tmp_path: Path, *options: str) -> subprocess.CompletedProcess[str]:
    assert SCHEMATHESIS, "schemathesis is a dev dependency: pip install -e '.[dev]'"
    return subprocess.run(
        [
            SCHEMATHESIS,
            "run",
            f"{url}/openapi.json",
            "--checks",
            "all",
            "--max-examples",
            "60",
            "--seed",
            "20261201",  # reproducible in CI; change it locally to explore further
            "--no-color",
            *options,
        ],
        cwd=tmp_path,  # its report folder goes there
        capture_output=True,
        text=True,
        timeout=900,
    )


def settings_for(answerer: Answerer, tmp_path: Path, **overrides: object) -> Settings:
    return Settings(
        **{
            **answerer.settings.model_dump(),
            "database_url": f"sqlite:///{tmp_path / 'sessions.sqlite3'}",
            **overrides,
        }
    )


def test_schemathesis_finds_nothing_with_api_keys(answerer: Answerer, tmp_path: Path) -> None:
    app = create_app(settings_for(answerer, tmp_path, api_keys=[KEY, "another-key"]), answerer)
    with server_in_thread(app) as url:
        result = schemathesis_run(url, tmp_path, "--header", f"Authorization: Bearer {KEY}")
    assert result.returncode == 0, result.stdout[-6000:] + result.stderr[-2000:]
    assert "No issues found" in result.stdout


def test_schemathesis_finds_nothing_without_keys(answerer: Answerer, tmp_path: Path) -> None:
    app = create_app(settings_for(answerer, tmp_path), answerer)
    with server_in_thread(app) as url:
        result = schemathesis_run(url, tmp_path, "--max-examples", "25")
    assert result.returncode == 0, result.stdout[-6000:] + result.stderr[-2000:]


# --- what the schema says, in particular ------------------------------------------------------


@pytest.fixture()
def schema(make_client: MakeClient) -> dict[str, Any]:
    client = make_client(api_keys=[KEY], max_question_chars=300)
    response = client.get("/openapi.json", headers={"Authorization": f"Bearer {KEY}"})
    assert response.status_code == 200
    body: dict[str, Any] = response.json()
    return body


def test_a_question_is_described_as_the_server_checks_it(schema: dict[str, Any]) -> None:
    for model, field in (("AskRequest", "question"), ("ChatRequest", "message")):
        described = schema["components"]["schemas"][model]["properties"][field]
        assert described["minLength"] == 1
        assert described["maxLength"] == 300  # the server's setting
        assert described["pattern"] == r"[\p{L}\p{N}]"  # a letter or digit somewhere


def test_keys_are_declared_where_they_are_needed_and_not_on_the_probes(
    schema: dict[str, Any],
) -> None:
    assert set(schema["components"]["securitySchemes"]) == {"bearer", "apiKey"}
    paths = schema["paths"]
    assert paths["/ask"]["post"]["security"] == [{"bearer": []}, {"apiKey": []}]
    assert "security" not in paths["/health"]["get"] and "security" not in paths["/ready"]["get"]
    assert all("head" not in operations for operations in paths.values())  # implied by GET


def test_head_is_answered_where_get_is_and_405_lists_every_method(
    make_client: MakeClient,
) -> None:
    client = make_client()
    head = client.head("/health")
    assert head.status_code == 200 and head.content == b""
    assert head.headers["content-length"] == str(len(client.get("/health").content))
    assert client.head("/documents/tower").status_code == 200
    assert client.head("/documents/nope").status_code == 404
    wrong = client.put("/sessions/anything")
    assert wrong.status_code == 405
    assert wrong.headers["allow"] == "GET, HEAD, DELETE"
    assert client.head("/ask").headers["allow"] == "POST"
    assert client.head("/ask").status_code == 405


def test_head_on_a_real_socket_sends_no_body(answerer: Answerer, tmp_path: Path) -> None:
    app = create_app(settings_for(answerer, tmp_path), answerer)
    with server_in_thread(app) as url:
        response = httpx.head(f"{url}/ready")
        after = httpx.get(f"{url}/health")  # the connection was not left with a stray body
    assert response.status_code == 200 and response.content == b""
    assert after.json() == {"status": "ok"}
