"""What the store compresses it gives back, and what an older store wrote with zlib still reads."""

from __future__ import annotations

import zlib
from pathlib import Path

from sqlalchemy import text

from storage.compression import ZSTD_MAGIC, pack, unpack
from storage.models import Version

REALPAGE = next((Path(__file__).parent.parent.parent / "shared" / "realpages" / "pages").rglob("*.html"))


def test_a_real_page_comes_back_whole_and_smaller():
    page = REALPAGE.read_bytes()
    stored = pack(page)
    assert stored.startswith(ZSTD_MAGIC) and len(stored) < len(page) / 2
    assert unpack(stored) == page


def test_zlib_written_by_an_older_store_still_reads():
    page = REALPAGE.read_bytes()
    assert unpack(zlib.compress(page, 6)) == page


def test_a_version_text_written_with_zlib_reads_back_through_the_model(store):  # source eu-test
    with store.transaction() as session:
        session.execute(text(
            "insert into instruments (id, uid, source_id, url, title, jurisdiction, level, doc_type, "
            "status, gone_checks, version_count, first_seen_at) values (1, 'eu-test/x', 'eu-test', "
            "'https://example.eu/x', 'x', 'EU', 'supranational', 'html', 'active', 0, 1, "
            "'2026-01-01 00:00:00')"))
        session.execute(text("insert into versions (instrument_id, number, title, text_z, text_hash, "
                             "technical, recorded_at) values (1, 1, 'x', :z, 'h', false, "
                             "'2026-01-01 00:00:00')"),
                        {"z": zlib.compress("第三十八条 确需向境外提供".encode(), 6)})
    with store.sessions() as session:
        assert session.get(Version, 1).text == "第三十八条 确需向境外提供"
