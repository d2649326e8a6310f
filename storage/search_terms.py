"""Text turned into search terms, the same way for the index and for a search (storage/search.py
says how), and the row ids of SQLite's index; without SQLAlchemy, so that the history query
(storage/history_sql.py) can search on the standard library's sqlite3 alone."""

from __future__ import annotations

import re

ROWS_PER_VERSION = 1000  # SQLite row id = version id * ROWS_PER_VERSION + chunk number

# Scripts written without spaces between words: kana, CJK ideographs, Hangul, Thai.
UNSPACED = r"\u0e00-\u0e7f\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uac00-\ud7af\uf900-\ufaff"
TERM = re.compile(rf"[{UNSPACED}]|[^\W_{UNSPACED}]+")
_ANY_UNSPACED = re.compile(rf"[{UNSPACED}]")
_WORD = re.compile(r"[^\W_]+")  # TERM for a text without unspaced scripts, a seventh faster


def search_terms(value: str) -> list[str]:
    """The terms of a text, in order."""
    lowered = value.lower()
    return (TERM if _ANY_UNSPACED.search(lowered) else _WORD).findall(lowered)
