"""Latency of `policywatch serve` on a large store: the changes page, its feed and its API.

    python3 bench/serve_latency.py [--instruments 100000] [--events 1000000] [--runs 40]
                                   [--db sqlite:////path/store.sqlite]

Builds the store of bench/store_scale.py (the real schema and search index; SQLite in a
temporary file) unless --db names one already built, starts `policywatch serve` as its own
process on a loopback port, and times whole HTTP requests from a client on this machine
(connection, query, rendering, transfer): RUNS requests per page, different arguments each run,
after one warm-up. Prints p50 and p95 in milliseconds, and the size of the last answer.
"""

from __future__ import annotations

import argparse
import os
import platform
import random
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.parse
import urllib.request
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from store_scale import JURISDICTIONS, generate  # noqa: E402

from storage.database import Store  # noqa: E402

STARTUP_SECONDS = 120
PHRASES = ("security assessment", "standard contractual clauses", "binding corporate")


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def start_server(db: str) -> tuple[subprocess.Popen, str]:
    """`policywatch --db DB serve` in its own process, returned once it accepts connections."""
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("POLICYWATCH_")}
    env["PYTHONPATH"] = str(ROOT)
    process = subprocess.Popen([sys.executable, "-m", "policywatch", "--db", db, "serve", "--port",
                                str(port)], cwd=ROOT, env=env, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + STARTUP_SECONDS
    while True:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return process, f"http://127.0.0.1:{port}"
        except OSError:
            if process.poll() is not None or time.monotonic() > deadline:
                process.kill()
                raise SystemExit(f"serve did not start on port {port}") from None
            time.sleep(0.1)


def fetch(url: str) -> bytes:
    with urllib.request.urlopen(url, timeout=120) as answer:
        if answer.status != 200:
            raise SystemExit(f"{url}: HTTP {answer.status}")
        return answer.read()


def timed(urls: list[str]) -> tuple[float, float, int]:
    """p50 and p95 in ms over the requests (after one warm-up), and the last answer's size."""
    fetch(urls[0])
    times, size = [], 0
    for url in urls:
        started = time.perf_counter()
        size = len(fetch(url))
        times.append((time.perf_counter() - started) * 1000)
    times.sort()
    return statistics.median(times), times[min(len(times) - 1, int(len(times) * 0.95))], size


def second_page(base: str, query: str) -> str:
    """The URL of the page after the first one of `query` (the cursor the first page gives)."""
    import json

    first = json.loads(fetch(f"{base}/api/history?{query}"))
    return f"{base}/?{query}&cursor={urllib.parse.quote(first['next_cursor'])}"


def cases(base: str, runs: int) -> list[tuple[str, Callable[[], list[str]]]]:
    rng = random.Random(5)

    def months() -> str:
        year, month = rng.randint(2023, 2026), rng.randint(1, 10)
        return f"since={year}-{month:02d}-01&until={year}-{month + 2:02d}-28"

    def each(make: Callable[[], str]) -> Callable[[], list[str]]:
        return lambda: [make() for _ in range(runs)]

    return [
        ("changes page, no filter", each(lambda: f"{base}/")),
        ("changes page, one jurisdiction", each(lambda: f"{base}/?jurisdiction={rng.choice(JURISDICTIONS)}")),
        ("changes page, jurisdiction + three months",
         each(lambda: f"{base}/?jurisdiction={rng.choice(JURISDICTIONS)}&{months()}")),
        ("changes page, change=withdrawn", each(lambda: f"{base}/?change=withdrawn")),
        ("changes page, paradigm=restrictive", each(lambda: f"{base}/?paradigm=restrictive")),
        ("changes page, search a phrase",
         each(lambda: f"{base}/?search={urllib.parse.quote(rng.choice(PHRASES))}")),
        ("changes page, search Chinese", each(lambda: f"{base}/?search={urllib.parse.quote('安全评估')}")),
        ("changes page, second page (cursor)",
         each(lambda: second_page(base, f"jurisdiction={rng.choice(JURISDICTIONS)}"))),
        ("feed.atom, one jurisdiction",
         each(lambda: f"{base}/feed.atom?jurisdiction={rng.choice(JURISDICTIONS)}")),
        ("api/history, one jurisdiction, limit=100",
         each(lambda: f"{base}/api/history?jurisdiction={rng.choice(JURISDICTIONS)}&limit=100")),
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--instruments", type=int, default=100_000)
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--runs", type=int, default=40)
    parser.add_argument("--db", help="a store already built by this script or bench/store_scale.py")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="serve-latency-") as folder:
        db = args.db
        if db is None:
            db = f"sqlite:///{Path(folder) / 'store.sqlite'}"
            print(f"building {args.events:,} events over {args.instruments:,} instruments …")
            store = Store(db)
            generate(store, args.instruments, args.events)
            store.close()
        process, base = start_server(db)
        try:
            print(f"\n{platform.processor() or platform.machine()}, {os.cpu_count()} cores, "
                  f"Python {platform.python_version()}, {db.split(':', 1)[0]}; {args.runs} requests each")
            print(f"{'request':<44} {'p50 ms':>8} {'p95 ms':>8} {'bytes':>8}")
            for name, make_urls in cases(base, args.runs):
                p50, p95, size = timed(make_urls())
                print(f"{name:<44} {p50:>8.1f} {p95:>8.1f} {size:>8,}", flush=True)
        finally:
            process.terminate()
            process.wait(timeout=30)


if __name__ == "__main__":
    main()
