"""The noise-only cycle of bench/compare.py, repeated, for two source trees side by side.

    python3 bench/steady_state.py --first              # one first crawl, its store kept in --work
    python3 bench/steady_state.py --runs 3 --trees /copy/of/before,/work/main
    python3 bench/steady_state.py --parts              # each replaced Scrapy part against Scrapy's
    python3 bench/steady_state.py --runs 5 --handlers settings,aiohttp   # download handlers
    python3 bench/steady_state.py --imports [--trees A,B]   # start-up imports; a crawl command's start
    python3 bench/steady_state.py --download --runs 5 --handlers http11,aiohttp   # handlers alone

The web and declarations of bench/compare.py. `--first` crawls the web once at noise 1 and keeps
the store; then each run copies that store and crawls the web at noise 2 (every page's noise
changed, no text) with each tree in turn (`python3 -m policywatch` with PYTHONPATH and the working
folder set to the tree), so that the trees alternate on the same store and web and a change is
judged within one run on a shared machine. `--handlers` alternates download handlers instead of
trees, on this tree: `settings` (crawlers/settings.py as it is), or one of HANDLERS, set for http
and https before the crawl starts. Prints per crawl the CPU seconds and peak RSS of the
crawl process (wait4), and per tree the median.

On a loaded machine a whole crawl's CPU time swings by more than a part of it saves, so `--parts`
times each part this work replaced in-process, against the Scrapy part it replaces, on the web's
own pages (CPU time, best of --repeat, per response): the meta refresh check of a 200 page, the
throttle's adjustment on a 304, the stats written per response, the signals CoreStats listens to,
the two log lines of each response, and (once per crawl) importing rich.
"""

from __future__ import annotations

import argparse
import json
import logging
import shutil
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.bigweb import page_url  # noqa: E402
from bench.compare import ENV, Web, wait4_run, write_declarations  # noqa: E402

HANDLERS = {
    "http11": "scrapy.core.downloader.handlers.http11.HTTP11DownloadHandler",
    "aiohttp": "scrapy.core.downloader.handlers._aiohttp.AiohttpDownloadHandler",
    "httpx": "scrapy.core.downloader.handlers._httpx.HttpxDownloadHandler",
}
# `python3 -m policywatch ARGS` with the download handler set first (settings are read at the
# crawl), and made lazy: built with the first request, in the running loop (aiohttp's connector
# needs one; Scrapy builds a handler that is not lazy before the crawl's loop runs).
_WITH_HANDLER = ("import runpy, sys; import crawlers.settings as s; "
                 "from scrapy.utils.misc import load_object; handler = sys.argv.pop(1); "
                 "load_object(handler).lazy = True; "
                 "s.DOWNLOAD_HANDLERS = {'http': handler, 'https': handler}; "
                 "sys.argv[0] = 'policywatch'; runpy.run_module('policywatch', run_name='__main__')")


def crawl(tree: Path, db_file: Path, sources: Path, output: Path,
          handler: str = "settings") -> tuple[float, float, float]:
    """Wall s, CPU s and peak RSS MB of one `policywatch crawl` run from `tree`, with the
    download handler of its settings or one of HANDLERS."""
    start = ["-m", "policywatch"] if handler == "settings" else ["-c", _WITH_HANDLER,
                                                                 HANDLERS[handler]]
    command = [sys.executable, *start, "--db", f"sqlite:///{db_file}", "crawl", "--quiet",
               "--sources", str(sources)]
    return wait4_run(command, env={**ENV, "PYTHONPATH": str(tree)}, cwd=tree, output=output)


def remove_store(db_file: Path) -> None:
    """The SQLite file and its journal files."""
    for stale in db_file.parent.glob(db_file.name + "*"):
        stale.unlink()


def fresh_copy(original: Path, copy: Path) -> None:
    remove_store(copy)
    shutil.copy(original, copy)


def best_cpu(work: Callable[[], Any], repeat: int) -> float:
    """The least CPU seconds of `repeat` runs of `work`."""
    best = float("inf")
    for _ in range(repeat):
        started = time.process_time()
        work()
        best = min(best, time.process_time() - started)
    return best


