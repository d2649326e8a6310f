"""Where a crawl's CPU goes on the comparison web: the first crawl and the noise-only cycle.

    pip install py-spy   # a profiler for this script only, not a dependency
    python3 bench/profile_crawl.py [--pages 2000] [--hosts 20] [--rate 100] [--top 15] [--keep DIR]
    python3 bench/profile_crawl.py --summarise DIR   # the stacks kept by an earlier run

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
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.compare import ENV, Web, write_declarations  # noqa: E402

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
