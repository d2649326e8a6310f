"""The noise-only cycle of bench/compare.py, repeated, for two source trees side by side.

    python3 bench/steady_state.py --first              # one first crawl, its store kept in --work
    python3 bench/steady_state.py --runs 3 --trees /copy/of/before,/work/main

The web and declarations of bench/compare.py. `--first` crawls the web once at noise 1 and keeps
the store; then each run copies that store and crawls the web at noise 2 (every page's noise
changed, no text) with each tree in turn (`python3 -m policywatch` with PYTHONPATH and the working
folder set to the tree), so that the trees alternate on the same store and web and a change is
judged within one run on a shared machine. Prints per crawl the CPU seconds and peak RSS of the
crawl process (wait4), and per tree the median.
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.compare import ENV, Web, wait4_run, write_declarations  # noqa: E402


def crawl(tree: Path, db_file: Path, sources: Path, output: Path) -> tuple[float, float, float]:
    """Wall s, CPU s and peak RSS MB of one `policywatch crawl` run from `tree`."""
    command = [sys.executable, "-m", "policywatch", "--db", f"sqlite:///{db_file}", "crawl",
               "--quiet", "--sources", str(sources)]
    return wait4_run(command, env={**ENV, "PYTHONPATH": str(tree)}, cwd=tree, output=output)


def remove_store(db_file: Path) -> None:
    """The SQLite file and its journal files."""
    for stale in db_file.parent.glob(db_file.name + "*"):
        stale.unlink()


def fresh_copy(original: Path, copy: Path) -> None:
    remove_store(copy)
    shutil.copy(original, copy)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--pages", type=int, default=2000)
    parser.add_argument("--hosts", type=int, default=20)
    parser.add_argument("--latency", type=float, default=0.05)
    parser.add_argument("--port", type=int, default=18380)
    parser.add_argument("--work", type=Path, default=Path("/tmp/policywatch-steady-state"))
    parser.add_argument("--first", action="store_true", help="make the first crawl's store")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--trees", default=str(ROOT), help="source trees, comma-separated")
    args = parser.parse_args()
    args.work.mkdir(parents=True, exist_ok=True)
    first, copy = args.work / "first.sqlite", args.work / "copy.sqlite"
    web = Web(args.port, args.hosts, args.pages, args.latency)
    cpu: dict[str, list[float]] = {}
    try:
        write_declarations(args.work / "sources", web)
        if args.first:
            remove_store(first)
            web.control("set?noise=1&changed=")
            wall, seconds, rss = crawl(ROOT, first, args.work / "sources", args.work / "out.txt")
            print(f"first crawl: wall {wall:.2f} s, CPU {seconds:.2f} s, peak RSS {rss:.0f} MB")
            return
        if not first.exists():
            raise SystemExit(f"no first crawl in {args.work}: run with --first")
        for _ in range(args.runs):
            for tree in args.trees.split(","):
                fresh_copy(first, copy)
                web.control("set?noise=2&changed=")
                web.control("stats")
                wall, seconds, rss = crawl(Path(tree), copy, args.work / "sources",
                                           args.work / "out.txt")
                served = web.control("stats")
                cpu.setdefault(tree, []).append(seconds)
                print(f"{tree}: wall {wall:.2f} s, CPU {seconds:.2f} s "
                      f"({seconds / args.pages * 1000:.2f} ms a page), peak RSS {rss:.0f} MB, "
                      f"{served['requests']} requests, {served['not_modified']} 304s", flush=True)
    finally:
        web.stop()
    for tree, runs in cpu.items():
        median = statistics.median(runs)
        print(f"median {tree}: CPU {median:.2f} s = {median / args.pages * 1000:.2f} ms a page")


if __name__ == "__main__":
    main()