def import_cpu(module: str, repeat: int) -> float:
    """The least CPU seconds a fresh interpreter spends importing `module`."""
    code = (f"import time; t = time.process_time(); import {module}; "
            f"print(time.process_time() - t)")
    return min(float(subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                                    check=True, cwd=ROOT).stdout) for _ in range(repeat))


def parts(repeat: int, pages: int = 200) -> list[tuple[str, float, float]]:
    """(part, Scrapy's µs, this crawl's µs) per response; the import once per crawl, in ms."""
    from scrapy import signals
    from scrapy.core.downloader import Slot
    from scrapy.downloadermiddlewares.redirect import MetaRefreshMiddleware
    from scrapy.extensions.corestats import CoreStats
    from scrapy.extensions.throttle import AutoThrottle
    from scrapy.http import HtmlResponse, Request, Response
    from scrapy.logformatter import LogFormatter
    from scrapy.signalmanager import SignalManager
    from scrapy.statscollectors import MemoryStatsCollector
    from scrapy.utils.log import logformatter_adapter
    from scrapy.utils.test import get_crawler

    from bench.bigweb import BigWeb
    from crawlers.extensions import QuietLogFormatter
    from crawlers.middlewares import CheapMetaRefreshMiddleware
    from crawlers.outcomes import CrawlStats
    from crawlers.spiders.declared import DeclaredSpider
    from crawlers.throttle import ConditionalAutoThrottle

    web = BigWeb(20, pages, 0.0)
    bodies = [web.render(page).encode() for page in range(pages)]
    headers = {"Content-Type": "text/html; charset=utf-8"}
    request = Request("http://127.0.1.1/doc/1")
    crawler = get_crawler(DeclaredSpider, {"AUTOTHROTTLE_ENABLED": True})
    rows: list[tuple[str, float, float]] = []

    def per_response(name: str, scrapys: Callable[[], Any], ours: Callable[[], Any],
                     count: int) -> None:
        """Each timed in turn with the other, `repeat` times; the least of each, per response."""
        best = [float("inf"), float("inf")]
        for _ in range(repeat):
            for side, work in enumerate((scrapys, ours)):
                best[side] = min(best[side], best_cpu(work, 1))
        rows.append((name, best[0] / count * 1e6, best[1] / count * 1e6))

    def refresh_check(middleware: MetaRefreshMiddleware) -> Callable[[], None]:
        def check() -> None:  # fresh responses: Scrapy keeps the decoded text on each
            for body in bodies:
                middleware.process_response(request, HtmlResponse(request.url, body=body,
                                                                  headers=headers))
        return check

    def responses_only() -> None:
        for body in bodies:
            HtmlResponse(request.url, body=body, headers=headers)

    making = best_cpu(responses_only, repeat)
    per_response("meta refresh check of a 200 page",
                 lambda: refresh_check(MetaRefreshMiddleware(crawler.settings))(),
                 lambda: refresh_check(CheapMetaRefreshMiddleware(crawler.settings))(), pages)
    rows[-1] = (rows[-1][0], rows[-1][1] - making / pages * 1e6, rows[-1][2] - making / pages * 1e6)

    not_modified = Response(request.url, status=304)
    scrapys_throttle, our_throttle = AutoThrottle(crawler), ConditionalAutoThrottle(crawler)
    for throttle in (scrapys_throttle, our_throttle):
        throttle.mindelay, throttle.maxdelay = 0.0, 30.0
    slot = Slot(concurrency=4, delay=0.1, jitter=0)
    rounds = 20_000

    def earlier_throttle() -> None:  # what ConditionalAutoThrottle did before: a 304 made a 200
        for _ in range(rounds):
            scrapys_throttle._adjust_delay(slot, 0.05, not_modified.replace(status=200))

    def throttle_now() -> None:
        for _ in range(rounds):
            our_throttle._adjust_delay(slot, 0.05, not_modified)

    per_response("throttle adjustment on a 304", earlier_throttle, throttle_now, rounds)

    def stats_writes(stats: MemoryStatsCollector) -> Callable[[], None]:
        keys = ("scheduler/enqueued/memory", "scheduler/enqueued", "scheduler/dequeued/memory",
                "scheduler/dequeued", "policywatch/bench-01/unchanged")
        def write() -> None:  # the five stats every response of a re-check writes here
            for _ in range(rounds):
                for key in keys:
                    stats.inc_value(key)
        return write

    per_response("stats written per response (5)", stats_writes(MemoryStatsCollector(crawler)),
                 stats_writes(CrawlStats(crawler)), rounds)

    def signals_sent(with_core_stats: bool) -> Callable[[], None]:
        manager = SignalManager(sender=object())  # a crawler's own has Scrapy's CoreStats
        manager.connect(pipeline_receiver, signal=signals.response_received)
        # Receivers are held weakly: the CoreStats instance lives as long as `send`.
        core = CoreStats(MemoryStatsCollector(crawler)) if with_core_stats else None
        if core is not None:
            manager.connect(core.response_received, signal=signals.response_received)
            manager.connect(core.item_scraped, signal=signals.item_scraped)

        def send() -> None:  # each response: one received, one item scraped
            assert core is not None or not with_core_stats
            for _ in range(rounds):
                manager.send_catch_log(signal=signals.response_received, response=not_modified,
                                       request=request, spider=None)
                manager.send_catch_log(signal=signals.item_scraped, item={},
                                       response=not_modified, spider=None)
        return send

    def pipeline_receiver(response: Response, request: Request, **_: Any) -> None:
        """Stands for the pipeline's receiver of every response."""

    per_response("response_received and item_scraped (CoreStats)", signals_sent(True),
                 signals_sent(False), rounds)

    engine_log, scraper_log = (logging.getLogger(name) for name in
                               ("scrapy.core.engine", "scrapy.core.scraper"))

    def log_lines(formatter: LogFormatter) -> Callable[[], None]:
        def log() -> None:  # "Crawled (304)" and "Scraped from", at DEBUG, below LOG_LEVEL
            for _ in range(rounds):
                crawled = formatter.crawled(request, not_modified, None)  # type: ignore[arg-type]
                if crawled is not None:
                    engine_log.log(*logformatter_adapter(crawled))
                scraped = formatter.scraped({}, not_modified, None)  # type: ignore[arg-type]
                if scraped is not None:
                    scraper_log.log(*logformatter_adapter(scraped))
        return log

    logging.getLogger("scrapy").setLevel(logging.WARNING)
    per_response("log lines of a response (2)", log_lines(LogFormatter()),
                 log_lines(QuietLogFormatter()), rounds)
    rows.append(("importing rich (once per crawl, ms)", import_cpu("rich.progress", repeat) * 1e3,
                 0.0))
    return rows


