"""Full-text search over every stored version, with each database's own index.

Text is turned into search terms here, the same way for both databases: lower-cased words, and
each Chinese, Japanese, Korean or Thai character a term of its own (those scripts do not put
spaces between words). A search is the phrase of its terms, the last one a prefix: "four years"
finds "four years" and "four yearsʼ"; "个人信息出境" finds that run of characters anywhere.

- SQLite: an FTS5 table `version_search` without stored content or positions (`detail=none`),
  one row per version (row id = version id), tokenised by unicode61. A row holds the version's
  terms and each pair of neighbouring terms as one token, `_term_next` (`index_terms`): a phrase
  of two terms is one lookup of its pair, the last a prefix (`"_four_years"*`); a longer one is
  every pair of the phrase in one version (`match_expression`), then confirmed in the version's
  text (`phrase_found`, run inside the query as the SQL function `policywatch_phrase`). About
  40 % of the size of an index of positions (bench/README.md, "The store's size under 2.5×").
- PostgreSQL: a table `version_search` of `tsvector` chunks ('simple' configuration) with a GIN
  index; phrases are matched with `<->`.

On PostgreSQL texts are indexed in chunks of CHUNK terms overlapping by OVERLAP, so that its
phrase positions (capped at 16,383) never run out on a long statute; a phrase of up to OVERLAP
terms is whole in some chunk. Every version is indexed as it is inserted (a mapper event below).

A search finds the events of every instrument with a matching version, newest first. On SQLite a
phrase found in many versions (`found_often`) is answered by walking the events newest first and
testing each against the matching instruments, read once; a rarer one by sorting the events of
its few instruments. Both give the same rows.
"""

from __future__ import annotations

import re
import sqlite3
from collections.abc import Iterable, Iterator, Sequence
from functools import lru_cache
from itertools import pairwise

from sqlalchemy import Connection, Engine, Select, event, select, text

from storage.compression import unpack
from storage.models import Version

CHUNK = 4000  # PostgreSQL's chunks
OVERLAP = 64
MAX_CHUNKS = 1000
FOUND_OFTEN = 1000  # matching versions from which a search walks the events newest first
PAIR = "_"  # starts and joins a pair of neighbouring terms in SQLite's index; never in a term
TOKENISER = "unicode61 remove_diacritics 2"
SQLITE_INDEX = ("CREATE VIRTUAL TABLE version_search USING fts5(terms, content='', detail=none, "
                f"tokenize='{TOKENISER} tokenchars ''{PAIR}''')")

# Scripts written without spaces between words: kana, CJK ideographs, Hangul, Thai.
UNSPACED = r"\u0e00-\u0e7f\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uac00-\ud7af\uf900-\ufaff"
TERM = re.compile(rf"[{UNSPACED}]|[^\W_{UNSPACED}]+")
_ANY_UNSPACED = re.compile(rf"[{UNSPACED}]")
_WORD = re.compile(r"[^\W_]+")  # TERM for a text without unspaced scripts, a seventh faster
_NO_TERM = rf"(?:[^\w{UNSPACED}]|_)*"  # what may stand between two terms
_GAP = rf"(?:[^\w{UNSPACED}]|_)+"  # what stands between two words
_SPACED_TERM = re.compile(rf"[^\W_{UNSPACED}]")  # a character of a word
_NOT_ASCII = re.compile(r"[^\x00-\x7f]")


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
            for start in range(0, max(1, len(terms) - OVERLAP), step)][:MAX_CHUNKS]


def pairs(terms: list[str]) -> list[str]:
    """Each pair of neighbouring terms as one token of SQLite's index: `_first_second`."""
    return [f"{PAIR}{first}{PAIR}{second}" for first, second in pairwise(terms)]


def index_terms(terms: list[str]) -> str:
    """What SQLite's index holds of a version's terms (`folded`, so that each is one token of its
    tokeniser, as the phrase's are): each term, then each pair of neighbours
    (`pairs`, joined without making each pair a string of its own first)."""
    if len(terms) < 2:
        return " ".join(terms)
    return f"{' '.join(terms)} {PAIR}{f' {PAIR}'.join(map(PAIR.join, pairwise(terms)))}"


