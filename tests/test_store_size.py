"""Snapshots compressed against their version's text: smaller, and read back wherever they are read,
beside the rows older stores wrote; and classifications kept compressed, across the upgrade."""

from __future__ import annotations

import dataclasses
import json
import zlib
from pathlib import Path

import pytest
from sqlalchemy import JSON, select, update
from sqlalchemy import column as sa_column
from sqlalchemy import table as sa_table

from crawlers.extract import extract_document
from policywatch.demoweb.server import regulator_page
from policywatch.demoweb.texts import gdpr, to_html
from storage.compression import (
    AGAINST_PAGE,
    AGAINST_TEXT,
    MissingReference,
    pack,
    pack_against,
    references,
    unpack,
)
from storage.database import Store
from storage.models import Instrument, Snapshot, Version
from storage.runs import upsert_source
from storage.versions import Fetch, SourceInfo, record_document, record_reextraction, snapshot_body

SOURCE = SourceInfo("eu-test", "EU", "supranational", "en")
REALPAGE = next((Path(__file__).parent.parent.parent / "shared" / "realpages" / "pages").rglob("*.html"))
BODY = regulator_page("EU", "Adequacy", to_html(gdpr("45", "46")), 1).encode()
OTHERS = [regulator_page("EU", f"Chapter {n}", to_html(gdpr(*articles)), n).encode()
          for n, articles in ((2, ("46", "47")), (3, ("47", "49")))]


def record(store: Store, url: str, body: bytes = BODY, text: str | None = None) -> None:
    extracted = extract_document(body, "text/html")
    if text is not None:
        extracted = dataclasses.replace(extracted, text=text)
    with store.transaction() as session:
        record_document(session, None, SOURCE, Fetch("eu-test", url, url, 200, {"content-type": "text/html"},
                                                     body), extracted)


def instrument(session, url: str) -> Instrument:
    return session.scalars(select(Instrument).where(Instrument.url == url)).one()


def test_a_real_page_against_its_text_is_smaller_and_comes_back_whole():
    page = REALPAGE.read_bytes()
    text = extract_document(page, "text/html").text.encode()
    stored = pack_against(page, text)
    assert stored.startswith(AGAINST_TEXT) and len(stored) < len(pack(page))
    assert unpack(stored, text) == page


def test_a_blob_needs_the_very_text_it_was_compressed_against():
    stored = pack_against(b"<p>four years</p>", b"four years")
    with pytest.raises(MissingReference, match="SHA-256"):
        unpack(stored)
    with pytest.raises(MissingReference):
        unpack(stored, b"five years")


def test_what_older_stores_wrote_and_empty_texts_need_no_reference():
    page = REALPAGE.read_bytes()
    for stored in (pack(page), zlib.compress(page, 6), pack_against(page, b"")):
        assert references(stored) is None and unpack(stored) == page


def test_a_snapshot_is_stored_against_its_version_text_and_reads_back(store):
    record(store, "https://example.eu/a")
    with store.sessions() as session:
        version = session.scalars(select(Version)).one()
        assert version.snapshot.content.startswith(AGAINST_TEXT)
        assert references(version.snapshot.content).text_digest == version.text_hash
        assert len(version.snapshot.content) < len(pack(BODY)) / 2
        assert snapshot_body(version.snapshot, version.instrument_id) == BODY
        assert snapshot_body(version.snapshot) == BODY  # no hint: found among all versions


def test_a_snapshot_reads_after_a_reextraction_and_when_another_instrument_shares_it(store):
    record(store, "https://example.eu/a")
    record(store, "https://example.eu/b", text="The same page read another way.")  # same bytes
    with store.transaction() as session:
        first = instrument(session, "https://example.eu/a")
        extracted = dataclasses.replace(extract_document(BODY, "text/html"), text="Re-read differently.")
        assert record_reextraction(session, first, extracted) == "technical"
    with store.sessions() as session:
        assert session.scalar(select(Snapshot.id).where(Snapshot.id > 1)) is None  # stored once
        for url in ("https://example.eu/a", "https://example.eu/b"):
            found = instrument(session, url)
            latest = session.scalars(select(Version).where(Version.instrument_id == found.id)
                                     .order_by(Version.number.desc())).first()
            assert latest is not None and latest.snapshot is not None
            assert snapshot_body(latest.snapshot, found.id) == BODY


def test_snapshots_written_by_older_stores_read_as_before(store):
    record(store, "https://example.eu/a")
    for old in (pack(BODY), zlib.compress(BODY, 6)):
        with store.transaction() as session:
            session.execute(update(Snapshot).values(content=old))
        with store.sessions() as session:
            assert snapshot_body(session.scalars(select(Snapshot)).one()) == BODY


def test_a_snapshot_whose_text_is_gone_says_so_in_one_line(store):
    record(store, "https://example.eu/a")
    with store.transaction() as session:
        session.execute(update(Snapshot).values(content=pack_against(BODY, b"a text no version holds")))
    with store.sessions() as session:
        snapshot = session.scalars(select(Snapshot)).one()
        with pytest.raises(MissingReference, match=rf"^snapshot {snapshot.id}: no stored version holds"):
            snapshot_body(snapshot)