# What every crawl imports whatever its download handler (Scrapy's engine on the asyncio reactor),
# and what each handler adds; the TLS stack on its own.
CRAWL_BASE = "twisted.internet.asyncioreactor, scrapy.crawler, scrapy.core.engine, scrapy.core.scraper"
IMPORTS = (
    ("the TLS stack (pyOpenSSL, cryptography, service_identity, twisted.internet.ssl)",
     "OpenSSL.SSL, service_identity, twisted.internet.ssl"),
    ("the asyncio reactor alone", "twisted.internet.asyncioreactor"),
    ("Scrapy's engine on the asyncio reactor", CRAWL_BASE),
    ("  + HTTP11DownloadHandler", CRAWL_BASE + ", scrapy.core.downloader.handlers.http11"),
    ("  + AiohttpDownloadHandler", CRAWL_BASE + ", scrapy.core.downloader.handlers._aiohttp"),
    ("the project's crawl (policywatch.crawling)", "policywatch.crawling"),
)


def imports(repeat: int) -> list[tuple[str, float, list[str]]]:
    """(what, CPU ms of importing it in a fresh interpreter, best of `repeat`, which of the TLS
    stack's packages it loads)."""
    stack = ("OpenSSL", "cryptography", "service_identity")
    rows = []
    for name, modules in IMPORTS:
        code = (f"import sys; import {modules}; "
                f"print(' '.join(m for m in {stack!r} if m in sys.modules))")
        loaded = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                                check=True, cwd=ROOT).stdout.split()
        rows.append((name, import_cpu(modules, repeat) * 1e3, loaded))
    return rows


