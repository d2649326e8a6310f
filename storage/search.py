"""Full-text search over every stored version, with each database's own index.

Text is turned into search terms the same way for both databases (storage/search_terms.py):
lower-cased words, and each Chinese, Japanese, Korean or Thai character a term of its own (those
scripts do not put spaces between words). A search is the phrase of its terms, the last one a
prefix: "four years" finds "four years" and "four yearsʼ"; "个人信息出境" finds that run of
characters anywhere.

- SQLite: an FTS5 table `version_search` without stored content or positions (`detail=none`),
  one row per version (row id = version id), tokenised by unicode61. A row holds the version's
  terms and each pair of neighbouring terms as one token, `_term_next` (`index_terms`): a phrase
  of two terms is one lookup of its pair, the last a prefix (`"_four_years"*`); a longer one is
  every pair of the phrase in one version (`match_expression`), then confirmed in the version's
  text (storage/phrases.py, run inside the query as the SQL function `policywatch_phrase`). About
  40 % of the size of an index of positions (bench/README.md, "The store's size under 2.5×").
- PostgreSQL: a table `version_search` of `tsvector` chunks ('simple' configuration) with a GIN
  index. A chunk holds its terms with their positions and each pair of neighbouring terms as one
  lexeme without positions (`_term_next`, as in SQLite's index, migration 0017): a phrase of two
  terms is one lookup of its pair, the last a prefix (`'_four_years':*`), with nothing to check
  in the rows; a longer one is every pair of it and the phrase of its terms (`<->`), checked by
  position only in the chunks that hold every pair. A table `instrument_search` (migration 0018)
  holds the same lexemes without positions, all of an instrument's versions together in one row
  (or a few, for long texts): whether an instrument holds a term or a pair is one row to read,
  where its versions are a dozen, so a search walking the events newest first tests each
  event's instrument at the cost of one version.

On PostgreSQL texts are indexed in chunks of CHUNK terms overlapping by OVERLAP, so that its
phrase positions (capped at 16,383) never run out on a long statute; a phrase of up to OVERLAP
terms is whole in some chunk. Every version is indexed as it is inserted (a mapper event below).

A search finds the events of every instrument with a matching version, newest first: the history
query (storage/history_sql.py) writes its plans, for both databases.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable, Iterator

from sqlalchemy import Connection, Engine, TextClause, event, text

from storage import history_sql
from storage.models import Version
from storage.phrases import add_phrase_function, phrase_found, readable_text  # noqa: F401 (phrase_found: tests)
from storage.readers import SessionReader
from storage.search_terms import (  # noqa: F401 (this module's names since before)
    LONGEST_LEXEME,
    PAIR,
    TERM,
    TOKENISER,
    UNSPACED,
    folded,
    index_terms,
    match_expression,
    pairs,
    postgres_pairs,
    search_terms,
)

CHUNK = 4000  # PostgreSQL's chunks
OVERLAP = 64
MAX_CHUNKS = 1000
SQLITE_INDEX = ("CREATE VIRTUAL TABLE {table} USING fts5(terms, content='', detail=none, "
                f"tokenize='{TOKENISER} tokenchars ''{PAIR}''')")
REBUILT = "version_search_rebuilt"  # the index being made again, named so until it is whole


CHUNK_BYTES = 600_000  # at most, about, in a chunk's tsvector, which holds at most 1 MB
ROW_BYTES = 900_000  # at most, about, in a row of instrument_search


def _indexed_bytes(term: str) -> int:
    """More than a term adds to its chunk's tsvector: itself, its position, and its share of the
    two pairs it is in, each with its entry."""
    return 3 * len(term.encode()) + 16


def chunk_terms(terms: list[str]) -> list[list[str]]:
    """Terms in overlapping chunks (PostgreSQL's rows of a version): at most CHUNK terms, fewer
    where long ones would pass CHUNK_BYTES, each chunk starting OVERLAP terms before the last
    one's end; at most MAX_CHUNKS."""
    found: list[list[str]] = []
    start = 0
    while start < len(terms) and len(found) < MAX_CHUNKS:
        end, size = start, 0
        while end < len(terms) and end - start < CHUNK and size + _indexed_bytes(terms[end]) <= CHUNK_BYTES:
            size += _indexed_bytes(terms[end])
            end += 1
        end = max(end, start + 1)
        found.append(terms[start:end])
        if end >= len(terms):
            break
        start = max(start + 1, end - OVERLAP)
    return found


def lexeme_bytes(part: list[str], paired: list[str]) -> int:
    """More than the lexemes of a chunk without positions take in a tsvector."""
    return sum(len(lexeme.encode()) + 4 for lexeme in {*part, *paired})


def chunks(terms: list[str]) -> list[str]:
    """Terms joined into overlapping chunks of at most CHUNK terms."""
    return [" ".join(part) for part in chunk_terms(terms)]


CHUNK_LEXEMES = "to_tsvector('simple', :terms) || array_to_tsvector(CAST(:pairs AS text[]))"
POSTGRES_ROW = f"INSERT INTO version_search (version_id, terms) VALUES (:version_id, {CHUNK_LEXEMES})"
# A chunk's lexemes added to the newest row of its instrument while that has room (its
# lexeme_bytes, counted as they are added, within ROW_BYTES), else to a new row.
INSTRUMENT_ROW = (
    f"WITH added AS (SELECT versions.instrument_id, strip({CHUNK_LEXEMES}) AS terms FROM versions "
    "WHERE versions.id = :version_id), "
    "merged AS (UPDATE instrument_search SET terms = instrument_search.terms || added.terms, "
    "lexeme_bytes = instrument_search.lexeme_bytes + :bytes FROM added "
    "WHERE instrument_search.id = (SELECT max(newest.id) FROM instrument_search AS newest "
    "WHERE newest.instrument_id = added.instrument_id) "
    f"AND instrument_search.lexeme_bytes + :bytes <= {ROW_BYTES} "
    "RETURNING instrument_search.id) "
    "INSERT INTO instrument_search (instrument_id, terms, lexeme_bytes) "
    "SELECT instrument_id, terms, :bytes FROM added WHERE NOT EXISTS (SELECT 1 FROM merged)")


def index_versions(connection: Connection, versions: Iterable[tuple[int, str, str]],
                   table: str = "version_search", instruments: bool = True) -> None:
    """Add versions, as (version id, title, text), to the search index (SQLite's: `table`) in
    one statement; on PostgreSQL, to its instruments' lexemes too unless not `instruments`."""
    if connection.dialect.name == "postgresql":
        parts = [{"version_id": version_id, "terms": " ".join(part), "pairs": paired,
                  "bytes": lexeme_bytes(part, paired)}
                 for version_id, title, body in versions
                 for part in chunk_terms(search_terms(f"{title}\n{body}"))
                 for paired in [postgres_pairs(part)]]
        if parts:
            connection.execute(text(POSTGRES_ROW), parts)
            if instruments:
                connection.execute(text(INSTRUMENT_ROW), parts)
        return
    rows = [{"rowid": version_id, "terms": index_terms(terms)} for version_id, title, body in versions
            if (terms := folded(search_terms(f"{title}\n{body}")))]
    if rows:
        connection.execute(text(f"INSERT INTO {table} (rowid, terms) VALUES (:rowid, :terms)"), rows)


def matching_versions(dialect: str, needle: str) -> TextClause | None:
    """SELECT of the ids of versions whose title or text contains the phrase (the history
    query's own, storage/history_sql.py); None when the needle has no searchable term
    (punctuation only)."""
    bound = history_sql.Statement("")
    found = history_sql.matching_versions(dialect, needle, bound)
    return None if found is None else text(found).bindparams(**bound.params)


def found_often(connection: Connection, needle: str) -> bool:
    """Whether SQLite's index holds the phrase often enough to walk
    (storage.history_sql.found_often); always False on PostgreSQL."""
    return history_sql.found_often(SessionReader(connection), needle)


def create_index(connection: Connection) -> None:
    """Create the search table (migration 0006) and index the versions already stored."""
    if connection.dialect.name == "postgresql":
        connection.execute(text("CREATE TABLE version_search (id BIGSERIAL PRIMARY KEY, "
                                "version_id INTEGER NOT NULL REFERENCES versions (id), "
                                "terms TSVECTOR NOT NULL)"))
        connection.execute(text("CREATE INDEX ix_version_search_terms ON version_search USING GIN (terms)"))
        connection.execute(text("CREATE INDEX ix_version_search_version ON version_search (version_id)"))
    else:
        connection.execute(text(SQLITE_INDEX.format(table="version_search")))
    # Migration 0006 runs before 0007 compressed the texts: they are plain here.
    rows = connection.execute(text("SELECT id, title, text FROM versions"))
    index_versions(connection, [(version_id, title or "", body or "") for version_id, title, body in rows],
                   instruments=False)  # PostgreSQL's instrument_search is made by 0018


def drop_index(connection: Connection) -> None:
    connection.execute(text("DROP TABLE IF EXISTS version_search"))


def stored_versions(connection: Connection, batch: int = 500) -> Iterator[list[tuple[int, str, str]]]:
    """The stored versions as (id, title, text), their texts uncompressed (a damaged one as no
    text: its title is still indexed), in batches by id."""
    last = 0
    while rows := connection.execute(text("SELECT id, title, text_z FROM versions WHERE id > :last "
                                          "ORDER BY id LIMIT :batch"), {"last": last, "batch": batch}).all():
        yield [(version_id, title or "", readable_text(body) or "") for version_id, title, body in rows]
        last = rows[-1][0]


def rebuild_sqlite_index(connection: Connection) -> None:
    """SQLite's index made again as SQLITE_INDEX from the stored texts (migration 0016), merged
    into one segment (4.5 s of CPU for 913,000 versions, after 106 s to index them), then put in
    the place of the old one. SQLite commits each CREATE and DROP at once: an upgrade stopped on
    the way leaves the old index whole, and the next one starts again."""
    connection.execute(text(f"DROP TABLE IF EXISTS {REBUILT}"))
    connection.execute(text(SQLITE_INDEX.format(table=REBUILT)))
    for versions in stored_versions(connection):
        index_versions(connection, versions, REBUILT)
    connection.execute(text(f"INSERT INTO {REBUILT} ({REBUILT}) VALUES ('optimize')"))
    drop_index(connection)
    connection.execute(text(f"ALTER TABLE {REBUILT} RENAME TO version_search"))


@event.listens_for(Engine, "connect")
def _add_phrase_function(dbapi_connection, _record) -> None:
    if isinstance(dbapi_connection, sqlite3.Connection):
        add_phrase_function(dbapi_connection)


@event.listens_for(Version, "after_insert")
def _index_new_version(_mapper, connection: Connection, version: Version) -> None:
    index_versions(connection, [(version.id, version.title or "", version.text or "")])
