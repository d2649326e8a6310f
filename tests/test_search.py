"""Full-text search with each database's own index (FTS5, tsvector): phrases, prefixes, Chinese
substrings, long statutes, and versions stored before the index existed."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from alembic import command
from sqlalchemy import text

from storage.database import Store, alembic_config
from storage.models import ChangeEvent, Instrument, Source, Version, utcnow
from storage.queries import HistoryFilter, history
from storage.search import CHUNK, OVERLAP, chunks, search_terms


def test_terms_are_words_and_single_unspaced_characters():
    assert search_terms("Article 45: Transfers on the basis of an adequacy decision") == [
        "article", "45", "transfers", "on", "the", "basis", "of", "an", "adequacy", "decision"]
    assert search_terms("第三十八条 个人信息处理者因业务需要") [:4] == ["第", "三", "十", "八"]
    assert search_terms("data_flow — «libre circulación»") == ["data", "flow", "libre", "circulación"]


def test_chunks_overlap_so_that_no_short_phrase_is_cut():
    terms = [f"t{i}" for i in range(CHUNK * 2)]
    parts = [part.split() for part in chunks(terms)]
    assert all(len(part) <= CHUNK for part in parts)
    assert parts[1][:OVERLAP] == parts[0][-OVERLAP:]
    assert parts[-1][-1] == terms[-1]


def add_instrument(store: Store, uid: str, title: str, body: str) -> None:
    with store.transaction() as session:
        if session.get(Source, "src") is None:
            session.add(Source(id="src", name="A regulator", jurisdiction="EU", level="supranational"))
            session.flush()
        instrument = Instrument(uid=uid, source_id="src", url=f"https://example.eu/{uid}", title=title,
                                jurisdiction="EU", level="supranational", version_count=1)
        session.add(instrument)
        session.flush()
        session.add(Version(instrument_id=instrument.id, number=1, title=title, text=body, text_hash=uid))
        session.add(ChangeEvent(instrument_id=instrument.id, jurisdiction="EU", kind="new", version_number=1,
                                url=instrument.url, detected_at=utcnow()))


def found(store: Store, needle: str) -> list[str]:
    with store.sessions() as session:
        return sorted(event["instrument"] for event in history(session, HistoryFilter(search=needle)))


FILLER = " ".join(f"word{i}" for i in range(20_000))  # beyond PostgreSQL's 16,383 phrase positions


@pytest.fixture
def searchable(store_url) -> Iterator[Store]:
    store = Store(store_url)
    add_instrument(store, "gdpr", "Chapter V GDPR",
                   "Article 45. Transfers on the basis of an adequacy decision. Reviewed every four years.")
    add_instrument(store, "pipl", "个人信息保护法", "第三十八条 个人信息处理者因业务等需要，确需向中华人民共和国境外提供个人信息的")
    add_instrument(store, "long", "A long statute", f"{FILLER} data shall be stored within the territory. {FILLER}")
    add_instrument(store, "other", "Unrelated news", "The board met on Tuesday. Four members were present for years.")
    yield store
    store.close()


@pytest.mark.parametrize(("needle", "expected"), [
    ("four years", ["gdpr"]),                     # a phrase, not two words anywhere
    ("Adequacy Decision", ["gdpr"]),              # case does not matter
    ("transfer", ["gdpr"]),                       # the last term is a prefix
    ("chapter v", ["gdpr"]),                      # titles are searched too
    ("向中华人民共和国境外提供", ["pipl"]),          # a run of Chinese characters anywhere
    ("保护法", ["pipl"]),
    ("stored within the territory", ["long"]),    # deep inside a 40,000-word text
    ("four", ["gdpr", "other"]),
    ("!!!", []),
])
def test_search_finds_phrases_with_the_database_index(searchable, needle, expected):
    assert found(searchable, needle) == expected


def test_versions_stored_before_the_index_existed_are_indexed_by_the_migration(tmp_path: Path):
    """Downgraded to 0005 (plain texts, no index) and opened again: 0006 indexes what is there,
    0007 compresses the texts, and nothing is lost."""
    url = f"sqlite:///{tmp_path / 'old.sqlite'}"
    store = Store(url)
    add_instrument(store, "gdpr", "Chapter V GDPR", "Transfers subject to appropriate safeguards")
    command.downgrade(alembic_config(store.engine), "0005")  # as stored before search existed
    store.close()
    store = Store(url)  # migrates to the newest revision, which indexes what is there
    with store.engine.connect() as connection:
        assert connection.execute(text("select count(*) from version_search")).scalar() == 1
    assert found(store, "appropriate safeguards") == ["gdpr"]
    with store.sessions() as session:
        assert session.query(Version).one().text == "Transfers subject to appropriate safeguards"
    store.close()