def command_start_cpu(trees: list[Path], repeat: int) -> dict[Path, list[float]]:
    """CPU ms of whole `policywatch crawl` processes of each tree, in turn, `repeat` times, that
    stop at their first source (`--sources` names no file): the interpreter, the command's
    imports with the collector as the command sets it, and the interpreter's exit."""
    missing = Path("/nonexistent/policywatch-declarations")
    spent: dict[Path, list[float]] = {tree: [] for tree in trees}
    for _ in range(repeat):
        for tree in trees:
            command = [sys.executable, "-m", "policywatch", "--db", "sqlite:////nonexistent/x",
                       "crawl", "--quiet", "--sources", str(missing)]
            _, seconds, _ = wait4_run(command, env={**ENV, "PYTHONPATH": str(tree)}, cwd=tree)
            spent[tree].append(seconds * 1e3)
    return spent


def download_cpu(handler: str, urls: list[str]) -> tuple[float, dict[int, int]]:
    """CPU seconds this process spends downloading every URL through `handler` (a class path),
    four at a time per host (as the crawl's download slots allow), with an If-Modified-Since
    that the hosts with validators answer with 304; and the count of each status. On the
    asyncio reactor, as a crawl runs it: call once per process."""
    from collections import Counter

    from scrapy.utils.reactor import install_reactor
    install_reactor("twisted.internet.asyncioreactor.AsyncioSelectorReactor")
    from scrapy import Request
    from scrapy.utils.defer import deferred_from_coro
    from scrapy.utils.misc import build_from_crawler, load_object
    from scrapy.utils.test import get_crawler
    from twisted.internet import reactor

    crawler = get_crawler(settings_dict={"CONCURRENT_REQUESTS": 128,
                                         "CONCURRENT_REQUESTS_PER_DOMAIN": 4})
    since = {"If-Modified-Since": "Fri, 01 Jan 2100 00:00:00 GMT"}
    outcome: dict[str, Any] = {}

    async def download_all() -> None:
        import asyncio

        downloader = build_from_crawler(load_object(handler), crawler)
        slots = {urlsplit(url).netloc: asyncio.Semaphore(4) for url in urls}

        async def fetch(url: str) -> Any:  # four at a time per host, as Scrapy's slots allow
            async with slots[urlsplit(url).netloc]:
                return await downloader.download_request(Request(url, headers=since))

        started = time.process_time()
        responses = await asyncio.gather(*(fetch(url) for url in urls))
        outcome["cpu"] = time.process_time() - started
        outcome["statuses"] = dict(Counter(response.status for response in responses))
        await downloader.close()

    def record(failure: Any) -> None:
        outcome["error"] = failure.getTraceback()

    def stop(_: object) -> None:
        running.stop()

    running: Any = reactor  # the module stands for the installed reactor
    done = deferred_from_coro(download_all())
    done.addErrback(record)
    done.addBoth(stop)
    running.run()
    if "error" in outcome:
        raise SystemExit(outcome["error"])
    return outcome["cpu"], outcome["statuses"]


