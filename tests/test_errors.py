"""Problem kinds and messages, from the exceptions Scrapy, Twisted and pyOpenSSL really raise.

Each exception is made the way the crawl meets it: by the middleware or the Scrapy component that
raises it, by a real TLS handshake on memory buffers, or wrapped by Scrapy's own wrapper of
Twisted errors (as its HTTP/1.1 download handler does). Nothing touches the network.
"""

from __future__ import annotations

import asyncio
import gzip
from collections.abc import Callable

import pytest
from OpenSSL import SSL
from scrapy import Request
from scrapy.core.downloader.handlers.http11 import TunnelError
from scrapy.downloadermiddlewares.httpcompression import HttpCompressionMiddleware
from scrapy.exceptions import DownloadCancelledError, DownloadTimeoutError, ResponseDataLossError
from scrapy.http import Response
from scrapy.robotstxt import ProtegoRobotParser
from scrapy.utils._download_handlers import wrap_twisted_exceptions
from scrapy.utils.misc import build_from_crawler
from scrapy.utils.test import get_crawler
from twisted.internet import defer
from twisted.internet import error as tx
from twisted.python.failure import Failure
from twisted.web._newclient import _DataLoss
from twisted.web.client import ResponseFailed, ResponseNeverReceived
from twisted.web.error import SchemeNotSupported

from crawlers.errors import (
    Limits,
    Problem,
    extraction_problem,
    failure_problem,
    recording_problem,
    status_problem,
    wrapped_errors,
)
from crawlers.middlewares import CheckedRedirectMiddleware, DeclaredHostsMiddleware, SharedRobotsTxtMiddleware
from texts.document import ExtractionError, SelectorMatchedNothing
from texts.vocabulary import BLOCKED, EXTRACTION, GONE, INVALID, PROBLEM_KINDS, SELECTOR, TRANSIENT

LIMITS = Limits(timeout=1.5, max_bytes=2 * 1024 * 1024)
URL = "http://regulator.example/laws/transfers"


def raised(make: Callable[[], object]) -> BaseException:
    """The exception `make` raises."""
    with pytest.raises(BaseException) as caught:
        make()
    return caught.value


def scrapy_wrapped(error: BaseException) -> BaseException:
    """What Scrapy's HTTP download handlers raise for a Twisted error."""
    def download() -> None:
        with wrap_twisted_exceptions():
            raise error
    return raised(download)


def undeclared_host(url: str = "http://elsewhere.example/laws") -> BaseException:
    request = Request(url, meta={"allowed_origins": frozenset({("regulator.example", None)})})
    return raised(lambda: asyncio.run(DeclaredHostsMiddleware().process_request(request)))


def robots_disallow() -> BaseException:
    crawler = get_crawler(settings_dict={"ROBOTSTXT_OBEY": True})
    parser = build_from_crawler(ProtegoRobotParser, crawler, b"User-agent: *\nDisallow: /laws/\n")
    return raised(lambda: SharedRobotsTxtMiddleware(crawler).process_request_2(parser, Request(URL)))


def decompression_bomb() -> BaseException:
    request = Request(URL, meta={"download_maxsize": 10_000})
    response = Response(URL, headers={"Content-Encoding": "gzip"}, request=request,
                        body=gzip.compress(b"0" * 1_000_000))
    middleware = HttpCompressionMiddleware.from_crawler(get_crawler())
    return raised(lambda: middleware.process_response(request, response))


def redirected(location: str, redirect_urls: list[str], max_times: int = 5) -> BaseException:
    """What the redirect middleware raises for a 301 to `location` after `redirect_urls`."""
    request = Request(URL, meta={"redirect_times": len(redirect_urls), "redirect_urls": redirect_urls})
    response = Response(URL, status=301, headers={"Location": location}, request=request)
    middleware = CheckedRedirectMiddleware.from_crawler(
        get_crawler(settings_dict={"REDIRECT_MAX_TIMES": max_times}))
    return raised(lambda: middleware.process_response(request, response))


def tls_handshake_error() -> SSL.Error:
    """A real handshake that gets a plain-HTTP answer, as from a server without TLS on 443."""
    client = SSL.Connection(SSL.Context(SSL.TLS_CLIENT_METHOD), None)
    client.set_connect_state()
    with pytest.raises(SSL.WantReadError):
        client.do_handshake()
    client.bio_write(b"HTTP/1.1 400 Bad Request\r\n\r\n")
    with pytest.raises(SSL.Error) as caught:
        client.do_handshake()
    return caught.value


def data_loss() -> BaseException:
    """As Scrapy's HTTP/1.1 handler builds it when the body ends short of Content-Length."""
    error = ResponseDataLossError()
    error.__cause__ = ResponseFailed([Failure(_DataLoss())])
    return error


