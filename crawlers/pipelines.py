"""The one pipeline: hand each spider item to the store, on one writer thread.

A blocking SQLAlchemy write inside the event loop would stall the crawl, so writes go to a
single thread; each item is one transaction (all of an instrument's change, or none of it).

The steady state is a re-check in which almost nothing changed, so an unchanged instrument
costs no transaction: a 304, or a page whose main text hashes as before, of an instrument that is
active and answering, is only remembered, and the time of all those checks (with any new
validators and blocks) is written at once when the crawl closes. Nor does it cost a full
extraction: when the element its text was found in last time (its remembered block) is still on
the page with the same text, the page is unchanged without detecting its main text again.

A 200 answer that is not the instrument (a soft 404, a maintenance page, a login wall, a bot
challenge: `crawlers.error_pages`) is a problem of the source's health, never a version; a new or
changed page whose watched text is a sliver of what it shows gets a warning naming it.

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
from crawlers.decoding import decode_body
from crawlers.error_pages import ErrorPage, error_page
from crawlers.errors import extraction_problem, recording_problem
from crawlers.extract import extract_with_block, is_html, is_pdf, unchanged_block
from crawlers.items import DocumentFetched, EntryPageSeen, FetchProblem, Gone, NotModified
from crawlers.main_content import Block
from crawlers.signals import item_recorded
from crawlers.spiders.declared import DeclaredSpider
from crawlers.visible_text import SHELL_WARNING, page_coverage_warning, page_is_script_shell
from paradigms.classifier import classify_text
from storage.blocks import remember_block, remembered_blocks
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
    record_revalidated,
    validators,
)
from texts.document import Extracted, ExtractionError, RefusedUnread
from texts.normalise import text_hash
from texts.vocabulary import (
    AMENDED,
    ERROR,
    EXTRACTION,
    GONE,
    IRRELEVANT,
    NEW,
    RESTORED,
    UNCHANGED,
    WITHDRAW_AFTER,
)

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
        self.blocks: dict[int, Block] = {}  # where each known instrument's text was found
        self.checked: list[int] = []  # instruments found unchanged, written at close
        self.revalidated: dict[int, tuple[str | None, str | None]] = {}  # … with new validators
        self.new_blocks: dict[int, Block | None] = {}  # … whose text was found in another block

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> RecordPipeline:
        return cls(crawler)

    def open_spider(self) -> None:
        spider = self.crawler.spider
        assert isinstance(spider, DeclaredSpider), "the pipeline records the declared spider's items"
        self.declared = spider.declared
        self.known = {known.id: known for known in spider.known}
        with self.store.transaction() as session:
            self.blocks = {instrument_id: Block(row.path, row.markup_digest, row.digest)
                           for instrument_id, row in remembered_blocks(session, self.known).items()}

    def close_spider(self) -> None:
        self.writer.submit(self._write_checked).result()
        self.writer.shutdown(wait=True)
        self.store.close()

    def _write_checked(self) -> None:
        if self.checked or self.revalidated or self.new_blocks:
            with self.store.transaction() as session:
                record_checked(session, self.checked)
                record_revalidated(session, self.revalidated)
                for instrument_id, block in self.new_blocks.items():
                    remember_block(session, instrument_id, block)
            self.checked, self.revalidated, self.new_blocks = [], {}, {}

    async def process_item(self, item: Any) -> Any:
        outcome = await asyncio.wrap_future(self.writer.submit(self.write, item))
        self.crawler.stats.inc_value(f"policywatch/{item.source_id}/{outcome}")
        self.crawler.signals.send_catch_log(signal=item_recorded, item=item, outcome=outcome)
        return item

    def write(self, item: Any) -> str:
        try:
            if isinstance(item, DocumentFetched):
                return self._write_document(item)
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

    def _write_document(self, item: DocumentFetched) -> str:
        """A 200 answer: unchanged (cheaply when its remembered block is still there), an error
        page, or a document to record."""
        known = self._settled(item.instrument_id)
        if known is not None and item.url == known.url and self._block_unchanged(item, known):
            self._note_unchanged(item, known)
            return UNCHANGED
        extracted, block = self._extract(item)
        if known is not None and item.url == known.url and not isinstance(extracted, ExtractionError) \
                and text_hash(extracted.text) == known.current_hash:
            self._note_unchanged(item, known)
            if self.blocks.get(known.id) != block:
                self.new_blocks[known.id] = block
            return UNCHANGED
        # A page refused unread (nested too deep) is parsed by nothing else either.
        html = None if isinstance(extracted, RefusedUnread) else self._html(item)
        not_instrument = error_page(html) if html is not None else None
        with self.store.transaction() as session:
            if not_instrument is not None:
                return self._record_error_page(session, item, not_instrument)
            outcome = self._record_document(session, item, extracted, block)
            if outcome in (NEW, AMENDED, RESTORED) and html is not None and \
                    isinstance(extracted, Extracted):
                self._check_coverage(session, item, html, extracted)
            return outcome

    def _block_unchanged(self, item: DocumentFetched, known: KnownInstrument) -> bool:
        """Whether the element the instrument's text was found in last time is still on the page
        with the same text (never for a declared selector, which extraction reads directly)."""
        block = self.blocks.get(known.id)
        source = self.declared[item.source_id]
        return block is not None and not source.extract.content and \
            unchanged_block(item.body, item.headers.get("content-type"), block, source.languages)

    def _note_unchanged(self, item: DocumentFetched, known: KnownInstrument) -> None:
        """Remember an unchanged check, written with the others when the crawl closes."""
        answered = validators(item.headers)
        if answered == (known.etag, known.last_modified):
            self.checked.append(known.id)
        else:
            self.revalidated[known.id] = answered

    def _extract(self, item: DocumentFetched) -> tuple[Extracted | ExtractionError, Block | None]:
        source = self.declared[item.source_id]
        try:
            return extract_with_block(item.body, item.headers.get("content-type"), source.extract,
                                      source.languages, item.url)
        except ExtractionError as exc:
            return exc, None

    def _html(self, item: DocumentFetched) -> str | None:
        """The page's markup, decoded, when the answer is an HTML page."""
        content_type = item.headers.get("content-type")
        if is_pdf(item.body, content_type):
            return None
        text, _ = decode_body(item.body, content_type, self.declared[item.source_id].languages)
        return text if is_html(text, content_type) else None

    def _record_error_page(self, session: Session, item: DocumentFetched, page: ErrorPage) -> str:
        """A 200 answer that is not the instrument: a soft 404 of a known instrument counts
        towards its withdrawal like a 404; anything else is a problem of the source's health."""
        if page.kind.problem == GONE and item.instrument_id is not None:
            return record_gone(session, self.run_id, item.instrument_id, item.status,
                               self.withdraw_after, reason=page.message)
        severity = "warning" if page.kind.problem == GONE else "error"  # a dead link, as a 404
        record_problem(session, self.run_id, item.source_id, item.url, page.kind.problem,
                       page.message, severity=severity)
        return GONE if page.kind.problem == GONE else ERROR

    def _check_coverage(self, session: Session, item: DocumentFetched, html: str,
                        extracted: Extracted) -> None:
        """A warning of the source when the text recorded is a sliver of what the page shows."""
        warning = page_coverage_warning(html, extracted.text)
        if warning is not None:
            record_problem(session, self.run_id, item.source_id, item.url, EXTRACTION,
                           f"“{extracted.title[:80]}”: {warning}", severity="warning")

    def _record_document(self, session: Session, item: DocumentFetched,
                         extracted: Extracted | ExtractionError, block: Block | None) -> str:
        """A 200 answer: an instrument's version, a document kept out as irrelevant, or a problem.
        A newly found document of a `relevance: auto` source is classified once, here."""
        if isinstance(extracted, ExtractionError):
            problem = extraction_problem(extracted)
            html = self._html(item) if problem.kind == EXTRACTION else None
            message = SHELL_WARNING if html is not None and page_is_script_shell(html) \
                else problem.message
            record_problem(session, self.run_id, item.source_id, item.url, problem.kind, message)
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
                               classification=classification, block=block)

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
