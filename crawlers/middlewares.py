"""Downloader middlewares: stay on declared hosts at every hop, follow redirects with their
loops told apart, look for a meta refresh only in pages that can hold one, and wait as asked on
429/503."""

from __future__ import annotations

import asyncio
import email.utils
import time
from datetime import UTC

from scrapy import Request
from scrapy.crawler import Crawler
from scrapy.downloadermiddlewares.redirect import MetaRefreshMiddleware, RedirectMiddleware
from scrapy.downloadermiddlewares.robotstxt import RobotsTxtMiddleware
from scrapy.exceptions import IgnoreRequest
from scrapy.http import HtmlResponse, Response
from scrapy.robotstxt import RobotParser
from scrapy.utils.defer import maybe_deferred_to_future
from scrapy.utils.httpobj import urlparse_cached
from twisted.internet.defer import Deferred

from crawlers.hosts import Origin, address_allowed, internal_address, url_allowed

PERMANENT_REDIRECTS = frozenset({301, 308})
CONDITIONAL_HEADERS = (b"If-None-Match", b"If-Modified-Since")


class UndeclaredHost(IgnoreRequest):
    """A request (often a redirect) left the hosts, ports or addresses its source declared."""


class RedirectLoop(IgnoreRequest):
    """A redirect led back to a URL of its own chain."""


class TooManyRedirects(IgnoreRequest):
    """A redirect chain longer than REDIRECT_MAX_TIMES."""


class RobotsDisallowed(IgnoreRequest):
    """The site's robots.txt forbids the page to our user agent."""


def first_url(request: Request) -> str:
    """The URL a request was first made for, before any redirect."""
    return (request.meta.get("redirect_urls") or [request.url])[0]


def _hop(request: Request) -> str:
    """How a refused URL was reached: asked for, or redirected to from the first URL."""
    origin = first_url(request)
    return f"{request.url} (redirected from {origin})" if origin != request.url else request.url


async def resolve(host: str) -> str | None:
    """The address the crawl will connect to for `host` (Scrapy's caching resolver, so the
    connection uses this same answer); None when it cannot be resolved (the download then fails
    with its own DNS error)."""
    from twisted.internet import reactor  # the crawl's reactor: importing it early installs another

    try:
        # Twisted's stubs type the name as bytes; its resolvers (and Scrapy's) take str.
        address: str = await maybe_deferred_to_future(reactor.resolve(host))  # type: ignore[arg-type]
    except Exception:  # noqa: BLE001  # any resolver failure: the download reports it
        return None
    return address


class DeclaredHostsMiddleware:
    """Every request of a source, redirect hops included, goes to an http(s) URL on a host and port
    it declared, at an address that is public or that a declared host itself resolves to.

    A redirect hop keeps the download slot of the request it came from (Scrapy copies the meta);
    the slot is dropped here so that each hop waits its turn on its own host.

    Scrapy's resolver keeps every answer for the whole crawl, so an address, once resolved, is
    kept here too, and so is the verdict on an internal address for a set of declared hosts: a
    re-check of thousands of known pages asks the resolver once per host, not twice per page.
    """

    def __init__(self) -> None:
        self.addresses: dict[str, str] = {}  # host name → the address the crawl connects to
        self.internal_verdicts: dict[tuple[str, frozenset[Origin]], bool] = {}

    async def process_request(self, request: Request) -> None:
        declared: frozenset[Origin] | None = request.meta.get("allowed_origins")
        if declared is None:
            return None
        if "redirect_urls" in request.meta:
            request.meta.pop("download_slot", None)
        if not url_allowed(request.url, declared):
            hosts = ", ".join(sorted(f"{host}:{port}" if port else host for host, port in declared))
            raise UndeclaredHost(f"{_hop(request)} is not on a declared host ({hosts})")
        host = urlparse_cached(request).hostname or ""
        address = self.addresses.get(host)  # nearly always known: no coroutine to await then
        if address is None:
            address = await self._address(host)
        if address is not None and internal_address(address):
            verdict = self.internal_verdicts.get((address, declared))
            if verdict is None:
                declared_addresses = [await self._address(host) for host, _ in declared]
                verdict = address_allowed(address, [a for a in declared_addresses if a])
                self.internal_verdicts[(address, declared)] = verdict
            if not verdict:
                raise UndeclaredHost(f"{_hop(request)} resolves to the internal address {address}, "
                                     f"which no declared host resolves to")
        return None

    async def _address(self, host: str) -> str | None:
        """`resolve`, each answer kept (a failure is asked again, as Scrapy's resolver does)."""
        address = self.addresses.get(host)
        if address is None:
            address = await resolve(host)
            if address is not None:
                self.addresses[host] = address
        return address


