"""policywatch against the alternatives on one large loopback web, in one run.

    pip install -e '.[bench]'
    python3 bench/compare.py [--pages 2000] [--hosts 20] [--latency 0.05] [--write]

The web (bench/bigweb.py, its own process): PAGES instrument pages of 30–80 KB over HOSTS
loopback hosts with LATENCY seconds added to every answer, rotating noise outside the main text,
half the hosts sending Last-Modified. Three cycles: the first crawl; a cycle where only the noise
changed; a cycle where 10 pages changed one word of their main text. In each cycle, on the same
web state:

- policywatch: `policywatch crawl` over declarations that name a content selector (even hosts)
  or nothing at all (odd hosts: automatic main-content detection), one process per cycle;
- urlwatch 2.29 with a content filter (`css: article.instrument`, `html2text`), one job per page;
- urlwatch 2.29 without a filter (what a user gets before writing filters);
- a plain aiohttp client fetching every page once, 4 connections per host (the fetch limit).

Per tool and cycle: wall time, CPU seconds and peak RSS of its process (wait4), requests, 304s
and body bytes served, and change reports, true (one of the 10 pages) or false. Also the
policywatch store's growth against the zlib-compressed size of the distinct versions it holds.
`--write` puts the tables into bench/README.md with the machine's description.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import sqlite3
import subprocess
import sys
import tempfile
import time
import urllib.request
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.bigweb import host_address, page_url  # noqa: E402

CYCLES = ("first crawl", "noise only", "10 pages changed")
# Measured processes compile their imports once, as on any installation (some machines set
# PYTHONDONTWRITEBYTECODE, which makes every process start compile them all again).
ENV = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
JURISDICTIONS = ("EU", "CN", "US", "GB", "JP", "SG", "IN", "BR", "ZA", "AU")


@dataclass
class Row:
    tool: str
    cycle: str
    wall: float
    cpu: float
    rss_mb: float
    requests: int
    not_modified: int
    body_bytes: int
    true_reports: int
    false_reports: int


def wait4_run(command: list[str], env: dict | None = None, cwd: Path | None = None,
              output: Path | None = None) -> tuple[float, float, float]:
    """Wall s, CPU s, peak RSS MB of one process (wait4 rusage); stdout to `output`."""
    with (output.open("w") if output else open(os.devnull, "w")) as sink:
        started = time.perf_counter()
        child = subprocess.Popen(command, stdout=sink, stderr=subprocess.STDOUT, env=env, cwd=cwd)
        _, status, usage = os.wait4(child.pid, 0)
    wall = time.perf_counter() - started
    code = os.waitstatus_to_exitcode(status)
    if code not in (0, 1):
        tail = output.read_text()[-2000:] if output else ""
        raise SystemExit(f"{' '.join(command[:3])} … failed ({code}): {tail}")
    return wall, usage.ru_utime + usage.ru_stime, usage.ru_maxrss / 1024


class Web:
    def __init__(self, port: int, hosts: int, pages: int, latency: float) -> None:
        self.port, self.hosts, self.pages = port, hosts, pages
        self.process = subprocess.Popen(
            [sys.executable, str(ROOT / "bench" / "bigweb.py"), "--port", str(port), "--hosts", str(hosts),
             "--pages", str(pages), "--latency", str(latency)], stdout=subprocess.PIPE, text=True)
        assert self.process.stdout is not None
        self.process.stdout.readline()  # "serving …"

    def control(self, path: str) -> dict:
        with urllib.request.urlopen(f"http://{host_address(1)}:{self.port}/_control/{path}") as answer:
            return json.loads(answer.read())

    def urls(self) -> list[str]:
        return [page_url(self.port, self.hosts, n) for n in range(self.pages)]

    def stop(self) -> None:
        self.process.terminate()
        self.process.wait()


def write_declarations(folder: Path, web: Web) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    for number in range(1, web.hosts + 1):
        selector = "extract:\n  content: article.instrument\n" if number % 2 == 0 else ""
        (folder / f"bench-{number:02d}.yaml").write_text(
            f"id: bench-{number:02d}\nname: Regulator {number} (loopback)\n"
            f"jurisdiction: {JURISDICTIONS[number % len(JURISDICTIONS)]}\nlevel: national\nbody: regulator\n"
            f"relevance: all\nentries:\n  - type: sitemap\n    url: http://{host_address(number)}:{web.port}/sitemap.xml\n"
            f"{selector}")


def policywatch_cycle(db_file: Path, sources: Path, work: Path, changed_urls: set[str]) -> tuple:
    env = {**ENV, "PYTHONPATH": str(ROOT)}
    wall, cpu, rss = wait4_run([sys.executable, "-m", "policywatch", "--db", f"sqlite:///{db_file}", "crawl",
                                "--quiet", "--sources", str(sources)], env=env, cwd=ROOT,
                               output=work / "policywatch.out")
    with sqlite3.connect(db_file) as connection:
        run = connection.execute("select max(id) from crawl_runs").fetchone()[0]
        events = connection.execute("select e.kind, e.baseline, i.url from change_events e join instruments "
                                    "i on i.id = e.instrument_id where e.run_id = ?", (run,)).fetchall()
    reports = [(kind, url) for kind, baseline, url in events if not baseline]
    true = sum(1 for kind, url in reports if kind == "amended" and url in changed_urls)
    return wall, cpu, rss, true, len(reports) - true


def urlwatch_files(folder: Path, urls: list[str], with_filter: bool) -> tuple[Path, Path]:
    folder.mkdir(parents=True, exist_ok=True)
    jobs = []
    for url in urls:
        job: dict[str, object] = {"name": url.rsplit("/", 1)[-1], "url": url}
        if with_filter:
            job["filter"] = [{"css": "article.instrument"}, {"html2text": "re"}]
        jobs.append(json.dumps(job))
    (folder / "urls.yaml").write_text("\n---\n".join(jobs) + "\n")
    (folder / "urlwatch.yaml").write_text(json.dumps({
        "display": {"new": True, "error": True, "unchanged": False},
        "report": {"text": {"details": False, "footer": False, "minimal": True},
                   "stdout": {"enabled": True, "color": False}},
    }))
    return folder / "urls.yaml", folder / "urlwatch.yaml"


def urlwatch_cycle(folder: Path, urls_file: Path, config: Path, changed_urls: set[str]) -> tuple:
    command = [sys.executable, "-c", "import sys; from urlwatch.cli import main; sys.exit(main())",
               "--urls", str(urls_file), "--config", str(config), "--cache", str(folder / "cache.db")]
    wall, cpu, rss = wait4_run(command, env={**ENV, "HOME": str(folder)}, output=folder / "out.txt")
    out = (folder / "out.txt").read_text(errors="replace")
    changed = re.findall(r"^CHANGED: .*\( (http://\S+) \)$", out, flags=re.M)
    true = sum(1 for url in changed if url in changed_urls)
    errors = len(re.findall(r"^ERROR", out, flags=re.M))
    if errors:
        print(f"  urlwatch reported {errors} errors", file=sys.stderr)
    return wall, cpu, rss, true, len(changed) - true


def aiohttp_cycle(urls_file: Path) -> tuple:
    command = [sys.executable, str(ROOT / "bench" / "fetch_all.py"), str(urls_file)]
    wall, cpu, rss = wait4_run(command, env=ENV)
    return wall, cpu, rss, 0, 0


def store_size(db_file: Path) -> int:
    return sum(p.stat().st_size for p in db_file.parent.glob(db_file.name + "*"))


def distinct_versions_compressed(db_file: Path) -> tuple[int, int]:
    """zlib size of the distinct version texts (stored so), and of the raw pages kept as snapshots."""
    with sqlite3.connect(db_file) as connection:
        texts = connection.execute("select coalesce(sum(length(text_z)), 0) from versions").fetchone()[0]
        snapshots = connection.execute("select coalesce(sum(length(content)), 0) from snapshots").fetchone()
    return texts, snapshots[0]


def measure(web: Web, state: str, tool: str, cycle: str, run) -> Row:
    """One tool's cycle on the web in `state`, with what the web served meanwhile."""
    web.control(f"set?{state}")
    web.control("stats")  # reset the counters
    wall, cpu, rss, true, false = run()
    served = web.control("stats")
    row = Row(tool, cycle, wall, cpu, rss, served["requests"], served["not_modified"], served["body_bytes"],
              true, false)
    print(table([row]).splitlines()[-1], flush=True)
    return row


