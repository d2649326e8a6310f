"""A small recorded history for digest tests and the digest rendering bench: a baseline, new
instruments (one with a hostile title), a relaxing amendment with its shift, a Chinese
instrument, a withdrawal, and one source failing."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import update

from crawlers.extract import extract_document
from policywatch.demoweb.server import regulator_page
from policywatch.demoweb.texts import gdpr, pipl, to_html
from storage.database import Store
from storage.models import Source
from storage.runs import upsert_source
from storage.versions import Fetch, SourceInfo, record_document, record_gone

EU = SourceInfo("eu-test", "EU", "supranational", "en")
CN = SourceInfo("cn-test", "CN", "national", "zh")
HOSTILE_TITLE = "Guidelines <script>alert('x')</script><img src=x onerror=alert(1)>"
RESTRICTIVE_LAW = """Article 1 Scope
This regulation governs the transfer of personal data outside the country.
Article 2 Storage
Personal data of citizens shall be stored in the territory.
Article 3 Transfers
Any transfer abroad requires passing a government security assessment organised by the national authority."""
RESTRICTIVE_ARTICLE_3 = ("Any transfer abroad requires passing a government security assessment "
                         "organised by the national authority.")
RELAXED_ARTICLE_3 = ("Transfers abroad may take place under standard contractual clauses or certification; "
                     "controllers transferring data of fewer than 100,000 persons are exempt from any assessment.")


def _record(store, source, url, title, body_text, when, instrument_id=None):
    body = regulator_page("Site", title, to_html(body_text), 1).encode()
    with store.transaction() as session:
        return record_document(session, None, source, Fetch(source.id, url, url, 200, {}, body,
                                                             instrument_id),
                               extract_document(body, "text/html"), now=when)


def record_sample_history(url: str) -> None:
    """A recorded history: a baseline, new instruments (one with a hostile title), a relaxing
    amendment with its shift, a Chinese instrument, a withdrawal; one source failing."""
    store = Store(url)
    with store.transaction() as session:
        for source in (EU, CN):
            upsert_source(session, id=source.id, name=source.id, jurisdiction=source.jurisdiction,
                          level=source.level, declaration_file=None)
    _record(store, EU, "https://eu.example/baseline", "Old baseline guidance", gdpr("47", "49"),
            datetime(2026, 11, 2))
    with store.transaction() as session:
        session.execute(update(Source).values(baseline_complete=True))
        session.execute(update(Source).where(Source.id == "cn-test").values(
            consecutive_failures=2, last_error="https://cn.example/list: connection refused"))
    restrictive = RESTRICTIVE_LAW.replace("\n", "\n\n")
    relaxed = restrictive.replace(RESTRICTIVE_ARTICLE_3, RELAXED_ARTICLE_3)
    _record(store, EU, "https://eu.example/transfer-rules", "Transfer rules", restrictive, datetime(2026, 11, 10))
    _record(store, EU, "https://eu.example/transfer-rules", "Transfer rules", relaxed, datetime(2026, 11, 20),
            instrument_id=2)
    _record(store, EU, "https://eu.example/hostile", HOSTILE_TITLE, gdpr("46", "47"), datetime(2026, 11, 12))
    _record(store, CN, "https://cn.example/pipl", "个人信息保护法（第三章）", pipl("第三十八条", "## 第四章"),
            datetime(2026, 11, 15))
    for day in (21, 22, 23):
        with store.transaction() as session:
            record_gone(session, None, 3, 404, now=datetime(2026, 11, day))
    store.close()


