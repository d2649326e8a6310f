"""Instrument ids: the same page gets the same id wherever and whenever it is crawled, two pages of
one source never share one, and an id once stored never changes."""

from __future__ import annotations

from sqlalchemy import select, update

from crawlers.extract import extract_document
from policywatch.demoweb.server import regulator_page
from policywatch.demoweb.texts import gdpr, to_html
from storage.database import Store
from storage.models import Instrument
from storage.runs import upsert_source
from storage.versions import Fetch, SourceInfo, instrument_uid, page_key, record_document

SOURCE = SourceInfo("eu-test", "EU", "supranational", "en")



def record(store: Store, url: str, articles: tuple[str, str] = ("45", "46")) -> str:
    """Record one page at `url` and return the id of the instrument it was recorded as."""
    body = regulator_page("EU", "Adequacy", to_html(gdpr(*articles)), 1).encode()
    with store.transaction() as session:
        record_document(session, None, SOURCE,
                        Fetch("eu-test", url, url, 200, {"content-type": "text/html"}, body),
                        extract_document(body, "text/html"))
        uid = session.scalar(select(Instrument.uid).where(Instrument.url == url))
    assert uid is not None
    return uid


def test_the_port_scheme_host_case_and_fragment_are_not_part_of_the_id():
    ids = {instrument_uid("eu-edpb", url) for url in (
        "http://127.0.0.2:41234/docs/adequacy-guidelines_en",
        "http://127.0.0.2:50001/docs/adequacy-guidelines_en",
        "https://127.0.0.2/docs/adequacy-guidelines_en#part-2",
    )}
    assert len(ids) == 1
    assert ids.pop().startswith("eu-edpb/adequacy-guidelines-en-")
    assert page_key("https://WWW.Example.EU:8443/Docs/A?id=7#top") == "www.example.eu/Docs/A?id=7"


def test_the_path_and_query_are_part_of_the_id():
    base = "https://example.eu/docs/law"
    assert len({instrument_uid("eu-test", url) for url in (
        base, f"{base}/", "https://example.eu/Docs/law", f"{base}?id=1", f"{base}?id=2")}) == 5


def test_the_same_page_gets_the_same_id_in_another_store_on_another_port(tmp_path):
    ids = []
    for port in (41234, 50001):
        store = Store(f"sqlite:///{tmp_path / f'{port}.sqlite'}")
        with store.transaction() as session:
            upsert_source(session, id="eu-test", name="Test", jurisdiction="EU",
                          level="supranational", declaration_file=None)
        ids.append(record(store, f"http://127.0.0.2:{port}/docs/adequacy"))
        store.close()
    assert ids[0] == ids[1] == instrument_uid("eu-test", "http://127.0.0.2/docs/adequacy")


def test_one_page_over_http_and_https_or_on_two_ports_gets_two_ids(store):
    """One source may list a page under two schemes or ports: two instruments (URLs differ), and
    the one seen second takes the hash of its whole URL."""
    first = record(store, "http://example.eu/docs/adequacy")
    second = record(store, "https://example.eu/docs/adequacy", ("46", "47"))
    third = record(store, "https://example.eu:8443/docs/adequacy", ("47", "49"))
    assert first == instrument_uid("eu-test", "http://example.eu/docs/adequacy")
    assert len({first, second, third}) == 3
    assert all(uid.startswith("eu-test/adequacy-") for uid in (first, second, third))


def test_a_stored_id_never_changes(store):
    url = "https://example.eu/docs/adequacy"
    record(store, url)
    with store.transaction() as session:  # an id given before ids left the port out
        session.execute(update(Instrument).values(uid="eu-test/adequacy-0a1b2c"))
    assert record(store, url, ("45", "47")) == "eu-test/adequacy-0a1b2c"
    with store.sessions() as session:
        assert session.scalar(select(Instrument.version_count)) == 2
