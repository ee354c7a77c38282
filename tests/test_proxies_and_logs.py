"""Who the client is, and what the logs say about it (findings 4 and 5 of the fault-injection
run): `X-Forwarded-For` counts only from `QA_TRUSTED_PROXIES`, and a request path cannot write
forged lines or terminal escapes into the log."""

from __future__ import annotations

import logging
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

import httpx
import pytest
import uvicorn
from fastapi.testclient import TestClient

from api.main import create_app
from api.proxies import forwarded_client, parse_networks
from qa import cli_serve
from qa.answering import Answerer
from qa.settings import Settings


def app_client(answerer: Answerer, peer: str, **overrides: object) -> TestClient:
    settings = Settings(**{**answerer.settings.model_dump(), **overrides})
    return TestClient(create_app(settings, answerer), client=(peer, 40000))


def forwarded(address: str) -> dict[str, str]:
    return {"X-Forwarded-For": address}


# --- trusted proxies --------------------------------------------------------------------------


def test_a_local_client_cannot_pick_its_bucket_by_forwarding_for_itself(
    answerer: Answerer,
) -> None:
    with app_client(answerer, "127.0.0.1", rate_limit_per_minute=1) as client:
        assert client.get("/documents", headers=forwarded("198.51.100.1")).status_code == 200
        for spoofed in ("198.51.100.2", "198.51.100.3", "10.9.9.9"):
            assert client.get("/documents", headers=forwarded(spoofed)).status_code == 429


def test_behind_a_trusted_proxy_each_client_has_its_own_bucket(answerer: Answerer) -> None:
    settings = {"rate_limit_per_minute": 1, "trusted_proxies": ["10.0.0.0/8"]}
    with app_client(answerer, "10.1.2.3", **settings) as client:
        for address in ("198.51.100.1", "198.51.100.2", "2001:db8::7"):
            assert client.get("/documents", headers=forwarded(address)).status_code == 200
        assert client.get("/documents", headers=forwarded("198.51.100.1")).status_code == 429
        # A client's own claim at the left of the chain changes nothing: the proxy's entry rules.
        spoofed = forwarded("203.0.113.50, 198.51.100.2")
        assert client.get("/documents", headers=spoofed).status_code == 429


def test_a_peer_that_is_not_a_trusted_proxy_is_not_believed(answerer: Answerer) -> None:
    settings = {"rate_limit_per_minute": 1, "trusted_proxies": ["10.0.0.0/8"]}
    with app_client(answerer, "198.51.100.9", **settings) as client:
        assert client.get("/documents", headers=forwarded("10.0.0.1")).status_code == 200
        assert client.get("/documents", headers=forwarded("10.0.0.2")).status_code == 429


@pytest.mark.parametrize(
    ("peer", "chain", "client"),
    [
        ("10.0.0.1", ["198.51.100.1"], "198.51.100.1"),
        ("10.0.0.1", ["198.51.100.1, 10.0.0.2"], "198.51.100.1"),  # two proxies of ours
        ("10.0.0.1", ["198.51.100.1", "10.0.0.2"], "198.51.100.1"),  # or two headers
        ("10.0.0.1", ["not-an-address, 10.0.0.2"], "10.0.0.2"),  # unreadable: the chain ends
        ("10.0.0.1", ["198.51.100.1:5000"], "198.51.100.1"),
        ("10.0.0.1", ["[2001:db8::1]:443"], "2001:db8::1"),
        ("::ffff:10.0.0.1", ["198.51.100.1"], "198.51.100.1"),
        ("192.0.2.1", ["198.51.100.1"], "192.0.2.1"),
    ],
)
def test_the_chain_is_read_from_the_right(peer: str, chain: list[str], client: str) -> None:
    assert forwarded_client(peer, chain, parse_networks(["10.0.0.0/8"])) == client


def test_a_typo_in_the_setting_stops_the_server_with_its_name(answerer: Answerer) -> None:
    with pytest.raises(ValueError, match="QA_TRUSTED_PROXIES: '10.0.0.300'"):
        app_client(answerer, "127.0.0.1", trusted_proxies=["10.0.0.300"])


