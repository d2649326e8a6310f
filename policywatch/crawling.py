"""One check cycle: the selected sources crawled once by the declared spider, in this process."""

from __future__ import annotations

import gc
import logging
import os
import socket
import threading
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

# First of the crawl's imports, on purpose: Scrapy's TLS context factory names its deprecated
# classes' module from `inspect.stack()`, which reads every frame's source and, for each frame of
# the import machinery, walks every loaded module. Imported here, before SQLAlchemy, pydantic and
# the project's modules and under fewer frames, that costs about 0.2 s of CPU less per crawl.
import scrapy.core.downloader.contextfactory  # noqa: F401
from scrapy.crawler import CrawlerProcess
from scrapy.settings import Settings
from sqlalchemy import select

from crawlers import settings as crawler_settings
from crawlers.catalogue import Source
from crawlers.outcomes import outcome_counts
from crawlers.pipelines import STORE_FAULT
from crawlers.spiders.declared import DeclaredSpider
from policywatch.config import CrawlSettings
from storage.database import Store, StoreError
from storage.models import CrawlRun, Problem, utcnow
from storage.runs import finish_run, record_problem, start_run, upsert_source
from texts.vocabulary import user_agent


@dataclass
class CrawlSummary:
    run_id: int
    per_source: dict[str, Counter] = field(default_factory=dict)
    problems: list[tuple[str, str, str, str]] = field(default_factory=list)  # source, kind, url, msg
    interrupted: bool = False  # stopped by SIGINT/SIGTERM before every source was checked

    @property
    def failed_sources(self) -> list[str]:
        """The sources whose check met an error."""
        return [sid for sid, counts in self.per_source.items() if counts.get("error")]


def crawl_overrides(crawl: CrawlSettings, db_url: str, run_id: int, progress: bool) -> dict:
    """The settings a crawl takes from the configuration and the run (also sent to Scrapyd)."""
    return {
        "USER_AGENT": user_agent(crawl.contact),
        "DOWNLOAD_TIMEOUT": crawl.timeout,
        "DOWNLOAD_MAXSIZE": int(crawl.max_download_mb * 1024 * 1024),
        "CONCURRENT_REQUESTS_PER_DOMAIN": crawl.per_host,
        "POLICYWATCH_RETRY_AFTER_MAX": crawl.retry_after_max,
        "POLICYWATCH_DB": db_url,
        "POLICYWATCH_RUN_ID": run_id,
        "POLICYWATCH_WITHDRAW_AFTER": crawl.withdraw_after,
        "POLICYWATCH_PROGRESS": progress,
    }


def scrapy_settings(crawl: CrawlSettings, db_url: str, run_id: int, progress: bool) -> Settings:
    settings = Settings()
    settings.setmodule(crawler_settings, priority="project")
    settings.setdict(crawl_overrides(crawl, db_url, run_id, progress), priority="cmdline")
    return settings


def unresolvable_hosts(hosts: set[str], wait: float = 8.0) -> set[str]:
    """Hosts whose names do not resolve (looked up in parallel, `wait` seconds at most).

    Without network every lookup fails at once; checking first keeps such a crawl to seconds
    instead of a download timeout (and retries) per source. A lookup still pending at the end
    counts as resolved, unless no name resolved at all: then there is no network and every host
    is unresolvable. Behind a proxy the proxy resolves names, so nothing is skipped."""
    if any(os.environ.get(name) for name in ("HTTP_PROXY", "HTTPS_PROXY", "http_proxy", "https_proxy")):
        return set()
    failed: set[str] = set()
    resolved: set[str] = set()

    def lookup(host: str) -> None:
        try:
            socket.getaddrinfo(host, None)
        except (socket.gaierror, UnicodeError):
            failed.add(host)
        else:
            resolved.add(host)

    threads = [threading.Thread(target=lookup, args=(host,), daemon=True) for host in hosts]
    for thread in threads:
        thread.start()
    deadline = time.monotonic() + wait
    for thread in threads:
        thread.join(max(0.0, deadline - time.monotonic()))
    return set(hosts) if failed and not resolved else set(failed)


def unresolved_notice(hosts: set[str], unresolved: set[str], skipped: list[str]) -> str | None:
    """What to say about the names that did not resolve: once for the whole crawl when none did
    (no network), else which sources are skipped; None when every name resolved."""
    if hosts and unresolved >= hosts:
        return f"no network: none of {len(hosts)} host(s) could be resolved"
    if skipped:
        return f"host names not resolved (DNS), skipped: {', '.join(skipped)}"
    return None


