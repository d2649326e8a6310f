"""The declared spider: one generic spider for every source declaration.

A cycle has two phases. First every known instrument URL is re-checked directly with a
conditional request (so an instrument that fell off page 1 of a listing is not lost, and an
unchanged page costs a 304). When those answers are in, the declared entries (listings, feeds,
sitemaps, documents) are read for instruments not seen before. Doing the re-checks first lets the
recorder recognise a page that moved: its old URL has already answered 404 when the new one appears.
"""

from __future__ import annotations

import json
import tempfile
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import scrapy
from scrapy import Request, signals
from scrapy.exceptions import (
    CannotResolveHostError,
    DontCloseSpider,
    DownloadCancelledError,
    DownloadConnectionRefusedError,
    DownloadFailedError,
    DownloadTimeoutError,
    IgnoreRequest,
    ResponseDataLossError,
)
from scrapy.http import Response
from twisted.python.failure import Failure

from crawlers.catalogue import Catalogue, Entry, Source, load_catalogue
from crawlers.decoding import decode_body
from crawlers.items import DocumentFetched, EntryPageSeen, FetchProblem, Gone, NotModified
from crawlers.links import FeedError, feed_links, keep_links, listing_links, next_page, sitemap_links
from crawlers.middlewares import UndeclaredHost
from storage.database import Store
from storage.queries import dropped_validators, entry_page_cache, known_instruments

GONE = (404, 410)

BLOCKED = (401, 403, 407, 451)


def _catalogue_from_texts(texts: dict[str, str]) -> Catalogue:
    """Load declarations handed over as text (file name → YAML), with their file names kept."""
    with tempfile.TemporaryDirectory(prefix="policywatch-declarations-") as folder:
        for name, text in texts.items():
            (Path(folder) / Path(name).name).write_text(text, encoding="utf-8")
        return load_catalogue([Path(folder)])


@dataclass(frozen=True)
class Answer:
    """How an HTTP status reads for monitoring."""

    kind: str  # ok | not-modified | gone | blocked | transient
    message: str


def classify_status(status: int) -> Answer:
    if 200 <= status < 300:
        return Answer("ok", "")
    if status == 304:
        return Answer("not-modified", "")
    if status in GONE:
        return Answer("gone", f"HTTP {status}")
    if status in BLOCKED:
        return Answer("blocked", f"HTTP {status}: access refused")
    if status in (408, 429) or status >= 500:
        return Answer("transient", f"HTTP {status}")
    return Answer("blocked", f"HTTP {status}")


def classify_failure(failure: Failure, timeout: float) -> tuple[str, str]:
    """(kind, one-line message) of a request that got no answer."""
    error = failure.value
    if isinstance(error, UndeclaredHost):
        return "blocked", str(error)
    if isinstance(error, IgnoreRequest):
        return "blocked", "forbidden by robots.txt" if "robots" in str(error).lower() else str(error)
    if isinstance(error, DownloadTimeoutError) or "timeout" in type(error).__name__.lower():
        return "transient", f"no answer within {timeout:g} s (timeout)"
    if isinstance(error, CannotResolveHostError):
        return "transient", "host name could not be resolved (DNS)"
    if isinstance(error, DownloadConnectionRefusedError):
        return "transient", "connection refused"
    if isinstance(error, DownloadCancelledError):
        return "invalid", f"larger than the download size cap: {error}"
    if isinstance(error, ResponseDataLossError | DownloadFailedError):
        return "transient", f"connection reset or lost ({type(error).__name__})"
    name = type(error).__name__
    if "Connection" in name or "ResponseFailed" in name or "ResponseNeverReceived" in name:
        return "transient", f"connection reset or lost ({name})"
    return "transient", f"{name}: {error}"


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


