"""The declared spider on real Scrapy answers: how it is handed its sources, the one path every
entry page (listing, feed, sitemap) takes, and the progress lines a crawl prints."""

from __future__ import annotations

import json

import pytest
from pydantic import ValidationError
from scrapy import Request
from scrapy.exceptions import DontCloseSpider, NotConfigured
from scrapy.http import HtmlResponse, XmlResponse
from scrapy.utils.test import get_crawler

from crawlers.catalogue import Source, parse_declaration, sources_to_json
from crawlers.extract import extract_document
from crawlers.items import EntryPageSeen, FetchProblem
from crawlers.progress import Progress
from crawlers.spiders.declared import DeclaredSpider
from storage.database import Store
from storage.runs import upsert_source
from storage.versions import Fetch, SourceInfo, record_document, record_entry_page

SITE = "https://regulator.example"
DECLARATION = f"""\
id: gb-regulator
name: A regulator
jurisdiction: GB
level: national
body: regulator
entries:
  - type: listing
    url: {SITE}/guidance
    links: "ul.docs a"
    follow: "/guidance/"
    next: "a.next"
    max_pages: 2
  - type: feed
    url: {SITE}/feed.xml
  - type: sitemap
    url: {SITE}/sitemap.xml
    max_pages: 2
"""


def declared_source() -> Source:
    source, errors = parse_declaration(DECLARATION, "gb-regulator.yaml")
    assert source is not None, errors
    return source


@pytest.fixture
def db(tmp_path) -> str:
    store = Store(f"sqlite:///{tmp_path / 'store.sqlite'}")
    with store.transaction() as session:
        upsert_source(session, id="gb-regulator", name="A regulator", jurisdiction="GB",
                      level="national", declaration_file=None)
    store.close()
    return store.url


def answer(spider: DeclaredSpider, entry_type: str, url: str, body: bytes, status: int = 200,
           page: int = 1) -> list:
    """What the spider makes of one answer to a page of its source's entry of `entry_type`."""
    source = next(iter(spider.declared.values()))
    entry = next(e for e in source.entries if e.type == entry_type)
    request = Request(url, meta={"source": source.id, "entry": entry, "page": page})
    kind, content_type = (HtmlResponse, "text/html; charset=utf-8") if entry_type == "listing" \
        else (XmlResponse, "application/xml")
    response = kind(url, status=status, body=body, request=request,
                    headers={"Content-Type": content_type})
    return list(spider.parse_entry(response))


def urls(results: list) -> list[str]:
    return [r.url for r in results if isinstance(r, Request)]


def test_the_spider_takes_loaded_sources_or_their_json(db):
    source = declared_source()
    assert DeclaredSpider(sources=[source], db=db).declared == {"gb-regulator": source}
    handed = DeclaredSpider(declarations=sources_to_json([source]), db=db)
    assert handed.declared == {"gb-regulator": source}
    broken = json.loads(sources_to_json([source]))
    broken[0]["jurisdiction"] = "Britain"
    with pytest.raises(ValidationError, match="jurisdiction"):
        DeclaredSpider(declarations=json.dumps(broken), db=db)
    with pytest.raises(ValueError, match="needs sources"):
        DeclaredSpider(db=db)


LISTING = b"""<html><body><ul class="docs">
  <li><a href="/guidance/transfers">Transfers</a></li><li><a href="/guidance/adequacy">Adequacy</a></li>
  <li><a href="/news/party">Party</a></li></ul><a class="next" href="/guidance?page=2">Next</a></body></html>"""


def test_a_listing_yields_its_documents_its_next_page_and_is_remembered(db):
    spider = DeclaredSpider(sources=[declared_source()], db=db)
    results = answer(spider, "listing", f"{SITE}/guidance", LISTING)
    seen = [r for r in results if isinstance(r, EntryPageSeen)]
    assert [(s.links, s.next_url) for s in seen] == [
        ([f"{SITE}/guidance/transfers", f"{SITE}/guidance/adequacy"], f"{SITE}/guidance?page=2")]
    assert urls(results) == [f"{SITE}/guidance/transfers", f"{SITE}/guidance/adequacy",
                             f"{SITE}/guidance?page=2"]
    # The last page allowed (max_pages: 2) does not ask for the next one.
    assert urls(answer(spider, "listing", f"{SITE}/guidance?page=2", LISTING, page=2)) == []


def test_a_listing_unchanged_since_last_time_is_read_from_the_store(db):
    store = Store(db, upgrade=False)
    with store.transaction() as session:
        record_entry_page(session, "gb-regulator", f"{SITE}/guidance", {"etag": '"v1"'},
                          [f"{SITE}/guidance/transfers"], f"{SITE}/guidance?page=2")
    store.close()
    spider = DeclaredSpider(sources=[declared_source()], db=db)
    results = answer(spider, "listing", f"{SITE}/guidance", b"", status=304)
    assert not any(isinstance(r, EntryPageSeen) for r in results)
    assert urls(results) == [f"{SITE}/guidance/transfers", f"{SITE}/guidance?page=2"]