FAILURES: list[tuple[str, Callable[[], BaseException], Problem]] = [
    ("undeclared host", undeclared_host,
     Problem(BLOCKED, "http://elsewhere.example/laws is not on a declared host (regulator.example)")),
    ("robots.txt", robots_disallow, Problem(BLOCKED, "forbidden by robots.txt")),
    ("size cap, announced", lambda: DownloadCancelledError(
        f"Expected to receive 5033412 bytes which is larger than download max size (2097152) in request <GET {URL}>."),
     Problem(INVALID, "larger than the download size cap (2 MB)")),
    ("size cap, while reading", lambda: scrapy_wrapped(defer.CancelledError()),
     Problem(INVALID, "larger than the download size cap (2 MB)")),
    ("size cap, decompressing", decompression_bomb, Problem(INVALID, "larger than the download size cap (2 MB)")),
    ("TLS handshake", lambda: scrapy_wrapped(ResponseNeverReceived([Failure(tls_handshake_error())])),
     Problem(TRANSIENT, "TLS handshake failed (wrong version number)")),
    ("TLS, Twisted's", lambda: tx.SSLError(), Problem(TRANSIENT, "TLS handshake failed (An SSL error occurred.)")),
    ("download timeout", lambda: DownloadTimeoutError(f"Getting {URL} took longer than 1.5 seconds."),
     Problem(TRANSIENT, "no answer within 1.5 s (timeout)")),
    ("connect timeout", lambda: scrapy_wrapped(tx.TimeoutError()), Problem(TRANSIENT, "no answer within 1.5 s (timeout)")),
    ("TCP timeout", lambda: tx.TCPTimedOutError(), Problem(TRANSIENT, "no answer within 1.5 s (timeout)")),
    ("DNS", lambda: scrapy_wrapped(tx.DNSLookupError("address 'regulator.example' not found")),
     Problem(TRANSIENT, "host name could not be resolved (DNS)")),
    ("refused", lambda: scrapy_wrapped(tx.ConnectionRefusedError()), Problem(TRANSIENT, "connection refused")),
    ("no route", lambda: tx.NoRouteError(), Problem(TRANSIENT, "no route to host")),
    ("proxy tunnel", lambda: TunnelError("Could not open CONNECT tunnel with proxy 127.0.0.1:3128 [403]"),
     Problem(TRANSIENT, "the proxy refused the tunnel: Could not open CONNECT tunnel with proxy 127.0.0.1:3128 [403]")),
    ("data loss", data_loss, Problem(TRANSIENT, "connection lost before the whole answer arrived (data loss)")),
    ("reset before the answer", lambda: scrapy_wrapped(ResponseNeverReceived([Failure(tx.ConnectionLost())])),
     Problem(TRANSIENT, "connection reset or lost (ConnectionLost)")),
    ("closed while reading", lambda: scrapy_wrapped(ResponseFailed([Failure(tx.ConnectionDone())])),
     Problem(TRANSIENT, "connection reset or lost (ConnectionDone)")),
    ("closed, unwrapped", lambda: tx.ConnectionDone(), Problem(TRANSIENT, "connection reset or lost (ConnectionDone)")),
    ("unsupported scheme", lambda: scrapy_wrapped(SchemeNotSupported("Unsupported scheme: b'ftp'")),
     Problem(INVALID, "Unsupported scheme: b'ftp'")),
    ("too many redirects", lambda: redirected("/elsewhere", ["http://regulator.example/a"], max_times=1),
     Problem(BLOCKED, "more than 1 redirects from http://regulator.example/a")),
    ("redirect loop", lambda: redirected("/a", ["http://regulator.example/a"]),
     Problem(BLOCKED, f"redirect loop: http://regulator.example/a -> {URL} -> http://regulator.example/a")),
    ("redirect to another port", lambda: undeclared_host("http://regulator.example:8080/laws"),
     Problem(BLOCKED, "http://regulator.example:8080/laws is not on a declared host (regulator.example)")),
    ("anything else", lambda: ValueError("odd answer"), Problem(TRANSIENT, "ValueError: odd answer")),
]


@pytest.mark.parametrize(("make", "expected"), [(make, expected) for _, make, expected in FAILURES],
                         ids=[name for name, _, _ in FAILURES])
def test_each_failure_has_its_kind_and_one_line(make, expected):
    problem = failure_problem(make(), LIMITS)
    assert problem == expected
    assert problem.kind in PROBLEM_KINDS and "\n" not in problem.message


def test_the_tls_error_is_found_inside_scrapys_generic_failure():
    error = scrapy_wrapped(ResponseNeverReceived([Failure(tls_handshake_error())]))
    assert [type(e).__name__ for e in wrapped_errors(error)] == [
        "DownloadFailedError", "ResponseNeverReceived", "Error"]


@pytest.mark.parametrize(("status", "expected"), [
    (404, Problem(GONE, "HTTP 404")),
    (410, Problem(GONE, "HTTP 410")),
    (401, Problem(BLOCKED, "HTTP 401: access refused")),
    (403, Problem(BLOCKED, "HTTP 403: access refused")),
    (451, Problem(BLOCKED, "HTTP 451: access refused")),
    (408, Problem(TRANSIENT, "HTTP 408")),
    (429, Problem(TRANSIENT, "HTTP 429")),
    (500, Problem(TRANSIENT, "HTTP 500")),
    (503, Problem(TRANSIENT, "HTTP 503")),
    (599, Problem(TRANSIENT, "HTTP 599")),
    (301, Problem(BLOCKED, "HTTP 301")),
    (418, Problem(BLOCKED, "HTTP 418")),
])
def test_each_error_status_has_its_kind(status, expected):
    assert status_problem(status) == expected


def test_an_unreadable_document_is_an_extraction_problem_and_a_missed_selector_a_selector_one():
    assert extraction_problem(ExtractionError("corrupt PDF: Failed to load document")) == \
        Problem(EXTRACTION, "corrupt PDF: Failed to load document")
    assert extraction_problem(SelectorMatchedNothing("content selector 'div.law-text' matched nothing")) == \
        Problem(SELECTOR, "content selector 'div.law-text' matched nothing")


def test_a_store_that_cannot_take_an_answer_is_invalid_and_named():
    assert recording_problem(KeyError("source")) == Problem(INVALID, "could not record: KeyError: 'source'")
