"""Full-text search over every stored version, with each database's own index.

Text is turned into search terms the same way for both databases (storage/search_terms.py):
lower-cased words, and each Chinese, Japanese, Korean or Thai character a term of its own (those
scripts do not put spaces between words). A search is the phrase of its terms, the last one a
prefix: "four years" finds "four years" and "four yearsʼ"; "个人信息出境" finds that run of
characters anywhere.

- SQLite: an FTS5 table `version_search` without stored content (row id = version id × 1000 +
  chunk), tokenised by unicode61.
- PostgreSQL: a table `version_search` of `tsvector` chunks ('simple' configuration) with a GIN
  index; phrases are matched with `<->`.

Texts are indexed in chunks of CHUNK terms overlapping by OVERLAP, so that PostgreSQL's phrase
positions (capped at 16,383) never run out on a long statute; a phrase of up to OVERLAP terms is
whole in some chunk. Every version is indexed as it is inserted (a mapper event below).

A search finds the events of every instrument with a matching version, newest first: the history
query (storage/history_sql.py) writes its plans, for both databases.
"""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import Connection, TextClause, event, text

from storage import history_sql
from storage.models import Version
from storage.readers import SessionReader
from storage.search_terms import (  # noqa: F401 (this module's names since before)
    ROWS_PER_VERSION,
    TERM,
    UNSPACED,
    search_terms,
)

CHUNK = 4000
OVERLAP = 64


def chunks(terms: list[str]) -> list[str]:
    """Terms joined into overlapping chunks of at most CHUNK terms."""
    if not terms:
        return []
    step = CHUNK - OVERLAP
    return [" ".join(terms[start:start + CHUNK])
            for start in range(0, max(1, len(terms) - OVERLAP), step)][:ROWS_PER_VERSION]


def index_versions(connection: Connection, versions: Iterable[tuple[int, str, str]]) -> None:
    """Add versions, as (version id, title, text), to the search index in one statement."""
    parts = [(version_id, n, part) for version_id, title, body in versions
             for n, part in enumerate(chunks(search_terms(f"{title}\n{body}")))]
    if not parts:
        return
    if connection.dialect.name == "postgresql":
        connection.execute(text("INSERT INTO version_search (version_id, terms) "
                                "VALUES (:version_id, to_tsvector('simple', :terms))"),
                           [{"version_id": version_id, "terms": part} for version_id, _, part in parts])
    else:
        connection.execute(text("INSERT INTO version_search (rowid, terms) VALUES (:rowid, :terms)"),
                           [{"rowid": version_id * ROWS_PER_VERSION + n, "terms": part}
                            for version_id, n, part in parts])


def matching_versions(dialect: str, needle: str) -> TextClause | None:
    """SELECT of the ids of versions whose title or text contains the phrase (the history
    query's own, storage/history_sql.py); None when the needle has no searchable term
    (punctuation only)."""
    bound = history_sql.Statement("")
    found = history_sql.matching_versions(dialect, needle, bound)
    return None if found is None else text(found).bindparams(**bound.params)


def found_often(connection: Connection, needle: str) -> bool:
    """Whether SQLite's index holds the phrase in at least FOUND_OFTEN chunks
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
        connection.execute(text("CREATE VIRTUAL TABLE version_search USING fts5("
                                "terms, content='', tokenize='unicode61 remove_diacritics 2')"))
    # Migration 0006 runs before 0007 compressed the texts: they are plain here.
    rows = connection.execute(text("SELECT id, title, text FROM versions"))
    index_versions(connection, [(version_id, title or "", body or "") for version_id, title, body in rows])


def drop_index(connection: Connection) -> None:
    connection.execute(text("DROP TABLE IF EXISTS version_search"))


@event.listens_for(Version, "after_insert")
def _index_new_version(_mapper, connection: Connection, version: Version) -> None:
    index_versions(connection, [(version.id, version.title or "", version.text or "")])