def _skip_unresolvable(store: Store, run_id: int, sources: list[Source],
                       say: Callable[[str], None]) -> list[Source]:
    """Record a DNS failure for sources none of whose hosts resolve, say so once, and return the
    others."""
    hosts = {host for source in sources for host in source.hosts}
    unresolved = unresolvable_hosts(hosts)
    reachable, skipped = [], []
    with store.transaction() as session:
        for source in sources:
            if source.hosts and source.hosts <= unresolved:
                skipped.append(source.id)
                for entry in source.entries:
                    record_problem(session, run_id, source.id, entry.url, "transient",
                                   "host name could not be resolved (DNS)")
            else:
                reachable.append(source)
    notice = unresolved_notice(hosts, unresolved, skipped)
    if notice:
        say(notice)
    return reachable


def _crawl_reachable(store: Store, run_id: int, reachable: list[Source], crawl: CrawlSettings,
                     progress: bool) -> dict:
    """Run the declared spider over `reachable`; its stats (`finish_reason` says whether it
    ended or was shut down by a signal, which Scrapy handles: the first one closes the spider
    cleanly)."""
    process = CrawlerProcess(scrapy_settings(crawl, store.url, run_id, progress))
    # An unreachable host fails its robots.txt too; the page's own failure is what we
    # report, once per source, instead of a traceback per host.
    logging.getLogger("scrapy.downloadermiddlewares.robotstxt").setLevel(logging.CRITICAL)
    # Scrapy logs every response at DEBUG; below the configured level those records are only
    # built to be dropped, which costs CPU per response.
    logging.getLogger("scrapy").setLevel(process.settings.get("LOG_LEVEL"))
    crawler = process.create_crawler(DeclaredSpider)
    process.crawl(crawler, sources=reachable, db=store.url)
    # What is alive now (imported modules, the catalogue, settings: about 100 MB) lives as long
    # as the crawl: kept out of the cyclic collector's full passes, which would otherwise walk it
    # again and again (5 % of a first crawl's CPU, 12 % of a re-check's: bench/README.md). The
    # collector runs during the crawl even when the caller paused it for the start-up (`policywatch
    # crawl` does), and is left as it was.
    gc.freeze()
    collecting = gc.isenabled()
    gc.enable()
    try:
        process.start()
    finally:
        gc.unfreeze()
        if not collecting:
            gc.disable()
    return crawler.stats.get_stats() if crawler.stats else {}


def run_crawl(store: Store, sources: list[Source], files: dict[str, str],
              source_paths: list[Path] | None, crawl: CrawlSettings,
              progress: bool = True, say: Callable[[str], None] | None = None) -> CrawlSummary:
    """Crawl `sources` once, record everything, and update their health.

    The spider is handed the loaded sources; `source_paths` (where they were read from) is
    accepted for callers that pass it and not needed. `say` receives the one-line notices for
    whoever watches (names that did not resolve). A crawl stopped by a signal (Ctrl-C) is
    recorded as `interrupted`, with what it did so far and without judging the sources' health;
    the summary says so. A fault of the store met during the crawl (damaged, busy, read-only,
    full) stops it and is raised as that fault's StoreError, once Scrapy has stopped: what was
    recorded before it stays, and the run, which the store could not close, is found interrupted
    by the next crawl, as a killed one is."""
    with store.transaction() as session:
        for source in sources:
            upsert_source(session, id=source.id, name=source.name,
                          jurisdiction=source.jurisdiction, level=source.level,
                          declaration_file=files.get(source.id))
        run_id = start_run(session, [s.id for s in sources], os.getpid())

    stats: dict = {}
    reachable = list(sources)
    try:
        reachable = _skip_unresolvable(store, run_id, sources, say or (lambda _: None))
        if reachable:
            stats = _crawl_reachable(store, run_id, reachable, crawl, progress)
        interrupted = bool(reachable) and stats.get("finish_reason") != "finished"
    except KeyboardInterrupt:  # before Scrapy took over the signal, or after it let go
        interrupted = True
    if stats.get(STORE_FAULT):
        raise StoreError(stats[STORE_FAULT])
    for source in sources:
        if source not in reachable:
            stats[f"policywatch/{source.id}/error"] = 1
    summary = CrawlSummary(run_id, outcome_counts(stats, [s.id for s in sources]),
                           interrupted=interrupted)
    counts = {sid: dict(c) for sid, c in summary.per_source.items()}
    with store.transaction() as session:
        if interrupted:
            _close_interrupted(session.get(CrawlRun, run_id), counts)
        else:
            finish_run(session, run_id, counts)
        for problem in session.scalars(select(Problem).where(Problem.run_id == run_id)
                                       .order_by(Problem.id)):
            summary.problems.append((problem.source_id, problem.kind, problem.url or "",
                                     problem.message))
    return summary


def _close_interrupted(run: CrawlRun | None, counts: dict[str, dict[str, int]]) -> None:
    """Close a run stopped before its end: what it did is kept, the sources' health is not
    judged on a partial check."""
    if run is not None:
        run.status, run.finished_at, run.stats = "interrupted", utcnow(), counts
