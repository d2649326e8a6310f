"""Progress of a crawl on standard error: one line per recorded answer (`POLICYWATCH_PROGRESS`).

`policywatch crawl` shows it; crawls nobody watches (the daemon's, a Scrapyd node's) leave it off.
Each line is the answer's number, its source, its outcome and its URL; entry pages are not counted.
"""

from __future__ import annotations

import sys
from typing import Any

from scrapy import Spider, signals
from scrapy.crawler import Crawler
from scrapy.exceptions import NotConfigured

from crawlers.items import EntryPageSeen
from crawlers.signals import item_recorded


class Progress:
    def __init__(self, crawler: Crawler) -> None:
        if not crawler.settings.getbool("POLICYWATCH_PROGRESS"):
            raise NotConfigured
        self.count = 0
        self.width = 0  # of the longest source id, to align the columns
        crawler.signals.connect(self.spider_opened, signal=signals.spider_opened)
        crawler.signals.connect(self.item_recorded, signal=item_recorded)

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Progress:
        return cls(crawler)

    def spider_opened(self, spider: Spider) -> None:
        self.width = max(map(len, getattr(spider, "declared", ())), default=0)

    def item_recorded(self, item: Any, outcome: str) -> None:
        if isinstance(item, EntryPageSeen):
            return
        self.count += 1
        url = getattr(item, "url", "") or ""
        print(f"[{self.count:>5}] {item.source_id:<{self.width}}  {outcome:<10} {url}",
              file=sys.stderr, flush=True)
