"""The trends' input kept up to date: each instrument's paradigm where it changed, and the yearly
shares summed over the instruments.

A trend needs, per instrument, the label it took and from when — not every version: most
amendments keep the label. `advance` folds the versions (and the withdrawals and restorations)
recorded since its last call into `trend_spans` and into the yearly counts (`trend_counts`, a
few hundred rows: paradigms.trends.yearly_counts summed over the instruments, each instrument's
share replaced by its new one when it is touched), so a digest after a week of crawling reads a
week of versions and a small table. `trend_members` keeps, per instrument, what its share was
computed from that the store may no longer say (its publication date) and the instruments that
came into force restrictive. Readers that cannot write (the web view's read-only store) add the
versions and events not yet folded in memory, so every reader sees the same trends; `reset`
forgets them all after a reclassification relabels old versions, and the next `advance`
rebuilds from the start.

Versions and events are folded in order of id: a crawl holds the store's crawl lock, so they are
committed in the order of their ids.
"""

from __future__ import annotations

import typing
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field, replace
from datetime import date

from sqlalchemy import String, Table, cast, delete, func, insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from paradigms.trends import (
    Flag,
    InstrumentHistory,
    Period,
    entered_paradigm,
    entered_within,
    trends_from_counts,
    withdrawn_on,
    yearly_counts,
)
from storage.database import Store
from storage.models import (
    ChangeEvent,
    Instrument,
    TrendCount,
    TrendMember,
    TrendSpan,
    TrendState,
    Version,
)
from texts.vocabulary import RESTRICTIVE, UNKNOWN

_CHUNK = 500          # instrument ids per IN (...) list
_READ_ALL = 20_000    # more instruments than this: read every row and keep theirs
_WITHDRAWALS = ("withdrawn", "restored")


@dataclass
class Span:
    number: int     # the version that took the label
    since: str      # ISO day it was recorded
    paradigm: str
    through: str    # ISO day of the instrument's last version with this label


def _through(session: Session) -> tuple[int, int]:
    """The newest version and withdrawal event folded in."""
    state = session.get(TrendState, 1)
    return (state.through_version_id, state.through_event_id or 0) if state else (0, 0)


def _chunks(ids: list[int] | None) -> list[list[int] | None]:
    """IN lists of ids, or [None] (every row) when there are none to name or too many."""
    if ids is None or len(ids) > _READ_ALL:
        return [None]
    return [ids[start:start + _CHUNK] for start in range(0, len(ids), _CHUNK)]


def _rows(session: Session, query, column, ids: list[int] | None) -> list:
    """The rows of `query` whose `column` is among `ids` (every row for None)."""
    wanted = None if ids is None else set(ids)
    rows: list = []
    for chunk in _chunks(ids):
        found = session.execute(query if chunk is None else query.where(column.in_(chunk))).all()
        rows += found if wanted is None or chunk is not None else [r for r in found if r[0] in wanted]
    return rows


def _versions_after(session: Session, through: int, ids: list[int] | None = None) -> list:
    """(id, instrument id, number, ISO day, paradigm) of the versions after `through` (of every
    instrument, or of `ids`), oldest first per instrument."""
    day = func.substr(cast(Version.recorded_at, String), 1, 10)  # "YYYY-MM-DD" on both databases
    query = (select(Version.instrument_id, Version.id, Version.number, day, Version.paradigm)
             .where(Version.id > through))
    return sorted(((version_id, instrument_id, number, when, paradigm) for instrument_id, version_id,
                   number, when, paradigm in _rows(session, query, Version.instrument_id, ids)),
                  key=lambda row: (row[1], row[2]))


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
    """Every stored span, or those of `instrument_ids`, oldest first."""
    query = select(TrendSpan.instrument_id, TrendSpan.version_number, TrendSpan.since, TrendSpan.paradigm,
                   TrendSpan.through)
    rows = (session.execute(query.order_by(TrendSpan.instrument_id, TrendSpan.version_number)).all()
            if instrument_ids is None else
            sorted(_rows(session, query, TrendSpan.instrument_id, instrument_ids),
                   key=lambda row: (row[0], row[1])))
    spans: dict[int, list[Span]] = {}
    for instrument_id, number, since, paradigm, through in rows:
        spans.setdefault(instrument_id, []).append(Span(number, since, paradigm, through))
    return spans


