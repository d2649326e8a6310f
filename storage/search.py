"""Full-text search over every stored version, with each database's own index.

Text is turned into search terms here, the same way for both databases: lower-cased words, and
each Chinese, Japanese, Korean or Thai character a term of its own (those scripts do not put
spaces between words). A search is the phrase of its terms, the last one a prefix: "four years"
finds "four years" and "four yearsʼ"; "个人信息出境" finds that run of characters anywhere.

- SQLite: an FTS5 table `version_search` without stored content (row id = version id × 1000 +
  chunk), tokenised by unicode61.
- PostgreSQL: a table `version_search` of `tsvector` chunks ('simple' configuration) with a GIN
  index; phrases are matched with `<->`.

Texts are indexed in chunks of CHUNK terms overlapping by OVERLAP, so that PostgreSQL's phrase
positions (capped at 16,383) never run out on a long statute; a phrase of up to OVERLAP terms is
whole in some chunk. Every version is indexed as it is inserted (a mapper event below).

A search finds the events of every instrument with a matching version, newest first. On SQLite a
phrase found in many chunks (`found_often`) is answered by walking the events newest first and
testing each against the matching instruments, read once; a rarer one by sorting the events of
its few instruments. Both give the same rows.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from sqlalchemy import Connection, Select, event, select, text

from storage.models import Version

CHUNK = 4000
OVERLAP = 64
ROWS_PER_VERSION = 1000  # SQLite row id = version id * ROWS_PER_VERSION + chunk number
FOUND_OFTEN = 1000  # matching chunks from which a search walks the events newest first

# Scripts written without spaces between words: kana, CJK ideographs, Hangul, Thai.
UNSPACED = r"\u0e00-\u0e7f\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uac00-\ud7af\uf900-\ufaff"
TERM = re.compile(rf"[{UNSPACED}]|[^\W_{UNSPACED}]+")
_ANY_UNSPACED = re.compile(rf"[{UNSPACED}]")
_WORD = re.compile(r"[^\W_]+")  # TERM for a text without unspaced scripts, a seventh faster


def search_terms(value: str) -> list[str]:
    """The terms of a text, in order."""
    lowered = value.lower()
    return (TERM if _ANY_UNSPACED.search(lowered) else _WORD).findall(lowered)


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


def matching_versions(dialect: str, needle: str) -> Select | None:
    """SELECT of the ids of versions whose title or text contains the phrase; None when the
    needle has no searchable term (punctuation only)."""
    terms = search_terms(needle)
    if not terms:
        return None
    if dialect == "postgresql":
        query = " <-> ".join(terms) + ":*"
        return (select(text("version_id")).select_from(text("version_search"))
                .where(text("terms @@ to_tsquery('simple', :query)").bindparams(query=query)))
    query = '"' + " ".join(terms) + '"*'
    return (select(text(f"rowid / {ROWS_PER_VERSION}")).select_from(text("version_search"))
            .where(text("version_search MATCH :query").bindparams(query=query)))


def found_often(connection: Connection, needle: str) -> bool:
    """Whether SQLite's index holds the phrase, its last term taken whole, in at least
    FOUND_OFTEN chunks. Such a phrase is in many instruments: their newest events come soonest
    by walking the events newest first, testing each against the matching instruments read
    once, rather than by sorting every event of every matching instrument. Only the plan
    depends on it, never the rows; the last term is taken whole because FTS5 reads every word a
    prefix stands for before it returns a first row. Always False on PostgreSQL, whose planner
    weighs the two plans itself."""
    terms = search_terms(needle)
    if not terms or connection.dialect.name != "sqlite":
        return False
    found = connection.execute(text("SELECT count(*) FROM (SELECT rowid FROM version_search "
                                    "WHERE version_search MATCH :query LIMIT :often)"),
                               {"query": '"' + " ".join(terms) + '"', "often": FOUND_OFTEN}).scalar_one()
    return found >= FOUND_OFTEN


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
