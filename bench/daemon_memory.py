"""The daemon's resident memory over many short check cycles.

    python3 bench/daemon_memory.py [--cycles 50] [--every 2s]

Starts the loopback regulator web (four sources), gives every source a short interval, runs
`policywatch run` on a fresh SQLite store and samples the daemon process's VmRSS (its own memory:
each crawl runs in a child process) after start-up and after every cycle, a cycle being one
finished check of every source. The web's noise rotates every cycle and an amendment is planted
half-way. Prints the samples and what `policywatch status` says at the end.
"""

from __future__ import annotations

import argparse
import os
import signal
import sqlite3
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.web.sites import regulator_web, write_declarations  # noqa: E402


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def finished_cycles(db_file: Path, sources: int) -> int:
    """Checks finished by the source with the fewest (a cycle is one check of every source)."""
    try:
        with sqlite3.connect(db_file, timeout=30) as connection:
            rows = connection.execute("select job_id, count(*) from job_runs where job_id like 'check:%' "
                                      "and outcome != 'running' group by job_id").fetchall()
    except sqlite3.OperationalError:
        return 0
    return min((n for _, n in rows), default=0) if len(rows) == sources else 0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--cycles", type=int, default=50)
    parser.add_argument("--every", default="2s")
    args = parser.parse_args()
    web = regulator_web().start()
    web.set(epoch=1, noise=1)
    with tempfile.TemporaryDirectory() as folder:
        tmp = Path(folder)
        sources = write_declarations(web, tmp / "sources")
        for declaration in sources.glob("*.yaml"):
            declaration.write_text(declaration.read_text() + f"every: {args.every}\n")
        count = len(list(sources.glob("*.yaml")))
        db_file = tmp / "store.sqlite"
        env = {**{k: v for k, v in os.environ.items() if not k.startswith("POLICYWATCH_")},
               "PYTHONPATH": str(ROOT), "XDG_DATA_HOME": str(tmp / "data")}
        base = [sys.executable, "-m", "policywatch", "--db", f"sqlite:///{db_file}"]
        daemon = subprocess.Popen([*base, "run", "--sources", str(sources), "--log-file", str(tmp / "log")],
                                  env=env, cwd=ROOT)
        started = time.monotonic()
        time.sleep(3)
        samples = [(0, rss_mb(daemon.pid))]
        print(f"daemon pid {daemon.pid}: {count} sources every {args.every}")
        print(f"after start-up: {samples[0][1]:.1f} MB")
        cycle = 0
        try:
            while cycle < args.cycles:
                time.sleep(0.5)
                done = finished_cycles(db_file, count)
                if done > cycle:
                    cycle = done
                    samples.append((cycle, rss_mb(daemon.pid)))
                    web.set(epoch=2 if cycle >= args.cycles // 2 else 1, noise=cycle + 1)
                    if cycle % 10 == 0:
                        print(f"after {cycle} cycles ({time.monotonic() - started:.0f} s): "
                              f"{samples[-1][1]:.1f} MB")
            status = subprocess.run([*base, "status"], env=env, cwd=ROOT, capture_output=True, text=True)
        finally:
            daemon.send_signal(signal.SIGTERM)
            daemon.wait(timeout=120)
            web.stop()
        peak = max(mb for _, mb in samples)
        print(f"\nstart-up {samples[0][1]:.1f} MB, after {cycle} cycles {samples[-1][1]:.1f} MB, "
              f"highest sample {peak:.1f} MB, {time.monotonic() - started:.0f} s in all\n")
        print("policywatch status at the end:\n")
        print(status.stdout)


if __name__ == "__main__":
    main()
