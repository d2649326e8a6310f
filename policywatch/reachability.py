"""`sources check --online`: does each declared entry URL answer? (One GET each, in parallel.)"""

from __future__ import annotations

from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor

from crawlers.catalogue import Source
from policywatch.config import CrawlSettings
from policywatch.fetch import probe


def check_entries(sources: list[Source], crawl: CrawlSettings) -> Iterator[tuple[str, str, str]]:
    """(source id, entry URL, verdict) for every entry, in declaration order."""
    pairs = [(source.id, entry.url) for source in sources for entry in source.entries]
    timeout = min(crawl.timeout, 15)
    with ThreadPoolExecutor(max_workers=16) as pool:
        verdicts = pool.map(lambda pair: probe(pair[1], timeout, crawl.contact), pairs)
        for (source_id, url), verdict in zip(pairs, verdicts, strict=True):
            yield source_id, url, verdict
