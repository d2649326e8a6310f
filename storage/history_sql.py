"""The history query (`policywatch history`, the web view, the digests) as SQL text, built by
pure functions from a HistoryFilter for one database ('sqlite' or 'postgresql'), and run through
any Reader: the standard library's sqlite3 on a current SQLite store (storage/readers.py), a
SQLAlchemy session everywhere else (storage.queries.history). One query for both; no SQLAlchemy
here, so that the command line answers without loading it.

A search finds the events of every instrument with a matching version, newest first. On SQLite a
phrase found in many versions (`found_often`) is answered by walking the events newest first and
testing each against the matching instruments, read once (`walk`); a rarer one by sorting the
events of its few instruments (`sorted_events`). Both give the same rows. On PostgreSQL the
plan is chosen from its planner's statistics of each instrument's lexemes (`postgres_plan`):
sorting the events of few holders, or walking the newest events testing each one's instrument,
against the holders hashed once or by its own row (`_postgres_newest`).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any, Protocol

from storage.search_terms import folded, match_expression, pairs, postgres_pairs, search_terms
from texts.vocabulary import ADOPTED, IN_FORCE, REPEALED, STAGE, UNKNOWN_STAGE

WALKED = 30  # events a search for a common phrase walks per event asked for, before it sorts
FOUND_OFTEN = 1000  # matching versions from which a search walks the events newest first
CONFIRMING = 10  # a longer phrase, each candidate confirmed in its text, walks from a tenth of it
DENSE = 4  # a term or pair in 1/DENSE of the versions or more: the walk tests each version it meets
POSTGRES_DENSE = 3  # on PostgreSQL, in 1/POSTGRES_DENSE of the instruments: each instrument met tested


@dataclass(frozen=True)
class HistoryFilter:
    since: datetime | None = None
    until: datetime | None = None
    jurisdictions: tuple[str, ...] = ()
    sources: tuple[str, ...] = ()
    changes: tuple[str, ...] = ()
    paradigms: tuple[str, ...] = ()
    stages: tuple[str, ...] = ()  # the stage as of `today` (effective_stage)
    search: str | None = None
    include_technical: bool = False
    include_baseline: bool = True
    limit: int | None = None
    today: date | None = None  # what stages are reckoned against (default: today, UTC)


def utc_today() -> date:
    return datetime.now(UTC).date()


class Reader(Protocol):
    """Rows of SQL text with named `:params`, on one database."""

    dialect: str  # 'sqlite' or 'postgresql'

    def rows(self, sql: str, params: dict[str, Any] | None = None) -> Sequence[Sequence[Any]]: ...

    def scalar(self, sql: str, params: dict[str, Any] | None = None) -> Any: ...

    def run(self, sql: str) -> None:
        """Run a statement that returns no rows (a temporary table of the connection's own)."""


@dataclass
class Statement:
    """SQL text and the values of its named parameters."""

    sql: str
    params: dict[str, Any] = field(default_factory=dict)

    def bind(self, value: Any) -> str:
        """A new parameter holding `value`, as it is written in the SQL (`:p3`)."""
        name = f"p{len(self.params)}"
        self.params[name] = value
        return f":{name}"

    def bind_all(self, values: Iterable[Any]) -> str:
        """An IN list of new parameters (`:p0, :p1`)."""
        return ", ".join(self.bind(value) for value in values)


def lifecycle_field(dialect: str, lifecycle: str, name: str) -> str:
    """A text field of a JSON lifecycle column (its `since`, its `until`), NULL when missing."""
    if dialect == "postgresql":
        return f"CAST(({lifecycle} ->> '{name}') AS VARCHAR)"
    return f"CAST(JSON_EXTRACT({lifecycle}, '$.\"{name}\"') AS VARCHAR)"


def effective_stage(dialect: str, stage: str, lifecycle: str, today: str) -> str:
    """paradigms.lifecycle.effective_stage in SQL (`today` an ISO date or its parameter): a repeal
    still to come when the version was read (the lifecycle's `until`) on or before `today` is
    `repealed`; `adopted` with an entry into force (the lifecycle's `since`) on or before `today`
    is `in_force`; NULL is `unknown`."""
    since, until = lifecycle_field(dialect, lifecycle, "since"), lifecycle_field(dialect, lifecycle, "until")
    return (f"CASE WHEN ({until} IS NOT NULL AND {until} <= {today}) THEN '{REPEALED}' "
            f"WHEN ({stage} = '{ADOPTED}' AND {since} IS NOT NULL AND {since} <= {today}) "
            f"THEN '{IN_FORCE}' ELSE coalesce({stage}, '{UNKNOWN_STAGE}') END")


def moment(dialect: str, value: datetime) -> Any:
    """A naive UTC time as a parameter compared with a DATETIME column: SQLite keeps them as the
    text SQLAlchemy writes, to the microsecond."""
    return value.strftime("%Y-%m-%d %H:%M:%S.%f") if dialect == "sqlite" else value


def matching_versions(dialect: str, needle: str, query: Statement, confirmed: bool = True) -> str | None:
    """SELECT of the ids of versions whose title or text contains the phrase of the needle's
    terms, the last one a prefix, its match binding parameters of `query`; None when the needle
    has no searchable term (punctuation only). On SQLite (storage/search.py): one lookup for one
    or two terms; for a longer phrase, the versions holding every pair of it, each confirmed in
    its text unless not `confirmed` (the candidates: `phrase_confirmation` then tells)."""
    terms = search_terms(needle)
    if dialect == "postgresql":
        return f"SELECT version_id FROM version_search WHERE {found}" if (
            found := postgres_match(terms, query)) else None
    terms = folded(terms)  # as SQLite's index holds them
    if not terms:
        return None
    found = query.bind(match_expression(terms))
    if len(terms) <= 2 or not confirmed:
        return f"SELECT rowid FROM version_search WHERE version_search MATCH {found}"
    return ("SELECT phrased.id FROM version_search "
            "JOIN versions AS phrased ON phrased.id = version_search.rowid "
            f"WHERE version_search MATCH {found} AND {_confirmed(query, needle, 'phrased')}")


def postgres_match(terms: list[str], query: Statement) -> str | None:
    """The condition that a row of PostgreSQL's `version_search` holds the phrase of `terms`, the
    last a prefix (storage/search.py): the term, or the pair's lexeme; for a longer phrase, every
    pair, then the phrase by position, as a test the GIN index is not asked (it would intersect
    the lists of the phrase's single terms too: 145 ms for "personal data transfer" at 1,000,000
    events, against 24 for its pairs). None for no term."""
    held = postgres_lexemes(terms, query)
    if held is None:
        return None
    if len(terms) <= 2:
        return f"terms @@ {held}"
    return f"terms @@ {held} AND (terms @@ {postgres_phrase(terms, query)}) IS TRUE"


def postgres_phrase(terms: list[str], query: Statement) -> str:
    """PostgreSQL's tsquery of the phrase of `terms` by their positions, the last a prefix."""
    return f"to_tsquery('simple', {query.bind(' <-> '.join(terms) + ':*')})"


def postgres_lexemes(terms: list[str], query: Statement, whole_last: bool = False) -> str | None:
    """PostgreSQL's tsquery of the lexemes a text holding the phrase of `terms` holds, without
    positions: the one term, or every pair of neighbours, the last a prefix unless `whole_last`;
    exact for one or two terms. None for no term."""
    if not terms:
        return None
    cut = "" if whole_last else ":*"
    if len(terms) == 1:
        return f"to_tsquery('simple', {query.bind(terms[0] + cut)})"
    lexemes = " & ".join(f"'{pair}'" for pair in pairs(terms)) + cut  # no term holds a quote
    return f"CAST({query.bind(lexemes)} AS tsquery)"


def postgres_instruments(needle: str, query: Statement, among: list[int] | None = None) -> str | None:
    """SELECT of the ids of the instruments with a version holding the phrase, on PostgreSQL:
    `among`, when given (the holders, as `postgres_plan` read them); else, for one or two terms,
    by `instrument_search`; for more, those of the versions holding the phrase (`version_search`:
    every pair, then the phrase by position in the chunks holding them). None for no term."""
    terms = search_terms(needle)
    if not terms:
        return None
    if among is not None:
        return f"SELECT unnest(CAST({query.bind(among)} AS integer[]))"
    if len(terms) <= 2:
        return f"SELECT instrument_id FROM instrument_search WHERE terms @@ {postgres_lexemes(terms, query)}"
    return ("SELECT versions.instrument_id FROM versions WHERE versions.id IN "
            f"({matching_versions('postgresql', needle, query)})")


def phrase_confirmation(dialect: str, needle: str, query: Statement, version: str) -> str | None:
    """The condition that a candidate of `matching_versions(..., confirmed=False)`, the row
    `version` of `versions`, holds the phrase; None when the index finds it exactly (one or two
    terms, and PostgreSQL's positions)."""
    if dialect == "postgresql" or len(folded(search_terms(needle))) <= 2:
        return None
    return _confirmed(query, needle, version)


def _confirmed(query: Statement, needle: str, version: str) -> str:
    return f"policywatch_phrase({query.bind(needle)}, {version}.title, {version}.text_z)"


def often(terms: list[str]) -> int:
    """How many versions the index finds for a phrase of `terms` from which a search walks:
    FOUND_OFTEN, and a tenth of it for three terms or more, whose candidates the sorted plan
    would each confirm in its text (up to a millisecond for a long one) and the walk confirms
    only as it meets them."""
    return FOUND_OFTEN if len(terms) <= 2 else max(1, FOUND_OFTEN // CONFIRMING)


def found_often_statement(dialect: str, needle: str) -> tuple[Statement, int] | None:
    """The count of the versions SQLite's index finds for the phrase (for three terms or more:
    holding every pair of it), its last term taken whole, up to `often` of its terms, and that
    number; None on PostgreSQL, whose plans `postgres_plan` chooses, or for a needle without a
    searchable term."""
    if dialect != "sqlite" or not (terms := folded(search_terms(needle))):
        return None
    query, threshold = Statement(""), often(terms)
    phrase, cut = query.bind(match_expression(terms, whole_last=True)), query.bind(threshold)
    query.sql = (f"SELECT count(*) FROM (SELECT rowid FROM version_search "
                 f"WHERE version_search MATCH {phrase} LIMIT {cut})")
    return query, threshold


SAMPLES = 4  # windows of the versions' ids in which a search's density is counted
SAMPLED = 500  # ids a window spans


def dense_terms(reader: Reader, needle: str) -> list[str] | None:
    """The needle's terms (SQLite, one or two of them) when the index finds them whole (the
    term, or the pair) in at least 1/DENSE of the versions, counted in SAMPLES windows of ids
    spread over the store; else None. Reading every version that holds a word starting with
    them (what the walk's matching set is) costs a fifth of a second for such a word on a million
    versions, most of it FTS5 expanding the prefix; the walk then meets few events without it,
    so it tests each version it meets instead (`dense_test`)."""
    if reader.dialect != "sqlite" or not 1 <= len(terms := folded(search_terms(needle))) <= 2:
        return None
    newest = reader.scalar("SELECT max(id) FROM versions") or 0
    token = match_expression(terms, whole_last=True)
    stored = found = 0
    for sample in range(1, SAMPLES + 1):
        window = {"low": newest * sample // (SAMPLES + 1), "high": newest * sample // (SAMPLES + 1) + SAMPLED}
        stored += reader.scalar("SELECT count(*) FROM versions WHERE id BETWEEN :low AND :high", window)
        found += reader.scalar("SELECT count(*) FROM version_search WHERE version_search MATCH :token "
                               "AND rowid BETWEEN :low AND :high", window | {"token": token})
    return terms if stored and found * DENSE >= stored else None


def dense_test(query: Statement, terms: list[str], needle: str, version: str) -> tuple[str, str]:
    """The conditions that the version `version` holds the needle's one or two terms: the term
    or the pair whole, by one lookup of the index at the version's row id; and, the last term a
    prefix of a longer word, in the version's text (dearer: tried when no version has the first,
    and only when the index holds such a longer word: `longer_tokens`)."""
    whole = query.bind(match_expression(terms, whole_last=True))
    return (f"EXISTS (SELECT 1 FROM version_search WHERE version_search MATCH {whole} "
            f"AND version_search.rowid = {version}.id)", _confirmed(query, needle, version))


VOCABULARY = ("CREATE VIRTUAL TABLE IF NOT EXISTS temp.search_vocabulary "
              "USING fts5vocab(main, version_search, row)")  # the index's tokens, each once


def longer_tokens(reader: Reader, terms: list[str]) -> bool:
    """Whether SQLite's index holds a token that the last of one or two terms (as the index
    holds them: the term, or the pair) starts and is longer than. The vocabulary counts the
    versions of each token it returns: 0.1–0.3 ms when there is none at 1,000,000 events, up to
    the count of the first one (15 ms for a word in half the versions) when there is."""
    token = terms[0] if len(terms) == 1 else pairs(terms)[0]
    reader.run(VOCABULARY)
    return reader.scalar("SELECT count(*) FROM (SELECT term FROM temp.search_vocabulary WHERE "
                         "term >= :token || char(1) AND term < :token || char(1114111) LIMIT 1)",
                         {"token": token}) > 0


def found_often(reader: Reader, needle: str) -> bool:
    """Whether SQLite's index holds the phrase, its last term taken whole, in at least `often`
    versions. Such a phrase is in many instruments: their newest events come soonest
    by walking the events newest first, testing each against the matching instruments read
    once, rather than by sorting every event of every matching instrument. Only the plan
    depends on it, never the rows; the last term is taken whole because FTS5 reads every word a
    prefix stands for before it returns a first row. Always False on PostgreSQL."""
    counting = found_often_statement(reader.dialect, needle)
    if counting is None:
        return False
    counted, threshold = counting
    return reader.scalar(counted.sql, counted.params) >= threshold


EVENT_COLUMNS = ("instruments.uid", "instruments.source_id", "instruments.jurisdiction",
                 "instruments.level", "instruments.language", "instruments.title", "change_events.url",
                 "change_events.kind", "change_events.detected_at", "change_events.version_number",
                 "change_events.baseline", "change_events.paradigm", "change_events.previous_paradigm",
                 "change_events.stage", "change_events.previous_stage", "change_events.previous_url",
                 "change_events.provisions", "change_events.shift")
EVENTS = ("FROM change_events JOIN instruments ON change_events.instrument_id = instruments.id "
          "LEFT OUTER JOIN versions ON versions.instrument_id = change_events.instrument_id "
          "AND versions.number = change_events.version_number")
NEWEST_FIRST = "ORDER BY change_events.detected_at DESC, change_events.id DESC"


@dataclass
class HistoryQuery:
    """The parts of one history query: its columns, the conditions on the events' own columns
    (`own`), those on the joined rows (`joined`), and the parameters of both."""

    columns: str
    own: list[str]
    joined: list[str]
    params: Statement


def history_query(dialect: str, where: HistoryFilter, today: date) -> HistoryQuery:
    """The history query of `where` on `dialect`, stages reckoned as of `today`."""
    bound = Statement("")
    today_param = bound.bind(today.isoformat())
    stage = effective_stage(dialect, "change_events.stage", "versions.lifecycle", today_param)
    quoted = f"CASE WHEN (change_events.kind = '{STAGE}') THEN versions.lifecycle END"
    own: list[str] = []
    if where.since:
        own.append(f"change_events.detected_at >= {bound.bind(moment(dialect, where.since))}")
    if where.until:
        own.append(f"change_events.detected_at < {bound.bind(moment(dialect, where.until))}")
    if where.jurisdictions:
        own.append(f"change_events.jurisdiction IN ({bound.bind_all(where.jurisdictions)})")
    if where.changes:
        own.append(f"change_events.kind IN ({bound.bind_all(where.changes)})")
    elif not where.include_technical:
        own.append("change_events.kind != 'technical'")
    if not where.include_baseline:
        own.append("change_events.baseline IS " + ("false" if dialect == "postgresql" else "0"))
    if where.paradigms:
        labels = [p for p in where.paradigms if p != "unknown"]
        condition = f"change_events.paradigm IN ({bound.bind_all(labels)})" if labels else "1 != 1"
        if "unknown" in where.paradigms:
            condition = (f"({condition} OR change_events.paradigm IS NULL "
                         "OR change_events.paradigm = 'unknown')")
        own.append(condition)
    joined: list[str] = []
    if where.sources:
        joined.append(f"instruments.source_id IN ({bound.bind_all(where.sources)})")
    if where.stages:
        joined.append(f"{stage} IN ({bound.bind_all(where.stages)})")
    return HistoryQuery(", ".join([*EVENT_COLUMNS, stage, quoted]), own, joined, bound)


def _where(conditions: list[str]) -> str:
    return f"WHERE {' AND '.join(conditions)} " if conditions else ""


def _finished(query: HistoryQuery, conditions: list[str], limit: int | None,
              statement: Statement | None = None) -> Statement:
    """The query's events meeting `conditions` (with the parameters of `statement`, when
    given), newest first, at most `limit`."""
    statement = statement or Statement("", dict(query.params.params))
    cut = f" LIMIT {statement.bind(limit)}" if limit else ""
    statement.sql = f"SELECT {query.columns} {EVENTS} {_where(conditions)}{NEWEST_FIRST}{cut}"
    return statement


def sorted_events(query: HistoryQuery, versions: str | None, limit: int | None,
                  instruments: str | None = None) -> Statement:
    """Every event of the query (of an instrument with one of `versions`, or one of
    `instruments`), sorted, then cut."""
    conditions = [*query.own, *query.joined]
    if versions is not None:
        conditions.append("change_events.instrument_id IN (SELECT versions.instrument_id "
                          f"FROM versions WHERE versions.id IN ({versions}))")
    if instruments is not None:
        conditions.append(f"change_events.instrument_id IN ({instruments})")
    return _finished(query, conditions, limit)


def walk_boundary(query: HistoryQuery, limit: int) -> Statement:
    """The time of the (`limit` × WALKED)-th newest event meeting the query's own conditions."""
    statement = Statement("", dict(query.params.params))
    offset = statement.bind(limit * WALKED - 1)
    statement.sql = (f"SELECT change_events.detected_at FROM change_events {_where(query.own)}"
                     f"ORDER BY change_events.detected_at DESC LIMIT 1 OFFSET {offset}")
    return statement


def walk(query: HistoryQuery, statement: Statement, conditions: list[str], boundary: Any,
         limit: int) -> Statement:
    """The first `limit` events of the query meeting `conditions` too (with the parameters of
    `statement`), newest first, since `boundary` (all when None)."""
    if boundary is not None:
        conditions = [*conditions, f"change_events.detected_at >= {statement.bind(boundary)}"]
    return _finished(query, [*query.own, *query.joined, *conditions], limit, statement)


def newest_walk(query: HistoryQuery, statement: Statement, conditions: list[str], limit: int) -> Statement:
    """The first `limit` events meeting `conditions` (with the parameters of `statement`) and the
    query's conditions on joined rows, newest first, among the (`limit` × WALKED) newest events
    meeting its conditions on their own columns, read in one pass down the index of times
    (PostgreSQL: no first query for the time they reach back to; SQLite plans this worse than
    `walk` with its boundary)."""
    newest = (f"(SELECT * FROM change_events {_where(query.own)}{NEWEST_FIRST} "
              f"LIMIT {statement.bind(limit * WALKED)}) AS change_events")
    walking = _finished(query, [*query.joined, *conditions], limit, statement)
    walking.sql = walking.sql.replace("FROM change_events", f"FROM {newest}", 1)
    return walking


def version_tests(versions: str | None, confirmation: str | None, otherwise: str | None = None) -> str:
    """Whether the event's instrument has a version (`searched`) among `versions` when given,
    meeting `confirmation` when it is given; failing that, when `otherwise` is given, one
    meeting it (a dearer test, tried once the first has failed on every version)."""
    tests = ([f"searched.id IN ({versions})"] if versions else []) + ([confirmation] if confirmation else [])
    held = _held(" AND ".join(tests))
    return f"({held} OR {_held(otherwise)})" if otherwise else held


def _held(test: str) -> str:
    """Whether a version of the event's instrument (`searched`) meets `test`."""
    return ("EXISTS (SELECT searched.id FROM versions AS searched "
            f"WHERE searched.instrument_id = change_events.instrument_id AND {test})")


def read_history(reader: Reader, where: HistoryFilter) -> list[dict]:
    """Change events, newest first, as the JSON objects of DESIGN.md §3 (read as rows of the
    columns they need, not as objects: a week's 5,000 events cost half as much)."""
    query = history_query(reader.dialect, where, where.today or utc_today())
    versions = None
    if where.search and reader.dialect == "postgresql":
        if not (terms := search_terms(where.search)):
            return []
        if by_position_only(reader, terms):
            statement = sorted_events(query, "SELECT version_id FROM version_search WHERE "
                                      f"terms @@ {postgres_phrase(terms, query.params)}", where.limit)
            return [event_json(row) for row in reader.rows(statement.sql, statement.params)]
        plan, holders = postgres_plan(reader, where.search)
        walked = _postgres_newest(reader, query, where.search, plan, where.limit) if where.limit else None
        if walked is None:
            instruments = postgres_instruments(where.search, query.params, holders)
            statement = sorted_events(query, None, where.limit, instruments)
            walked = reader.rows(statement.sql, statement.params)
        return [event_json(row) for row in walked]
    if where.search:
        versions = matching_versions(reader.dialect, where.search, query.params)
        if versions is None:
            return []
        walked = None
        if where.limit and (dense := dense_terms(reader, where.search)):  # tested as met
            whole, longer = dense_test(query.params, dense, where.search, "searched")
            walked = _newest_matching(reader, query, None, whole, where.limit,
                                      otherwise=longer if longer_tokens(reader, dense) else None)
        elif where.limit and found_often(reader, where.search):  # the walk confirms what it meets
            candidates = matching_versions(reader.dialect, where.search, query.params, confirmed=False)
            confirmation = phrase_confirmation(reader.dialect, where.search, query.params, "searched")
            walked = _newest_matching(reader, query, candidates or versions, confirmation, where.limit)
        if walked is not None:
            return [event_json(row) for row in walked]
    statement = sorted_events(query, versions, where.limit)
    return [event_json(row) for row in reader.rows(statement.sql, statement.params)]


def _newest_matching(reader: Reader, query: HistoryQuery, versions: str | None, confirmation: str | None,
                     limit: int, otherwise: str | None = None) -> Sequence[Sequence[Any]] | None:
    """The first `limit` rows of the query whose instrument has one of `versions` (every
    version when None) meeting `confirmation` (when given) or, failing that, `otherwise`, or
    None.

    SQLite walks newest first the events since the time of the (`limit` × WALKED)-th newest
    event meeting the conditions on the events' own columns, looks up each one's versions in
    the index by instrument and tests them against the matching versions, read once (a longer
    phrase is confirmed in the texts of those versions only, not of every candidate). Those are
    all the events of the query since that time, each before every older one, so the rows found
    are the first rows of the whole search. None when fewer than `limit` are found there (a
    phrase common elsewhere but rare under these filters): the caller then sorts the events of
    the matching instruments instead."""
    bounding = walk_boundary(query, limit)
    boundary = reader.scalar(bounding.sql, bounding.params)
    statement = Statement("", dict(query.params.params))
    walking = walk(query, statement, [version_tests(versions, confirmation, otherwise)], boundary, limit)
    rows = reader.rows(walking.sql, walking.params)
    return rows if len(rows) == limit or boundary is None else None


def by_position_only(reader: Reader, terms: list[str]) -> bool:
    """Whether PostgreSQL finds the phrase of `terms` by the positions of its terms alone, as
    before its index held pairs: a pair of it is too long to be indexed (LONGEST_LEXEME), or its
    one term is more than one lexeme to PostgreSQL's parser ("h₂o": "h", "o"), which
    `instrument_search`, without positions, cannot tell as a run."""
    if len(terms) > 1:
        return len(postgres_pairs(terms)) < len(set(pairs(terms)))
    return reader.scalar("SELECT numnode(to_tsquery('simple', :term))", {"term": terms[0] + ":*"}) != 1


def postgres_plan(reader: Reader, needle: str) -> tuple[str, list[int] | None]:
    """How PostgreSQL is to search for the needle, by how many rows of `instrument_search` hold
    its lexemes: "sorted" for fewer than FOUND_OFTEN (with the ids of their instruments),
    "tested" for 1/POSTGRES_DENSE of the rows or more, "hashed" between. What its planner
    expects tells (its statistics know the 10,000 commonest lexemes, and a prefix by those it
    starts); where it expects fewer than FOUND_OFTEN, the holders are read, up to that many,
    through the GIN index. Their ids spare the sorted plan the planner's guess of their
    number. A phrase of three terms or more, whose holders no statistics foretell, has them read
    from the versions holding it: "sorted" or "hashed"."""
    terms = search_terms(needle)
    probe = Statement("")
    if len(terms) > 2:  # versions holding every pair are few; those holding the phrase, fewer
        holding = postgres_instruments(needle, probe) or ""
        holders = reader.rows(f"SELECT DISTINCT held.instrument_id FROM ({holding}) AS held "
                              f"LIMIT {probe.bind(FOUND_OFTEN)}", probe.params)
        if len(holders) < FOUND_OFTEN:
            return "sorted", sorted(instrument_id for (instrument_id,) in holders)
        return "hashed", None
    held = postgres_lexemes(terms, probe)
    holding = f"SELECT instrument_id FROM instrument_search WHERE terms @@ {held}"
    plan = reader.scalar(f"EXPLAIN (FORMAT JSON) {holding}", probe.params)
    expected = float((json.loads(plan) if isinstance(plan, str) else plan)[0]["Plan"]["Plan Rows"])
    if expected < FOUND_OFTEN:
        holders = reader.rows(f"{holding} LIMIT {probe.bind(FOUND_OFTEN)}", probe.params)
        if len(holders) < FOUND_OFTEN:
            return "sorted", sorted({instrument_id for (instrument_id,) in holders})
    stored = reader.scalar("SELECT reltuples FROM pg_class WHERE oid = 'instrument_search'::regclass") or 0
    return ("tested" if stored > 0 and expected * POSTGRES_DENSE >= stored else "hashed"), None


def _postgres_newest(reader: Reader, query: HistoryQuery, needle: str, plan: str,
                     limit: int) -> Sequence[Sequence[Any]] | None:
    """The first `limit` rows of a search on PostgreSQL by walking the (`limit` × WALKED) newest
    events meeting the conditions on their own columns, as `plan` says (`postgres_plan`), or None
    when the sorted plan is the one (that plan, or fewer than `limit` events found in the walk:
    the phrase is rarer under these filters). The rows found are the first of the whole search,
    each before every older event.

    Each event's instrument is tested in `instrument_search` (`postgres_plan`): where the needle
    is in many of its rows, each event's instrument by its own rows (few events are walked);
    otherwise against the matching instruments (`postgres_instruments`: for a phrase of three
    terms or more, those of the versions holding it), read once by the GIN index into a hashed
    set (a condition the planner keeps as it is, not a join it would plan the other way round)."""
    if plan == "sorted":
        return None
    terms = search_terms(needle)
    statement = Statement("", dict(query.params.params))
    if plan == "tested":
        tested = ("EXISTS (SELECT 1 FROM instrument_search AS held WHERE held.instrument_id = "
                  f"change_events.instrument_id AND held.terms @@ {postgres_lexemes(terms, statement)})")
    else:
        tested = f"(change_events.instrument_id IN ({postgres_instruments(needle, statement)})) IS TRUE"
    walking = newest_walk(query, statement, [tested], limit)
    rows = reader.rows(walking.sql, walking.params)
    return rows if len(rows) == limit else None


KNOWN_JURISDICTIONS = "SELECT DISTINCT jurisdiction FROM instruments ORDER BY jurisdiction"
KNOWN_SOURCE_IDS = "SELECT id FROM sources ORDER BY id"


def known_jurisdictions(reader: Reader) -> list[str]:
    """The jurisdictions the store holds instruments of, sorted."""
    return [jurisdiction for (jurisdiction,) in reader.rows(KNOWN_JURISDICTIONS)]


def known_source_ids(reader: Reader) -> list[str]:
    """The ids of the sources the store knows, sorted."""
    return [source_id for (source_id,) in reader.rows(KNOWN_SOURCE_IDS)]


def stored_json(value: Any) -> Any:
    """A JSON column as Python: decoded already (PostgreSQL's drivers) or its text (SQLite)."""
    return json.loads(value) if isinstance(value, str | bytes) else value


def stored_time(value: Any) -> datetime:
    """A DATETIME column as a datetime: one already, or SQLite's 'YYYY-MM-DD HH:MM:SS[.ffffff]'."""
    return datetime.fromisoformat(value) if isinstance(value, str) else value


def event_json(row: Sequence[Any]) -> dict:
    """One event as the JSON of DESIGN.md §3, from a row of EVENT_COLUMNS, its version's stage as
    of today and, on a `stage` event, the lifecycle that decided it (quoted); the same from
    either driver."""
    (uid, source, jurisdiction, level, language, title, url, kind, detected_at, version_number, baseline,
     paradigm, previous_paradigm, event_stage, previous_stage, previous_url, provisions, shift, stage,
     lifecycle) = row
    record: dict[str, Any] = {
        "instrument": uid,
        "source": source,
        "jurisdiction": jurisdiction,
        "level": level,
        "language": language,
        "title": title,
        "url": url,
        "change": kind,
        "detected_at": stored_time(detected_at).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "version": version_number,
        "baseline": None if baseline is None else bool(baseline),
        "paradigm": paradigm or "unknown",
        "previous_paradigm": previous_paradigm,
        "stage": stage or event_stage or UNKNOWN_STAGE,
    }
    if kind == STAGE:
        quoted = stored_json(lifecycle) or {}
        record["previous_stage"] = previous_stage
        record["stage_quote"] = quoted.get("quote", "")
        record["stage_provision"] = quoted.get("provision", "")
        record["stage_since"] = quoted.get("since")
    if previous_url:
        record["previous_url"] = previous_url
    provisions = stored_json(provisions)
    if kind in ("amended", "restored", "technical") and provisions is not None:
        record["provisions"] = provisions
    shift = stored_json(shift)
    if shift:
        record["shift"] = shift
    return record
