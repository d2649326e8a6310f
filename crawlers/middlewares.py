"""Downloader middlewares: stay on declared hosts, and wait as asked on 429/503."""

from __future__ import annotations

import asyncio
import email.utils
import time
from datetime import UTC

from scrapy import Request
from scrapy.crawler import Crawler
from scrapy.downloadermiddlewares.robotstxt import RobotsTxtMiddleware
from scrapy.exceptions import IgnoreRequest
from scrapy.http import Response
from scrapy.robotstxt import RobotParser
from scrapy.utils.defer import maybe_deferred_to_future
from scrapy.utils.httpobj import urlparse_cached
from twisted.internet.defer import Deferred


class UndeclaredHost(IgnoreRequest):
    """A request (often a redirect) left the hosts its source declared."""


class RobotsDisallowed(IgnoreRequest):
    """The site's robots.txt forbids the page to our user agent."""


def host_allowed(host: str, allowed: frozenset[str]) -> bool:
    host = host.lower()
    bare = host.removeprefix("www.")
    return any(host == h or bare == h.removeprefix("www.") or host.endswith("." + h.removeprefix("www."))
               for h in allowed)


class DeclaredHostsMiddleware:
    """Only http(s) URLs on the hosts a source declared are fetched (redirects included)."""

    def process_request(self, request: Request) -> None:
        allowed = request.meta.get("allowed_hosts")
        if allowed is None:
            return None
        parts = urlparse_cached(request)
        if parts.scheme not in ("http", "https") or not host_allowed(parts.hostname or "", allowed):
            raise UndeclaredHost(f"{request.url} is not on a declared host ({', '.join(sorted(allowed))})")
        return None


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
