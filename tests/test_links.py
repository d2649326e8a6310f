"""Finding instrument links safely: listings, RSS/Atom, sitemaps, declared hosts, Retry-After."""

from __future__ import annotations

import pytest

from crawlers.hosts import host_allowed
from crawlers.links import (
    FeedError,
    feed_links,
    keep_links,
    listing_links,
    next_page,
    sitemap_links,
)
from crawlers.middlewares import parse_retry_after

BASE = "https://www.edpb.europa.eu/our-documents/?page=1"


def test_listing_links_next_page_and_filters():
    html = """<div class="view-content">
      <a class="doc" href="/our-documents/guidelines-2024_en#top">Guidelines</a>
      <div class="row"><a href="https://www.edpb.europa.eu/our-documents/opinion_en">Opinion</a></div>
      <a href="javascript:void(0)">Print</a> <a href="mailto:x@y">Mail</a>
      <a href="https://evil.example/our-documents/x">Off-site</a>
      <a href="/news/press_en">Press</a></div>
      <ul><li class="pager__item--next"><a href="?page=2">Next</a></li></ul>"""
    found = listing_links(html, BASE, "div.view-content a, div.row")
    assert found is not None and found[0] == "https://www.edpb.europa.eu/our-documents/guidelines-2024_en"
    kept = keep_links(found, frozenset({("www.edpb.europa.eu", None)}), "/our-documents/")
    assert kept == ["https://www.edpb.europa.eu/our-documents/guidelines-2024_en",
                    "https://www.edpb.europa.eu/our-documents/opinion_en"]
    assert next_page(html, BASE, "li.pager__item--next a") == \
        "https://www.edpb.europa.eu/our-documents/?page=2"
    assert listing_links(html, BASE, "table.nothing a") is None


def test_rss_and_atom_feeds():
    rss = b"""<?xml version="1.0"?><rss version="2.0"><channel><title>t</title>
      <item><title>A</title><link>https://ico.org.uk/about/news/a/</link></item>
      <item><title>B</title><link> /about/news/b/ </link></item></channel></rss>"""
    assert feed_links(rss, "https://ico.org.uk/feed") == [
        "https://ico.org.uk/about/news/a/", "https://ico.org.uk/about/news/b/"]
    atom = b"""<feed xmlns="http://www.w3.org/2005/Atom"><title>t</title>
      <entry><link rel="self" href="https://gov.uk/api/x"/><link rel="alternate" href="https://gov.uk/guidance/x"/></entry>
      <entry><link href="https://gov.uk/guidance/y"/></entry></feed>"""
    assert feed_links(atom, "https://gov.uk/") == ["https://gov.uk/guidance/x", "https://gov.uk/guidance/y"]


def test_entity_expansion_bomb_is_refused():
    bomb = b"""<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol">
      <!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
      <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">]>
      <rss><channel><item><link>&lol3;</link></item></channel></rss>"""
    with pytest.raises(FeedError, match="refused unsafe XML"):
        feed_links(bomb, "https://x.example/")


def test_external_entities_are_refused():
    xxe = b"""<?xml version="1.0"?><!DOCTYPE r [<!ENTITY x SYSTEM "file:///etc/passwd">]>
      <urlset><url><loc>&x;</loc></url></urlset>"""
    with pytest.raises(FeedError):
        sitemap_links(xxe, "https://x.example/")


def test_not_a_feed_and_broken_xml_are_clear_errors():
    with pytest.raises(FeedError, match="not an RSS or Atom feed"):
        feed_links(b"<html><body>moved</body></html>", "https://x.example/")
    with pytest.raises(FeedError, match="not well-formed XML"):
        feed_links(b"<rss><channel>", "https://x.example/")


def test_sitemap_and_sitemap_index():
    urlset = b"""<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">
      <url><loc>https://wto.org/english/a.htm</loc></url></urlset>"""
    assert sitemap_links(urlset, "https://wto.org/") == (["https://wto.org/english/a.htm"], [])
    index = b"""<sitemapindex xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">
      <sitemap><loc>https://wto.org/sitemap-1.xml</loc></sitemap></sitemapindex>"""
    assert sitemap_links(index, "https://wto.org/") == ([], ["https://wto.org/sitemap-1.xml"])
    import gzip
    assert sitemap_links(gzip.compress(urlset), "https://wto.org/")[0] == ["https://wto.org/english/a.htm"]


@pytest.mark.parametrize(("host", "allowed"), [
    ("www.edpb.europa.eu", True), ("edpb.europa.eu", True), ("docs.edpb.europa.eu", True),
    ("edpb.europa.eu.evil.example", False), ("europa.eu", False),
])
def test_declared_hosts(host, allowed):
    assert host_allowed(host, frozenset({"www.edpb.europa.eu"})) is allowed


def test_retry_after_forms():
    assert parse_retry_after(b"120") == 120.0
    assert parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT", now=1445412470.0) == 10.0
    assert parse_retry_after("soon") is None and parse_retry_after(None) is None
