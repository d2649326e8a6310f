"""One daemon check's cost: a crawl child in a new interpreter against one forked from the fork
server.

    python3 bench/crawl_children.py [--checks 10] [--source eu-edpb]

Starts the loopback regulator web, migrates a SQLite store, and checks one of its sources
(`eu-edpb`, or `--source`) CHECKS times each way, alternating: `python -m
policywatch.crawl_child` as a new process (the daemon's way before), and
`policywatch.daemon.children.start_crawl_child` (the daemon's way now: a fork of the server that
imported the crawl once). Prints per check the median wall time and CPU (user + system of the
child, read from the reaping parent: this process for the new interpreter, the fork server for
the forks), and the fork server's own start-up CPU, paid once per daemon.
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.web.sites import regulator_web, write_declarations  # noqa: E402


def children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def process_cpu(pid: int, reaped: bool) -> float:
    """CPU seconds of a live process (`reaped`: of the children it has reaped) from /proc."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    first = 13 if reaped else 11  # cutime, cstime / utime, stime (fields 16-17 / 14-15)
    return (int(fields[first]) + int(fields[first + 1])) / os.sysconf("SC_CLK_TCK")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--checks", type=int, default=10)
    parser.add_argument("--source", default="eu-edpb", help="the regulator web's source to check")
    args = parser.parse_args()

    from multiprocessing import forkserver

    from crawlers.catalogue import load_catalogue
    from policywatch.config import CrawlSettings
    from policywatch.crawl_child import CHILD_MODULE, CrawlReport, CrawlRequest
    from policywatch.daemon.children import await_crawl_child, start_crawl_child
    from policywatch.forking import start_fork_server
    from storage.database import Store

    web = regulator_web().start()
    web.set(epoch=1, noise=1)
    with tempfile.TemporaryDirectory() as folder:
        tmp = Path(folder)
        catalogue = load_catalogue([write_declarations(web, tmp / "sources")])
        store_url = f"sqlite:///{tmp / 'store.sqlite'}"
        Store(store_url).close()
        request = CrawlRequest(store_url, CrawlSettings(), catalogue.by_id()[args.source],
                               catalogue.files[args.source])

        started = time.perf_counter()
        start_fork_server()
        server = forkserver._forkserver._forkserver_pid  # type: ignore[attr-defined]
        first = start_crawl_child(request)  # waits for the server's imports
        assert await_crawl_child(first, 300).report is not None
        server_start = process_cpu(server, reaped=False)
        print(f"fork server ready and first check done in {time.perf_counter() - started:.2f} s; "
              f"its imports: {server_start:.2f} s of CPU, once per daemon")

        timings: dict[str, list[tuple[float, float]]] = {"new interpreter": [], "fork": []}
        for _ in range(args.checks):
            wall, cpu = time.perf_counter(), children_cpu()
            done = subprocess.run([sys.executable, "-m", CHILD_MODULE], input=request.to_json(),
                                  capture_output=True, text=True, check=True)
            CrawlReport.from_json(done.stdout)
            timings["new interpreter"].append((time.perf_counter() - wall, children_cpu() - cpu))

            wall, cpu = time.perf_counter(), process_cpu(server, reaped=True)
            outcome = await_crawl_child(start_crawl_child(request), 300)
            assert outcome.report is not None, outcome.error  # reaped by the server by now
            timings["fork"].append((time.perf_counter() - wall,
                                    process_cpu(server, reaped=True) - cpu))
    web.stop()

    print(f"\n{args.checks} checks each way, alternating, median per check:\n")
    print("| crawl child | wall s | CPU s |")
    print("|---|---|---|")
    for way, pairs in timings.items():
        print(f"| {way} | {statistics.median(w for w, _ in pairs):.2f} | "
              f"{statistics.median(c for _, c in pairs):.2f} |")


if __name__ == "__main__":
    main()
