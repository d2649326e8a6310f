"""The one pipeline: hand each spider item to the store, on one writer thread.

A blocking SQLAlchemy write inside the event loop would stall the crawl, so writes go to a
single thread; each item is one transaction (all of an instrument's change, or none of it).

The steady state is a re-check in which almost nothing changed, so an unchanged instrument
costs no transaction: a 304, or a page whose main text hashes as before with the same validators,
of an instrument that is active and answering, is only remembered, and the time of all those
checks is written at once when the crawl closes.

Each recorded item is announced with `crawlers.signals.item_recorded` (item, outcome), for whoever
reports progress; the pipeline itself only records and counts.
"""

from __future__ import annotations

import asyncio
import logging
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from scrapy.crawler import Crawler
from sqlalchemy.orm import Session

from crawlers.catalogue import Source
from crawlers.errors import extraction_problem, recording_problem
from crawlers.extract import extract_document
from crawlers.items import DocumentFetched, EntryPageSeen, FetchProblem, Gone, NotModified
from crawlers.signals import item_recorded
from crawlers.spiders.declared import DeclaredSpider
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
from texts.vocabulary import ERROR, IRRELEVANT, UNCHANGED, WITHDRAW_AFTER

log = logging.getLogger(__name__)


class RecordPipeline:
    def __init__(self, crawler: Crawler) -> None:
        settings = crawler.settings
        self.crawler = crawler
        self.store = Store(settings.get("POLICYWATCH_DB") or None, upgrade=False)
        self.run_id: int | None = settings.getint("POLICYWATCH_RUN_ID") or None
        self.withdraw_after = settings.getint("POLICYWATCH_WITHDRAW_AFTER", WITHDRAW_AFTER)
        self.writer = ThreadPoolExecutor(max_workers=1, thread_name_prefix="store-writer")
        self.declared: dict[str, Source] = {}
        self.known: dict[int, KnownInstrument] = {}  # what the store knew when the crawl started
        self.checked: list[int] = []  # instruments found unchanged, written at close

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> RecordPipeline:
        return cls(crawler)

    def open_spider(self) -> None:
        spider = self.crawler.spider
        assert isinstance(spider, DeclaredSpider), "the pipeline records the declared spider's items"
        self.declared = spider.declared
        self.known = {known.id: known for known in spider.known}

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
        self.crawler.stats.inc_value(f"policywatch/{item.source_id}/{outcome}")
        self.crawler.signals.send_catch_log(signal=item_recorded, item=item, outcome=outcome)
        return item

    def write(self, item: Any) -> str:
        try:
            if isinstance(item, DocumentFetched):
                extracted = self._extract(item)
                if self._unchanged(item, extracted):
                    return UNCHANGED
                with self.store.transaction() as session:
                    return self._record_document(session, item, extracted)
            if isinstance(item, NotModified) and (known := self._settled(item.instrument_id)):
                self.checked.append(known.id)
                return UNCHANGED
            with self.store.transaction() as session:
                return self._record(session, item)
        except Exception as exc:  # one bad document never stops the crawl
            log.exception("could not record %s", getattr(item, "url", item))
            problem = recording_problem(exc)
            with self.store.transaction() as session:
                record_problem(session, self.run_id, item.source_id, getattr(item, "url", None),
                               problem.kind, problem.message)
            return ERROR

    def _settled(self, instrument_id: int | None) -> KnownInstrument | None:
        """What the store knew of an instrument that is active and answering, if it is one."""
        known = self.known.get(instrument_id) if instrument_id is not None else None
        return known if known is not None and known.settled else None

    def _extract(self, item: DocumentFetched) -> Extracted | ExtractionError:
        source = self.declared[item.source_id]
        try:
            return extract_document(item.body, item.headers.get("content-type"), source.extract,
                                    source.languages, item.url)
        except ExtractionError as exc:
            return exc

    def _unchanged(self, item: DocumentFetched, extracted: Extracted | ExtractionError) -> bool:
        """The same text at the same URL with the same validators, of a settled instrument: only
        the time of the check is written, with the others at close."""
        known = self._settled(item.instrument_id)
        if known is None or isinstance(extracted, ExtractionError) or item.url != known.url or \
                text_hash(extracted.text) != known.current_hash or \
                validators(item.headers) != (known.etag, known.last_modified):
            return False
        self.checked.append(known.id)
        return True

    def _record_document(self, session: Session, item: DocumentFetched,
                         extracted: Extracted | ExtractionError) -> str:
        """A 200 answer: an instrument's version, a document kept out as irrelevant, or a problem.
        A newly found document of a `relevance: auto` source is classified once, here."""
        if isinstance(extracted, ExtractionError):
            problem = extraction_problem(extracted)
            record_problem(session, self.run_id, item.source_id, item.url, problem.kind,
                           problem.message)
            return ERROR
        source = self.declared[item.source_id]
        info = SourceInfo(source.id, source.jurisdiction, source.level,
                          source.languages[0] if source.languages else None)
        fetch = Fetch(item.source_id, item.requested_url, item.url, item.status, item.headers,
                      item.body, item.instrument_id)
        classification = None
        if source.relevance == "auto" and not item.watched and \
                not is_known(session, source.id, item.url):
            classification = classify_text(extracted.text)
            if not classification.relevant:
                record_dropped(session, source.id, fetch, extracted.title, classification.scores)
                return IRRELEVANT
        return record_document(session, self.run_id, info, fetch, extracted,
                               classification=classification)

    def _record(self, session: Session, item: Any) -> str:
        if isinstance(item, NotModified):
            if item.instrument_id is None:
                return IRRELEVANT
            return record_not_modified(session, self.run_id, item.instrument_id)
        if isinstance(item, Gone):
            return record_gone(session, self.run_id, item.instrument_id, item.status,
                               self.withdraw_after)
        if isinstance(item, FetchProblem):
            record_problem(session, self.run_id, item.source_id, item.url, item.kind, item.message,
                           severity=item.severity)
            return ERROR
        if isinstance(item, EntryPageSeen):
            record_entry_page(session, item.source_id, item.url, item.headers, item.links,
                              item.next_url)
            return "entry-page"
        raise TypeError(f"unexpected item {type(item).__name__}")
