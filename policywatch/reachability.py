"""`sources check --online`: does each declared entry URL answer? (One GET each, in parallel.)"""

from __future__ import annotations

import urllib.error
import urllib.request
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor

from crawlers.catalogue import Source
from policywatch.config import CrawlSettings
from texts.vocabulary import user_agent


def _probe(url: str, crawl: CrawlSettings) -> str:
    request = urllib.request.Request(url, headers={
        "User-Agent": user_agent(crawl.contact)})
    try:
        with urllib.request.urlopen(request, timeout=min(crawl.timeout, 15)) as response:  # noqa: S310
            return f"HTTP {response.status}"
    except urllib.error.HTTPError as exc:
        return f"HTTP {exc.code}"
    except urllib.error.URLError as exc:
        return f"unreachable: {exc.reason}"
    except (TimeoutError, OSError) as exc:
        return f"unreachable: {exc}"


def check_entries(sources: list[Source], crawl: CrawlSettings) -> Iterator[tuple[str, str, str]]:
    """(source id, entry URL, verdict) for every entry, in declaration order."""
    pairs = [(source.id, entry.url) for source in sources for entry in source.entries]
    with ThreadPoolExecutor(max_workers=16) as pool:
        verdicts = pool.map(lambda pair: _probe(pair[1], crawl), pairs)
        for (source_id, url), verdict in zip(pairs, verdicts, strict=True):
            yield source_id, url, verdict