def paradigm_spans(session: Session, instrument_ids: list[int] | None = None) -> dict[int, list[Span]]:
    """Instrument id → its spans, oldest first, the versions not yet folded in included (every
    instrument's, or those of `instrument_ids`)."""
    spans = _stored_spans(session, instrument_ids)
    fold(spans, _versions_after(session, _through(session)[0], instrument_ids))
    return spans


def _withdrawals(session: Session, ids: list[int] | None, through_event: int | None = None
                 ) -> dict[int, list[tuple[date, date | None]]]:
    """Instrument id → (withdrawn on, restored on or None), from the events up to `through_event`."""
    query = select(ChangeEvent.instrument_id, ChangeEvent.kind, ChangeEvent.detected_at, ChangeEvent.id
                   ).where(ChangeEvent.kind.in_(_WITHDRAWALS))
    if through_event is not None:
        query = query.where(ChangeEvent.id <= through_event)
    # Found through the index on the kind and put in order here: ordered in SQL, SQLite walks
    # every event by date instead, to spare a sort of the few it keeps.
    withdrawals: dict[int, list[list]] = {}
    for instrument_id, kind, detected_at, _ in sorted(_rows(session, query, ChangeEvent.instrument_id, ids),
                                                      key=lambda row: (row[2], row[3])):
        spans = withdrawals.setdefault(instrument_id, [])
        if kind == "withdrawn":
            spans.append([detected_at.date(), None])
        elif spans and spans[-1][1] is None:
            spans[-1][1] = detected_at.date()
    return {key: [(start, end) for start, end in spans] for key, spans in withdrawals.items()}


Withdrawn = list[tuple[date, date | None]]


def _withdrawn_text(withdrawn: Iterable[tuple[date, date | None]]) -> str | None:
    """Withdrawals as trend_members keeps them: "withdrawn/restored;…" (restored empty while
    withdrawn)."""
    text = ";".join(f"{start.isoformat()}/{end.isoformat() if end else ''}" for start, end in withdrawn)
    return text or None


def _withdrawn_of(text: str | None) -> Withdrawn:
    spans: Withdrawn = []
    for span in (text or "").split(";") if text else []:
        start, _, end = span.partition("/")
        spans.append((date.fromisoformat(start), date.fromisoformat(end) if end else None))
    return spans


def _instruments(session: Session, ids: list[int] | None) -> list:
    """(id, uid, title, jurisdiction, level, in force since) of the instruments, in order of id."""
    query = select(Instrument.id, Instrument.uid, Instrument.title, Instrument.jurisdiction,
                   Instrument.level, Instrument.published, Instrument.first_seen_at)
    rows = sorted(_rows(session, query, Instrument.id, ids), key=lambda row: row[0])
    return [(i, uid, title, jurisdiction, level, _published(published) or first_seen.date())
            for i, uid, title, jurisdiction, level, published, first_seen in rows]


def _published(value: str | None) -> date | None:
    try:
        return date.fromisoformat(value) if value else None
    except ValueError:
        return None


def _history(instrument: tuple, in_force: date, spans: list[Span] | None,
             withdrawn: list[tuple[date, date | None]]) -> InstrumentHistory | None:
    """What trends need of one instrument (None when it has no version)."""
    if not spans:
        return None
    _, uid, title, jurisdiction, level, _ = instrument
    labels = [(date.fromisoformat(span.since), span.paradigm) for span in spans]
    labels[0] = (min(labels[0][0], in_force), labels[0][1])
    return InstrumentHistory(uid, title, jurisdiction, level, in_force, tuple(labels), tuple(withdrawn),
                             last_recorded=date.fromisoformat(spans[-1].through))


