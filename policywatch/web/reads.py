"""What the web view reads beyond `storage.queries`: a cursor over the history (on top of
`history` itself), and the JSON shapes of `show`, `diff` and `status`.

The shapes are those the command line prints with `--format json`; they belong beside the
queries so that both front ends build them in one place.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.orm import Session

from alerts.settings import DigestFilter
from storage import queries
from storage.instrument_report import instrument_report
from storage.models import Instrument

STAMP = "%Y-%m-%dT%H:%M:%SZ"
_CURSOR = re.compile(r"^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ)\.(\d{1,6})$")


@dataclass(frozen=True)
class Cursor:
    """Where a page of the history ended: the second of its last event, and how many events of
    that second it already showed (events are newest first, ties in a fixed order)."""

    second: datetime
    shown: int

    def encode(self) -> str:
        return f"{self.second.strftime(STAMP)}.{self.shown}"

    @classmethod
    def decode(cls, text: str) -> Cursor:
        """The cursor of `text`, or ValueError naming what is wrong with it."""
        match = _CURSOR.match(text)
        if match is None:
            raise ValueError(f"{text!r} is not a cursor given by a previous page")
        return cls(datetime.strptime(match[1], STAMP), int(match[2]))


def history_page(session: Session, where: queries.HistoryFilter, cursor: Cursor | None,
                 size: int) -> tuple[list[dict], Cursor | None]:
    """One page of `history(where)` after `cursor`, and the cursor of the next page (None on the
    last). The cursor bounds the query by time, so a deep page costs what the first one does."""
    skip, shown, until = 0, 0, where.until
    if cursor is not None:
        bound = cursor.second + timedelta(seconds=1)
        until = min(until, bound) if until else bound
        skip = cursor.shown
    rows = queries.history(session, replace(where, until=until, limit=skip + size + 1))
    if cursor is not None:
        stamp = cursor.second.strftime(STAMP)
        shown = next((i for i, row in enumerate(rows[:skip]) if row["detected_at"] != stamp), skip)
        rows = rows[shown:]
    page = rows[:size]
    if len(rows) <= size:
        return page, None
    last = page[-1]["detected_at"]
    same = sum(1 for row in page if row["detected_at"] == last)
    if cursor is not None and same == len(page) and cursor.second.strftime(STAMP) == last:
        same += shown
    return page, Cursor(datetime.strptime(last, STAMP), same)


def subscription_events(session: Session, wanted: DigestFilter, size: int) -> list[dict]:
    """The newest `size` events a subscription's digest would carry: `wanted.accepts` decides, as
    it does for the digest; the query is narrowed by the filter's jurisdictions and sources
    first, so a selective subscription does not read the whole history."""
    where = queries.HistoryFilter(jurisdictions=wanted.jurisdictions, sources=wanted.sources)
    chosen: list[dict] = []
    cursor: Cursor | None = None
    while True:
        rows, cursor = history_page(session, where, cursor, size)
        chosen += [row for row in rows if wanted.accepts(row)]
        if len(chosen) >= size or cursor is None:
            return chosen[:size]


def instrument_json(session: Session, found: Instrument) -> dict[str, Any]:
    """One instrument as `policywatch show --format json` gives it: metadata, versions and events
    (newest first)."""
    return instrument_report(session, found)
