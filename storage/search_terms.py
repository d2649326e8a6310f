"""Text turned into search terms, the same way for the index and for a search (storage/search.py
says how), folded as SQLite's tokeniser folds them, and SQLite's MATCH of a phrase of them;
without SQLAlchemy, so that the history query (storage/history_sql.py) can search on the
standard library's sqlite3 alone."""

from __future__ import annotations

import re
import sqlite3
import threading
from functools import lru_cache
from itertools import pairwise

PAIR = "_"  # starts and joins a pair of neighbouring terms in SQLite's index; never in a term
TOKENISER = "unicode61 remove_diacritics 2"

# Scripts written without spaces between words: kana, CJK ideographs, Hangul, Thai.
UNSPACED = r"\u0e00-\u0e7f\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uac00-\ud7af\uf900-\ufaff"
TERM = re.compile(rf"[{UNSPACED}]|[^\W_{UNSPACED}]+")
ANY_UNSPACED = re.compile(rf"[{UNSPACED}]")
_WORD = re.compile(r"[^\W_]+")  # TERM for a text without unspaced scripts, a seventh faster
_NOT_ASCII = re.compile(r"[^\x00-\x7f]")


def search_terms(value: str) -> list[str]:
    """The terms of a text, in order."""
    lowered = value.lower()
    return (TERM if ANY_UNSPACED.search(lowered) else _WORD).findall(lowered)


def pairs(terms: list[str]) -> list[str]:
    """Each pair of neighbouring terms as one token of SQLite's index: `_first_second`."""
    return [f"{PAIR}{first}{PAIR}{second}" for first, second in pairwise(terms)]


LONGEST_LEXEME = 2046  # bytes: PostgreSQL keeps no longer lexeme (a pair longer is not indexed)


def postgres_pairs(terms: list[str]) -> list[str]:
    """The pairs of neighbouring terms PostgreSQL's index holds: each once, none longer than
    LONGEST_LEXEME."""
    return sorted({pair for pair in pairs(terms) if len(pair.encode()) <= LONGEST_LEXEME})


def index_terms(terms: list[str]) -> str:
    """What SQLite's index holds of a version's terms (`folded`, so that each is one token of its
    tokeniser, as the phrase's are): each term, then each pair of neighbours
    (`pairs`, joined without making each pair a string of its own first)."""
    if len(terms) < 2:
        return " ".join(terms)
    return f"{' '.join(terms)} {PAIR}{f' {PAIR}'.join(map(PAIR.join, pairwise(terms)))}"


def match_expression(terms: list[str], whole_last: bool = False) -> str:
    """SQLite's MATCH for a phrase of `terms`: the term alone, or every pair of neighbours of the
    phrase; the last a prefix unless `whole_last`. Exact for one or two terms; a version found
    for more holds every pair, and storage.phrases tells whether they follow one another."""
    tokens = terms[:1] if len(terms) == 1 else pairs(terms)
    return " AND ".join(f'"{token}"' for token in tokens) + ("" if whole_last else "*")


_FOLDED: dict[str, str] = {}  # a character met in a term: what SQLite's tokeniser makes of it
_LEARNING = threading.Lock()  # the web view's and the daemon's threads fold texts at once


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


def folded_text(value: str) -> str:
    """A text lowered, its characters folded as SQLite's tokeniser folds them (one it does not
    read as part of a word made a NUL, which ends a term)."""
    if value.isascii():
        return value
    with _LEARNING:
        _learn_folding(set(_NOT_ASCII.findall(value)))
        pattern = _folding_pattern()
    return pattern.sub(lambda match: _FOLDED[match.group()], value) if pattern else value


def folded(terms: list[str]) -> list[str]:
    """Terms as SQLite's index compares them: case and diacritics folded by its own tokeniser
    (a character it does not read as part of a word splits the term, as in the index)."""
    joined = "\0".join(terms)
    folded_joined = folded_text(joined)
    return terms if folded_joined == joined else [term for term in folded_joined.split("\0") if term]
