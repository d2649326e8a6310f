"""Where a crawl's CPU goes on the comparison web: the first crawl and the noise-only cycle.

    pip install py-spy   # a profiler for this script only, not a dependency
    python3 bench/profile_crawl.py [--pages 2000] [--hosts 20] [--rate 100] [--top 15] [--keep DIR]
    python3 bench/profile_crawl.py --summarise DIR   # the stacks kept by an earlier run
    python3 bench/profile_crawl.py --compare BEFORE,AFTER [--runs 3] [--pages 400]

The web and declarations of bench/compare.py; the first two of its cycles, each one
`policywatch crawl` process sampled by py-spy (all threads; idle ones, and samples whose
innermost frame is a blocking wait, left out, so samples follow CPU time on a quiet machine and
CPU plus run-queue time on a loaded one). A sample whose stack passes through start-up imports,
the block re-check, the error-page or coverage checks or the classifier counts for that stage
(in this order); any other for the stage of its innermost frame that has one (extraction,
storage, logging, Scrapy and Twisted, policywatch's own crawl code); the rest is "other". Prints
per cycle the share of each stage, the functions with most samples of their own, and
policywatch's own functions by the samples under them. The raw stacks are kept in --keep (for a
flame graph) when given.

`--compare` profiles nothing: it runs the first crawl of the same web once per source tree in
turn (`python3 -m policywatch` with PYTHONPATH and the working folder set to the tree), `--runs`
times, each into a new store, and prints each crawl's CPU seconds (wait4, the crawl and any
process it waited for), peak RSS and wall time, then the median per tree: before/after pairs
measured alternately, since the machine is shared.
"""

from __future__ import annotations

import argparse
import os
import sqlite3
import statistics
import subprocess
import sys
import tempfile
from collections import Counter
from contextlib import closing
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.compare import ENV, Web, wait4_run, write_declarations  # noqa: E402

# Stages a sample counts for when any frame of its stack is theirs (the first one listed wins).
WHOLE_STAGES: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("start-up imports", ("_find_and_load",)),
    ("block re-check", ("unchanged_block",)),
    ("error-page and coverage checks", ("crawlers/error_pages.py", "crawlers/visible_text.py")),
    ("classification", ("paradigms/",)),
)
# Otherwise, the stage of the innermost frame that is one of these.
LEAF_STAGES: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("extraction", ("crawlers/main_content.py", "crawlers/extract.py", "trafilatura/",
                    "crawlers/decoding.py", "texts/", "selectolax", "lxml", "bs4/", "justext/",
                    "charset_normalizer/", "htmldate/", "courlan/")),
    ("storage", ("storage/", "sqlalchemy/", "sqlite3")),
    ("logging", ("logging/__init__.py",)),
    ("Scrapy and Twisted", ("scrapy/", "twisted/")),
    ("policywatch's spider, middlewares, pipeline", ("crawlers/",)),
)
OWN = ("crawlers/", "storage/", "paradigms/", "texts/", "policywatch/")
# Innermost frames of a thread blocked in C (py-spy cannot always tell them idle): not CPU.
WAITING = ("EpollSelector.select", "Condition.wait", "Event.wait", "_worker (concurrent/",
           "_wait_for_tstate_lock", "Thread.join")


def stage_of(frames: list[str]) -> str:
    """The stage a sampled stack (outermost frame first) counts for."""
    for stage, marks in WHOLE_STAGES:
        if any(mark in frame for frame in frames for mark in marks):
            return stage
    for frame in reversed(frames):
        for stage, marks in LEAF_STAGES:
            if any(mark in frame for mark in marks):
                return stage
    return "other"


def summary(raw: Path, top: int) -> str:
    """The stages' shares, the top functions by own samples and policywatch's by samples under."""
    stages: Counter[str] = Counter()
    own: Counter[str] = Counter()
    under: Counter[str] = Counter()
    for line in raw.read_text().splitlines():
        stack, _, count = line.rpartition(" ")
        frames = stack.split(";")
        samples = int(count)
        if not frames[-1].strip() or frames[-1].startswith(WAITING):
            continue
        stages[stage_of(frames)] += samples
        own[frames[-1]] += samples
        for frame in set(frames):
            if any(part in frame for part in OWN) and "site-packages" not in frame:
                under[frame] += samples
    total = sum(stages.values()) or 1
    lines = ["| stage | samples | share |", "|---|---|---|"]
    lines += [f"| {stage} | {n} | {n / total:.0%} |" for stage, n in stages.most_common()]
    lines += ["", f"own samples, top {top}:"]
    lines += [f"  {n / total:6.1%}  {frame}" for frame, n in own.most_common(top)]
    lines += ["", f"policywatch's functions by samples under them, top {top}:"]
    lines += [f"  {n / total:6.1%}  {frame}" for frame, n in under.most_common(top)]
    return "\n".join(lines)


