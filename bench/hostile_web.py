"""Time and peak memory of `policywatch crawl` against the hostile web's bomb and load cases.

    python3 bench/hostile_web.py [--bomb-mb 4096] [--sources 200] [--hosts 20]

bomb: one source whose document is a gzip bomb of BOMB_MB megabytes of zeros (served compressed,
about a thousandth of that on the wire); the crawl must refuse it at the download size cap.
load: SOURCES sources spread over HOSTS loopback addresses, each answer held 50 ms so that requests
to one host overlap; the servers count the requests each host serves at once.

Each crawl runs in its own process on a fresh SQLite store; its wall time and peak resident set
(the process's own, from wait4) are printed, with what the user saw and the peak per host.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.web.hostile import Answer, Host, declaration, gzip_bomb, law_page, start, stop  # noqa: E402

CONFIG = '[crawl]\ntimeout = 30\ncontact = "bench@example.org"\n'


def crawl(sources: Path, folder: Path) -> tuple[float, float, int, str]:
    """`policywatch crawl` in a process of its own: (seconds, peak RSS in MB, exit status, the
    last line it printed on stderr)."""
    config = folder / "policywatch.toml"
    config.write_text(CONFIG)
    env = {k: v for k, v in os.environ.items() if not k.startswith("POLICYWATCH_")}
    env["PYTHONPATH"] = str(ROOT)
    command = [sys.executable, "-m", "policywatch", "--db", f"sqlite:///{folder / 'store.sqlite'}",
               "--config", str(config), "crawl", "--quiet", "--sources", str(sources)]
    started = time.monotonic()
    with open(folder / "stderr.txt", "w") as stderr:
        child = subprocess.Popen(command, cwd=ROOT, env=env, stdout=subprocess.DEVNULL,
                                 stderr=stderr)
        _, status, usage = os.wait4(child.pid, 0)
    seconds = time.monotonic() - started
    child.returncode = os.waitstatus_to_exitcode(status)
    lines = (folder / "stderr.txt").read_text().strip().splitlines()
    return seconds, usage.ru_maxrss / 1024, child.returncode, lines[-1] if lines else ""


def problems(folder: Path) -> list[str]:
    import sqlite3

    with sqlite3.connect(folder / "store.sqlite") as connection:
        return [row[0] for row in connection.execute("select message from problems")]


def bomb(megabytes: int) -> None:
    (host,) = start("127.0.0.60")
    try:
        print(f"compressing a gzip bomb of {megabytes} MB …", flush=True)
        answer = gzip_bomb(megabytes)
        host.reset({"/bomb": answer})
        with tempfile.TemporaryDirectory() as name:
            folder = Path(name)
            sources = folder / "sources"
            sources.mkdir()
            (sources / "bomb.yaml").write_text(declaration("bomb", host.url("/bomb")))
            seconds, peak, code, _ = crawl(sources, folder)
            print(f"bomb: {megabytes} MB of zeros in {len(answer.body) / 2**20:.1f} MB gzip: "
                  f"exit {code}, {seconds:.1f} s, peak RSS {peak:.0f} MB; problem: "
                  f"{'; '.join(problems(folder))}")
    finally:
        stop([host])


def load(count: int, addresses: int) -> None:
    hosts: list[Host] = start(*(f"127.0.0.{70 + n}" for n in range(addresses)))
    try:
        with tempfile.TemporaryDirectory() as name:
            folder = Path(name)
            sources = folder / "sources"
            sources.mkdir()
            routes: list[dict[str, Answer]] = [{} for _ in hosts]
            for number in range(count):
                host = number % len(hosts)
                path = f"/doc/{number}"
                routes[host][path] = Answer(200, law_page(f"Notice {number}"), hold=0.05)
                (sources / f"load-{number}.yaml").write_text(
                    declaration(f"load-{number}", hosts[host].url(path)))
            for host, answers in zip(hosts, routes, strict=True):
                host.reset(answers)
            seconds, peak, code, _ = crawl(sources, folder)
            peaks = [host.gauge.peak for host in hosts]
            print(f"load: {count} sources on {addresses} hosts: exit {code}, {seconds:.1f} s, "
                  f"peak RSS {peak:.0f} MB; most requests at once on one host: {max(peaks)} "
                  f"(limit 4); problems: {len(problems(folder))}")
    finally:
        stop(hosts)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--bomb-mb", type=int, default=4096)
    parser.add_argument("--sources", type=int, default=200)
    parser.add_argument("--hosts", type=int, default=20)
    args = parser.parse_args()
    bomb(args.bomb_mb)
    load(args.sources, args.hosts)


if __name__ == "__main__":
    main()
