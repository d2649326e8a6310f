"""SQLite's search index of terms and pairs of terms (no positions) finds exactly what the index
of positions it replaced found: phrases of one to four terms taken from the real instruments of
`../shared/corpus*/` (English, Chinese, Spanish, German, Indonesian and more), with the last
term cut to a prefix, in reverse order, without their diacritics; and migration 0016 makes the
one index from the other and back."""

from __future__ import annotations

import random
import sqlite3
import sys
import threading
from pathlib import Path

import pytest
from alembic import command
from sqlalchemy import text

from storage.database import Store, alembic_config
from storage.search import (
    REBUILT,
    chunks,
    folded,
    index_terms,
    match_expression,
    matching_versions,
    phrase_found,
    rebuild_sqlite_index,
    search_terms,
)
from storage.search_terms import folded_text
from tests.test_search import add_instrument, found

SHARED = Path(__file__).resolve().parents[1].parent / "shared"
TEXTS = sorted(path for folder in ("corpus", "corpus-dev") for path in (SHARED / folder).glob("*.md")
               if path.name != "README.md")
POSITIONS = ("CREATE VIRTUAL TABLE version_search USING fts5(terms, content='', "
             "tokenize='unicode61 remove_diacritics 2')")  # the index before migration 0016


def test_a_phrase_is_a_run_of_terms_its_last_a_prefix():
    terms = ["transfers", "on", "the", "basis", "of", "an", "adequacy", "decision"]
    assert phrase_found(["on", "the", "bas"], terms)
    assert phrase_found(["transfers"], terms)
    assert not phrase_found(["the", "on"], terms)          # order counts
    assert not phrase_found(["n", "the"], terms)           # the first term whole
    assert not phrase_found(["on", "th", "basis"], terms)  # and every one before the last
    assert not phrase_found([], terms)


def test_the_index_holds_terms_and_pairs_and_a_phrase_asks_for_its_pairs():
    assert index_terms(["four", "years"]) == "four years _four_years"
    assert match_expression(["four"]) == '"four"*'
    assert match_expression(["four", "years"]) == '"_four_years"*'
    assert match_expression(["个", "人", "信"], whole_last=True) == '"_个_人" AND "_人_信"'


def test_terms_are_folded_as_the_index_folds_them():
    assert folded(["circulación", "übermittlung", "данных"]) == ["circulacion", "ubermittlung", "данных"]
    assert folded(["transfer"]) == ["transfer"]


def _runs(rng: random.Random, bodies: list[str], count: int) -> list[str]:
    """Runs of one to four terms of the texts: whole, the last cut short, or in reverse order."""
    needles = []
    for _ in range(count):
        terms = search_terms(rng.choice(bodies)) + ["end"] * 4  # a text of Chinese read as ASCII has few
        size = rng.randint(1, 4)
        start = rng.randrange(len(terms) - size)
        run = terms[start:start + size]
        way = rng.randrange(3)
        if way == 1 and len(run[-1]) > 2:
            run[-1] = run[-1][:rng.randint(1, len(run[-1]) - 1)]
        elif way == 2:
            run.reverse()
        needles.append(" ".join(run))
    return needles


def _without_diacritics(rng: random.Random, bodies: list[str]) -> list[str]:
    """Runs of three terms around a term with diacritics, written without them."""
    needles = []
    for body in bodies:
        terms = search_terms(body)
        marked = [n for n in range(1, len(terms) - 1) if folded(terms[n:n + 1]) != terms[n:n + 1]]
        needles += [" ".join(folded(terms[n - 1:n + 2])) for n in rng.sample(marked, min(3, len(marked)))]
    return needles


