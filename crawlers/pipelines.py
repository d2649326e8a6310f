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
changed page whose watched text is a sliver of what it shows gets a warning naming it. Besides its
wording, such a page is told by its likeness to the site's own error answers: the main text of
every real 404 or 410 the crawl meets (robots.txt's included, which comes before any page of its
host) is kept per host, in memory for the crawl, and a 200 page near-identical to one of them is
a soft 404. They are kept on the writer thread, in the order the answers came, so that a page is
compared with every error answer that came before it. On a re-check each is read (its main text
extracted) only when a new or changed page of its host is compared, or once UNREAD_ERROR_ANSWERS
of its host wait unread: a re-check that finds every page unchanged reads at most that few.

Each recorded item is announced with `crawlers.signals.item_recorded` (item, outcome), for whoever
reports progress; the pipeline itself only records and counts.

A fault of the store itself (damaged, busy past its timeout, read-only, full: `StoreError`) is
not a problem of one document: the pipeline records nothing more, keeps the fault's one line in
the crawl's stats (`STORE_FAULT`) and closes the spider, so that whoever started the crawl ends it
with that line. Every item recorded before it stays recorded, each in its own transaction.
"""

from __future__ import annotations

import asyncio
import logging
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from scrapy import signals
from scrapy.crawler import Crawler
from scrapy.http import Request, Response
from scrapy.utils.defer import deferred_from_coro
from sqlalchemy.orm import Session

from crawlers.catalogue import Source
from crawlers.decoding import decode_body
from crawlers.error_pages import (
    ErrorAnswer,
    ErrorPage,
    error_answer,
    error_page,
    fragment_text,
    like_error_answer,
    like_error_page,
)
from crawlers.errors import extraction_problem, recording_problem
from crawlers.extract import extract_with_block, is_html, is_pdf, unchanged_block
from crawlers.items import DocumentFetched, EntryPageSeen, FetchProblem, Gone, NotModified
from crawlers.main_content import Block
from crawlers.signals import item_recorded
from crawlers.spiders.declared import DeclaredSpider
from crawlers.visible_text import SHELL_WARNING, page_coverage_warning, page_is_script_shell
from paradigms.classifier import classify_text
from storage.blocks import remember_block, remembered_blocks
from storage.database import Store, StoreError
from storage.queries import KnownInstrument, is_known, same_text_warning
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

STORE_FAULT = "policywatch/store_fault"  # the stats key of a fault of the store, in one line
STORE_FAULT_REASON = "store fault"  # the spider's close reason then

ERROR_STATUSES = (404, 410)  # the answers whose bodies are a site's own error pages
LONGEST_ERROR_BODY = 512 * 1024  # bytes: a longer error answer is not read
ERROR_ANSWERS_PER_HOST = 16
UNREAD_ERROR_ANSWERS = 4  # per host: error answers kept unread until a page needs them (≤ 2 MB)
# Once this many items wait for the writer, it lags behind the downloads (a first crawl records
# a page in about 100 ms and downloads far more meanwhile): the downloader then runs at most
# LAGGING_DOWNLOADS at once until the writer has nothing left, so that pages are not held in
# memory only to wait their turn.
LAGGING_AT = 8
LAGGING_DOWNLOADS = 8


@dataclass(frozen=True)
class UnreadErrorAnswer:
    """A 404/410 with a body, kept as it came: its text is extracted only once a new or changed
    page of its host has to be compared with it (an unchanged page never is)."""

    url: str
    status: int
    body: bytes
    content_type: str | None
    languages: tuple[str, ...]


def error_host(url: str) -> str:
    """The host whose error answers a page is compared with (a `www.` twin the same host)."""
    return (urlsplit(url).hostname or "").removeprefix("www.")


def _error_answer_text(unread: UnreadErrorAnswer) -> str:
    """An error answer's main text ("" when it has none to read)."""
    try:
        text, _ = decode_body(unread.body, unread.content_type, unread.languages)
        if not is_html(text, None):  # no whole page (whatever its type says): its text
            return fragment_text(text)
        return extract_with_block(unread.body, unread.content_type, None, unread.languages,
                                  unread.url)[0].text
    except ExtractionError:
        return ""  # nothing to read: nothing to compare with
    except Exception:  # an error answer that cannot be read never costs the page compared with it
        log.exception("could not read the error answer of %s", unread.url)
        return ""


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
        self.fault: StoreError | None = None  # the store's fault, once met: nothing more is written
        self.closing: Any = None  # the spider's closing, once started on a fault
        self.error_answers: dict[str, list[ErrorAnswer]] = {}  # host → its 404/410s met so far
        self.unread_answers: dict[str, list[UnreadErrorAnswer]] = {}  # host → … not read yet
        self.waiting = 0  # items handed to the writer and not written yet
        self.lagging = False  # since LAGGING_AT waited, until none does
        self.downloads = settings.getint("CONCURRENT_REQUESTS")  # downloads at once, not lagging

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> RecordPipeline:
        pipeline = cls(crawler)
        crawler.signals.connect(pipeline.response_received, signal=signals.response_received)
        return pipeline

    def response_received(self, response: Response, request: Request, **_: Any) -> None:
        """Keep a real 404 or 410 with a body as an error answer of its host (on the writer
        thread, after the items that came before it)."""
        if response.status not in ERROR_STATUSES or not response.body or self.fault is not None \
                or len(response.body) > LONGEST_ERROR_BODY:
            return
        source = self.declared.get(request.meta.get("source", ""))
        languages = source.languages if source is not None else ()
        content_type = response.headers.get("Content-Type")
        self.writer.submit(self._keep_error_answer, UnreadErrorAnswer(
            response.url, response.status, response.body,
            content_type.decode("latin-1") if content_type else None, languages))

    def _keep_error_answer(self, unread: UnreadErrorAnswer) -> None:
        """Keep a host's error answer unread, until ERROR_ANSWERS_PER_HOST are kept. A first
        crawl (the store knows no instrument: every page is new) reads it at once, while the
        pages download."""
        host = error_host(unread.url)
        if len(self.error_answers.get(host, ())) >= ERROR_ANSWERS_PER_HOST:
            return
        waiting = self.unread_answers.setdefault(host, [])
        waiting.append(unread)
        if len(waiting) >= UNREAD_ERROR_ANSWERS or not self.known:
            self._read_error_answers(host)

    def _read_error_answers(self, host: str) -> list[ErrorAnswer]:
        """The host's error answers, those kept unread extracted now."""
        kept = self.error_answers.setdefault(host, [])
        for unread in self.unread_answers.pop(host, []):
            answer = error_answer(unread.url, unread.status, _error_answer_text(unread))
            if answer is not None and len(kept) < ERROR_ANSWERS_PER_HOST and \
                    all(answer.shingles != other.shingles for other in kept):
                kept.append(answer)
        return kept

    def open_spider(self) -> None:
        spider = self.crawler.spider
        assert isinstance(spider, DeclaredSpider), "the pipeline records the declared spider's items"
        self.declared = spider.declared
        self.known = {known.id: known for known in spider.known}
        with self.store.transaction() as session:
            self.blocks = {instrument_id: Block(row.path, row.markup_digest, row.digest)
                           for instrument_id, row in remembered_blocks(session, self.known).items()}

    def close_spider(self) -> None:
        try:
            if self.fault is None:
                self.writer.submit(self._write_checked).result()
        except StoreError as fault:
            self._note_fault(fault)
        finally:
            self.writer.shutdown(wait=True)
            self.store.close()

    def _note_fault(self, fault: StoreError) -> None:
        """Keep the store's first fault in the crawl's stats; nothing more is written."""
        if self.fault is None:
            self.fault = fault
            self.crawler.stats.set_value(STORE_FAULT, str(fault))

    def _stop_on_fault(self, fault: StoreError) -> None:
        """Keep the fault and close the spider (once): the crawl cannot record anything more."""
        first = self.fault is None
        self._note_fault(fault)
        engine = self.crawler.engine
        if first and engine is not None:
            self.closing = deferred_from_coro(engine.close_spider_async(reason=STORE_FAULT_REASON))

    def _write_checked(self) -> None:
        if self.checked or self.revalidated or self.new_blocks:
            with self.store.transaction() as session:
                record_checked(session, self.checked)
                record_revalidated(session, self.revalidated)
                for instrument_id, block in self.new_blocks.items():
                    remember_block(session, instrument_id, block)
            self.checked, self.revalidated, self.new_blocks = [], {}, {}

    async def process_item(self, item: Any) -> Any:
        if self.fault is not None:
            return item  # the crawl is closing on a fault of the store
        try:
            if isinstance(item, NotModified) and (known := self._settled(item.instrument_id)):
                self.checked.append(known.id)  # a 304 of a settled instrument: no writer round trip
                outcome = UNCHANGED
            else:
                self._pace(+1)
                try:
                    outcome = await asyncio.wrap_future(self.writer.submit(self.write, item))
                finally:
                    self._pace(-1)
        except StoreError as fault:
            self._stop_on_fault(fault)
            return item
        self.crawler.stats.inc_value(f"policywatch/{item.source_id}/{outcome}")
        self.crawler.signals.send_catch_log(signal=item_recorded, item=item, outcome=outcome)
        return item

    def _pace(self, change: int) -> None:
        """Count an item handed to the writer (+1) or written (-1); from LAGGING_AT waiting until
        none does, the downloader runs LAGGING_DOWNLOADS at once, otherwise all it may."""
        self.waiting += change
        lagging = self.waiting >= LAGGING_AT or (self.lagging and self.waiting > 0)
        engine = self.crawler.engine
        if lagging != self.lagging and engine is not None:
            engine.downloader.total_concurrency = LAGGING_DOWNLOADS if lagging else self.downloads
            self.lagging = lagging

    def write(self, item: Any) -> str:
        try:
            if isinstance(item, DocumentFetched):
                return self._write_document(item)
            if isinstance(item, NotModified) and (known := self._settled(item.instrument_id)):
                self.checked.append(known.id)
                return UNCHANGED
            with self.store.transaction() as session:
                return self._record(session, item)
        except StoreError:
            raise  # the store's own fault: the crawl stops (`process_item`)
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
        if not_instrument is None and isinstance(extracted, Extracted):
            not_instrument = self._like_error_answer(item, extracted)
        with self.store.transaction() as session:
            if not_instrument is not None:
                return self._record_error_page(session, item, not_instrument)
            outcome = self._record_document(session, item, extracted, block)
            if outcome in (NEW, AMENDED, RESTORED) and html is not None and \
                    isinstance(extracted, Extracted):
                self._check_coverage(session, item, html, extracted)
            if outcome in (NEW, AMENDED, RESTORED) and isinstance(extracted, Extracted):
                self._check_same_text(session, item, extracted)
            return outcome

    def _like_error_answer(self, item: DocumentFetched, extracted: Extracted) -> ErrorPage | None:
        """A soft 404: a page near-identical to an error answer its host gave earlier."""
        answers = self._read_error_answers(error_host(item.url))
        like = like_error_answer(extracted.text, answers) if answers else None
        return like_error_page(like) if like is not None else None

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

    def _check_same_text(self, session: Session, item: DocumentFetched,
                         extracted: Extracted) -> None:
        """A warning of the source when another of its instruments watches the same text."""
        warning = same_text_warning(session, item.source_id, item.url, text_hash(extracted.text))
        if warning is not None:
            record_problem(session, self.run_id, item.source_id, item.url, EXTRACTION,
                           f"“{extracted.title[:80]}”: {warning}", severity="warning")

    def _record_document(self, session: Session, item: DocumentFetched,
                         extracted: Extracted | ExtractionError, block: Block | None) -> str:
        """A 200 answer: an instrument's version, a document kept out as irrelevant, or a problem.
        A newly found document of a `relevance: auto` source is classified once, here."""
        if isinstance(extracted, ExtractionError):
            problem = extraction_problem(extracted)
            html = self._html(item) if problem.kind == EXTRACTION and \
                not isinstance(extracted, RefusedUnread) else None  # refused: parsed by nothing
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
            classification = classify_text(extracted.text, normalised=True)
            if not classification.relevant:
                record_dropped(session, source.id, fetch, extracted.title, classification.scores)
                return IRRELEVANT
        return record_document(session, self.run_id, info, fetch, extracted,
                               classification=classification, block=block, normalised=True)

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
