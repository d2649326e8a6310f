"""Why a check got no usable answer: a problem kind (`texts.vocabulary`) and one line to show.

Download failures are read from the exception classes Scrapy, Twisted and pyOpenSSL raise (and
those of our own middlewares) through one ordered table; the first row that matches the error or
any error it wraps wins, so a TLS failure inside Scrapy's generic `DownloadFailedError` still reads
as TLS. HTTP error statuses and unreadable documents have their own small tables. Pure functions.
"""

from __future__ import annotations

from collections.abc import Callable, Container, Iterator
from dataclasses import dataclass

from OpenSSL import SSL
from scrapy.core.downloader.handlers.http11 import TunnelError
from scrapy.exceptions import (
    CannotResolveHostError,
    DownloadCancelledError,
    DownloadConnectionRefusedError,
    DownloadFailedError,
    DownloadTimeoutError,
    IgnoreRequest,
    NotSupported,
    ResponseDataLossError,
    UnsupportedURLSchemeError,
)

# Raised (wrapped in IgnoreRequest) when a compressed answer inflates beyond DOWNLOAD_MAXSIZE;
# Scrapy has no public name for it.
from scrapy.utils._compression import _DecompressionMaxSizeExceeded
from twisted.internet import defer
from twisted.internet import error as tx
from twisted.web.client import RequestTransmissionFailed, ResponseFailed
from twisted.web.error import SchemeNotSupported

from crawlers.middlewares import RedirectLoop, RobotsDisallowed, TooManyRedirects, UndeclaredHost
from texts.document import ExtractionError, SelectorMatchedNothing
from texts.vocabulary import BLOCKED, EXTRACTION, GONE, INVALID, SELECTOR, TRANSIENT


@dataclass(frozen=True)
class Problem:
    """What stopped one check, as recorded in the source's health."""

    kind: str  # one of texts.vocabulary.PROBLEM_KINDS
    message: str


@dataclass(frozen=True)
class Limits:
    """The crawl's limits, quoted by the messages of the failures they cause."""

    timeout: float  # seconds
    max_bytes: int


@dataclass(frozen=True)
class FailureRule:
    errors: tuple[type[BaseException], ...]
    kind: str
    describe: Callable[[BaseException, Limits], str]  # the matching error, the crawl's limits


def wrapped_errors(error: BaseException) -> Iterator[BaseException]:
    """The error, then every error it wraps (`raise ... from`, Twisted's `reasons`), outermost first."""
    pending, seen = [error], set()
    while pending:
        current = pending.pop(0)
        if id(current) in seen:
            continue
        seen.add(id(current))
        yield current
        if current.__cause__ is not None:
            pending.append(current.__cause__)
        pending.extend(reason.value for reason in getattr(current, "reasons", None) or ()
                       if isinstance(getattr(reason, "value", None), BaseException))


def _innermost(error: BaseException) -> str:
    """The class name of the deepest error wrapped, which says what actually happened."""
    return type(list(wrapped_errors(error))[-1]).__name__


def _tls_reason(error: BaseException) -> str:
    """pyOpenSSL's reasons (`[(library, function, reason), ...]`), else the error's own line."""
    reasons = error.args[0] if error.args and isinstance(error.args[0], list) else []
    named = [str(entry[-1]) for entry in reasons if isinstance(entry, tuple) and entry]
    return "; ".join(named) or str(error) or type(error).__name__


def _says(message: str) -> Callable[[BaseException, Limits], str]:
    return lambda error, limits: message


def _own_line(error: BaseException, _: Limits) -> str:
    return str(error) or type(error).__name__


FAILURE_RULES: tuple[FailureRule, ...] = (
    FailureRule((UndeclaredHost, RedirectLoop, TooManyRedirects), BLOCKED, _own_line),
    FailureRule((RobotsDisallowed,), BLOCKED, _says("forbidden by robots.txt")),
    FailureRule((DownloadCancelledError, _DecompressionMaxSizeExceeded), INVALID,
                lambda error, limits: f"larger than the download size cap "
                                      f"({limits.max_bytes / 2 ** 20:g} MB)"),
    FailureRule((SSL.Error, tx.SSLError, tx.CertificateError, tx.VerifyError), TRANSIENT,
                lambda error, limits: f"TLS handshake failed ({_tls_reason(error)})"),
    FailureRule((DownloadTimeoutError, tx.TimeoutError, tx.TCPTimedOutError, defer.TimeoutError),
                TRANSIENT, lambda error, limits: f"no answer within {limits.timeout:g} s (timeout)"),
    FailureRule((CannotResolveHostError, tx.DNSLookupError, tx.UnknownHostError), TRANSIENT,
                _says("host name could not be resolved (DNS)")),
    FailureRule((DownloadConnectionRefusedError, tx.ConnectionRefusedError), TRANSIENT,
                _says("connection refused")),
    FailureRule((tx.NoRouteError,), TRANSIENT, _says("no route to host")),
    FailureRule((TunnelError,), TRANSIENT,
                lambda error, limits: f"the proxy refused the tunnel: {error}"),
    FailureRule((ResponseDataLossError,), TRANSIENT,
                _says("connection lost before the whole answer arrived (data loss)")),
    FailureRule((DownloadFailedError, ResponseFailed, RequestTransmissionFailed, tx.ConnectionClosed,
                 tx.ConnectError), TRANSIENT,
                lambda error, limits: f"connection reset or lost ({_innermost(error)})"),
    FailureRule((UnsupportedURLSchemeError, SchemeNotSupported, NotSupported), INVALID, _own_line),
    FailureRule((IgnoreRequest,), BLOCKED, _own_line),
)


def failure_problem(error: BaseException, limits: Limits) -> Problem:
    """The problem a request that got no answer stands for (first matching rule wins)."""
    chain = list(wrapped_errors(error))
    for rule in FAILURE_RULES:
        for seen in chain:
            if isinstance(seen, rule.errors):
                return Problem(rule.kind, rule.describe(seen, limits))
    return Problem(TRANSIENT, f"{type(error).__name__}: {error}")


@dataclass(frozen=True)
class StatusRule:
    statuses: Container[int]
    kind: str
    message: str  # `{status}` is the answer's status


STATUS_RULES: tuple[StatusRule, ...] = (
    StatusRule(frozenset({404, 410}), GONE, "HTTP {status}"),
    StatusRule(frozenset({401, 403, 407, 451}), BLOCKED, "HTTP {status}: access refused"),
    StatusRule(frozenset({408, 429}), TRANSIENT, "HTTP {status}"),
    StatusRule(range(500, 1000), TRANSIENT, "HTTP {status}"),
)


def status_problem(status: int) -> Problem:
    """The problem an answer that is neither 2xx nor 304 stands for; any other status is refused."""
    for rule in STATUS_RULES:
        if status in rule.statuses:
            return Problem(rule.kind, rule.message.format(status=status))
    return Problem(BLOCKED, f"HTTP {status}")


def extraction_problem(error: ExtractionError) -> Problem:
    """A fetched document that could not be read: a declared selector that matched nothing is
    the declaration's to fix (selector); anything else is the document's (extraction)."""
    return Problem(SELECTOR if _selector_missed(error) else EXTRACTION, str(error))


def _selector_missed(error: ExtractionError) -> bool:
    return isinstance(error, SelectorMatchedNothing)


def recording_problem(error: Exception) -> Problem:
    """An answer the store could not take (a bug or a broken store, never the site's doing)."""
    return Problem(INVALID, f"could not record: {type(error).__name__}: {error}")