@pytest.mark.skipif(not TEXTS, reason=f"no real instruments under {SHARED}")
def test_phrases_of_real_instruments_find_what_the_index_of_positions_found(tmp_path: Path):
    store = Store(f"sqlite:///{tmp_path / 'store.sqlite'}")
    bodies = [path.read_text(encoding="utf-8") for path in TEXTS]
    bodies += [body.encode("ascii", "replace").decode("ascii") for body in bodies]  # read by a pattern
    titles = [path.stem for path in TEXTS] * 2
    for number, body in enumerate(bodies):
        add_instrument(store, f"i{number}", titles[number], body)
    with store.sessions() as session:
        versions = session.execute(text("SELECT versions.id, uid FROM versions JOIN instruments "
                                        "ON instruments.id = versions.instrument_id")).all()
    positions = sqlite3.connect(tmp_path / "positions.sqlite")
    positions.execute(POSITIONS)
    positions.executemany("INSERT INTO version_search (rowid, terms) VALUES (?, ?)", [
        (version_id * 1000 + n, part) for version_id, uid in versions
        for n, part in enumerate(chunks(search_terms(f"{titles[int(uid[1:])]}\n{bodies[int(uid[1:])]}")))])

    def same(needle: str) -> bool:
        """Whether both indexes find the needle in the same versions, and the index of positions
        in some."""
        expected = {rowid // 1000 for (rowid,) in positions.execute(
            "SELECT rowid FROM version_search WHERE version_search MATCH ?",
            ('"' + " ".join(search_terms(needle)) + '"*',))}
        query = matching_versions("sqlite", needle)
        assert query is not None
        assert set(session.scalars(query)) == expected, needle
        return bool(expected)

    rng = random.Random(13)
    with store.sessions() as session:
        runs = [(needle, same(needle)) for needle in _runs(rng, bodies, 300)]
        longer = sum(hit for needle, hit in runs if len(search_terms(needle)) >= 3)
        unmarked = sum(same(needle) for needle in _without_diacritics(rng, bodies))
    positions.close()
    store.close()
    assert longer >= 50 and unmarked >= 20  # phrases confirmed in their texts, found


def test_migration_0016_makes_the_index_of_pairs_from_the_texts_and_back(tmp_path: Path):
    url = f"sqlite:///{tmp_path / 'store.sqlite'}"
    store = Store(url)
    add_instrument(store, "gdpr", "Chapter V GDPR", "Reviewed every four years. Transfers subject to safeguards.")
    add_instrument(store, "other", "Unrelated", "Four members were present for years.")
    command.downgrade(alembic_config(store.engine), "0015")
    with store.engine.connect() as connection:
        assert connection.execute(text("SELECT rowid FROM version_search WHERE version_search MATCH "
                                       "'\"four years\"'")).scalars().all() == [1000]
        assert "detail=none" not in connection.execute(text(
            "SELECT sql FROM sqlite_master WHERE name = 'version_search'")).scalar_one()
    store.close()
    store = Store(url)  # upgrades to the newest revision again
    with store.engine.connect() as connection:
        assert connection.execute(text("SELECT rowid FROM version_search WHERE version_search MATCH "
                                       "'\"_four_years\"'")).scalars().all() == [1]
    assert found(store, "four years") == ["gdpr"]
    assert found(store, "every four years") == ["gdpr"]
    assert found(store, "four") == ["gdpr", "other"]
    store.close()


def test_a_longer_phrase_is_confirmed_term_by_term_in_ascii_and_other_texts(tmp_path: Path):
    store = Store(f"sqlite:///{tmp_path / 'store.sqlite'}")
    add_instrument(store, "gdpr", "Chapter V", "Reviewed every four years; the Commission's decision. Very four, fou years.")
    add_instrument(store, "accents", "Décision", "La décision d’adéquation est révisée tous les quatre ans. Ecision d.")
    assert found(store, "every four years") == ["gdpr"]
    assert found(store, "every four year") == ["gdpr"]      # the last term a prefix
    assert found(store, "four years the") == ["gdpr"]       # across punctuation
    assert found(store, "very four years") == []             # the first term whole (its pairs are there)
    assert found(store, "every fou years") == []             # and every one before the last
    assert found(store, "years four every") == []
    add_instrument(store, "meta", "Metadata", "Metadata data data data.")
    assert found(store, "data data data") == ["meta"]        # after a run that starts inside a term
    assert found(store, "metadata data data data") == ["meta"]
    add_instrument(store, "pipl", "个人信息", "处理个人 信息。个人a信息，人信")
    assert found(store, "理个人信息") == ["pipl"]              # characters apart by what is no term
    assert found(store, "个人a信息") == ["pipl"]
    assert found(store, "个人a信息人信") == ["pipl"]
    assert found(store, "息个人信") == []                     # its pairs are there, not the run
    add_instrument(store, "tai", "Unicode", "x a\u19b0b c")   # a letter SQLite's tokeniser splits terms at
    assert found(store, "a\u19b0b c") == ["tai"] == found(store, "a b c")
    assert found(store, "\u19b0") == []
    assert found(store, "decision d adequation") == ["accents"]  # as the index folds diacritics
    assert found(store, "ecision d adequation") == []
    assert found(store, "la décision d") == ["accents"]
    store.close()