def test_entry_pages_that_fail_say_which_page_and_why(db):
    spider = DeclaredSpider(sources=[declared_source()], db=db)
    [gone] = answer(spider, "listing", f"{SITE}/guidance", b"", status=404)
    assert (gone.kind, gone.message) == ("gone", "listing page: HTTP 404")
    [refused] = answer(spider, "listing", f"{SITE}/guidance", b"", status=403)
    assert (refused.kind, refused.message) == ("blocked", "listing page: HTTP 403: access refused")
    [uncached] = answer(spider, "listing", f"{SITE}/guidance", b"", status=304)
    assert (uncached.kind, uncached.message) == ("invalid", "listing page: unexpected HTTP 304")
    [missed] = answer(spider, "listing", f"{SITE}/guidance", b"<html><body><p>Redesigned</p></body></html>")
    assert (missed.kind, missed.message) == ("selector", "listing selector 'ul.docs a' matched nothing")


def test_a_feed_yields_its_items_and_is_remembered(db):
    spider = DeclaredSpider(sources=[declared_source()], db=db)
    feed = (b'<?xml version="1.0"?><rss version="2.0"><channel><title>News</title>'
            b'<item><link>https://regulator.example/laws/2</link></item></channel></rss>')
    results = answer(spider, "feed", f"{SITE}/feed.xml", feed)
    assert [(r.links, r.next_url) for r in results if isinstance(r, EntryPageSeen)] == [
        ([f"{SITE}/laws/2"], None)]
    assert urls(results) == [f"{SITE}/laws/2"]
    [broken] = answer(spider, "feed", f"{SITE}/feed.xml", b"<html>moved</html>")
    assert (broken.kind, broken.message) == ("invalid", "feed: not an RSS or Atom feed (root element <html>)")


def test_a_sitemap_index_leads_to_its_sitemaps_and_is_not_remembered(db):
    spider = DeclaredSpider(sources=[declared_source()], db=db)
    index = (b'<?xml version="1.0"?><sitemapindex xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">'
             b'<sitemap><loc>https://regulator.example/sitemap-1.xml</loc></sitemap>'
             b'<sitemap><loc>https://elsewhere.example/sitemap-2.xml</loc></sitemap></sitemapindex>')
    results = answer(spider, "sitemap", f"{SITE}/sitemap.xml", index)
    assert urls(results) == [f"{SITE}/sitemap-1.xml"]  # on a declared host only
    assert not any(isinstance(r, EntryPageSeen) for r in results)
    urlset = (b'<?xml version="1.0"?><urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">'
              b'<url><loc>https://regulator.example/laws/1</loc></url></urlset>')
    results = answer(spider, "sitemap", f"{SITE}/sitemap-1.xml", urlset, page=2)
    assert [(r.links, r.next_url) for r in results if isinstance(r, EntryPageSeen)] == [
        ([f"{SITE}/laws/1"], None)]
    assert urls(results) == [f"{SITE}/laws/1"]
    [broken] = answer(spider, "sitemap", f"{SITE}/sitemap.xml", b"<html>not a sitemap</html>")
    assert isinstance(broken, FetchProblem) and broken.kind == "invalid"
    assert broken.message == "sitemap: not a sitemap (root element <html>)"


def test_progress_is_off_unless_asked_for():
    with pytest.raises(NotConfigured):
        Progress.from_crawler(get_crawler())


class RecordingEngine:
    """Stands in for the running engine to which the spider hands the entry requests."""

    def __init__(self) -> None:
        self.requests: list[Request] = []

    def crawl(self, request: Request) -> None:
        self.requests.append(request)


def idle_spider(db: str, declaration: str) -> tuple[DeclaredSpider, RecordingEngine]:
    source, errors = parse_declaration(declaration, "gb-regulator.yaml")
    assert source is not None, errors
    crawler = get_crawler(DeclaredSpider)
    spider = DeclaredSpider.from_crawler(crawler, sources=[source], db=db)
    crawler.engine = RecordingEngine()  # type: ignore[assignment]
    return spider, crawler.engine  # type: ignore[return-value]


def test_when_every_entry_is_a_known_document_the_idle_spider_closes_at_once(db):
    """The re-checks done, there is nothing to discover: the spider must not be kept open, which
    would leave the crawl idle until Scrapy's next look at the engine (five seconds on)."""
    url = f"{SITE}/rules/transfers"
    with Store(db).transaction() as session:
        record_document(session, None, SourceInfo("gb-regulator", "GB", "national", "en"),
                        Fetch("gb-regulator", url, url, 200, {}, b"Article 1. Transfers.", None),
                        extract_document(b"Article 1. Transfers.", "text/plain"))
    declaration = DECLARATION.split("entries:")[0] + f"entries:\n  - type: document\n    url: {url}\n"
    spider, engine = idle_spider(db, declaration)
    assert [known.url for known in spider.known] == [url]
    spider.start_discovery()  # returns: the spider may close
    assert engine.requests == []


def test_entries_to_read_keep_the_idle_spider_open_for_them(db):
    spider, engine = idle_spider(db, DECLARATION)
    with pytest.raises(DontCloseSpider):
        spider.start_discovery()
    assert sorted(request.url for request in engine.requests) == \
        [f"{SITE}/feed.xml", f"{SITE}/guidance", f"{SITE}/sitemap.xml"]
    spider.start_discovery()  # idle again once they are read: nothing more to start
    assert len(engine.requests) == 3
