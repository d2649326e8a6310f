"""The one pipeline: hand each spider item to the store, on one writer thread.

A blocking SQLAlchemy write inside the event loop would stall the crawl, so writes go to a
single thread; each item is one transaction (all of an instrument's change, or none of it).
"""

from __future__ import annotations

import asyncio
import logging
import sys
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from scrapy.crawler import Crawler

from crawlers.extract import ExtractionError, extract_document
from crawlers.items import DocumentFetched, EntryPageSeen, FetchProblem, Gone, NotModified
from paradigms.classifier import classify_text
from storage.database import Store
from storage.queries import is_known
from storage.recorder import (
    Fetch,
    SourceInfo,
    record_document,
    record_dropped,
    record_entry_page,
    record_gone,
    record_not_modified,
    record_problem,
)

log = logging.getLogger(__name__)


class RecordPipeline:
    def __init__(self, crawler: Crawler) -> None:
        settings = crawler.settings
        self.crawler = crawler
        self.store = Store(settings.get("POLICYWATCH_DB") or None, upgrade=False)
        self.run_id: int | None = settings.getint("POLICYWATCH_RUN_ID") or None
        self.withdraw_after = settings.getint("POLICYWATCH_WITHDRAW_AFTER", 3)
        self.progress = settings.getbool("POLICYWATCH_PROGRESS")
        self.writer = ThreadPoolExecutor(max_workers=1, thread_name_prefix="store-writer")
        self.count = 0

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> RecordPipeline:
        return cls(crawler)

    def close_spider(self) -> None:
        self.writer.shutdown(wait=True)
        self.store.close()

    async def process_item(self, item: Any) -> Any:
        outcome = await asyncio.wrap_future(self.writer.submit(self.write, item))
        source_id = item.source_id
        self.crawler.stats.inc_value(f"policywatch/{source_id}/{outcome}")
        if self.progress and not isinstance(item, EntryPageSeen):
            self.count += 1
            url = getattr(item, "url", "") or ""
            width = max(map(len, self.crawler.spider.declared), default=0)
            print(f"[{self.count:>5}] {source_id:<{width}}  {outcome:<10} {url}", file=sys.stderr,
                  flush=True)
        return item

    def write(self, item: Any) -> str:
        try:
            with self.store.transaction() as session:
                return self._record(session, item)
        except Exception as exc:  # one bad document never stops the crawl
            log.exception("could not record %s", getattr(item, "url", item))
            with self.store.transaction() as session:
                record_problem(session, self.run_id, item.source_id, getattr(item, "url", None),
                               "invalid", f"could not record: {type(exc).__name__}: {exc}")
            return "error"

    def _record(self, session, item: Any) -> str:
        if isinstance(item, DocumentFetched):
            source = self.crawler.spider.declared[item.source_id]
            try:
                extracted = extract_document(item.body, item.headers.get("content-type"),
                                             source.extract, source.languages, item.url)
            except ExtractionError as exc:
                kind = "selector" if "selector" in str(exc) else "extraction"
                record_problem(session, self.run_id, item.source_id, item.url, kind, str(exc))
                return "error"
            info = SourceInfo(source.id, source.jurisdiction, source.level,
                              source.languages[0] if source.languages else None)
            fetch = Fetch(item.source_id, item.requested_url, item.url, item.status, item.headers,
                          item.body, item.instrument_id)
            if source.relevance == "auto" and not item.watched and \
                    not is_known(session, source.id, item.url):
                verdict = classify_text(extracted.text)
                if not verdict.relevant:
                    record_dropped(session, source.id, fetch, extracted.title, verdict.scores)
                    return "irrelevant"
            return record_document(session, self.run_id, info, fetch, extracted)
        if isinstance(item, NotModified):
            if item.instrument_id is None:
                return "irrelevant"
            return record_not_modified(session, self.run_id, item.instrument_id)
        if isinstance(item, Gone):
            return record_gone(session, self.run_id, item.instrument_id, item.status,
                               self.withdraw_after)
        if isinstance(item, FetchProblem):
            record_problem(session, self.run_id, item.source_id, item.url, item.kind, item.message,
                           severity=item.severity)
            return "error"
        if isinstance(item, EntryPageSeen):
            record_entry_page(session, item.source_id, item.url, item.headers, item.links,
                              item.next_url)
            return "entry-page"
        raise TypeError(f"unexpected item {type(item).__name__}")