def download(handlers: list[str], args: argparse.Namespace) -> None:
    """Each handler in turn, in a fresh process each time, --runs times: µs of CPU per response
    (the least and the median of the runs)."""
    web = Web(args.port, args.hosts, args.pages, args.latency)
    per_response: dict[str, list[float]] = {}
    try:
        for _ in range(args.runs):
            for name in handlers:
                done = subprocess.run(
                    [sys.executable, str(Path(__file__)), "--download-one", name, "--port",
                     str(args.port), "--hosts", str(args.hosts), "--pages", str(args.pages)],
                    capture_output=True, text=True, check=True, cwd=ROOT)
                answer = json.loads(done.stdout.splitlines()[-1])
                per_response.setdefault(name, []).append(answer["cpu"] / args.pages * 1e6)
                print(f"{name}: {per_response[name][-1]:.0f} µs a response, "
                      f"statuses {answer['statuses']}", flush=True)
    finally:
        web.stop()
    print("| handler | least µs a response | median µs a response |\n|---|---|---|")
    for name, runs in per_response.items():
        print(f"| {name} | {min(runs):.0f} | {statistics.median(runs):.0f} |")


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
    parser.add_argument("--handlers", default="",
                        help=f"download handlers, comma-separated: settings, {', '.join(HANDLERS)}")
    parser.add_argument("--download", action="store_true",
                        help="CPU per response of each of --handlers alone, in its own process")
    parser.add_argument("--download-one", help=argparse.SUPPRESS)  # one handler, in this process
    parser.add_argument("--imports", action="store_true",
                        help="CPU of the start-up imports with each download handler, and of a crawl "
                             "command's start and exit from each of --trees")
    parser.add_argument("--parts", action="store_true",
                        help="time each replaced Scrapy part against Scrapy's, in-process")
    parser.add_argument("--repeat", type=int, default=7, help="best of how many (--parts)")
    args = parser.parse_args()
    handlers = [name for name in args.handlers.split(",") if name]
    if unknown := [name for name in handlers if name != "settings" and name not in HANDLERS]:
        parser.error(f"unknown handler {unknown[0]!r} (--handlers): settings, {', '.join(HANDLERS)}")
    if args.download_one:
        urls = [page_url(args.port, args.hosts, page) for page in range(args.pages)]
        seconds, statuses = download_cpu(HANDLERS[args.download_one], urls)
        print(json.dumps({"cpu": seconds, "statuses": statuses}))
        return
    if args.download:
        download(handlers or ["http11", "aiohttp"], args)
        return
    if args.imports:
        print("| imported | CPU ms | TLS stack loaded |\n|---|---|---|")
        for name, ms, loaded in imports(args.repeat):
            print(f"| {name} | {ms:.0f} | {', '.join(loaded) or 'none'} |")
        print("\n| `policywatch crawl` to its first source, from | least CPU ms | median CPU ms |\n"
              "|---|---|---|")
        folders = [Path(folder) for folder in args.trees.split(",")]
        for folder, runs in command_start_cpu(folders, args.repeat).items():
            print(f"| {folder} | {min(runs):.0f} | {statistics.median(runs):.0f} |")
        return
    if args.parts:
        print("| part | Scrapy's µs | now µs | saved µs |\n|---|---|---|---|")
        for name, scrapys, ours in parts(args.repeat):
            print(f"| {name} | {scrapys:.1f} | {ours:.1f} | {scrapys - ours:.1f} |")
        return
    args.work.mkdir(parents=True, exist_ok=True)
    first, copy = args.work / "first.sqlite", args.work / "copy.sqlite"
    web = Web(args.port, args.hosts, args.pages, args.latency)
    cpu: dict[str, list[float]] = {}
    rss_mb: dict[str, list[float]] = {}
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
        sides = ([(str(ROOT), name) for name in handlers] if handlers else
                 [(tree, "settings") for tree in args.trees.split(",")])
        for _ in range(args.runs):
            for tree, handler in sides:
                label = handler if handlers else tree
                fresh_copy(first, copy)
                web.control("set?noise=2&changed=")
                web.control("stats")
                wall, seconds, rss = crawl(Path(tree), copy, args.work / "sources",
                                           args.work / "out.txt", handler)
                served = web.control("stats")
                cpu.setdefault(label, []).append(seconds)
                rss_mb.setdefault(label, []).append(rss)
                print(f"{label}: wall {wall:.2f} s, CPU {seconds:.2f} s "
                      f"({seconds / args.pages * 1000:.2f} ms a page), peak RSS {rss:.0f} MB, "
                      f"{served['requests']} requests, {served['not_modified']} 304s", flush=True)
    finally:
        web.stop()
    for label, runs in cpu.items():
        median = statistics.median(runs)
        print(f"median {label}: CPU {median:.2f} s = {median / args.pages * 1000:.2f} ms a page, "
              f"peak RSS {statistics.median(rss_mb[label]):.0f} MB")


if __name__ == "__main__":
    main()
