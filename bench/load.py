"""Load test for a running `qa serve`: N concurrent clients asking questions for T seconds.

    .venv/bin/python -m bench.load --url http://127.0.0.1:8000 --clients 50 --seconds 20

Each client is a thread with its own connection, asking the gold questions in turn, one at a
time. Prints requests/s, failures (any non-200 or transport error) and latency percentiles.
Loopback only: this is a bench for the machine it runs on, not a tool to point at others.
"""

from __future__ import annotations

import argparse
import ipaddress
import json
import sys
import threading
import time
from collections import Counter
from dataclasses import asdict, dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

import httpx

from bench.measures import Latency

DEFAULT_CLIENTS = 50  # issue 4: 50 concurrent clients for 20 s with no failed request
DEFAULT_SECONDS = 20.0
MAX_REQUESTS_PER_CLIENT = 10_000
REQUEST_TIMEOUT = 60.0


@dataclass
class LoadResult:
    clients: int
    seconds: float
    requests: int
    failures: int
    requests_per_second: float
    latency: Latency
    failure_kinds: dict[str, int] = field(default_factory=dict)


def require_loopback(url: str) -> None:
    host = urlsplit(url).hostname or ""
    try:
        loopback = host == "localhost" or ipaddress.ip_address(host).is_loopback
    except ValueError:
        loopback = False
    if not loopback:
        raise ValueError(f"{url} is not a loopback address: the load test only runs locally")


def run_load(
    url: str,
    questions: list[str],
    clients: int = DEFAULT_CLIENTS,
    seconds: float = DEFAULT_SECONDS,
    headers: dict[str, str] | None = None,
) -> LoadResult:
    """Hammer ``url``/ask from ``clients`` threads for ``seconds``; bounded in count and time."""
    require_loopback(url)
    if not questions:
        raise ValueError("no questions to ask")
    latencies: list[float] = []
    failures: Counter[str] = Counter()
    lock = threading.Lock()
    start_gate = threading.Barrier(clients + 1)
    deadline = [0.0]

    def client(number: int) -> None:
        mine: list[float] = []
        failed: Counter[str] = Counter()
        with httpx.Client(base_url=url, timeout=REQUEST_TIMEOUT, headers=headers) as http:
            start_gate.wait()
            for i in range(MAX_REQUESTS_PER_CLIENT):
                if time.perf_counter() >= deadline[0]:
                    break
                question = questions[(number * 7 + i) % len(questions)]
                started = time.perf_counter()
                try:
                    response = http.post("/ask", json={"question": question, "top_k": 5})
                    if response.status_code == 200:
                        mine.append(time.perf_counter() - started)
                    else:
                        failed[f"http {response.status_code}"] += 1
                except httpx.HTTPError as error:
                    failed[type(error).__name__] += 1
        with lock:
            latencies.extend(mine)
            failures.update(failed)

    threads = [threading.Thread(target=client, args=(n,), daemon=True) for n in range(clients)]
    for thread in threads:
        thread.start()
    began = time.perf_counter()
    deadline[0] = began + seconds
    start_gate.wait()
    for thread in threads:
        thread.join(timeout=seconds + REQUEST_TIMEOUT + 5)
    elapsed = time.perf_counter() - began
    done = len(latencies) + sum(failures.values())
    return LoadResult(
        clients=clients,
        seconds=round(elapsed, 2),
        requests=done,
        failures=sum(failures.values()),
        requests_per_second=round(len(latencies) / elapsed, 2),
        latency=Latency.of(latencies),
        failure_kinds=dict(failures),
    )


def main(argv: list[str] | None = None) -> int:
    from bench.latency import gold_questions

    parser = argparse.ArgumentParser(
        prog="python -m bench.load", description=__doc__.split("\n")[0]
    )
    parser.add_argument("--url", default="http://127.0.0.1:8000", help="a loopback qa serve")
    parser.add_argument("--clients", type=int, default=DEFAULT_CLIENTS)
    parser.add_argument("--seconds", type=float, default=DEFAULT_SECONDS)
    parser.add_argument("--gold", default="eval/gold.jsonl", help="where the questions come from")
    parser.add_argument("--api-key", default=None, help="sent as X-API-Key if the server wants one")
    parser.add_argument("--json", action="store_true", help="print the result as JSON")
    args = parser.parse_args(argv)
    headers = {"X-API-Key": args.api_key} if args.api_key else None
    try:
        result = run_load(
            args.url, gold_questions(Path(args.gold)), args.clients, args.seconds, headers
        )
    except ValueError as error:
        print(f"bench.load: {error}", file=sys.stderr)
        return 2
    if args.json:
        print(json.dumps(asdict(result), indent=2))
    else:
        print(
            f"{result.clients} clients, {result.seconds:.1f}s: {result.requests} requests, "
            f"{result.requests_per_second:.1f} req/s, {result.failures} failed, "
            f"p50 {result.latency.p50_ms:.0f} ms, p95 {result.latency.p95_ms:.0f} ms"
            + (f"  failures: {result.failure_kinds}" if result.failures else "")
        )
    return 1 if result.failures else 0


if __name__ == "__main__":
    raise SystemExit(main())
