"""PostgreSQL's search index with pairs of neighbouring terms (migration 0017): a phrase of one or
two terms is found in exactly the versions whose texts hold it, and a longer one where its
phrase by position alone found it, for runs of one to four terms of the real instruments of
`../shared/corpus*/` (whole, the last cut short, in reverse order); and migration 0017 writes the
pairs from the stored texts and takes them away again.

By position alone, a phrase of two terms was missed where its first term is common: a
`tsvector` keeps 256 positions of a lexeme, and "the impo" in the 22,000 terms of Singapore's
PDPA comes after the 256th "the" of its chunk."""

from __future__ import annotations

import random
from collections.abc import Iterator
from pathlib import Path

import pytest
from alembic import command
from sqlalchemy import select, text

from storage.database import Store, alembic_config
from storage.models import Instrument, Version
from storage.search import ROW_BYTES, matching_versions, phrase_found, search_terms
from tests.conftest import POSTGRES, PREPARED, migrate
from tests.test_search import add_instrument, found
from tests.test_search_index import TEXTS, _runs

pytestmark = pytest.mark.skipif(not POSTGRES, reason="no PostgreSQL server (POLICYWATCH_TEST_POSTGRES); "
                                                     ".ci/run starts one")
BY_POSITION = "SELECT DISTINCT version_id FROM version_search WHERE terms @@ to_tsquery('simple', :phrase)"
PAIRS = "SELECT count(*) FROM version_search, unnest(terms) WHERE starts_with(lexeme, '_')"


@pytest.fixture
def postgres_url(tmp_path: Path) -> Iterator[str]:
    with PREPARED.copy("postgresql", tmp_path, "migrated", migrate) as url:
        yield url


@pytest.mark.skipif(not TEXTS, reason="no real instruments under ../shared/corpus*/")
def test_pairs_find_what_the_phrases_by_position_found_in_real_instruments(postgres_url: str):
    store = Store(postgres_url)
    bodies = [path.read_text(encoding="utf-8") for path in TEXTS]
    for number, body in enumerate(bodies):
        add_instrument(store, f"i{number}", TEXTS[number].stem, body)
    rng = random.Random(17)
    hits = {1: 0, 2: 0, 3: 0}
    with store.sessions() as session:
        texts = {version_id: search_terms(f"{TEXTS[int(uid[1:])].stem}\n{bodies[int(uid[1:])]}")
                 for version_id, uid in session.execute(text(
                     "SELECT versions.id, instruments.uid FROM versions "
                     "JOIN instruments ON instruments.id = versions.instrument_id"))}
        for needle in _runs(rng, bodies, 300):
            terms = search_terms(needle)
            query = matching_versions("postgresql", needle)
            assert query is not None
            by_position = set(session.scalars(text(BY_POSITION), {"phrase": " <-> ".join(terms) + ":*"}))
            held = {version_id for version_id, stored in texts.items() if phrase_found(terms, stored)}
            assert set(session.scalars(query)) == (held if len(terms) <= 2 else by_position), needle
            assert by_position <= held
            hits[min(len(terms), 3)] += bool(held)
    store.close()
    assert min(hits.values()) >= 30, hits  # each kind of phrase found often enough to tell


def test_migration_0017_writes_the_pairs_from_the_texts_and_takes_them_away(postgres_url: str):
    store = Store(postgres_url)
    add_instrument(store, "gdpr", "Chapter V GDPR", "Reviewed every four years. Transfers subject to safeguards.")
    add_instrument(store, "pipl", "个人信息保护法", "第三十八条 确需向境外提供个人信息的")
    add_instrument(store, "other", "Unrelated", "Four members were present for years.")
    with store.engine.connect() as connection:
        assert connection.execute(text(PAIRS)).scalar_one() > 0
    command.downgrade(alembic_config(store.engine), "0016")
    with store.engine.connect() as connection:
        assert connection.execute(text(PAIRS)).scalar_one() == 0
        assert connection.execute(text(BY_POSITION), {"phrase": "four <-> years"}).scalars().all()
    store.close()
    store = Store(postgres_url)  # upgrades to the newest revision again
    assert found(store, "four years") == ["gdpr"]
    assert found(store, "four yea") == ["gdpr"]
    assert found(store, "every four years") == ["gdpr"]
    assert found(store, "years four") == []
    assert found(store, "境外提供") == ["pipl"]
    assert found(store, "four") == ["gdpr", "other"]
    store.close()


