"""The crawl's cheaper Scrapy parts keep Scrapy's behaviour: meta refresh redirects still followed
(pages that cannot hold one are left unread), 304 a healthy answer to AutoThrottle and the rest
of its policy Scrapy's, the stats and the end of a crawl as Scrapy keeps them, no log line built
that nobody reads."""

from __future__ import annotations

import logging
import warnings
from collections.abc import Iterator
from pathlib import Path

import pytest
from scrapy.core.downloader import Slot
from scrapy.extensions.throttle import AutoThrottle
from scrapy.http import HtmlResponse, Request, Response
from scrapy.utils.response import get_meta_refresh
from scrapy.utils.test import get_crawler

from crawlers.extensions import QuietLogFormatter
from crawlers.middlewares import may_hold_meta_refresh
from crawlers.outcomes import CrawlStats
from crawlers.spiders.declared import DeclaredSpider
from crawlers.throttle import ConditionalAutoThrottle
from tests.conftest import run_cli
from tests.web.hostile import Answer, Host, declaration, law_page, start, stop

REALPAGES = Path(__file__).resolve().parents[2] / "shared" / "realpages" / "pages"
TITLE = "Derogations for specific situations"


def refresh_page(target: str, encoding: str = "utf-8") -> Answer:
    """A page sending its reader on to `target` with `<meta http-equiv="Refresh">`."""
    markup = (f'<html><head><meta http-equiv="Refresh" content="0; url={target}">'
              f"<title>Moved</title></head><body><p>This page has moved.</p></body></html>")
    body = markup.encode(encoding)
    if encoding == "utf-16":
        return Answer(200, body, (("Content-Type", "text/html; charset=utf-16"),))
    return Answer(200, body)


@pytest.fixture(scope="module")
def hosts() -> Iterator[list[Host]]:
    started = start("127.0.0.41")
    yield started
    stop(started)


@pytest.mark.parametrize("encoding", ["utf-8", "utf-16"])
def test_a_meta_refresh_is_still_followed(encoding: str, hosts: list[Host], tmp_path: Path,
                                          db_url: str, fast_config: Path) -> None:
    (host,) = hosts
    host.reset({"/doc/a": refresh_page("/doc/b", encoding), "/doc/b": Answer(200, law_page(TITLE))})
    sources = tmp_path / "sources"
    sources.mkdir()
    (sources / "refresh.yaml").write_text(declaration("refresh", host.url("/doc/a")))
    result = run_cli("crawl", "--sources", str(sources), db=db_url, config=fast_config)
    assert result.code == 0, result.stderr
    history = run_cli("history", "--format", "json", db=db_url).json()
    assert [event["change"].split()[0] for event in history] == ["new"]
    assert host.requests["/doc/b"] == 1
    shown = run_cli("show", "--format", "json", history[0]["instrument"], db=db_url).json()
    assert TITLE in shown["title"], shown["title"]


def _real_pages() -> list[Path]:
    return sorted(path for path in REALPAGES.rglob("*") if path.suffix in (".html", ".htm"))


@pytest.mark.skipif(not REALPAGES.is_dir(), reason="../shared/realpages is not beside the project")
def test_every_page_with_a_meta_refresh_is_read() -> None:
    """On real pages, and on each turned into UTF-16 and given a refresh past its first 4,096
    characters, a page Scrapy finds a refresh in is never passed on unread."""
    pages = _real_pages()
    assert len(pages) > 100
    unread = found = 0
    for path in pages:
        body = path.read_bytes()
        variants = [body]
        text = HtmlResponse("http://example.org/", body=body).text
        late = f'<meta http-equiv="REFRESH" content="0; url=/elsewhere">{text}'
        variants += [late.encode("utf-16"), text[:4000].encode("utf-8") + late.encode("utf-8")]
        for variant in variants:
            response = HtmlResponse("http://example.org/", body=variant)
            interval, url = get_meta_refresh(response)
            if url is not None:
                found += 1
                assert may_hold_meta_refresh(variant), path
            unread += not may_hold_meta_refresh(variant)
    assert found >= len(pages)  # every UTF-16 variant at least
    assert unread >= len(pages) // 2  # and most pages are passed on without decoding


