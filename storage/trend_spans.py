"""The trends' input kept up to date: each instrument's paradigm where it changed.

A trend needs, per instrument, the label it took and from when — not every version: most
amendments keep the label. `advance` folds the versions recorded since its last call into
`trend_spans` (a digest after a week of crawling reads a week of versions); `paradigm_spans`
returns every instrument's spans with the versions not yet folded in added in memory, so a reader
that cannot write (the web view's read-only store) sees the same trends; `reset` forgets them
after a reclassification relabels old versions, and the next `advance` rebuilds from the start.

Versions are folded in order of id: a crawl holds the store's crawl lock, so versions are
committed in the order of their ids.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy import String, cast, delete, func, insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from storage.database import Store
from storage.models import TrendSpan, TrendState, Version
from texts.vocabulary import UNKNOWN

_CHUNK = 500  # instrument ids per IN (...) list


@dataclass
class Span:
    number: int     # the version that took the label
    since: str      # ISO day it was recorded
    paradigm: str
    through: str    # ISO day of the instrument's last version with this label


def _through(session: Session) -> int:
    state = session.get(TrendState, 1)
    return state.through_version_id if state else 0


def _versions_after(session: Session, through: int) -> list:
    """(id, instrument id, number, ISO day, paradigm) of the versions after `through`."""
    day = func.substr(cast(Version.recorded_at, String), 1, 10)  # "YYYY-MM-DD" on both databases
    return list(session.execute(
        select(Version.id, Version.instrument_id, Version.number, day, Version.paradigm)
        .where(Version.id > through).order_by(Version.instrument_id, Version.number)))


def fold(spans: dict[int, list[Span]], versions: Iterable) -> set[tuple[int, int]]:
    """Fold versions (oldest first per instrument) into `spans`: a version keeping its
    instrument's label extends the last span, one changing it starts a span. Returns the
    (instrument id, number) of every span added or extended."""
    touched = set()
    for _, instrument_id, number, day, paradigm in versions:
        label = paradigm or UNKNOWN
        known = spans.setdefault(instrument_id, [])
        if known and known[-1].paradigm == label:
            known[-1].through = max(known[-1].through, day)
        else:
            known.append(Span(number, day, label, day))
        touched.add((instrument_id, known[-1].number))
    return touched


def _stored_spans(session: Session, instrument_ids: list[int] | None = None) -> dict[int, list[Span]]:
    """Every stored span, or the last of each of `instrument_ids`."""
    columns = (TrendSpan.instrument_id, TrendSpan.version_number, TrendSpan.since, TrendSpan.paradigm,
               TrendSpan.through)
    spans: dict[int, list[Span]] = {}
    if instrument_ids is None:
        queries = [select(*columns).order_by(TrendSpan.instrument_id, TrendSpan.version_number)]
    else:
        queries = []
        for start in range(0, len(instrument_ids), _CHUNK):
            chunk = instrument_ids[start:start + _CHUNK]
            newest = (select(TrendSpan.instrument_id, func.max(TrendSpan.version_number).label("number"))
                      .where(TrendSpan.instrument_id.in_(chunk)).group_by(TrendSpan.instrument_id)
                      .subquery())
            queries.append(select(*columns).join(
                newest, (newest.c.instrument_id == TrendSpan.instrument_id)
                & (newest.c.number == TrendSpan.version_number)))
    for query in queries:
        for instrument_id, number, since, paradigm, through in session.execute(query):
            spans.setdefault(instrument_id, []).append(Span(number, since, paradigm, through))
    return spans


def paradigm_spans(session: Session) -> dict[int, list[Span]]:
    """Instrument id → its spans, oldest first, the versions not yet folded in included."""
    spans = _stored_spans(session)
    fold(spans, _versions_after(session, _through(session)))
    return spans


def advance(store: Store) -> int:
    """Fold the versions recorded since the last call into the stored spans, in one transaction;
    returns how many versions were read. A second process advancing at the same moment makes
    this one give way (its transaction is dropped; the other has done the same work)."""
    try:
        with store.transaction() as session:
            versions = _versions_after(session, _through(session))
            if not versions:
                return 0
            spans = _stored_spans(session, sorted({row[1] for row in versions}))
            stored = {(instrument_id, known[-1].number) for instrument_id, known in spans.items()}
            touched = fold(spans, versions)
            by_key = {(instrument_id, span.number): span
                      for instrument_id, known in spans.items() for span in known}
            extended, added = [], []
            for instrument_id, number in sorted(touched):
                span = by_key[(instrument_id, number)]
                row = {"instrument_id": instrument_id, "version_number": number, "through": span.through}
                if (instrument_id, number) in stored:
                    extended.append(row)
                else:
                    added.append({**row, "since": span.since, "paradigm": span.paradigm})
            if extended:  # ORM bulk update by primary key: one executemany
                session.execute(update(TrendSpan), extended)
            if added:
                session.execute(insert(TrendSpan), added)
            newest = max(row[0] for row in versions)
            state = session.get(TrendState, 1)
            if state is None:
                session.add(TrendState(id=1, through_version_id=newest))
            else:
                state.through_version_id = newest
            return len(versions)
    except IntegrityError:
        return 0


def reset(session: Session) -> None:
    """Forget every span (after old versions were relabelled); the next advance starts over."""
    session.execute(delete(TrendSpan))
    session.execute(delete(TrendState))