def _lexemes(store: Store, table: str) -> dict[str, set[str]]:
    """Each instrument's lexemes in `instrument_search`, or in `version_search` over its versions."""
    joined = ("instrument_search JOIN instruments ON instruments.id = instrument_search.instrument_id"
              if table == "instrument_search" else
              "version_search JOIN versions ON versions.id = version_search.version_id "
              "JOIN instruments ON instruments.id = versions.instrument_id")
    held: dict[str, set[str]] = {}
    with store.engine.connect() as connection:
        for uid, lexeme in connection.execute(text(f"SELECT instruments.uid, held.lexeme FROM {joined}, "
                                                   f"unnest({table}.terms) AS held")):
            held.setdefault(uid, set()).add(lexeme)
    return held


ROW_SIZES = ("SELECT (SELECT sum(octet_length(lexeme) + 4) FROM unnest(terms)) FROM instrument_search "
             "JOIN instruments ON instruments.id = instrument_id WHERE uid = :uid")
LONG_WORDS = " ".join(f"{'w' * 24}{i}" for i in range(30_000))  # 3 MB of lexemes with its pairs


def test_an_instruments_row_holds_the_lexemes_of_all_its_versions_and_a_long_one_several(postgres_url: str):
    store = Store(postgres_url)
    add_instrument(store, "gdpr", "Chapter V GDPR", "Reviewed every four years.")
    add_instrument(store, "long", "A long statute", f"{LONG_WORDS} zulu alpha mike")
    with store.transaction() as session:  # a second version, indexed as the recorder's are
        gdpr = session.scalars(select(Instrument).where(Instrument.uid == "gdpr")).one()
        session.add(Version(instrument_id=gdpr.id, number=2, title=gdpr.title, text_hash="gdpr-2",
                            text="Transfers subject to safeguards."))
    written = _lexemes(store, "instrument_search")
    assert written == _lexemes(store, "version_search")
    assert {"_four_years", "_to_safeguards"} <= written["gdpr"]
    with store.engine.connect() as connection:
        sizes = connection.execute(text(ROW_SIZES), {"uid": "long"}).scalars().all()
    assert len(sizes) >= 3 and max(sizes) <= ROW_BYTES  # a tsvector holds at most 1 MB
    for needle in (f"{'w' * 24}29998 {'w' * 24}29999", "zulu alpha mike", "alpha mi"):
        assert found(store, needle) == ["long"], needle
    assert found(store, "four years") == found(store, "to safeguards") == ["gdpr"]
    command.downgrade(alembic_config(store.engine), "0017")
    store.close()
    store = Store(postgres_url)  # migration 0018 fills the table from version_search
    assert _lexemes(store, "instrument_search") == written
    with store.engine.connect() as connection:
        sizes = connection.execute(text(ROW_SIZES), {"uid": "long"}).scalars().all()
    assert len(sizes) >= 3 and max(sizes) <= ROW_BYTES + 2050
    for needle in ("zulu alpha mike", "alpha mi", "zulu"):  # pairs of one phrase in rows of their own
        assert found(store, needle) == ["long"], needle
    store.close()


def test_long_tokens_odd_terms_and_long_pairs_are_stored_and_found(postgres_url: str):
    store = Store(postgres_url)
    keys = " ".join(f"{i:04d}" + "k" * 96 for i in range(4_000))  # 4,000 keys of 100 characters
    add_instrument(store, "keys", "Register of keys", f"{keys} end of keys")
    add_instrument(store, "water", "Water", "Emissions of h₂o and co₂e per m²s.")
    longest = "a" * 1_500
    add_instrument(store, "pair", "Long words", f"{longest} bbb and {'c' * 1_100} {'d' * 1_100}")
    assert found(store, "end of keys") == found(store, "0001" + "k" * 96) == ["keys"]
    assert found(store, "h₂o") == found(store, "co₂e per") == ["water"]  # "h₂o" is "h" and "o" to PostgreSQL
    assert found(store, f"{longest} bbb") == ["pair"]  # a pair too long to be indexed: by positions
    assert found(store, f"{'c' * 1_100} {'d' * 1_100}") == ["pair"]
    store.close()
