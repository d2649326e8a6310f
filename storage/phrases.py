"""A phrase confirmed in a version's text, as SQLite's index without positions reads it: the
SQL function `policywatch_phrase(needle, title, text_z)` that a search of three terms or more
runs on the versions holding every pair of its terms (storage/search.py says why). Registered
on every SQLite connection of the store, and on the command line's own (storage/readers.py)."""

from __future__ import annotations

import re
import sqlite3
from collections.abc import Sequence
from functools import lru_cache

from storage.compression import unpack
from storage.search_terms import ANY_UNSPACED, UNSPACED, folded, folded_text, search_terms

_NO_TERM = rf"(?:[^\w{UNSPACED}]|_)*"  # what may stand between two terms
_GAP = rf"(?:[^\w{UNSPACED}]|_)+"  # what stands between two words
_SPACED_TERM = re.compile(rf"[^\W_{UNSPACED}]")  # a character of a word


def phrase_found(phrase: Sequence[str], terms: Sequence[str]) -> bool:
    """Whether `phrase` is a run of `terms`, its last a prefix of the term it meets (both folded
    as the index folds them: `folded`)."""
    return bool(phrase) and "\0" + "\0".join(phrase) in "\0" + "\0".join(terms)


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
    if all(len(term) == 1 and ANY_UNSPACED.match(term) for term in phrase):
        return re.compile(_NO_TERM.join(map(re.escape, phrase))), False
    if not any(ANY_UNSPACED.search(term) for term in phrase):
        return re.compile(_GAP.join(map(re.escape, phrase))), True
    return None


def phrase_in_version(needle: str, title: str | None, body: bytes | None) -> int:
    """The SQL function `policywatch_phrase(needle, title, text_z)`: 1 when the version's title
    and text hold the needle's phrase as the index reads it (by one pattern over the text,
    without listing its terms, unless the phrase mixes words and unspaced characters). The text
    is folded only when the phrase is not found in it as it is: a phrase found there is found in
    the folded text too, and most versions a search confirms hold it."""
    text = readable_text(body)
    if text is None:
        return 0  # a damaged text holds no phrase that can be shown
    words = f"{title or ''}\n{text}"
    phrase = _needle_folded(needle)
    matching = _phrase_pattern(tuple(phrase))
    if matching is None:
        return int(phrase_found(phrase, folded(search_terms(words))))
    pattern, whole_first = matching
    lowered = words.lower()
    if _run_found(pattern, lowered, whole_first):
        return 1  # folding leaves the phrase's (folded) letters and what is no term as they are
    if lowered.isascii():
        return 0
    return int(_run_found(pattern, folded_text(lowered), whole_first))  # marks it drops, letters it folds


def readable_text(body: bytes | None) -> str | None:
    """A version's stored text, or None when it cannot be read (damaged): an error raised in an
    SQL function fails the whole query with SQLite's own words, naming nothing."""
    try:
        return unpack(body).decode("utf-8") if body else ""
    except Exception:  # noqa: BLE001 (zstandard's, zlib's and the codec's faults alike)
        return None


def _run_found(pattern: re.Pattern[str], lowered: str, whole_first: bool) -> bool:
    """Whether `pattern` is in the text, its first term whole when `whole_first`."""
    start = 0
    while found := pattern.search(lowered, start):
        if not whole_first or not _SPACED_TERM.match(lowered[found.start() - 1:found.start()]):
            return True
        start = found.start() + 1  # the next may overlap this one
    return False


def add_phrase_function(connection: sqlite3.Connection) -> None:
    """Make `policywatch_phrase` callable in the SQL of one SQLite connection."""
    connection.create_function("policywatch_phrase", 3, phrase_in_version, deterministic=True)
