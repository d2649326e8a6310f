"""The extracted document: what extraction hands to the recorder and the classifier."""

from __future__ import annotations

from dataclasses import dataclass


class ExtractionError(ValueError):
    """The document could not be read; the message says why, in one line."""


class RefusedUnread(ExtractionError):
    """A page refused before any parse (nested too deep): nothing may read its tree."""


class SelectorMatchedNothing(ExtractionError):
    """A declared content selector found nothing on the page: the declaration's to fix."""


@dataclass(frozen=True)
class Extracted:
    title: str
    text: str
    published: str | None  # ISO date when one was found
    doc_type: str  # html | pdf | text
    encoding: str | None
