"""The declared spider: one generic spider for every source declaration.

A cycle has two phases. First every known instrument URL is re-checked directly with a
conditional request (so an instrument that fell off page 1 of a listing is not lost, and an
unchanged page costs a 304). When those answers are in, the declared entries (listings, feeds,
sitemaps, documents) are read for instruments not seen before. Doing the re-checks first lets the
recorder recognise a page that moved: its old URL has already answered 404 when the new one appears.

Redirects are followed (each hop checked by `crawlers.middlewares`). A document reached through
permanent redirects (301, 308) lives at their end, so a known instrument moves there once; a
temporary redirect leaves it at the URL asked for.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import Any

import scrapy
from scrapy import Request, signals
from scrapy.crawler import Crawler
from scrapy.exceptions import DontCloseSpider
from scrapy.http import Response
from twisted.python.failure import Failure

from crawlers.browser import RENDERED, BrowserMissing
from crawlers.catalogue import Entry, Source, sources_from_json
from crawlers.decoding import decode_body
from crawlers.errors import Limits, Problem, failure_problem, status_problem
from crawlers.hosts import Origin
from crawlers.items import DocumentFetched, EntryPageSeen, FetchProblem, Gone, NotModified
from crawlers.links import FeedError, feed_links, keep_links, listing_links, next_page, sitemap_links
from crawlers.middlewares import PERMANENT_REDIRECTS, first_url
from storage.database import Store
from storage.models import EntryPage
from storage.queries import dropped_validators, entry_page_cache, known_instruments
from texts.vocabulary import GONE, INVALID, SELECTOR


@dataclass(frozen=True)
class EntryLinks:
    """Where an entry page leads: instrument URLs, and further pages of the same entry."""

    documents: list[str]
    pages: list[str]  # a listing's next page, the sitemaps of a sitemap index
    cacheable: bool = True  # kept for a 304 next time; a sitemap index is small and read whole

    @classmethod
    def cached(cls, page: EntryPage) -> EntryLinks:
        return cls(list(page.links), [page.next_url] if page.next_url else [])


def read_listing(response: Response, source: Source, entry: Entry) -> EntryLinks | Problem:
    content_type = (response.headers.get("Content-Type") or b"").decode("latin-1")
    html = decode_body(response.body, content_type, source.languages)[0]
    found = listing_links(html, response.url, entry.links or "a")
    if found is None:
        return Problem(SELECTOR, f"listing selector {entry.links!r} matched nothing")
    next_url = next_page(html, response.url, entry.next)
    return EntryLinks(keep_links(found, source.origins, entry.follow), [next_url] if next_url else [])


def read_feed(response: Response, source: Source, entry: Entry) -> EntryLinks | Problem:
    try:
        links = feed_links(response.body, response.url)
    except FeedError as exc:
        return Problem(INVALID, f"feed: {exc}")
    return EntryLinks(keep_links(links, source.origins, entry.follow), [])


def read_sitemap(response: Response, source: Source, entry: Entry) -> EntryLinks | Problem:
    try:
        pages, nested = sitemap_links(response.body, response.url)
    except FeedError as exc:
        return Problem(INVALID, f"sitemap: {exc}")
    nested = keep_links(nested, source.origins, None)
    return EntryLinks(keep_links(pages, source.origins, entry.follow), nested, cacheable=not nested)


ENTRY_READERS: dict[str, Callable[[Response, Source, Entry], EntryLinks | Problem]] = {
    "listing": read_listing, "feed": read_feed, "sitemap": read_sitemap}


def _headers(response: Response) -> dict[str, str]:
    return {key.decode("latin-1").lower(): b", ".join(values).decode("latin-1")
            for key, values in response.headers.items()}


def _conditional(etag: str | None, last_modified: str | None) -> dict[str, str]:
    headers = {}
    if etag:
        headers["If-None-Match"] = etag
    if last_modified:
        headers["If-Modified-Since"] = last_modified
    return headers


def _requested_url(response: Response) -> str:
    """The URL asked for, before any redirect."""
    return first_url(response.request) if response.request is not None else response.url


def instrument_url(response: Response) -> str:
    """Where the document lives now: the URL reached through permanent redirects (301, 308)
    only. A temporary redirect leaves it at the URL it was asked for."""
    urls = [*response.meta.get("redirect_urls", ()), response.url]
    for hop, reason in enumerate(response.meta.get("redirect_reasons", ())):
        if reason not in PERMANENT_REDIRECTS:
            return urls[hop]
    return urls[-1]


class DeclaredSpider(scrapy.Spider):
    name = "declared"

    def __init__(self, sources: Iterable[Source] = (), declarations: str = "", db: str = "",
                 **kwargs: Any) -> None:
        """`sources`: the loaded declarations to crawl (in-process); `declarations`: the same as
        one string, for a crawl whose arguments must be strings (a Scrapyd node), see
        `crawlers.catalogue.sources_to_json`; `db`: the store URL."""
        super().__init__(**kwargs)
        chosen = list(sources) or (sources_from_json(declarations) if declarations else [])
        if not chosen:
            raise ValueError("the declared spider needs sources (or declarations) to crawl")
        self.declared: dict[str, Source] = {source.id: source for source in chosen}
        store = Store(db or None, upgrade=False)  # whoever started the crawl has migrated it
        with store.sessions() as session:
            self.known = known_instruments(session, list(self.declared))
            self.entry_cache = entry_page_cache(session, list(self.declared))
            self.dropped = dropped_validators(session, list(self.declared))
        store.close()
        self.known_urls = {(k.source_id, k.url) for k in self.known}
        self.queued: set[tuple[str, str]] = set()
        self.discovery_started = False
        self.without_browser: set[str] = set()  # sources whose `render: browser` had no Chromium
        self.origins: dict[str, frozenset[Origin]] = {}  # source id → the hosts it may fetch

    @classmethod
    def from_crawler(cls, crawler: Crawler, *args: Any, **kwargs: Any) -> DeclaredSpider:
        spider = super().from_crawler(crawler, *args, **kwargs)
        crawler.signals.connect(spider.start_discovery, signal=signals.spider_idle)
        return spider

    # --- phase 1: re-check every known instrument -------------------------------------
    async def start(self) -> AsyncIterator[Request]:
        for known in self.known:
            source = self.declared[known.source_id]
            yield Request(
                known.url, callback=self.parse_document, errback=self.on_error, dont_filter=True,
                headers=_conditional(known.etag, known.last_modified), priority=10,
                meta=self._meta(source, rendered=True, instrument_id=known.id, watched=True))
        if not self.known:
            self.discovery_started = True
            for request in self.entry_requests():
                yield request

    # --- phase 2: read the declared entries ------------------------------------------------
    def start_discovery(self) -> None:
        """Once the re-checks are done, read the entries. When every entry is a document already
        known there is nothing to read, and the spider closes at once: keeping it open would
        leave it idle until Scrapy's next look at the engine, five seconds on."""
        if self.discovery_started:
            return
        self.discovery_started = True
        assert self.crawler.engine is not None  # idle is signalled by the running engine
        scheduled = 0
        for request in self.entry_requests():
            self.crawler.engine.crawl(request)
            scheduled += 1
        if scheduled:
            raise DontCloseSpider

    def entry_requests(self) -> Iterator[Request]:
        for source in self.declared.values():
            for entry in source.entries:
                if entry.type == "document":
                    yield from self.document_requests(source, [entry.url], entry.url, watched=True)
                else:
                    yield self.entry_request(source, entry, entry.url, page=1)

    def entry_request(self, source: Source, entry: Entry, url: str, page: int) -> Request:
        cached = self.entry_cache.get(url)
        headers = _conditional(cached.etag, cached.last_modified) if cached else {}
        return Request(url, callback=self.parse_entry, errback=self.on_error, headers=headers,
                       meta=self._meta(source, rendered=entry.type == "listing", entry=entry,
                                       page=page), priority=5)

    def document_requests(self, source: Source, urls: list[str], found_on: str,
                          watched: bool = False) -> Iterator[Request]:
        for url in urls:
            key = (source.id, url)
            if key in self.known_urls or key in self.queued:
                continue
            self.queued.add(key)
            dropped = self.dropped.get(key) if not watched else None
            yield Request(url, callback=self.parse_document, errback=self.on_error,
                          headers=_conditional(*dropped) if dropped else {},
                          meta=self._meta(source, rendered=True, found_on=found_on,
                                          watched=watched))

    def _meta(self, source: Source, rendered: bool = False, **extra: Any) -> dict[str, Any]:
        """A request's meta; `rendered`: an HTML page (a document, a listing), which a source
        declared `render: browser` has loaded in the browser (`crawlers.browser`)."""
        render = {"render": RENDERED} if rendered and source.render == RENDERED else {}
        origins = self.origins.get(source.id)
        if origins is None:  # worked out once per source, not once per request
            origins = self.origins[source.id] = source.origins
        return {"source": source.id, "allowed_origins": origins, **render, **extra}

    # --- callbacks ---------------------------------------------------------------------
    def parse_entry(self, response: Response) -> Iterator[Any]:
        """A listing, feed or sitemap page: its links (read fresh, or cached on a 304), the
        instruments they lead to and the entry's further pages."""
        source = self.declared[response.meta["source"]]
        entry: Entry = response.meta["entry"]
        cached = self.entry_cache.get(_requested_url(response))
        if response.status == 304 and cached is not None:
            links = EntryLinks.cached(cached)
        elif 200 <= response.status < 300:
            read = ENTRY_READERS[entry.type](response, source, entry)
            if isinstance(read, Problem):
                yield FetchProblem(source.id, response.url, read.kind, read.message)
                return
            links = read
            if links.cacheable:
                yield EntryPageSeen(source.id, _requested_url(response), _headers(response), links.documents,
                                    links.pages[0] if links.pages else None)
        else:
            problem = Problem(INVALID, "unexpected HTTP 304") if response.status == 304 \
                else status_problem(response.status)
            yield FetchProblem(source.id, response.url, problem.kind,
                               f"{entry.type} page: {problem.message}")
            return
        yield from self.document_requests(source, links.documents, response.url)
        page = response.meta["page"]
        for url in links.pages[: max(0, entry.max_pages - page)]:
            yield self.entry_request(source, entry, url, page + 1)

    def parse_document(self, response: Response) -> Iterator[Any]:
        source_id = response.meta["source"]
        instrument_id = response.meta.get("instrument_id")
        requested = _requested_url(response)
        if 200 <= response.status < 300:
            url = instrument_url(response)
            self.known_urls.update({(source_id, url), (source_id, response.url)})
            yield DocumentFetched(source_id, requested, url, response.status,
                                  _headers(response), response.body, instrument_id,
                                  watched=instrument_id is not None or response.meta.get("watched", False))
            return
        if response.status == 304:
            yield NotModified(source_id, instrument_id, requested)
            return
        problem = status_problem(response.status)
        if problem.kind == GONE and instrument_id is not None:
            yield Gone(source_id, instrument_id, requested, response.status)
        elif problem.kind == GONE:
            found_on = response.meta.get("found_on")
            yield FetchProblem(source_id, requested, GONE,
                               f"dead link: {problem.message} (linked from {found_on})", "warning")
        else:
            yield FetchProblem(source_id, requested, problem.kind, problem.message)

    def on_error(self, failure: Failure) -> Iterator[FetchProblem]:
        request: Request = failure.request  # type: ignore[attr-defined]  # Scrapy attaches it
        settings = self.crawler.settings
        limits = Limits(request.meta.get("download_timeout") or settings.getfloat("DOWNLOAD_TIMEOUT"),
                        request.meta.get("download_maxsize") or settings.getint("DOWNLOAD_MAXSIZE"))
        assert failure.value is not None  # an errback's failure always holds its error
        if isinstance(failure.value, BrowserMissing):  # one line per source, not one per page
            if request.meta["source"] not in self.without_browser:
                self.without_browser.add(request.meta["source"])
                yield FetchProblem(request.meta["source"], first_url(request), INVALID,
                                   str(failure.value))
            return
        problem = failure_problem(failure.value, limits)
        yield FetchProblem(request.meta["source"], first_url(request), problem.kind, problem.message)
