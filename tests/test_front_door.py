"""The front door: one error shape, request limits, the API key, rate limiting, request ids, CORS."""

from __future__ import annotations

import logging
import socket
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from conftest import NetworkAccessError
from fastapi.testclient import TestClient

from api.limits import TokenBucketLimiter

MakeClient = Callable[..., TestClient]


def assert_error_shape(response: Any, status: int, code: str) -> dict[str, str]:
    assert response.status_code == status, response.text
    body = response.json()
    assert set(body) == {"error"}
    assert set(body["error"]) == {"code", "message", "request_id"}
    assert body["error"]["code"] == code
    assert body["error"]["message"]
    assert body["error"]["request_id"] == response.headers["x-request-id"]
    return body["error"]


# --- one error shape --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("request_kwargs", "status", "code", "message_mentions"),
    [
        ({"json": {"question": ""}}, 422, "invalid_question", "empty"),
        ({"json": {"question": " \n\t "}}, 422, "invalid_question", "empty"),
        ({"json": {"question": "why " * 300}}, 422, "invalid_question", "limit is 1000"),
        ({"json": {}}, 422, "invalid_request", "question"),
        ({"json": {"question": 42}}, 422, "invalid_request", "question"),
        ({"json": {"question": "Who?", "top_k": "five"}}, 422, "invalid_request", "top_k"),
        ({"json": {"question": "Who?", "top_k": 0}}, 422, "invalid_request", "top_k"),
        ({"json": {"question": "Who?", "top_k": 2.5}}, 422, "invalid_request", "top_k"),
        ({"json": ["Who?"]}, 422, "invalid_request", "JSON object"),
        (
            {"content": b"{not json", "headers": {"Content-Type": "application/json"}},
            422,
            "invalid_request",
            "not valid JSON",
        ),
        ({"content": b"question=Who", "headers": {}}, 422, "invalid_request", "JSON object"),
    ],
)
def test_bad_ask_requests_are_422_naming_the_problem(
    client: TestClient,
    request_kwargs: dict[str, Any],
    status: int,
    code: str,
    message_mentions: str,
) -> None:
    error = assert_error_shape(client.post("/ask", **request_kwargs), status, code)
    assert message_mentions in error["message"]


def test_a_lone_surrogate_in_the_question_is_422_not_500(client: TestClient) -> None:
    response = client.post(
        "/ask",
        content=b'{"question": "Who built \\ud800 the bridge?"}',
        headers={"Content-Type": "application/json"},
    )
    assert_error_shape(response, 422, "invalid_question")


def test_unknown_route_is_404(client: TestClient) -> None:
    error = assert_error_shape(client.get("/no/such/thing"), 404, "not_found")
    assert "/no/such/thing" in error["message"]


def test_wrong_method_is_405_with_allow(client: TestClient) -> None:
    response = client.get("/ask")
    assert_error_shape(response, 405, "method_not_allowed")
    assert response.headers["allow"] == "POST"


def test_unexpected_failure_is_500_without_a_traceback_and_is_logged(
    client: TestClient, caplog: pytest.LogCaptureFixture
) -> None:
    def explode() -> None:
        raise RuntimeError("secret internals")

    client.app.add_api_route("/explode", explode)  # type: ignore[attr-defined]
    with caplog.at_level(logging.ERROR, logger="api"):
        response = client.get("/explode", headers={"X-Request-ID": "trace-me-42"})
    error = assert_error_shape(response, 500, "internal_error")
    assert "secret internals" not in response.text and "Traceback" not in response.text
    assert error["request_id"] == "trace-me-42"
    logged = [r for r in caplog.records if "trace-me-42" in r.getMessage()]
    assert logged and logged[0].exc_info is not None


# --- request size -----------------------------------------------------------------------------


def test_body_over_the_limit_is_413_from_content_length(make_client: MakeClient) -> None:
    client = make_client(max_body_bytes=200)
    response = client.post("/ask", json={"question": "Who? " * 100})
    error = assert_error_shape(response, 413, "payload_too_large")
    assert "200 bytes" in error["message"]