def store_breakdown(db_file: Path) -> str:
    """Where the store's bytes are: snapshots, versions, the search index, the rest."""
    groups = {"snapshots": 0, "versions": 0, "search index": 0, "the rest": 0}
    with sqlite3.connect(db_file) as connection:
        for name, size in connection.execute("select name, sum(pgsize) from dbstat group by name"):
            group = ("snapshots" if name.startswith(("snapshots", "sqlite_autoindex_snapshots")) else
                     "versions" if name.startswith(("versions", "sqlite_autoindex_versions")) else
                     "search index" if name.startswith("version_search") else "the rest")
            groups[group] += size
    return ", ".join(f"{name} {size / 1e6:.1f} MB" for name, size in groups.items())


def table(rows: list[Row]) -> str:
    lines = ["| tool | cycle | wall s | CPU s | peak RSS MB | requests | 304s | body MB | true reports "
             "| false reports |", "|---|---|---|---|---|---|---|---|---|---|"]
    for r in rows:
        lines.append(f"| {r.tool} | {r.cycle} | {r.wall:.2f} | {r.cpu:.2f} | {r.rss_mb:.0f} | {r.requests} | "
                     f"{r.not_modified} | {r.body_bytes / 1e6:.1f} | {r.true_reports} | {r.false_reports} |")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--pages", type=int, default=2000)
    parser.add_argument("--hosts", type=int, default=20)
    parser.add_argument("--latency", type=float, default=0.05)
    parser.add_argument("--port", type=int, default=18080)
    parser.add_argument("--skip", action="append", default=[], choices=["urlwatch", "urlwatch-raw"],
                        help="leave a comparison out")
    parser.add_argument("--write", action="store_true", help="write the result into bench/README.md")
    args = parser.parse_args()
    web = Web(args.port, args.hosts, args.pages, args.latency)
    rows: list[Row] = []
    growth: list[str] = []
    try:
        with tempfile.TemporaryDirectory(prefix="policywatch-bench-") as tmp:
            work = Path(tmp)
            sources = work / "sources"
            write_declarations(sources, web)
            db_file = work / "store.sqlite"
            urls = web.urls()
            (work / "urls.txt").write_text("\n".join(urls) + "\n")
            watchers = {}
            if "urlwatch" not in args.skip:
                folder = work / "uw-filter"
                watchers["urlwatch + filter"] = (folder, *urlwatch_files(folder, urls, True))
            if "urlwatch-raw" not in args.skip:
                folder = work / "uw-raw"
                watchers["urlwatch, no filter"] = (folder, *urlwatch_files(folder, urls, False))
            changed_pages = list(range(7, args.pages, args.pages // 10))[:10]
            changed_urls = {urls[n] for n in changed_pages}
            for number, cycle in enumerate(CYCLES, start=1):
                changed = changed_pages if number == 3 else []
                state = f"noise={number}&changed={','.join(map(str, changed))}"
                before = store_size(db_file) if db_file.exists() else 0

                rows.append(measure(web, state, "policywatch", cycle,
                                    lambda: policywatch_cycle(db_file, sources, work, changed_urls)))
                growth.append(f"{cycle}: +{(store_size(db_file) - before) / 1e6:.1f} MB")
                for tool, (folder, urls_file, config) in watchers.items():
                    rows.append(measure(web, state, tool, cycle, lambda f=folder, u=urls_file, c=config:
                                        urlwatch_cycle(f, u, c, changed_urls)))
                rows.append(measure(web, state, "aiohttp fetch", cycle,
                                    lambda: aiohttp_cycle(work / "urls.txt")))
            texts, snapshots = distinct_versions_compressed(db_file)
            total = store_size(db_file)
            growth.append(store_breakdown(db_file))
    finally:
        web.stop()
    result = report(rows, growth, total, texts, snapshots, args)
    print("\n" + result)
    if args.write:
        write_section("## policywatch, urlwatch and a plain fetch on a large web — "
                      "`python3 bench/compare.py`", __doc__, result)


def report(rows: list[Row], growth: list[str], total: int, texts: int, snapshots: int, args) -> str:
    by = {(r.tool, r.cycle): r for r in rows}
    steady = by[("policywatch", "noise only")]
    lines = [f"{time.strftime('%Y-%m-%d')}, {platform.machine()}, {os.cpu_count()} cores, Python "
             f"{platform.python_version()}: {args.pages} pages on {args.hosts} hosts, "
             f"{args.latency * 1000:.0f} ms latency", "", table(rows), ""]
    fetch = by.get(("aiohttp fetch", "noise only"))
    if fetch:
        lines.append(f"- steady state (noise-only cycle): policywatch {steady.wall:.2f} s = "
                     f"**{steady.wall / fetch.wall:.2f}×** the plain aiohttp fetch ({fetch.wall:.2f} s)")
    watcher = by.get(("urlwatch + filter", "noise only"))
    if watcher:
        lines.append(f"- and **{steady.wall / watcher.wall:.2f}×** urlwatch with its filter "
                     f"({watcher.wall:.2f} s)")
    lines.append(f"- CPU per page in the steady state: {steady.cpu / args.pages * 1000:.2f} ms "
                 f"(process start-up included)")
    lines.append(f"- store: {total / 1e6:.1f} MB after three cycles ({'; '.join(growth)}); the distinct "
                 f"version texts compressed: {texts / 1e6:.1f} MB (ratio {total / max(texts, 1):.2f}); "
                 f"the raw pages kept as compressed snapshots: {snapshots / 1e6:.1f} MB")
    return "\n".join(lines)


def write_section(heading: str, doc: str, result: str) -> None:
    """Put (or replace) a section of bench/README.md: the benchmark's description, its result."""
    readme = ROOT / "bench" / "README.md"
    text = readme.read_text()
    section = f"{heading}\n\n{doc.split(chr(10) + chr(10), 2)[2].strip()}\n\n{result}\n"
    if heading in text:
        start = text.index(heading)
        end = text.find("\n## ", start + len(heading))
        text = text[:start] + section + (text[end:] if end != -1 else "")
    else:
        text = text.rstrip() + "\n\n" + section
    readme.write_text(text)

if __name__ == "__main__":
    main()
