"""Closing a crawl run from inside the crawl, for crawls started by someone else (a Scrapyd node).

In-process crawls (`policywatch crawl`) close their run themselves once Scrapy returns. A crawl
scheduled on a Scrapyd node has nobody waiting for it in its process, so with
`POLICYWATCH_FINISH_RUN` set this extension writes the per-source counts and the sources' health
when the spider closes; the daemon polling the node's job then finds the run finished.

`CloseStats` and `QuietLogFormatter` take the place of Scrapy's CoreStats and LogFormatter, doing
their work at the crawl's start and end and nothing per response that nobody reads.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from typing import Any

from scrapy import Request, Spider, signals
from scrapy.crawler import Crawler
from scrapy.exceptions import NotConfigured
from scrapy.http import Response
from scrapy.logformatter import LogFormatter, LogFormatterResult
from twisted.python.failure import Failure

from crawlers.outcomes import outcome_counts
from storage.database import Store
from storage.runs import finish_run


class FinishRun:
    def __init__(self, crawler: Crawler) -> None:
        settings = crawler.settings
        self.run_id = settings.getint("POLICYWATCH_RUN_ID")
        if not settings.getbool("POLICYWATCH_FINISH_RUN") or not self.run_id:
            raise NotConfigured
        self.crawler = crawler
        self.db_url = settings.get("POLICYWATCH_DB") or None
        crawler.signals.connect(self.spider_closed, signal=signals.spider_closed)

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> FinishRun:
        return cls(crawler)

    def spider_closed(self, spider, reason: str) -> None:
        counts = outcome_counts(self.crawler.stats.get_stats(), getattr(spider, "declared", {}))
        stats: dict[str, Any] = {source_id: dict(c) for source_id, c in counts.items()}
        if reason != "finished":
            stats["_closed"] = reason
        store = Store(self.db_url, upgrade=False)
        try:
            with store.transaction() as session:
                finish_run(session, self.run_id, stats)
        finally:
            store.close()


class CloseStats:
    """The stats of Scrapy's CoreStats that a crawl's end is judged by (`finish_reason`, with its
    start, finish and elapsed time), without CoreStats' two counters per response and per item
    (`response_received_count`, `item_scraped_count`): the outcomes are counted per source by
    the pipeline instead."""

    def __init__(self, crawler: Crawler) -> None:
        self.stats = crawler.stats
        self.started = datetime.now(tz=UTC)
        crawler.signals.connect(self.spider_opened, signal=signals.spider_opened)
        crawler.signals.connect(self.spider_closed, signal=signals.spider_closed)

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> CloseStats:
        return cls(crawler)

    def spider_opened(self, spider: Spider) -> None:
        self.started = datetime.now(tz=UTC)
        self.stats.set_value("start_time", self.started)

    def spider_closed(self, spider: Spider, reason: str) -> None:
        finished = datetime.now(tz=UTC)
        self.stats.set_value("elapsed_time_seconds", (finished - self.started).total_seconds())
        self.stats.set_value("finish_time", finished)
        self.stats.set_value("finish_reason", reason)


class QuietLogFormatter(LogFormatter):
    """Scrapy's log lines, with the two written for every response and every item ("Crawled",
    "Scraped from") not even built when their DEBUG level is off, as it is below LOG_LEVEL."""

    engine_log = logging.getLogger("scrapy.core.engine")
    scraper_log = logging.getLogger("scrapy.core.scraper")

    def crawled(self, request: Request, response: Response, spider: Spider) -> LogFormatterResult | None:  # type: ignore[override]
        if not self.engine_log.isEnabledFor(logging.DEBUG):
            return None
        return super().crawled(request, response, spider)

    def scraped(self, item: Any, response: Response | Failure | None,  # type: ignore[override]
                spider: Spider) -> LogFormatterResult | None:
        if not self.scraper_log.isEnabledFor(logging.DEBUG):
            return None
        return super().scraped(item, response, spider)