def test_the_source_s_other_pages_are_stored_against_its_first_page_one_step_deep(store):
    record(store, "https://example.eu/a")
    for n, body in enumerate(OTHERS):
        record(store, f"https://example.eu/other-{n}", body)
    with store.sessions() as session:
        first, *others = session.scalars(select(Snapshot).order_by(Snapshot.id)).all()
        assert first.content.startswith(AGAINST_TEXT)
        for snapshot, body in zip(others, OTHERS, strict=True):
            needs = references(snapshot.content)
            assert snapshot.content.startswith(AGAINST_PAGE) and needs is not None
            assert needs.base_snapshot_id == first.id  # never a chain
            assert len(snapshot.content) < len(pack_against(body, snapshot_text(session, snapshot).encode()))
            assert snapshot_body(snapshot) == body


def snapshot_text(session, snapshot: Snapshot) -> str:
    return session.scalars(select(Version.text).where(Version.snapshot_id == snapshot.id)).one()


def test_a_first_page_written_by_an_older_store_serves_as_base(store):
    record(store, "https://example.eu/a")
    with store.transaction() as session:
        session.execute(update(Snapshot).values(content=zlib.compress(BODY, 6)))
    record(store, "https://example.eu/other", OTHERS[0])
    with store.sessions() as session:
        snapshot = session.scalars(select(Snapshot).order_by(Snapshot.id.desc())).first()
        assert snapshot is not None and snapshot.content.startswith(AGAINST_PAGE)
        assert snapshot_body(snapshot) == OTHERS[0]


def test_a_snapshot_whose_base_is_not_a_base_says_so_in_one_line(store):
    record(store, "https://example.eu/a")
    record(store, "https://example.eu/other", OTHERS[0])
    with store.transaction() as session:
        first, other = session.scalars(select(Snapshot).order_by(Snapshot.id)).all()
        first.content = other.content  # names a base itself
    with store.sessions() as session:
        other = session.scalars(select(Snapshot).order_by(Snapshot.id.desc())).first()
        assert other is not None
        with pytest.raises(MissingReference, match=rf"^snapshot {other.id}: its base page, snapshot \d+, is not"):
            snapshot_body(other)


def test_classifications_are_kept_compressed_and_read_the_same_across_the_upgrade(store):
    """Migration 0015 compresses the classifications a store holds; 0014 gives them back."""
    from alembic import command
    from sqlalchemy import text

    from storage.database import alembic_config

    record(store, "https://example.eu/a")
    record(store, "https://example.eu/b", OTHERS[0])
    with store.sessions() as session:
        before = {version.id: version.classification for version in session.scalars(select(Version))}
    assert all(found and found["evidence"] for found in before.values())
    with store.engine.connect() as connection:
        stored = dict(connection.execute(text("select id, classification_z from versions")).all())
    assert all(len(stored[id_]) < len(json.dumps(found, ensure_ascii=False)) for id_, found in before.items())
    command.downgrade(alembic_config(store.engine), "0014")
    with store.engine.connect() as connection:
        plain = dict(connection.execute(select(sa_table("versions", sa_column("id"),
                                                       sa_column("classification", JSON)))).all())
    assert plain == before
    store.close()
    upgraded = Store(store.url)  # migrates to the newest revision again
    with upgraded.sessions() as session:
        assert {version.id: version.classification for version in session.scalars(select(Version))} == before
    upgraded.close()


def test_an_upgrade_to_compressed_classifications_stopped_midway_completes_when_run_again(store):
    """SQLite commits each ALTER TABLE at once: an upgrade that stopped after adding the new column
    is run again from there, and every classification reads as before."""
    from alembic import command
    from sqlalchemy import text

    from storage.database import alembic_config

    record(store, "https://example.eu/a")
    with store.sessions() as session:
        before = {version.id: version.classification for version in session.scalars(select(Version))}
    command.downgrade(alembic_config(store.engine), "0014")
    with store.engine.begin() as connection:
        connection.execute(text("ALTER TABLE versions ADD COLUMN classification_z BYTEA"
                                if connection.dialect.name == "postgresql" else
                                "ALTER TABLE versions ADD COLUMN classification_z BLOB"))
    store.close()
    upgraded = Store(store.url)
    with upgraded.sessions() as session:
        assert {version.id: version.classification for version in session.scalars(select(Version))} == before
    upgraded.close()


def test_an_sqlite_older_than_3_35_keeps_the_old_column_emptied(tmp_path, monkeypatch):
    """SQLite drops a column itself from 3.35 on; before, the old column stays, emptied, and the
    classifications read from the compressed one."""
    import sqlite3

    from alembic import command
    from sqlalchemy import text

    from storage.database import alembic_config

    store = Store(f"sqlite:///{tmp_path / 'old.sqlite'}")
    with store.transaction() as session:
        upsert_source(session, id="eu-test", name="Test", jurisdiction="EU", level="supranational",
                      declaration_file=None)
    record(store, "https://example.eu/a")
    with store.sessions() as session:
        before = {version.id: version.classification for version in session.scalars(select(Version))}
    command.downgrade(alembic_config(store.engine), "0014")
    store.close()
    monkeypatch.setattr(sqlite3, "sqlite_version_info", (3, 34, 1))
    upgraded = Store(store.url)
    with upgraded.engine.connect() as connection:
        assert connection.execute(text("select count(*) from versions where classification is not null"
                                       )).scalar_one() == 0
    with upgraded.sessions() as session:
        assert {version.id: version.classification for version in session.scalars(select(Version))} == before
    upgraded.close()
