"""The one pipeline: hand each spider item to the store, on one writer thread.

A blocking SQLAlchemy write inside the event loop would stall the crawl, so writes go to a
single thread; each item is one transaction (all of an instrument's change, or none of it).

The steady state is a re-check in which almost nothing changed, so an unchanged instrument
costs no transaction: a 304, or a page whose main text hashes as before with the same validators,
of an instrument that is active and answering, is only remembered, and the time of all those
checks is written at once when the crawl closes.
"""

from __future__ import annotations

import asyncio
import logging
import sys
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from scrapy.crawler import Crawler

from crawlers.extract import extract_document
from crawlers.items import DocumentFetched, EntryPageSeen, FetchProblem, Gone, NotModified
from paradigms.classifier import classify_text
from storage.database import Store
from storage.queries import KnownInstrument, is_known
from storage.runs import record_problem
from storage.versions import (
    Fetch,
    SourceInfo,
    record_checked,
    record_document,
    record_dropped,
    record_entry_page,
    record_gone,
    record_not_modified,
    validators,
)
from texts.document import Extracted, ExtractionError
from texts.normalise import text_hash
from texts.vocabulary import WITHDRAW_AFTER

log = logging.getLogger(__name__)


class RecordPipeline:
    def __init__(self, crawler: Crawler) -> None:
        settings = crawler.settings
        self.crawler = crawler
        self.store = Store(settings.get("POLICYWATCH_DB") or None, upgrade=False)
        self.run_id: int | None = settings.getint("POLICYWATCH_RUN_ID") or None
        self.withdraw_after = settings.getint("POLICYWATCH_WITHDRAW_AFTER", WITHDRAW_AFTER)
        self.progress = settings.getbool("POLICYWATCH_PROGRESS")
        self.writer = ThreadPoolExecutor(max_workers=1, thread_name_prefix="store-writer")
        self.count = 0
        self.known: dict[int, KnownInstrument] | None = None  # from the spider, on first use
        self.checked: list[int] = []  # instruments found unchanged, written at close

    def _known(self, instrument_id: int | None) -> KnownInstrument | None:
        """What the store knew of an instrument when the crawl started."""
        if self.known is None:
            self.known = {k.id: k for k in getattr(self.crawler.spider, "known", [])}
        return self.known.get(instrument_id) if instrument_id is not None else None

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> RecordPipeline:
        return cls(crawler)

    def close_spider(self) -> None:
        self.writer.submit(self._write_checked).result()
        self.writer.shutdown(wait=True)
        self.store.close()

    def _write_checked(self) -> None:
        if self.checked:
            with self.store.transaction() as session:
                record_checked(session, self.checked)
            self.checked = []

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
            extracted = None
            if isinstance(item, DocumentFetched):
                extracted = self._extract(item)
                if self._unchanged(item, extracted):
                    return "unchanged"
            elif isinstance(item, NotModified):
                known = self._known(item.instrument_id)
                if known is not None and known.settled:
                    self.checked.append(known.id)
                    return "unchanged"
            with self.store.transaction() as session:
                return self._record(session, item, extracted)
        except Exception as exc:  # one bad document never stops the crawl
            log.exception("could not record %s", getattr(item, "url", item))
            with self.store.transaction() as session:
                record_problem(session, self.run_id, item.source_id, getattr(item, "url", None),
                               "invalid", f"could not record: {type(exc).__name__}: {exc}")
            return "error"

    def _extract(self, item: DocumentFetched) -> Extracted | ExtractionError:
        source = self.crawler.spider.declared[item.source_id]
        try:
            return extract_document(item.body, item.headers.get("content-type"), source.extract,
                                    source.languages, item.url)
        except ExtractionError as exc:
            return exc

    def _unchanged(self, item: DocumentFetched, extracted: Extracted | ExtractionError) -> bool:
        """The same text at the same URL with the same validators, of a settled instrument."""
        known = self._known(item.instrument_id)
        if known is None or not known.settled or isinstance(extracted, ExtractionError) or \
                item.url != known.url or text_hash(extracted.text) != known.current_hash:
            return False
        if validators(item.headers) != (known.etag, known.last_modified):
            return False
        self.checked.append(known.id)
        return True

    def _record(self, session, item: Any, extracted: Extracted | ExtractionError | None) -> str:
        if isinstance(item, DocumentFetched):
            source = self.crawler.spider.declared[item.source_id]
            if isinstance(extracted, ExtractionError):
                kind = "selector" if "selector" in str(extracted) else "extraction"
                record_problem(session, self.run_id, item.source_id, item.url, kind, str(extracted))
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
