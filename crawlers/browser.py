"""Pages built by scripts, loaded in a headless Chromium: Debian's, driven by Playwright.

A request the declared spider marks `meta["render"] = "browser"` is downloaded here instead of by
Scrapy's HTTP handler, which this handler extends: it has gone through the scheduler, its host's
download slot and the downloader middlewares (declared hosts, robots.txt) like any other request,
and comes back as an `HtmlResponse` of the rendered page. The browser starts with the first such
request, so a crawl with none never starts it (nor Playwright's driver), and is never downloaded:
a missing `/usr/bin/chromium` is `BrowserMissing`. The page may fetch only its source's declared
hosts (its scripts, styles and data alike); anything else it asks for is aborted. The crawl's
limits hold: `DOWNLOAD_TIMEOUT` for loading the page and `DOWNLOAD_MAXSIZE` for what it renders.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import Iterable
from typing import TYPE_CHECKING

from scrapy import Request
from scrapy.core.downloader.handlers.http11 import HTTP11DownloadHandler
from scrapy.crawler import Crawler
from scrapy.exceptions import DownloadCancelledError, DownloadFailedError, DownloadTimeoutError, IgnoreRequest
from scrapy.http import HtmlResponse, Response

from crawlers.hosts import Origin, url_allowed

if TYPE_CHECKING:  # Playwright itself is imported with the first page to render (0.7 s)
    from playwright.async_api import Browser, Playwright, Route

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_FLAGS = ("--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                  "--disable-component-update", "--disable-sync", "--no-first-run")
RENDERED = "browser"  # the value of `meta["render"]` (and of a declaration's `render`)
_DROPPED_HEADERS = ("content-encoding", "content-length", "content-type", "transfer-encoding")


class BrowserMissing(IgnoreRequest):
    """`render: browser` declared, and no Chromium to render with."""

    def __init__(self) -> None:
        super().__init__(f"render: browser needs chromium at {CHROMIUM}")


def chromium_available() -> bool:
    return os.access(CHROMIUM, os.X_OK)


async def _declared_only(route: Route, declared: Iterable[Origin]) -> None:
    """Let a request of the page through when it goes to a declared host, abort it otherwise."""
    if url_allowed(route.request.url, declared):
        await route.continue_()
    else:
        await route.abort("blockedbyclient")


class BrowserDownloadHandler(HTTP11DownloadHandler):
    """Scrapy's HTTP handler, with the requests marked for the browser rendered in Chromium."""

    def __init__(self, crawler: Crawler) -> None:
        super().__init__(crawler)
        self._settings = crawler.settings
        self._playwright: Playwright | None = None
        self._browser: Browser | None = None
        self._launching = asyncio.Lock()

    async def download_request(self, request: Request) -> Response:
        if request.meta.get("render") != RENDERED:
            return await super().download_request(request)
        return await self._render(request)

    async def _started_browser(self) -> Browser:
        async with self._launching:
            if self._browser is None:
                if not chromium_available():
                    raise BrowserMissing
                from playwright.async_api import async_playwright

                self._playwright = await async_playwright().start()
                self._browser = await self._playwright.chromium.launch(
                    executable_path=CHROMIUM, args=list(CHROMIUM_FLAGS), headless=True)
        return self._browser

    async def _render(self, request: Request) -> HtmlResponse:
        browser = await self._started_browser()
        from playwright.async_api import Error as PlaywrightError
        from playwright.async_api import TimeoutError as PlaywrightTimeout

        timeout = request.meta.get("download_timeout") or self._settings.getfloat("DOWNLOAD_TIMEOUT")
        max_bytes = request.meta.get("download_maxsize") or self._settings.getint("DOWNLOAD_MAXSIZE")
        declared: frozenset[Origin] = request.meta["allowed_origins"]
        user_agent = (request.headers.get("User-Agent") or b"").decode("latin-1") or None
        context = await browser.new_context(user_agent=user_agent, service_workers="block")
        try:
            page = await context.new_page()
            await page.route("**/*", lambda route: _declared_only(route, declared))
            try:
                answer = await page.goto(request.url, wait_until="networkidle",
                                         timeout=timeout * 1000)
            except PlaywrightTimeout:
                raise DownloadTimeoutError(f"no answer within {timeout:g} s") from None
            except PlaywrightError as exc:
                raise DownloadFailedError(exc.message.splitlines()[0]) from None
            body = (await page.content()).encode("utf-8")
            url = page.url
            headers = {name: value for name, value in (await answer.all_headers()).items()
                       if name not in _DROPPED_HEADERS} if answer is not None else {}
            status = answer.status if answer is not None else 200
        finally:
            await context.close()
        if max_bytes and len(body) > max_bytes:
            raise DownloadCancelledError(f"the rendered page is larger than {max_bytes} bytes")
        headers["content-type"] = "text/html; charset=utf-8"
        return HtmlResponse(url, status=status, headers=headers, body=body, request=request,
                            flags=["rendered"])

    async def close(self) -> None:
        if self._browser is not None:
            await self._browser.close()
        if self._playwright is not None:
            await self._playwright.stop()
        await super().close()