def test_body_over_the_limit_is_413_when_streamed_without_length(make_client: MakeClient) -> None:
    client = make_client(max_body_bytes=200)

    def chunks() -> Iterator[bytes]:
        yield b'{"question": "'
        for _ in range(10):
            yield b"Who built it? " * 5
        yield b'"}'

    response = client.post("/ask", content=chunks(), headers={"Content-Type": "application/json"})
    assert "content-length" not in response.request.headers
    assert_error_shape(response, 413, "payload_too_large")


def test_body_under_the_limit_is_answered(make_client: MakeClient) -> None:
    client = make_client(max_body_bytes=200)
    assert client.post("/ask", json={"question": "Who built the bridge?"}).status_code == 200


# --- API key ----------------------------------------------------------------------------------


def test_api_key_is_required_when_set(make_client: MakeClient) -> None:
    client = make_client(api_key="s3cret")
    for response in (
        client.post("/ask", json={"question": "Who built the bridge?"}),
        client.get("/documents"),
        client.get("/documents/tower"),
    ):
        assert_error_shape(response, 401, "unauthorized")
        assert response.headers["www-authenticate"] == "Bearer"


@pytest.mark.parametrize(
    "headers",
    [{"Authorization": "Bearer wrong"}, {"X-API-Key": "s3cre"}, {"Authorization": "s3cret"}],
)
def test_a_wrong_key_is_refused(make_client: MakeClient, headers: dict[str, str]) -> None:
    client = make_client(api_key="s3cret")
    assert_error_shape(client.get("/documents", headers=headers), 401, "unauthorized")


@pytest.mark.parametrize("headers", [{"Authorization": "Bearer s3cret"}, {"X-API-Key": "s3cret"}])
def test_the_key_is_accepted_in_either_header(
    make_client: MakeClient, headers: dict[str, str]
) -> None:
    client = make_client(api_key="s3cret")
    response = client.post("/ask", json={"question": "Who built the bridge?"}, headers=headers)
    assert response.status_code == 200


def test_probes_stay_open_and_unknown_routes_stay_closed(make_client: MakeClient) -> None:
    client = make_client(api_key="s3cret")
    assert client.get("/health").status_code == 200
    assert client.get("/ready").status_code == 200
    # Closed by default: a route nobody listed as public is not even revealed to exist.
    assert_error_shape(client.get("/no/such/thing"), 401, "unauthorized")


def test_no_key_is_needed_when_none_is_set(client: TestClient) -> None:
    assert client.get("/documents").status_code == 200


# --- rate limit -------------------------------------------------------------------------------


def test_rate_limit_answers_429_with_retry_after(make_client: MakeClient) -> None:
    client = make_client(rate_limit_per_minute=2)
    assert client.get("/documents").status_code == 200
    assert client.get("/documents/tower").status_code == 200
    response = client.get("/documents")
    assert_error_shape(response, 429, "rate_limited")
    assert 1 <= int(response.headers["retry-after"]) <= 30
    assert client.get("/health").status_code == 200  # probes are not counted


def test_rate_limit_counts_key_holders_apart_from_anonymous_callers(
    make_client: MakeClient,
) -> None:
    client = make_client(api_key="s3cret", rate_limit_per_minute=1)
    assert client.get("/documents", headers={"X-API-Key": "s3cret"}).status_code == 200
    assert client.get("/documents", headers={"X-API-Key": "s3cret"}).status_code == 429
    # Same address, no key: its own bucket (and then the key check refuses it).
    assert client.get("/documents").status_code == 401
    assert client.get("/documents").status_code == 429


def test_rate_limit_off_by_default(client: TestClient) -> None:
    assert all(client.get("/documents").status_code == 200 for _ in range(30))


class _Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_token_bucket_refills_at_the_configured_rate() -> None:
    clock = _Clock()
    limiter = TokenBucketLimiter(per_minute=6, clock=clock)  # one token every 10 s
    assert [limiter.take("a") for _ in range(6)] == [0.0] * 6
    assert limiter.take("a") == pytest.approx(10.0)
    assert limiter.take("b") == 0.0  # clients have their own buckets
    clock.now += 5
    assert limiter.take("a") == pytest.approx(5.0)
    clock.now += 5
    assert limiter.take("a") == 0.0
    clock.now += 3600  # a long pause refills to the burst size, never beyond
    assert [limiter.take("a") for _ in range(7)][-2:] == [0.0, pytest.approx(10.0)]


