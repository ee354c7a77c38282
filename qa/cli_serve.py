"""`qa serve`: check what the server needs, bring the index up to date without holding the
server back, and run uvicorn on the app."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable

from qa.settings import Settings

# How `qa serve` runs uvicorn. Its own X-Forwarded-For handling is off: it trusts 127.0.0.1 by
# default, which let any local client pick its rate-limit bucket; QA_TRUSTED_PROXIES says whom
# to believe instead (api/proxies.py).
SERVER_OPTIONS: dict[str, object] = {"factory": True, "log_level": "info", "proxy_headers": False}


def serve(
    settings: Settings,
    host: str | None,
    port: int | None,
    workers: int,
    ensure_index: Callable[[Settings], None],
) -> None:
    import uvicorn

    _check_session_store(settings)
    _check_workers(settings, workers)
    rebuild = rebuild_beside_serving(settings, ensure_index)
    # Worker processes read their settings from the environment, so hand the paths on.
    os.environ["QA_CORPUS_DIR"] = str(settings.corpus_dir)
    os.environ["QA_INDEX_DIR"] = str(settings.index_dir)
    host = host or settings.host
    port = port or settings.port
    print(f"serving on http://{host}:{port}  (chat page at /, API docs at /docs)", file=sys.stderr)
    try:
        uvicorn.run("api.main:create_app", host=host, port=port, workers=workers, **SERVER_OPTIONS)
    finally:
        if rebuild is not None and rebuild.poll() is None:
            rebuild.terminate()  # a build cut short leaves only a staging folder, cleared later


def rebuild_beside_serving(
    settings: Settings, ensure_index: Callable[[Settings], None]
) -> subprocess.Popen[bytes] | None:
    """With no index yet, build it now; with a stale one, serve it while `qa index` runs in a
    child process (its progress goes to this terminal; the server switches to the new build
    when it is published). The child, or None when nothing is being built."""
    from qa.index_manifest import model_name_of, staleness

    if not _servable_build(settings):  # nothing to serve meanwhile: build (or fail) now
        ensure_index(settings)
        return None
    reason = staleness(settings, model_name_of(settings))
    if not reason:
        ensure_index(settings)  # says it is up to date
        return None
    print(
        f"serving the existing index while it is rebuilt in the background [{reason}]",
        file=sys.stderr,
    )
    command = [sys.executable, "-m", "qa", "index"]
    command += ["--corpus", str(settings.corpus_dir), "--index", str(settings.index_dir)]
    return subprocess.Popen(command)


def _servable_build(settings: Settings) -> bool:
    """Whether there is a live build that loads (and a corpus to rebuild it from)."""
    from qa.index_manifest import current_build_dir, verified_manifest

    folder = current_build_dir(settings.index_dir)
    if folder is None or not settings.corpus_dir.is_dir():
        return False
    try:
        verified_manifest(folder)
    except Exception:  # damaged, or made by another version: rebuilt before serving
        return False
    return True


def _check_session_store(settings: Settings) -> None:
    """Open the session database once, so a wrong URL or a server that is down is one line
    now rather than a traceback from the server's startup."""
    from qa.sessions import SessionPolicy, open_session_store

    store = open_session_store(settings.sessions_url(), SessionPolicy.of(settings))
    close = getattr(store, "close", None)
    if close is not None:
        close()


def _check_workers(settings: Settings, workers: int) -> None:
    from qa.milvus_index import MilvusUnavailableError, is_lite

    if workers > 1 and settings.index_backend == "milvus" and is_lite(settings.milvus_uri):
        raise MilvusUnavailableError(
            "Milvus Lite lets one process at a time open an index: serve it with --workers 1, "
            "or set QA_MILVUS_URI to a Milvus server"
        )
