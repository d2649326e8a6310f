"""What a crawl did per source, read from the crawler's stats (`policywatch/<source>/<outcome>`),
and the collector that keeps them."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable

from scrapy.statscollectors import MemoryStatsCollector

from texts.vocabulary import OUTCOMES


def outcome_counts(stats: dict, source_ids: Iterable[str]) -> dict[str, Counter]:
    """source id → Counter of outcomes, zeros included."""
    return {source_id: Counter({outcome: stats.get(f"policywatch/{source_id}/{outcome}", 0)
                                for outcome in OUTCOMES})
            for source_id in source_ids}


class CrawlStats(MemoryStatsCollector):
    """Scrapy's in-memory stats, read and written without a wrapper per call.

    Scrapy 2.19 routes every attribute of its stats collector through `__getattribute__`, which
    wraps each method to warn about a `spider` argument; the crawl counts several stats per
    request (scheduler, outcomes), and nobody here passes that argument. The methods, their
    arguments and the stats are Scrapy's own.
    """

    __getattribute__ = object.__getattribute__