def instrument_histories(session: Session, instrument_ids: list[int] | None = None
                         ) -> list[InstrumentHistory]:
    """What trends need of every instrument (or of `instrument_ids`), in order of id: in force
    since, its paradigm each time it changed (one span per change of label, not per version),
    withdrawals."""
    spans = paradigm_spans(session, instrument_ids)
    withdrawals = _withdrawals(session, instrument_ids)
    histories = []
    for instrument in _instruments(session, instrument_ids):
        history = _history(instrument, instrument[5], spans.get(instrument[0]),
                           withdrawals.get(instrument[0], []))
        if history is not None:
            histories.append(history)
    return histories


@dataclass
class Pending:
    """What was recorded since the last fold, and what it changes."""

    newest_version: int = 0
    newest_event: int = 0
    versions: list = field(default_factory=list)
    touched: list[int] = field(default_factory=list)             # instruments with something new
    first: bool = False                                            # nothing was folded before
    spans: dict[int, list[Span]] = field(default_factory=dict)   # touched instruments', folded
    stored: set[tuple[int, int]] = field(default_factory=set)     # their spans already stored
    folded: set[tuple[int, int]] = field(default_factory=set)     # spans added or extended
    counts: Counter = field(default_factory=Counter)              # the change of the yearly counts
    members: dict[int, InstrumentHistory | None] = field(default_factory=dict)  # touched, as now

    @property
    def empty(self) -> bool:
        return not self.touched


def _pending(session: Session) -> Pending:
    """The versions and withdrawals after the last fold, folded in memory."""
    through_version, through_event = _through(session)
    versions = _versions_after(session, through_version)
    events = session.execute(select(ChangeEvent.id, ChangeEvent.instrument_id).where(
        ChangeEvent.kind.in_(_WITHDRAWALS), ChangeEvent.id > through_event)).all()
    touched = sorted({row[1] for row in versions} | {row[1] for row in events})
    first_fold = through_version == 0 and through_event == 0
    pending = Pending(max((row[0] for row in versions), default=through_version),
                      max((row[0] for row in events), default=through_event), versions, touched,
                      first_fold)
    if not touched:
        return pending
    old_spans = {} if first_fold else _stored_spans(session, touched)
    pending.stored = {(i, span.number) for i, known in old_spans.items() for span in known}
    pending.spans = {i: [replace(span) for span in known] for i, known in old_spans.items()}
    pending.folded = fold(pending.spans, versions)
    old_members = {} if first_fold else {key: (in_force, withdrawn) for key, in_force, withdrawn in _rows(
        session, select(TrendMember.instrument_id, TrendMember.in_force, TrendMember.withdrawn),
        TrendMember.instrument_id, touched)}
    withdrawals = _withdrawals(session, None if first_fold else touched, pending.newest_event)
    for instrument in _instruments(session, None if first_fold else touched):
        key = instrument[0]
        if key not in pending.spans and key not in old_members:
            continue
        if key in old_members:
            in_force, withdrawn = old_members[key]
            old = _history(instrument, date.fromisoformat(in_force), old_spans.get(key),
                           _withdrawn_of(withdrawn))
            if old is not None:
                pending.counts.subtract(yearly_counts(old))
        new = _history(instrument, instrument[5], pending.spans.get(key), withdrawals.get(key, []))
        if new is not None:
            pending.counts.update(yearly_counts(new))
        pending.members[key] = new
    return pending


