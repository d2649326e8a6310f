"""What the declared spider yields: one item per outcome, handed to the store by the pipeline."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass
class DocumentFetched:
    """A 200 answer for an instrument URL (known or newly discovered)."""

    source_id: str
    requested_url: str
    url: str
    status: int
    headers: dict[str, str]
    body: bytes
    instrument_id: int | None
    watched: bool = False  # a known instrument or a declared `document` entry: never filtered


@dataclass
class NotModified:
    """A 304 answer to a conditional re-check of a known instrument."""

    source_id: str
    instrument_id: int | None  # None: a document the relevance filter dropped before
    url: str


@dataclass
class Gone:
    """A 404/410 answer for a known instrument."""

    source_id: str
    instrument_id: int
    url: str
    status: int


@dataclass
class FetchProblem:
    """Anything that stopped a check: reported as source health, never as a change."""

    source_id: str
    url: str | None
    kind: str  # transient | blocked | gone | extraction | selector | invalid
    message: str
    severity: str = "error"  # a dead link on a listing is only a "warning"


@dataclass
class EntryPageSeen:
    """A listing/feed/sitemap page and the links it held (kept for 304 re-use)."""

    source_id: str
    url: str
    headers: dict[str, str]
    links: list[str]
    next_url: str | None