# --- request ids ------------------------------------------------------------------------------


def test_request_id_is_made_up_when_absent(client: TestClient) -> None:
    first = client.get("/health").headers["x-request-id"]
    second = client.get("/health").headers["x-request-id"]
    assert first and second and first != second


def test_a_sane_incoming_request_id_is_echoed(client: TestClient) -> None:
    response = client.get("/health", headers={"X-Request-ID": "lb-7f3a.2"})
    assert response.headers["x-request-id"] == "lb-7f3a.2"


@pytest.mark.parametrize(
    "incoming", [b"has space", b"x" * 200, b"caf\xe9", b"-dash-first", b"a\x1b[31m"]
)
def test_an_odd_incoming_request_id_is_replaced(client: TestClient, incoming: bytes) -> None:
    response = client.get("/health", headers={"X-Request-ID": incoming})
    assert response.headers["x-request-id"].encode() != incoming
    assert len(response.headers["x-request-id"]) == 32


def test_every_error_carries_the_request_id(make_client: MakeClient) -> None:
    client = make_client(api_key="k", rate_limit_per_minute=1, max_body_bytes=100)
    headers = {"X-API-Key": "k", "X-Request-ID": "req-1"}
    too_large = client.post("/ask", content=b"x" * 500, headers=headers)
    assert_error_shape(too_large, 413, "payload_too_large")
    limited = client.get("/documents", headers=headers)
    assert_error_shape(limited, 429, "rate_limited")
    unauthorized = client.get("/documents", headers={"X-Request-ID": "req-2"})
    assert_error_shape(unauthorized, 401, "unauthorized")
    assert too_large.json()["error"]["request_id"] == "req-1"
    assert unauthorized.json()["error"]["request_id"] == "req-2"


def test_access_log_lines_carry_the_request_id(
    client: TestClient, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.INFO, logger="api.access"):
        client.get("/documents/nope", headers={"X-Request-ID": "abc-123"})
    lines = [r.getMessage() for r in caplog.records if r.name == "api.access"]
    assert lines == [lines[0]] and '"GET /documents/nope" 404' in lines[0]
    assert "request_id=abc-123" in lines[0]


# --- CORS and docs ----------------------------------------------------------------------------


def test_cors_allows_only_the_configured_origins(make_client: MakeClient) -> None:
    client = make_client(cors_origins=["https://app.example"], api_key="k")
    preflight = {"Access-Control-Request-Method": "POST"}
    allowed = client.options("/ask", headers={"Origin": "https://app.example", **preflight})
    assert allowed.status_code == 200  # a preflight needs no key: browsers send none
    assert allowed.headers["access-control-allow-origin"] == "https://app.example"
    refused = client.options("/ask", headers={"Origin": "https://evil.example", **preflight})
    assert "access-control-allow-origin" not in refused.headers
    answered = client.get("/health", headers={"Origin": "https://app.example"})
    assert answered.headers["access-control-allow-origin"] == "https://app.example"
    assert "x-request-id" in answered.headers["access-control-expose-headers"].lower()


def test_openapi_docs_describe_ask(client: TestClient) -> None:
    assert client.get("/docs").status_code == 200
    schema = client.get("/openapi.json").json()
    assert "AskRequest" in str(schema["paths"]["/ask"]["post"]["requestBody"])
    assert "ErrorResponse" in str(schema["paths"]["/ask"]["post"]["responses"]["422"])


# --- the test suite's own guard ---------------------------------------------------------------


def test_the_network_guard_refuses_outside_hosts(no_network: list[str]) -> None:
    with pytest.raises(NetworkAccessError):
        socket.create_connection(("192.0.2.1", 80), timeout=0.1)  # TEST-NET-1, never routed
    assert no_network[-1].startswith("('192.0.2.1', 80)")
    no_network.pop()  # expected here: do not fail this test for it