def test_the_setting_reads_a_comma_separated_list(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("QA_TRUSTED_PROXIES", "10.0.0.0/8, 192.0.2.7")
    assert Settings().trusted_proxies == ["10.0.0.0/8", "192.0.2.7"]


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@contextmanager
def served_like_qa_serve(answerer: Answerer, **overrides: object) -> Iterator[str]:
    """The app under uvicorn with the options `qa serve` gives it, on a real socket."""
    settings = Settings(**{**answerer.settings.model_dump(), **overrides})
    options = {
        k: v for k, v in cli_serve.SERVER_OPTIONS.items() if k not in {"factory", "log_level"}
    }
    config = uvicorn.Config(
        create_app(settings, answerer),
        host="127.0.0.1",
        port=_free_port(),
        log_level="warning",
        **options,  # type: ignore[arg-type]
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        assert thread.is_alive() and time.monotonic() < deadline, "the server did not start"
        time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{config.port}"
    finally:
        server.should_exit = True
        thread.join(timeout=30)


def test_qa_serve_does_not_let_uvicorn_trust_loopback_forwarding(answerer: Answerer) -> None:
    with served_like_qa_serve(answerer, rate_limit_per_minute=1) as url:
        first = httpx.get(f"{url}/documents", headers=forwarded("198.51.100.1"))
        second = httpx.get(f"{url}/documents", headers=forwarded("198.51.100.2"))
    assert (first.status_code, second.status_code) == (200, 429)


# --- what the log says ------------------------------------------------------------------------


def access_lines(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.name == "api.access"]


@pytest.mark.parametrize(
    "path",
    [
        "/nope%0AINFO:%20%20%20%20%20api.access%20127.0.0.1%20%22GET%20/admin%22%20200",
        "/nope%0D%0Aforged",
        "/nope%1B%5B31mred%1B%5B0m",
        "/nope%22%20200%200.1ms%20request_id=forged",
    ],
)
def test_a_request_path_cannot_forge_log_lines(
    client: TestClient, caplog: pytest.LogCaptureFixture, path: str
) -> None:
    with caplog.at_level(logging.INFO, logger="api.access"):
        assert client.get(path).status_code == 404
    (line,) = access_lines(caplog)
    assert "\n" not in line and "\r" not in line and "\x1b" not in line
    assert line.count('"') == 2  # the request line's own quotes, nothing else
    assert " 404 " in line


def test_the_logged_path_is_what_came_on_the_wire(
    client: TestClient, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.INFO, logger="api.access"):
        client.get("/documents/caf%C3%A9%0A")
    (line,) = access_lines(caplog)
    assert '"GET /documents/caf%C3%A9%0A" 404' in line


def test_behind_a_trusted_proxy_the_log_names_the_client(
    answerer: Answerer, caplog: pytest.LogCaptureFixture
) -> None:
    with (
        app_client(answerer, "10.0.0.1", trusted_proxies=["10.0.0.1"]) as client,
        caplog.at_level(logging.INFO, logger="api.access"),
    ):
        client.get("/health", headers=forwarded("198.51.100.1"))
        client.get("/health", headers=forwarded("\x1b[31m, 198.51.100.2"))
    lines = access_lines(caplog)
    assert lines[0].startswith('198.51.100.1 "GET /health" 200')
    assert lines[1].startswith('198.51.100.2 "GET /health" 200')


def test_an_unhandled_error_logs_the_path_escaped(
    client: TestClient, caplog: pytest.LogCaptureFixture
) -> None:
    def explode() -> None:
        raise RuntimeError("boom")

    client.app.add_api_route("/explode/{rest:path}", explode)  # type: ignore[attr-defined]
    with caplog.at_level(logging.ERROR, logger="api.errors"):
        assert client.get("/explode/x%1B%5B2Jcleared").status_code == 500
    (record,) = [r for r in caplog.records if r.name == "api.errors"]
    assert "/explode/x%1B%5B2Jcleared" in record.getMessage()
    assert "\x1b" not in record.getMessage()
