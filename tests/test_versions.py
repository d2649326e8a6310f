"""Versions and events on a real SQLite file: versions, events, snapshots, and all-or-nothing writes."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from crawlers.extract import extract_document, extract_with_block
from policywatch.demoweb.server import regulator_page
from policywatch.demoweb.texts import gdpr, to_html
from storage.blocks import remembered_blocks
from storage.database import Store
from storage.models import ChangeEvent, Instrument, Problem, Snapshot, Version
from storage.versions import (
    Fetch,
    SourceInfo,
    record_document,
    record_gone,
    record_not_modified,
    record_reextraction,
    record_revalidated,
    snapshot_body,
)

SOURCE = SourceInfo("eu-test", "EU", "supranational", "en")
URL = "https://example.eu/docs/adequacy"



def page(noise: int = 1, text: str | None = None) -> bytes:
    return regulator_page("EU", "Adequacy", to_html(text or gdpr("45", "46")), noise).encode()


def fetch(body: bytes, url: str = URL, instrument_id: int | None = None, requested: str | None = None):
    return Fetch("eu-test", requested or url, url, 200, {"content-type": "text/html", "etag": '"1"'},
                 body, instrument_id)


def record(store: Store, body: bytes, **kwargs) -> str:
    with store.transaction() as session:
        return record_document(session, None, SOURCE, fetch(body, **kwargs),
                               extract_document(body, "text/html"))


def count(store: Store, model) -> int:
    with store.sessions() as session:
        return session.scalar(select(func.count()).select_from(model)) or 0


def instrument_id(store: Store) -> int:
    with store.sessions() as session:
        found = session.scalar(select(Instrument.id))
    assert found is not None, "no instrument recorded"
    return found


def test_first_fetch_is_new_and_keeps_the_raw_evidence(store):
    body = page()
    assert record(store, body) == "new"
    with store.sessions() as session:
        version = session.scalar(select(Version))
        assert version.number == 1 and version.text.startswith("Adequacy")
        assert snapshot_body(version.snapshot) == body
        assert version.snapshot.headers["etag"] == '"1"'
        event = session.scalar(select(ChangeEvent))
        assert (event.kind, event.baseline, event.version_number) == ("new", True, 1)


def test_noise_stores_nothing_and_amendment_stores_one_version(store):
    record(store, page(1))
    known = instrument_id(store)
    assert record(store, page(2), instrument_id=known) == "unchanged"
    assert (count(store, Version), count(store, Snapshot), count(store, ChangeEvent)) == (1, 1, 1)
    amended = page(3, gdpr("45", "46").replace("four years", "five years"))
    assert record(store, amended, instrument_id=known) == "amended"
    assert (count(store, Version), count(store, Snapshot), count(store, ChangeEvent)) == (2, 2, 2)
    with store.sessions() as session:
        event = session.scalar(select(ChangeEvent).where(ChangeEvent.kind == "amended"))
        assert event.version_number == 2
        assert [m["ref"] for m in event.provisions["modified"]] == ["Article 45"]


def test_withdrawn_after_three_404s_then_restored(store):
    record(store, page())
    known = instrument_id(store)
    outcomes = []
    for _ in range(4):
        with store.transaction() as session:
            outcomes.append(record_gone(session, None, known, 404))
    assert outcomes == ["gone", "gone", "withdrawn", "withdrawn-already"]
    assert record(store, page(5), instrument_id=known) == "restored"
    with store.sessions() as session:
        kinds = session.scalars(select(ChangeEvent.kind).order_by(ChangeEvent.id)).all()
    assert kinds == ["new", "withdrawn", "restored"]


def test_a_good_answer_resets_the_404_count(store):
    record(store, page())
    known = instrument_id(store)
    for _ in range(2):
        with store.transaction() as session:
            record_gone(session, None, known, 404)
    with store.transaction() as session:
        assert record_not_modified(session, None, known) == "unchanged"
    with store.transaction() as session:
        assert record_gone(session, None, known, 404) == "gone"  # the count started again


def test_same_text_at_a_new_url_after_the_old_one_died_is_a_move(store):
    record(store, page())
    known = instrument_id(store)
    with store.transaction() as session:
        record_gone(session, None, known, 404)
    assert record(store, page(2), url="https://example.eu/docs/2024/adequacy") == "moved"
    with store.sessions() as session:
        instrument = session.get(Instrument, known)
        assert instrument.url == "https://example.eu/docs/2024/adequacy"
        event = session.scalar(select(ChangeEvent).where(ChangeEvent.kind == "moved"))
        assert event.previous_url == URL
    assert count(store, Instrument) == 1


def test_a_redirect_of_a_known_url_is_a_move(store):
    record(store, page())
    known = instrument_id(store)
    assert record(store, page(), url="https://example.eu/new-home", requested=URL,
                  instrument_id=known) == "moved"


def test_a_crash_inside_a_write_leaves_nothing_half_written(store):
    record(store, page())
    known = instrument_id(store)
    amended = page(2, gdpr("45", "46").replace("four years", "five years"))
    with pytest.raises(RuntimeError), store.transaction() as session:
        record_document(session, None, SOURCE, fetch(amended, instrument_id=known),
                        extract_document(amended, "text/html"))
        session.flush()  # version, snapshot and event are written ...
        raise RuntimeError("killed")  # ... and the process dies before the commit
    assert (count(store, Version), count(store, Snapshot), count(store, ChangeEvent)) == (1, 1, 1)
    assert record(store, amended, instrument_id=known) == "amended"  # done once, on retry
    assert count(store, ChangeEvent) == 2


def test_amendment_event_carries_the_paradigm_shift(store):
    from storage.queries import HistoryFilter, history
    from tests.web.history import RELAXED_ARTICLE_3, RESTRICTIVE_ARTICLE_3, RESTRICTIVE_LAW

    restrictive = RESTRICTIVE_LAW.replace("\n", "\n\n")
    relaxed = restrictive.replace(RESTRICTIVE_ARTICLE_3, RELAXED_ARTICLE_3)
    record(store, page(1, restrictive))
    record(store, page(2, relaxed), instrument_id=instrument_id(store))
    with store.sessions() as session:
        amended, new = history(session, HistoryFilter())
    assert new["paradigm"] == "restrictive" and new["previous_paradigm"] is None
    assert (amended["previous_paradigm"], amended["paradigm"]) == ("restrictive", "prudent")
    assert amended["shift"]["away_from"] == "restrictive"
    assert amended["shift"]["provisions"] == ["Article 3"]


def test_a_classification_handed_over_is_stored_as_the_versions_own(store):
    """The crawl classifies a new document once for relevance and hands the result over."""
    from paradigms.classifier import classify_text
    from tests.web.history import RESTRICTIVE_LAW

    body = page()
    restrictive = classify_text(RESTRICTIVE_LAW)  # not what the page's own GDPR text reads as
    assert classify_text(extract_document(body, "text/html").text).paradigm != restrictive.paradigm
    with store.transaction() as session:
        assert record_document(session, None, SOURCE, fetch(body), extract_document(body, "text/html"),
                               classification=restrictive) == "new"
    with store.sessions() as session:
        version = session.scalar(select(Version))
        assert version.paradigm == "restrictive"
        assert version.classification == restrictive.to_json()


def test_the_block_of_the_recorded_text_is_remembered_and_replaced(store):
    body = page()
    extracted, block = extract_with_block(body, "text/html")
    assert block is not None
    with store.transaction() as session:
        assert record_document(session, None, SOURCE, fetch(body), extracted, block=block) == "new"
    known = instrument_id(store)
    with store.sessions() as session:
        remembered = remembered_blocks(session, [known])[known]
        assert (remembered.path, remembered.digest) == (block.path, block.digest)
    amended = page(text=gdpr("45", "46").replace("four years", "three years"))
    extracted, moved = extract_with_block(amended, "text/html")
    assert moved is not None
    with store.transaction() as session:
        assert record_document(session, None, SOURCE, fetch(amended, instrument_id=known),
                               extracted, block=moved) == "amended"
    with store.sessions() as session:
        assert remembered_blocks(session, [known])[known].digest == moved.digest != block.digest


def test_a_reextraction_that_changes_the_text_forgets_the_block(store):
    body = page()
    extracted, block = extract_with_block(body, "text/html")
    with store.transaction() as session:
        record_document(session, None, SOURCE, fetch(body), extracted, block=block)
    with store.transaction() as session:
        instrument = session.get(Instrument, instrument_id(store))
        reread = extract_document(body, "text/html")
        technical = type(reread)(reread.title, reread.text + "\nAnnex", reread.published,
                                 reread.doc_type, reread.encoding)
        assert record_reextraction(session, instrument, technical) == "technical"
    with store.sessions() as session:
        assert remembered_blocks(session, [instrument_id(store)]) == {}


def test_new_validators_of_unchanged_instruments_are_written_at_once(store):
    record(store, page())
    known = instrument_id(store)
    with store.transaction() as session:
        record_revalidated(session, {known: ('"2"', None)})
    with store.sessions() as session:
        instrument = session.get(Instrument, known)
        assert (instrument.etag, instrument.last_modified) == ('"2"', None)
        assert instrument.last_checked_at is not None


def test_a_soft_404_counts_towards_withdrawal_with_its_reason(store):
    record(store, page())
    known = instrument_id(store)
    with store.transaction() as session:
        assert record_gone(session, None, known, 200, reason="HTTP 200 with a page not found") == "gone"
    with store.sessions() as session:
        problem = session.scalar(select(Problem))
        assert problem.message == "HTTP 200 with a page not found (1 of 3 before withdrawn)"
        assert problem.severity == "warning"
