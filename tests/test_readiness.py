"""`/ready` with the session database down: 503 within seconds, and chats fail fast with a 503
rather than each waiting ten seconds for a 500 (finding 7). The outage is real: the service
reaches a throwaway PostgreSQL through a local TCP relay, which the test cuts and restores."""

from __future__ import annotations

import contextlib
import os
import socket
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from urllib.parse import urlsplit, urlunsplit

import pytest
from fastapi.testclient import TestClient

POSTGRES_URL = os.environ.get("QA_TEST_POSTGRES_URL", "")


class Relay:
    """Forwards 127.0.0.1:<port> to the database; ``cut`` drops every connection and refuses
    new ones, as a database host going away would; ``restore`` listens again on the same port."""

    def __init__(self, target: tuple[str, int]) -> None:
        self.target = target
        self.port = 0
        self._sockets: list[socket.socket] = []
        self._listener: socket.socket | None = None
        self.restore()

    def restore(self) -> None:
        listener = socket.create_server(("127.0.0.1", self.port))
        self.port = listener.getsockname()[1]
        self._listener = listener
        threading.Thread(target=self._accept, args=(listener,), daemon=True).start()

    def _accept(self, listener: socket.socket) -> None:
        while True:
            try:
                client, _ = listener.accept()
            except OSError:
                return
            server = socket.create_connection(self.target)
            self._sockets += [client, server]
            for source, sink in ((client, server), (server, client)):
                threading.Thread(target=self._pump, args=(source, sink), daemon=True).start()

    @staticmethod
    def _pump(source: socket.socket, sink: socket.socket) -> None:
        try:
            while data := source.recv(65536):
                sink.sendall(data)
        except OSError:
            pass  # the other end went away: close this one too
        finally:
            for end in (source, sink):
                with contextlib.suppress(OSError):
                    end.shutdown(socket.SHUT_RDWR)

    def cut(self) -> None:
        assert self._listener is not None
        # shutdown wakes the thread blocked in accept(); close alone would leave it listening.
        self._listener.shutdown(socket.SHUT_RDWR)
        self._listener.close()
        for each in self._sockets:
            with contextlib.suppress(OSError):
                each.shutdown(socket.SHUT_RDWR)
            each.close()
        self._sockets.clear()


@pytest.fixture()
def relayed_database() -> Iterator[tuple[str, Relay]]:
    if not POSTGRES_URL:
        pytest.skip('needs QA_TEST_POSTGRES_URL: eval "$(bash scripts/postgres-for-tests.sh)"')
    import psycopg

    parts = urlsplit(POSTGRES_URL)
    relay = Relay((parts.hostname or "127.0.0.1", parts.port or 5432))
    schema = f"test_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(POSTGRES_URL, autocommit=True) as db:
        db.execute(f"CREATE SCHEMA {schema}")
    netloc = f"{parts.username}:{parts.password}@127.0.0.1:{relay.port}"
    url = urlunsplit(parts._replace(netloc=netloc, query=f"options=-csearch_path%3D{schema}"))
    yield url, relay
    relay.cut()
    with psycopg.connect(POSTGRES_URL, autocommit=True) as db:
        db.execute(f"DROP SCHEMA {schema} CASCADE")


def timed(action: Callable[[], object]) -> tuple[object, float]:
    started = time.monotonic()
    result = action()
    return result, time.monotonic() - started


def test_postgres_down_makes_ready_503_quickly_and_chats_fail_fast(
    make_client: Callable[..., TestClient], relayed_database: tuple[str, Relay]
) -> None:
    url, relay = relayed_database
    client = make_client(database_url=url)
    assert client.get("/ready").status_code == 200
    session_id = client.post("/chat", json={"message": "Who built the bridge?"}).json()[
        "session_id"
    ]

    relay.cut()
    ready, seconds = timed(lambda: client.get("/ready"))
    assert ready.status_code == 503, ready.text  # type: ignore[attr-defined]
    assert ready.json()["error"]["message"] == "the session database cannot be reached"  # type: ignore[attr-defined]
    assert seconds < 4

    chat, seconds = timed(
        lambda: client.post("/chat", json={"message": "When?", "session_id": session_id})
    )
    assert chat.status_code == 503  # type: ignore[attr-defined]
    error = chat.json()["error"]  # type: ignore[attr-defined]
    assert error["code"] == "sessions_unavailable"
    assert chat.headers["retry-after"] == "5"  # type: ignore[attr-defined]
    assert seconds < 1
    assert client.post("/ask", json={"question": "Who built the bridge?"}).status_code == 200

    relay.restore()
    deadline = time.monotonic() + 20
    while client.get("/ready").status_code != 200:
        assert time.monotonic() < deadline, "the service did not come back with its database"
        time.sleep(0.5)
    body = {"message": "When was it built?", "session_id": session_id}
    assert client.post("/chat", json=body).status_code == 200