def advance(store: Store) -> int:
    """Fold the versions and withdrawals recorded since the last call into the stored spans and
    counts, in one transaction; returns how many versions were read. A second process advancing
    at the same moment makes this one give way (its transaction is dropped; the other has done
    the same work)."""
    try:
        with store.transaction() as session:
            # PostgreSQL: a second digest waits here for the first to commit, then reads its
            # watermark (the counts take deltas, which must not be added twice).
            session.get(TrendState, 1, with_for_update=True)
            pending = _pending(session)
            if pending.empty:
                return 0
            _write_spans(session, pending)
            _write_members(session, pending)
            _write_counts(session, pending.counts)
            state = session.get(TrendState, 1)
            if state is None:
                session.add(TrendState(id=1, through_version_id=pending.newest_version,
                                       through_event_id=pending.newest_event))
            else:
                state.through_version_id = pending.newest_version
                state.through_event_id = pending.newest_event
            return len(pending.versions)
    except IntegrityError:
        return 0


def _table(model: typing.Any) -> Table:
    """A model's table, for a Core executemany (one statement, not one per row)."""
    return typing.cast(Table, model.__table__)


def _write_spans(session: Session, pending: Pending) -> None:
    by_key = {(instrument_id, span.number): span
              for instrument_id, known in pending.spans.items() for span in known}
    extended, added = [], []
    for instrument_id, number in sorted(pending.folded):
        span = by_key[(instrument_id, number)]
        row = {"instrument_id": instrument_id, "version_number": number, "through": span.through}
        if (instrument_id, number) in pending.stored:
            extended.append(row)
        else:
            added.append({**row, "since": span.since, "paradigm": span.paradigm})
    if extended:  # ORM bulk update by primary key: one executemany
        session.execute(update(TrendSpan), extended)
    if added:
        session.connection().execute(insert(_table(TrendSpan)), added)  # one executemany


def _write_members(session: Session, pending: Pending) -> None:
    if not pending.first:
        touched = sorted(pending.members)
        for start in range(0, len(touched), _CHUNK):
            session.execute(delete(TrendMember).where(
                TrendMember.instrument_id.in_(touched[start:start + _CHUNK])))
    rows = [{"instrument_id": key, "uid": history.uid, "jurisdiction": history.jurisdiction,
             "in_force": history.in_force_from.isoformat(),
             "entered_paradigm": entered_paradigm(history), "withdrawn": _withdrawn_text(history.withdrawn)}
            for key, history in sorted(pending.members.items()) if history is not None]
    if rows:
        session.connection().execute(insert(_table(TrendMember)), rows)


def _write_counts(session: Session, change: Counter) -> None:
    stored = _stored_counts(session)
    existing: list[dict] = []
    added: list[dict] = []
    for key, delta in sorted(change.items()):
        if not delta:
            continue
        measure, year, jurisdiction, group, paradigm = key
        row = {"measure": measure, "year": year, "jurisdiction": jurisdiction, "level_group": group,
               "paradigm": paradigm, "count": stored.get(key, 0) + delta}
        (existing if key in stored else added).append(row)
    if existing:
        session.execute(update(TrendCount), existing)
    if added:
        session.connection().execute(insert(_table(TrendCount)), added)


def _stored_counts(session: Session) -> Counter:
    return Counter({(measure, year, jurisdiction, group, paradigm): count
                    for measure, year, jurisdiction, group, paradigm, count in session.execute(select(
                        TrendCount.measure, TrendCount.year, TrendCount.jurisdiction,
                        TrendCount.level_group, TrendCount.paradigm, TrendCount.count))})


def trend_counts(session: Session, pending: Pending | None = None) -> Counter:
    """The yearly counts, the versions and withdrawals not yet folded in included."""
    counts = _stored_counts(session)
    counts.update(pending.counts if pending is not None else _pending(session).counts)
    return counts