def profiled_crawl(db_file: Path, sources: Path, raw: Path, rate: int) -> None:
    """One `policywatch crawl` process under py-spy, its stacks written to `raw`."""
    command = ["py-spy", "record", "--rate", str(rate), "--format", "raw", "--nolineno",
               "--output", str(raw), "--", sys.executable, "-m", "policywatch", "--db",
               f"sqlite:///{db_file}", "crawl", "--quiet", "--sources", str(sources)]
    done = subprocess.run(command, env={**ENV, "PYTHONPATH": str(ROOT)}, cwd=ROOT,
                          capture_output=True, text=True)
    if not raw.exists():
        raise SystemExit(f"py-spy failed ({done.returncode}): {done.stderr[-2000:]}")


def compare_first_crawls(web: Web, trees: list[Path], runs: int, work: Path) -> None:
    """The first crawl's CPU, peak RSS and wall time of each tree, alternating, `runs` times."""
    cpu: dict[Path, list[float]] = {tree: [] for tree in trees}
    for run in range(1, runs + 1):
        for tree in trees:
            store = work / "store.sqlite"
            for stale in work.glob("store.sqlite*"):
                stale.unlink()
            web.control("set?noise=1&changed=")
            command = [sys.executable, "-m", "policywatch", "--db", f"sqlite:///{store}", "crawl",
                       "--quiet", "--sources", str(work / "sources")]
            wall, seconds, rss = wait4_run(command, env={**ENV, "PYTHONPATH": str(tree)},
                                           cwd=tree, output=work / "crawl.out")
            with closing(sqlite3.connect(store)) as connection:
                versions = connection.execute("select count(*) from versions").fetchone()[0]
            if versions < web.pages:
                raise SystemExit(f"{tree}: the first crawl recorded {versions} versions of "
                                 f"{web.pages} pages: {(work / 'crawl.out').read_text()[-500:]}")
            cpu[tree].append(seconds)
            print(f"run {run} {tree}: CPU {seconds:.2f} s "
                  f"({seconds / web.pages * 1000:.1f} ms a page), peak RSS {rss:.0f} MB, "
                  f"wall {wall:.2f} s, {versions} versions", flush=True)
    for tree, seconds in cpu.items():
        middle = statistics.median(seconds)
        print(f"median {tree}: CPU {middle:.2f} s = {middle / web.pages * 1000:.1f} ms a page")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--pages", type=int, default=2000)
    parser.add_argument("--hosts", type=int, default=20)
    parser.add_argument("--latency", type=float, default=0.05)
    parser.add_argument("--port", type=int, default=18180)
    parser.add_argument("--rate", type=int, default=100, help="samples per second")
    parser.add_argument("--top", type=int, default=15)
    parser.add_argument("--keep", type=Path, help="a folder to keep the raw stacks in")
    parser.add_argument("--summarise", type=Path, metavar="FOLDER",
                        help="only summarise the raw stacks kept in FOLDER by an earlier run")
    parser.add_argument("--compare", metavar="TREES",
                        help="source trees, comma-separated: their first crawls' CPU, no profiler")
    parser.add_argument("--runs", type=int, default=3, help="crawls per tree with --compare")
    args = parser.parse_args()
    if args.summarise:
        for raw in sorted(args.summarise.glob("*.txt")):
            print(f"## {raw.stem}\n\n{summary(raw, args.top)}\n")
        return
    web = Web(args.port, args.hosts, args.pages, args.latency)
    try:
        with tempfile.TemporaryDirectory(prefix="policywatch-profile-") as tmp:
            work = Path(tmp)
            write_declarations(work / "sources", web)
            if args.compare:
                trees = [Path(tree).resolve() for tree in args.compare.split(",")]
                compare_first_crawls(web, trees, args.runs, work)
                return
            keep = args.keep or work
            os.makedirs(keep, exist_ok=True)
            for number, cycle in enumerate(("first crawl", "noise only"), start=1):
                web.control(f"set?noise={number}&changed=")
                raw = keep / f"{cycle.replace(' ', '-')}.txt"
                profiled_crawl(work / "store.sqlite", work / "sources", raw, args.rate)
                print(f"## {cycle}: {args.pages} pages on {args.hosts} hosts\n\n"
                      f"{summary(raw, args.top)}\n", flush=True)
    finally:
        web.stop()


if __name__ == "__main__":
    main()