def test_a_page_without_the_word_is_passed_on_unread() -> None:
    assert not may_hold_meta_refresh(law_page(TITLE))
    assert may_hold_meta_refresh(b'<meta HTTP-EQUIV="rEfReSh" content="5">')
    far = b"<p>" + b"x" * 20_000 + b'</p><meta http-equiv="refresh" content="0; url=/b">'
    assert not may_hold_meta_refresh(far)  # beyond what Scrapy reads: Scrapy finds none either
    assert get_meta_refresh(HtmlResponse("http://example.org/", body=far)) == (None, None)


def _throttles() -> tuple[ConditionalAutoThrottle, AutoThrottle]:
    crawler = get_crawler(DeclaredSpider, {"AUTOTHROTTLE_ENABLED": True,
                                           "AUTOTHROTTLE_TARGET_CONCURRENCY": 4.0})
    ours, scrapys = ConditionalAutoThrottle(crawler), AutoThrottle(crawler)
    for throttle in (ours, scrapys):
        throttle.mindelay, throttle.maxdelay = 0.0, 30.0
    return ours, scrapys


def _delay_after(throttle: AutoThrottle, delay: float, latency: float, status: int) -> float:
    slot = Slot(concurrency=4, delay=delay, jitter=0)
    throttle._adjust_delay(slot, latency, Response("http://example.org/", status=status))
    return slot.delay


@pytest.mark.parametrize("status", [200, 301, 404, 500, 503])
@pytest.mark.parametrize("delay, latency", [(1.0, 0.2), (0.1, 2.0), (0.0, 0.05), (20.0, 400.0)])
def test_throttle_follows_scrapy_except_for_304(status: int, delay: float, latency: float) -> None:
    ours, scrapys = _throttles()
    assert _delay_after(ours, delay, latency, status) == _delay_after(scrapys, delay, latency, status)


def test_a_304_lowers_the_delay_as_a_200_does() -> None:
    ours, scrapys = _throttles()
    assert _delay_after(scrapys, 1.0, 0.2, 304) == 1.0  # Scrapy keeps the start delay
    assert _delay_after(ours, 1.0, 0.2, 304) == _delay_after(ours, 1.0, 0.2, 200) == 0.525


def test_crawl_stats_are_scrapys_without_warnings() -> None:
    stats = CrawlStats(get_crawler(DeclaredSpider))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        stats.inc_value("policywatch/a/new")
        stats.inc_value("policywatch/a/new", 2)
        stats.set_value("finish_reason", "finished")
        stats.max_value("peak", 3)
        stats.max_value("peak", 1)
    assert stats.get_stats() == {"policywatch/a/new": 3, "finish_reason": "finished", "peak": 3}
    assert stats.get_value("missing", 7) == 7


def test_log_lines_are_built_only_when_shown() -> None:
    formatter = QuietLogFormatter()
    request = Request("http://example.org/doc")
    response = Response("http://example.org/doc", status=304, request=request)
    loggers = [logging.getLogger(name) for name in ("scrapy.core.engine", "scrapy.core.scraper")]
    previous = [logger.level for logger in loggers]
    try:
        for logger in loggers:
            logger.setLevel(logging.WARNING)
        assert formatter.crawled(request, response, None) is None  # type: ignore[arg-type]
        assert formatter.scraped({}, response, None) is None  # type: ignore[arg-type]
        for logger in loggers:
            logger.setLevel(logging.DEBUG)
        line = formatter.crawled(request, response, None)  # type: ignore[arg-type]
        assert line is not None and isinstance(line["args"], dict)
        assert line["args"]["status"] == 304
        assert formatter.scraped({}, response, None) is not None  # type: ignore[arg-type]
    finally:
        for logger, level in zip(loggers, previous, strict=True):
            logger.setLevel(level)