def test_thai_and_japanese_phrases_are_found_across_the_marks_the_index_drops(tmp_path: Path):
    """SQLite's tokeniser drops Thai vowel and tone marks and the Japanese middle dot, and pairs
    the letters across them; a phrase of three characters or more is confirmed the same way."""
    store = Store(f"sqlite:///{tmp_path / 'store.sqlite'}")
    add_instrument(store, "th-pdpa", "พระราชบัญญัติ", "พระราชบัญญัติคุ้มครองข้อมูลส่วนบุคคล")
    add_instrument(store, "jp", "データ", "データ・プライバシーの保護")
    assert found(store, "คุ้มครองข้อมูล") == ["th-pdpa"]
    assert found(store, "บุคคล") == ["th-pdpa"]
    assert found(store, "データ・プライバシー") == ["jp"]
    assert found(store, "プライバシーの保護") == ["jp"]
    assert found(store, "ข้อมูลคุ้มครอง") == []
    store.close()


def test_a_damaged_text_holds_no_phrase_and_fails_no_search_or_upgrade(tmp_path: Path):
    url = f"sqlite:///{tmp_path / 'store.sqlite'}"
    store = Store(url)
    add_instrument(store, "good", "Data is oil", "They say data is oil, and oil is data.")
    add_instrument(store, "damaged", "Data is oil too", "Data is oil, again.")
    with store.transaction() as session:
        session.execute(text("UPDATE versions SET text_z = x'28b52ffd0000dead' WHERE text_hash = 'damaged'"))
    assert found(store, "data is oil") == ["good"]  # the damaged text is not read, and fails nothing
    command.downgrade(alembic_config(store.engine), "0015")
    store.close()
    store = Store(url)  # the index made again: the damaged version by its title alone
    assert found(store, "data is oil") == ["good"]
    assert found(store, "oil too") == ["damaged"]
    store.close()


def test_a_rebuild_stopped_on_the_way_leaves_the_old_index_and_starts_again(tmp_path: Path):
    store = Store(f"sqlite:///{tmp_path / 'store.sqlite'}")
    add_instrument(store, "gdpr", "Chapter V GDPR", "Reviewed every four years.")
    with store.engine.begin() as connection:  # what an upgrade stopped mid-way leaves behind
        connection.execute(text(f"CREATE VIRTUAL TABLE {REBUILT} USING fts5(terms)"))
        connection.execute(text(f"INSERT INTO {REBUILT} (rowid, terms) VALUES (7, 'stale')"))
    assert found(store, "every four years") == ["gdpr"]  # the index in use is whole
    with store.engine.begin() as connection:
        rebuild_sqlite_index(connection)
        names = connection.execute(text("SELECT name FROM sqlite_master WHERE type = 'table'")).scalars().all()
    assert "version_search" in names and not [name for name in names if name.startswith(REBUILT)]
    assert found(store, "every four years") == ["gdpr"]
    store.close()


def test_texts_are_folded_alike_from_many_threads_at_once():
    interval = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)  # threads take turns as often as they can
    letters = [chr(code) for code in range(0x100, 0x700) if chr(code).isalpha()]
    faults: list[BaseException] = []
    wrong: list[str] = []

    def fold(part: list[str]) -> None:
        try:
            for letter in part:
                if folded_text(f"{letter}x") != f"{folded_text(letter)}x":
                    wrong.append(letter)
        except BaseException as exc:  # noqa: BLE001
            faults.append(exc)

    threads = [threading.Thread(target=fold, args=(letters[n::8],)) for n in range(8)]
    try:
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    finally:
        sys.setswitchinterval(interval)
    assert faults == [] and wrong == []
    assert folded_text("ḁ") == "a"