class DeclaredSpider(scrapy.Spider):
    name = "declared"

    def __init__(self, sources: str = "", only: str = "", db: str = "", declarations: str = "",
                 **kwargs: Any) -> None:
        """`sources`: JSON list of declaration files or folders (default: the bundled catalogue);
        `declarations`: JSON object file name → YAML text, for a crawl on a machine that does not
        have the files (a Scrapyd node); `only`: comma-separated source ids; `db`: store URL."""
        super().__init__(**kwargs)
        if declarations:
            catalogue = _catalogue_from_texts(json.loads(declarations))
        else:
            catalogue = load_catalogue([Path(p) for p in json.loads(sources)] if sources else None)
        wanted = set(filter(None, only.split(","))) if only else None
        self.declared: dict[str, Source] = {
            s.id: s for s in catalogue.sources if wanted is None or s.id in wanted}
        store = Store(db or None, upgrade=False)  # whoever started the crawl has migrated it
        with store.sessions() as session:
            self.known = known_instruments(session, list(self.declared))
            self.entry_cache = entry_page_cache(session, list(self.declared))
            self.dropped = dropped_validators(session, list(self.declared))
        store.close()
        self.known_urls = {(k.source_id, k.url) for k in self.known}
        self.queued: set[tuple[str, str]] = set()
        self.discovery_started = False

    @classmethod
    def from_crawler(cls, crawler, *args: Any, **kwargs: Any) -> DeclaredSpider:
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
                meta=self._meta(source, instrument_id=known.id, watched=True))
        if not self.known:
            self.discovery_started = True
            for request in self.entry_requests():
                yield request

    # --- phase 2: read the declared entries ------------------------------------------------
    def start_discovery(self) -> None:
        if self.discovery_started:
            return
        self.discovery_started = True
        for request in self.entry_requests():
            self.crawler.engine.crawl(request)
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
        callback = {"listing": self.parse_listing, "feed": self.parse_feed,
                    "sitemap": self.parse_sitemap}[entry.type]
        headers = _conditional(cached.etag, cached.last_modified) if cached else {}
        return Request(url, callback=callback, errback=self.on_error, headers=headers,
                       meta=self._meta(source, entry=entry, page=page), priority=5)

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
                          meta=self._meta(source, found_on=found_on, watched=watched))

    def _meta(self, source: Source, **extra: Any) -> dict[str, Any]:
        return {"source": source.id, "allowed_hosts": source.hosts,
                "handle_httpstatus_all": True, **extra}

    # --- callbacks ---------------------------------------------------------------------
    def _entry_answer(self, response: Response) -> tuple[Answer, Any]:
        requested = (response.meta.get("redirect_urls") or [response.url])[0]
        return classify_status(response.status), self.entry_cache.get(requested)

    def _entry_failed(self, response: Response, answer: Answer) -> FetchProblem:
        kind = answer.kind if answer.kind in ("transient", "blocked", "gone") else "invalid"
        message = answer.message or f"unexpected HTTP {response.status}"
        return FetchProblem(response.meta["source"], response.url, kind,
                            f"{response.meta['entry'].type} page: {message}")

    def parse_listing(self, response: Response) -> Iterator[Any]:
        source = self.declared[response.meta["source"]]
        entry: Entry = response.meta["entry"]
        answer, cached = self._entry_answer(response)
        if answer.kind == "not-modified" and cached:
            links, next_url = cached.links, cached.next_url
        elif answer.kind == "ok":
            html = decode_body(response.body, response.headers.get("Content-Type", b"").decode(
                "latin-1"), source.languages)[0]
            found = listing_links(html, response.url, entry.links or "a")
            if found is None:
                yield FetchProblem(source.id, response.url, "selector",
                                   f"listing selector {entry.links!r} matched nothing")
                return
            links = keep_links(found, source.hosts, entry.follow)
            next_url = next_page(html, response.url, entry.next)
            yield EntryPageSeen(source.id, response.url, _headers(response), links, next_url)
        else:
            yield self._entry_failed(response, answer)
            return
        yield from self.document_requests(source, links, response.url)
        page = response.meta["page"]
        if next_url and page < entry.max_pages:
            yield self.entry_request(source, entry, next_url, page + 1)

    def parse_feed(self, response: Response) -> Iterator[Any]:
        source = self.declared[response.meta["source"]]
        entry: Entry = response.meta["entry"]
        answer, cached = self._entry_answer(response)
        if answer.kind == "not-modified" and cached:
            links = cached.links
        elif answer.kind == "ok":
            try:
                links = keep_links(feed_links(response.body, response.url), source.hosts, entry.follow)
            except FeedError as exc:
                yield FetchProblem(source.id, response.url, "invalid", f"feed: {exc}")
                return
            yield EntryPageSeen(source.id, response.url, _headers(response), links, None)
        else:
            yield self._entry_failed(response, answer)
            return
        yield from self.document_requests(source, links, response.url)

    def parse_sitemap(self, response: Response) -> Iterator[Any]:
        source = self.declared[response.meta["source"]]
        entry: Entry = response.meta["entry"]
        answer, cached = self._entry_answer(response)
        if answer.kind == "not-modified" and cached:
            pages, nested = cached.links, []
        elif answer.kind == "ok":
            try:
                pages, nested = sitemap_links(response.body, response.url)
            except FeedError as exc:
                yield FetchProblem(source.id, response.url, "invalid", f"sitemap: {exc}")
                return
            pages = keep_links(pages, source.hosts, entry.follow)
            nested = keep_links(nested, source.hosts, None)
            if not nested:  # an index is small and always read whole; a urlset is cached
                yield EntryPageSeen(source.id, response.url, _headers(response), pages, None)
        else:
            yield self._entry_failed(response, answer)
            return
        yield from self.document_requests(source, pages, response.url)
        page = response.meta["page"]
        for url in nested[: max(0, entry.max_pages - page)]:
            yield self.entry_request(source, entry, url, page + 1)

    def parse_document(self, response: Response) -> Iterator[Any]:
        source_id = response.meta["source"]
        instrument_id = response.meta.get("instrument_id")
        requested = (response.meta.get("redirect_urls") or [response.request.url])[0]
        answer = classify_status(response.status)
        if answer.kind == "ok":
            self.known_urls.add((source_id, response.url))
            yield DocumentFetched(source_id, requested, response.url, response.status,
                                  _headers(response), response.body, instrument_id,
                                  watched=instrument_id is not None or response.meta.get("watched", False))
        elif answer.kind == "not-modified":
            yield NotModified(source_id, instrument_id, requested)
        elif answer.kind == "gone" and instrument_id is not None:
            yield Gone(source_id, instrument_id, requested, response.status)
        elif answer.kind == "gone":
            found_on = response.meta.get("found_on")
            yield FetchProblem(source_id, requested, "gone",
                               f"dead link: {answer.message} (linked from {found_on})", "warning")
        else:
            yield FetchProblem(source_id, requested, answer.kind, answer.message or
                               f"unexpected HTTP {response.status}")

    def on_error(self, failure: Failure) -> Iterator[FetchProblem]:
        request = failure.request
        timeout = request.meta.get("download_timeout") or self.crawler.settings.getfloat(
            "DOWNLOAD_TIMEOUT")
        kind, message = classify_failure(failure, timeout)
        yield FetchProblem(request.meta["source"], request.url, kind, message)


