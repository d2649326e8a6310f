"""Crawl cycles against the loopback regulator web: what a first crawl, an unchanged re-crawl,
a noise-only cycle and a cycle with real amendments cost.

    python3 bench/crawl_cycles.py [--bulk-delay 0.05]

Each cycle is one `policywatch crawl` process (as a user or the daemon runs it). Per cycle:
wall time, CPU seconds and peak RSS of the crawl process (wait4 rusage), requests served, 304s,
body bytes sent by the web, and change events recorded.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.web.sites import regulator_web, write_bulk_declaration, write_declarations  # noqa: E402


def crawl(db: str, sources: Path) -> tuple[float, float, float]:
    """Run one crawl; return wall seconds, CPU seconds and peak RSS in MB of that process."""
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    started = time.perf_counter()
    child = subprocess.Popen([sys.executable, "-m", "policywatch", "--db", db, "crawl", "--quiet",
                              "--sources", str(sources)], env=env, cwd=ROOT,
                             stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    _, status, usage = os.wait4(child.pid, 0)
    wall = time.perf_counter() - started
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit("crawl failed")
    return wall, usage.ru_utime + usage.ru_stime, usage.ru_maxrss / 1024


def events(db: str) -> int:
    done = subprocess.run([sys.executable, "-m", "policywatch", "--db", db, "history", "--format",
                           "json"], capture_output=True, text=True, cwd=ROOT,
                          env={**os.environ, "PYTHONPATH": str(ROOT)}, check=True)
    return len(json.loads(done.stdout))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.parse_args()
    web = regulator_web().start()
    with tempfile.TemporaryDirectory() as folder:
        sources = write_declarations(web, Path(folder) / "sources")
        write_bulk_declaration(web, sources)
        db = f"sqlite:///{folder}/bench.sqlite"
        cycles = [("first crawl", 1, 1), ("unchanged re-crawl", 1, 1), ("noise only", 1, 2),
                  ("amendments (epoch 2)", 2, 3)]
        seen = 0
        print("| cycle | wall s | CPU s | peak RSS MB | requests | 304s | body bytes | events |")
        print("|---|---|---|---|---|---|---|---|")
        for name, epoch, noise in cycles:
            web.set(epoch=epoch, noise=noise)
            wall, cpu, rss = crawl(db, sources)
            total = events(db)
            print(f"| {name} | {wall:.2f} | {cpu:.2f} | {rss:.0f} | {len(web.hits)} | "
                  f"{sum(1 for h in web.hits if h.status == 304)} | "
                  f"{sum(h.size for h in web.hits):,} | {total - seen} |")
            seen = total
    web.stop()


if __name__ == "__main__":
    main()
