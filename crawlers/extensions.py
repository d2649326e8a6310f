"""Closing a crawl run from inside the crawl, for crawls started by someone else (a Scrapyd node).

In-process crawls (`policywatch crawl`) close their run themselves once Scrapy returns. A crawl
scheduled on a Scrapyd node has nobody waiting for it in its process, so with
`POLICYWATCH_FINISH_RUN` set this extension writes the per-source counts and the sources' health
when the spider closes; the daemon polling the node's job then finds the run finished.
"""

from __future__ import annotations

from typing import Any

from scrapy import signals
from scrapy.crawler import Crawler
from scrapy.exceptions import NotConfigured

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