class CheckedRedirectMiddleware(RedirectMiddleware):
    """Scrapy's redirects, with a loop and a too long chain each reported as such, and the
    validators of the first URL dropped at a permanent move (the new URL answers in full, so the
    move is seen)."""

    # Scrapy >= 2.13 calls it without the spider, which the parent still declares (deprecated).
    def process_response(self, request: Request, response: Response) -> Request | Response:  # type: ignore[override]
        try:
            redirected = super().process_response(request, response)
        except IgnoreRequest:  # raised by Scrapy only when the chain is too long
            raise TooManyRedirects(f"more than {self.max_redirect_times} redirects from "
                                   f"{first_url(request)}") from None
        if not isinstance(redirected, Request):
            return redirected
        chain: list[str] = redirected.meta["redirect_urls"]
        if redirected.url in chain:
            loop = chain[chain.index(redirected.url):]
            raise RedirectLoop(f"redirect loop: {' -> '.join([*loop, redirected.url])}")
        if response.status in PERMANENT_REDIRECTS:
            for header in CONDITIONAL_HEADERS:
                redirected.headers.pop(header, None)
        return redirected


# Scrapy looks for `<meta http-equiv="refresh">` in the first 4,096 characters of a page: at most
# 16,384 bytes in any encoding, and in every encoding that writes ASCII as ASCII the word is there
# as these bytes; in UTF-16 and UTF-32 the markup before it holds NUL bytes.
META_REFRESH_HEAD = 4 * 4096


def may_hold_meta_refresh(body: bytes) -> bool:
    """Whether the head of a page could hold a meta refresh that Scrapy would find (the head
    lowered in bytes: a case-blind regular expression is several times slower)."""
    head = body[:META_REFRESH_HEAD]
    return b"refresh" in head.lower() or b"\x00" in head


class CheapMetaRefreshMiddleware(MetaRefreshMiddleware):
    """Scrapy's meta refresh redirects, without decoding every page to look for one.

    Scrapy decodes the page (guessing its encoding from the body when the headers do not say it)
    and runs its expressions over the first 4,096 characters of every HTML answer; here a page
    whose head cannot hold the word `refresh` is passed on unread, and any other is Scrapy's.
    """

    # Scrapy >= 2.13 calls it without the spider, which the parent still declares (deprecated).
    def process_response(self, request: Request, response: Response) -> Request | Response:  # type: ignore[override]
        if isinstance(response, HtmlResponse) and not may_hold_meta_refresh(response.body):
            return response
        return super().process_response(request, response)


def parse_retry_after(value: bytes | str | None, now: float | None = None) -> float | None:
    """Seconds to wait from a Retry-After header (delta-seconds or HTTP date)."""
    if not value:
        return None
    text = value.decode("latin-1") if isinstance(value, bytes) else value
    text = text.strip()
    if text.isdigit():
        return float(text)
    try:
        when = email.utils.parsedate_to_datetime(text)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, when.timestamp() - (now or time.time()))


class RetryAfterMiddleware:
    """On 429 or 503, wait as long as Retry-After says (bounded), then ask again.

    Without the header the wait doubles from one second. A wait longer than the configured
    maximum is not attempted: the answer goes to the spider, which reports it as transient.
    """

    def __init__(self, max_wait: float, max_times: int) -> None:
        self.max_wait, self.max_times = max_wait, max_times

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> RetryAfterMiddleware:
        return cls(crawler.settings.getfloat("POLICYWATCH_RETRY_AFTER_MAX"),
                   crawler.settings.getint("POLICYWATCH_RETRY_AFTER_TIMES"))

    async def process_response(self, request: Request, response: Response) -> Request | Response:
        if response.status not in (429, 503):
            return response
        tries = request.meta.get("retry_after_times", 0)
        delay = parse_retry_after(response.headers.get(b"Retry-After"))
        if delay is None:
            delay = float(2 ** tries)
        if tries >= self.max_times or delay > self.max_wait:
            return response
        await asyncio.sleep(delay)
        retry = request.replace(dont_filter=True)
        retry.meta["retry_after_times"] = tries + 1
        return retry


class SharedRobotsTxtMiddleware(RobotsTxtMiddleware):
    """Scrapy's robots.txt middleware, fixed for requests that wait on one robots.txt together,
    and raising `RobotsDisallowed` so that a disallow is told apart from other ignored requests.

    In Scrapy 2.19 every request to a host whose robots.txt is still downloading awaits the same
    Deferred; only the first waiter receives the parser, the others receive None and are let
    through, so a disallowed page fetched alongside others was downloaded anyway. Here each
    waiter gets its own Deferred fed from the shared one.
    """

    def process_request_2(self, rp: RobotParser | None, request: Request) -> None:
        try:
            super().process_request_2(rp, request)
        except IgnoreRequest as refused:  # the only one Scrapy raises here: robots.txt disallows
            raise RobotsDisallowed(str(refused)) from None

    async def robot_parser(self, request: Request) -> RobotParser | None:
        pending = self._parsers.get(urlparse_cached(request).netloc)
        if isinstance(pending, Deferred):
            mine: Deferred[RobotParser | None] = Deferred()

            def relay(parser: RobotParser | None) -> RobotParser | None:
                mine.callback(parser)
                return parser

            pending.addCallback(relay)
            return await maybe_deferred_to_future(mine)
        return await super().robot_parser(request)