def index_versions(connection: Connection, versions: Iterable[tuple[int, str, str]]) -> None:
    """Add versions, as (version id, title, text), to the search index in one statement."""
    if connection.dialect.name == "postgresql":
        parts = [{"version_id": version_id, "terms": part} for version_id, title, body in versions
                 for part in chunks(search_terms(f"{title}\n{body}"))]
        if parts:
            connection.execute(text("INSERT INTO version_search (version_id, terms) "
                                    "VALUES (:version_id, to_tsvector('simple', :terms))"), parts)
        return
    rows = [{"rowid": version_id, "terms": index_terms(terms)} for version_id, title, body in versions
            if (terms := folded(search_terms(f"{title}\n{body}")))]
    if rows:
        connection.execute(text("INSERT INTO version_search (rowid, terms) VALUES (:rowid, :terms)"), rows)


def match_expression(terms: list[str], whole_last: bool = False) -> str:
    """SQLite's MATCH for a phrase of `terms`: the term alone, or every pair of neighbours of the
    phrase; the last a prefix unless `whole_last`. Exact for one or two terms; a version found
    for more holds every pair, and `phrase_found` tells whether they follow one another."""
    tokens = terms[:1] if len(terms) == 1 else pairs(terms)
    return " AND ".join(f'"{token}"' for token in tokens) + ("" if whole_last else "*")


def phrase_found(phrase: Sequence[str], terms: Sequence[str]) -> bool:
    """Whether `phrase` is a run of `terms`, its last a prefix of the term it meets (both folded
    as the index folds them: `folded`)."""
    return bool(phrase) and "\0" + "\0".join(phrase) in "\0" + "\0".join(terms)


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
    terms = folded(terms)  # as SQLite's index holds them
    if not terms:
        return None
    found = text("version_search MATCH :query").bindparams(query=match_expression(terms))
    if len(terms) <= 2:
        return select(text("rowid")).select_from(text("version_search")).where(found)
    return (select(text("versions.id"))
            .select_from(text("version_search JOIN versions ON versions.id = version_search.rowid"))
            .where(found, text("policywatch_phrase(:needle, versions.title, versions.text_z)")
                   .bindparams(needle=needle)))


def found_often(connection: Connection, needle: str) -> bool:
    """Whether SQLite's index holds the phrase, its last term taken whole, in at least
    FOUND_OFTEN versions (for three terms or more: every pair of the phrase). Such a phrase is
    in many instruments: their newest events come soonest by walking the events newest first,
    testing each against the matching instruments read once, rather than by sorting every event
    of every matching instrument. Only the plan depends on it, never the rows; the last term is
    taken whole because FTS5 reads every word a prefix stands for before it returns a first
    row. Always False on PostgreSQL, whose planner weighs the two plans itself."""
    if connection.dialect.name != "sqlite" or not (terms := folded(search_terms(needle))):
        return False
    found = connection.execute(text("SELECT count(*) FROM (SELECT rowid FROM version_search "
                                    "WHERE version_search MATCH :query LIMIT :often)"),
                               {"query": match_expression(terms, whole_last=True),
                                "often": FOUND_OFTEN}).scalar_one()
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
        connection.execute(text(SQLITE_INDEX))
    # Migration 0006 runs before 0007 compressed the texts: they are plain here.
    rows = connection.execute(text("SELECT id, title, text FROM versions"))
    index_versions(connection, [(version_id, title or "", body or "") for version_id, title, body in rows])


def drop_index(connection: Connection) -> None:
    connection.execute(text("DROP TABLE IF EXISTS version_search"))


def stored_versions(connection: Connection, batch: int = 500) -> Iterator[list[tuple[int, str, str]]]:
    """The stored versions as (id, title, text), their texts uncompressed, in batches by id."""
    last = 0
    while rows := connection.execute(text("SELECT id, title, text_z FROM versions WHERE id > :last "
                                          "ORDER BY id LIMIT :batch"), {"last": last, "batch": batch}).all():
        yield [(version_id, title or "", unpack(body).decode("utf-8") if body else "")
               for version_id, title, body in rows]
        last = rows[-1][0]


def rebuild_sqlite_index(connection: Connection) -> None:
    """SQLite's index made again as SQLITE_INDEX from the stored texts (migration 0016), then
    merged into one segment (4.5 s of CPU for 913,000 versions, after 106 s to index them)."""
    drop_index(connection)
    connection.execute(text(SQLITE_INDEX))
    for versions in stored_versions(connection):
        index_versions(connection, versions)
    connection.execute(text("INSERT INTO version_search (version_search) VALUES ('optimize')"))


_FOLDED: dict[str, str] = {}  # a character met in a term: what SQLite's tokeniser makes of it


