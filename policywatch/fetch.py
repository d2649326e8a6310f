"""One document outside a crawl, for `classify` and `extract` (a file, a URL or standard input),
and a probe for `sources check --online`. Requests send the product's user agent; a document is
read up to the one size limit."""

from __future__ import annotations

import sys
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path

from texts.vocabulary import CONTACT, MAX_DOCUMENT_BYTES, user_agent

CONTENT_TYPES = {".pdf": "application/pdf", ".html": "text/html", ".htm": "text/html"}


class FetchError(RuntimeError):
    """The document could not be fetched or read; the message says why, in one line."""


@dataclass(frozen=True)
class FetchedDocument:
    body: bytes
    content_type: str | None
    where: str = ""  # what to call it in messages: the URL, the file, "standard input"


def _request(url: str, contact: str) -> urllib.request.Request:
    return urllib.request.Request(url, headers={"User-Agent": user_agent(contact)})


def fetch_document(url: str, timeout: float = 30.0, contact: str = CONTACT) -> FetchedDocument:
    """GET one http(s) URL, refusing a body larger than MAX_DOCUMENT_BYTES."""
    try:
        with urllib.request.urlopen(_request(url, contact), timeout=timeout) as response:  # noqa: S310
            body = response.read(MAX_DOCUMENT_BYTES + 1)
            content_type = response.headers.get("Content-Type")
    except OSError as exc:
        raise FetchError(f"cannot fetch: {exc}") from None
    if len(body) > MAX_DOCUMENT_BYTES:
        raise FetchError(f"larger than {MAX_DOCUMENT_BYTES // 2**20} MB")
    return FetchedDocument(body, content_type, url)


def read_document(target: str, timeout: float = 30.0, contact: str = CONTACT) -> FetchedDocument:
    """The document a user names on the command line: a file (its content type from its suffix),
    an http(s) URL, or standard input ('-'); a failure says where, in one line."""
    if target == "-":
        return FetchedDocument(sys.stdin.buffer.read(), None, "standard input")
    if target.startswith(("http://", "https://")):
        try:
            return fetch_document(target, timeout, contact)
        except FetchError as exc:
            raise FetchError(f"{target}: {exc}") from None
    path = Path(target)
    try:
        body = path.read_bytes()
    except OSError as exc:
        raise FetchError(f"{target}: cannot read: {exc.strerror or exc}") from None
    return FetchedDocument(body, CONTENT_TYPES.get(path.suffix.lower(), "text/plain"), target)


def probe(url: str, timeout: float, contact: str = CONTACT) -> str:
    """Whether a URL answers, in a few words: 'HTTP 200', 'HTTP 404', 'unreachable: …'."""
    try:
        with urllib.request.urlopen(_request(url, contact), timeout=timeout) as response:  # noqa: S310
            return f"HTTP {response.status}"
    except urllib.error.HTTPError as exc:
        return f"HTTP {exc.code}"
    except urllib.error.URLError as exc:
        return f"unreachable: {exc.reason}"
    except (TimeoutError, OSError) as exc:
        return f"unreachable: {exc}"