class StoredNames:
    """The instruments the yearly trends name, found in the store (paradigms.trends.Named): the
    first of a list read by its index in order of id, not the whole list."""

    def __init__(self, session: Session, pending: Pending) -> None:
        self.session, self.pending = session, pending

    def new_restrictive(self, year: str, first: int | None) -> list[str]:
        query = select(TrendMember.instrument_id, TrendMember.uid, TrendMember.withdrawn).where(
            TrendMember.entered_paradigm == RESTRICTIVE,
            TrendMember.in_force.between(f"{year}-01-01", f"{year}-12-31"))
        pending = [(key, history.uid) for key, history in self.pending.members.items()
                   if history is not None and str(history.in_force_from.year) == year
                   and entered_paradigm(history) == RESTRICTIVE]
        return self._first(query, lambda withdrawn: True, pending, first)

    def entered(self, start: date, end: date, paradigm: str) -> list[str]:
        first, last = start.isoformat(), end.isoformat()
        candidates = set(self.session.scalars(select(TrendSpan.instrument_id).where(
            TrendSpan.since >= first, TrendSpan.since <= last)))
        candidates |= set(self.session.scalars(select(TrendMember.instrument_id).where(
            TrendMember.in_force >= first, TrendMember.in_force <= last)))
        candidates |= set(self.pending.members)
        histories = instrument_histories(self.session, sorted(candidates))
        return entered_within(histories, start, end, paradigm)

    def in_force(self, jurisdiction: str, day: date, first: int | None) -> list[str]:
        """In force on a day: since then (trend_members says since when) and not withdrawn on it."""
        iso = day.isoformat()
        query = select(TrendMember.instrument_id, TrendMember.uid, TrendMember.withdrawn).where(
            TrendMember.jurisdiction == jurisdiction, TrendMember.in_force <= iso)
        pending = [(key, history.uid) for key, history in self.pending.members.items()
                   if history is not None and history.jurisdiction == jurisdiction
                   and history.in_force_from <= day and not withdrawn_on(history.withdrawn, day)]
        return self._first(query, lambda withdrawn: not (withdrawn and _withdrawn_on_iso(withdrawn, iso)),
                           pending, first)

    def _first(self, query, keep: Callable[[str | None], bool], pending: list[tuple[int, str]],
               first: int | None) -> list[str]:
        """The uids of the stored (id, uid, withdrawals) rows of `query` whose withdrawals `keep`,
        those not folded yet (`pending`: id, uid) in place of theirs, in order of id: the first
        `first`, read a few rows at a time (every row for None)."""
        query = query.order_by(TrendMember.instrument_id)
        connection, unfolded = self.session.connection(), self.pending.members

        def found(rows: Sequence) -> list[tuple[int, str]]:
            return sorted([(key, uid) for key, uid, withdrawn in rows
                           if key not in unfolded and keep(withdrawn)] + pending)

        if first is None:
            return [uid for _, uid in found(connection.execute(query).all())]
        size = max(first + len(unfolded), 1)  # enough when none of the rows is dropped
        while True:
            rows = connection.execute(query.limit(size)).all()
            if len(rows) < size:
                return [uid for _, uid in found(rows)[:first]]
            read_up_to = rows[-1][0]  # the rows after it are not known yet
            sure = [uid for key, uid in found(rows) if key <= read_up_to]
            if len(sure) >= first:
                return sure[:first]
            size *= 4


def _withdrawn_on_iso(text: str, iso: str) -> bool:
    """`withdrawn_on(_withdrawn_of(text), date.fromisoformat(iso))`, told on the ISO dates as
    they are (they sort as the days do)."""
    for span in text.split(";"):
        start, _, end = span.partition("/")
        if start <= iso and (not end or iso < end):
            return True
    return False


def yearly_trends(session: Session, until: date | None = None, named_periods: int | None = None,
                  names: int | None = None) -> tuple[list[Period], list[Flag]]:
    """compute_trends(instrument_histories(session), "year", until), from the yearly counts:
    the instruments are read only for the `named_periods` most recent periods (all when None)
    and the flags of those that name them, at most `names` of each (all when None), the first
    in order of id."""
    pending = _pending(session)
    return trends_from_counts(trend_counts(session, pending), StoredNames(session, pending), until,
                              named_periods, names)


def reset(session: Session) -> None:
    """Forget every span and count (after old versions were relabelled); the next advance
    starts over."""
    session.execute(delete(TrendSpan))
    session.execute(delete(TrendMember))
    session.execute(delete(TrendCount))
    session.execute(delete(TrendState))