def _learn_folding(characters: set[str]) -> None:
    """Ask SQLite's tokeniser how it folds (case, diacritics) each new one of `characters`; one
    it does not take as part of a word ends the term there, as in the index."""
    new = sorted(c for c in characters - _FOLDED.keys() if TERM.match(c))  # what is no term: no matter
    if not new:
        return
    tokeniser = sqlite3.connect(":memory:")
    try:
        tokeniser.execute(f"CREATE VIRTUAL TABLE t USING fts5(c, tokenize='{TOKENISER}')")
        tokeniser.execute("CREATE VIRTUAL TABLE v USING fts5vocab(t, instance)")
        tokeniser.executemany("INSERT INTO t (rowid, c) VALUES (?, ?)", [(ord(c), c) for c in new])
        learnt = {chr(rowid): term for term, rowid in tokeniser.execute("SELECT term, doc FROM v")}
    finally:
        tokeniser.close()
    _FOLDED.update({c: learnt.get(c, "\0") for c in new})
    _folding_pattern.cache_clear()


@lru_cache(maxsize=1)
def _folding_pattern() -> re.Pattern[str] | None:
    changed = "".join(sorted(re.escape(c) for c, to in _FOLDED.items() if to != c))
    return re.compile(f"[{changed}]") if changed else None


def _folded_text(value: str) -> str:
    """A text lowered, its characters folded as SQLite's tokeniser folds them (one it does not
    read as part of a word made a NUL, which ends a term)."""
    if value.isascii():
        return value
    _learn_folding(set(_NOT_ASCII.findall(value)))
    pattern = _folding_pattern()
    return pattern.sub(lambda match: _FOLDED[match.group()], value) if pattern else value


def folded(terms: list[str]) -> list[str]:
    """Terms as SQLite's index compares them: case and diacritics folded by its own tokeniser
    (a character it does not read as part of a word splits the term, as in the index)."""
    joined = "\0".join(terms)
    folded_joined = _folded_text(joined)
    return terms if folded_joined == joined else [term for term in folded_joined.split("\0") if term]


@lru_cache(maxsize=64)
def _needle_folded(needle: str) -> list[str]:
    return folded(search_terms(needle))


@lru_cache(maxsize=64)
def _phrase_pattern(phrase: tuple[str, ...]) -> tuple[re.Pattern[str], bool] | None:
    """The phrase as a pattern over a text lowered and folded, and whether the character before
    a match is to be checked (the first term whole; a pattern starting with a look-behind would
    be tried at every character): words of spaced scripts with what is no term between them, or
    characters of unspaced ones (each a term) with nothing or what is no term between them
    (no character folds into one of them). None for a phrase of both."""
    if all(len(term) == 1 and _ANY_UNSPACED.match(term) for term in phrase):
        return re.compile(_NO_TERM.join(map(re.escape, phrase))), False
    if not any(_ANY_UNSPACED.search(term) for term in phrase):
        return re.compile(_GAP.join(map(re.escape, phrase))), True
    return None


def _phrase_in_version(needle: str, title: str | None, body: bytes | None) -> int:
    """The SQL function `policywatch_phrase(needle, title, text_z)`: 1 when the version's title
    and text hold the needle's phrase as the index reads it (by one pattern over the text,
    without listing its terms, unless the phrase mixes words and unspaced characters)."""
    words = f"{title or ''}\n{unpack(body).decode('utf-8') if body else ''}"
    phrase = _needle_folded(needle)
    matching = _phrase_pattern(tuple(phrase))
    if matching is None:
        return int(phrase_found(phrase, folded(search_terms(words))))
    pattern, whole_first = matching
    lowered = words.lower() if not whole_first else _folded_text(words.lower())
    start = 0
    while found := pattern.search(lowered, start):
        if not whole_first or not _SPACED_TERM.match(lowered[found.start() - 1:found.start()]):
            return 1
        start = found.start() + 1  # the next may overlap this one
    return 0


@event.listens_for(Engine, "connect")
def _add_phrase_function(dbapi_connection, _record) -> None:
    if isinstance(dbapi_connection, sqlite3.Connection):
        dbapi_connection.create_function("policywatch_phrase", 3, _phrase_in_version, deterministic=True)


@event.listens_for(Version, "after_insert")
def _index_new_version(_mapper, connection: Connection, version: Version) -> None:
    index_versions(connection, [(version.id, version.title or "", version.text or "")])
