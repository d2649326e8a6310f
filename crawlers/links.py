"""Finding instrument links in listings, RSS/Atom feeds and sitemaps (pure functions)."""

from __future__ import annotations

import gzip
from collections.abc import Iterable
from urllib.parse import urldefrag, urljoin, urlsplit

import re2
from defusedxml import ElementTree
from selectolax.lexbor import LexborHTMLParser

from crawlers.hosts import Origin, url_allowed
from texts.vocabulary import MAX_LINK_LENGTH

MAX_SITEMAP_BYTES = 50 * 1024 * 1024
# Longer links are never followed nor matched: Scrapy's own URL length limit (the longest URL
# common browsers take).


class FeedError(ValueError):
    """A feed or sitemap that cannot be read safely."""


def clean_link(base: str, href: str | None) -> str | None:
    if not href:
        return None
    href = href.strip()
    if href.lower().startswith(("javascript:", "mailto:", "tel:", "data:", "#")):
        return None
    url = urldefrag(urljoin(base, href))[0]
    return url if urlsplit(url).scheme in ("http", "https") else None


def compile_follow(pattern: str) -> re2._Regexp[str]:
    """A declared `follow` pattern, compiled with RE2, which matches in time linear in the URL
    whatever the pattern (no catastrophic backtracking); raises ValueError with a one-line reason
    for a pattern RE2 refuses (lookarounds, backreferences, a syntax error)."""
    options = re2.Options()
    options.log_errors = False  # the reason is raised, not printed
    try:
        return re2.compile(pattern, options)
    except re2.error as exc:
        reason = exc.args[0].decode(errors="replace") if exc.args and isinstance(exc.args[0], bytes) \
            else str(exc)
        raise ValueError(f"not a pattern the linear-time regex engine (RE2) accepts: {reason} "
                         f"(lookarounds and backreferences are not supported)") from None


def keep_links(urls: list[str], origins: Iterable[Origin], follow: str | None) -> list[str]:
    """Only http(s) links on declared hosts and ports, no longer than MAX_LINK_LENGTH, that match
    the `follow` pattern, once each."""
    pattern = compile_follow(follow) if follow else None
    declared = frozenset(origins)
    kept = []
    for url in dict.fromkeys(urls):
        if len(url) > MAX_LINK_LENGTH or not url_allowed(url, declared):
            continue
        if pattern and not pattern.search(url):
            continue
        kept.append(url)
    return kept


def listing_links(html: str, base: str, selector: str) -> list[str] | None:
    """Hrefs of the elements a CSS selector picks (or of links inside them); None if none match."""
    tree = LexborHTMLParser(html)
    nodes = tree.css(selector)
    if not nodes:
        return None
    found = []
    for node in nodes:
        anchors = [node] if node.tag == "a" else node.css("a")
        for anchor in anchors:
            if url := clean_link(base, anchor.attributes.get("href")):
                found.append(url)
    return found


def next_page(html: str, base: str, selector: str | None) -> str | None:
    if not selector:
        return None
    node = LexborHTMLParser(html).css_first(selector)
    if node is None:
        return None
    anchor = node if node.tag == "a" else node.css_first("a")
    return clean_link(base, anchor.attributes.get("href")) if anchor is not None else None


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1].lower()


def _parse_xml(body: bytes):
    if body[:2] == b"\x1f\x8b":
        with gzip.GzipFile(fileobj=__import__("io").BytesIO(body)) as compressed:
            body = compressed.read(MAX_SITEMAP_BYTES + 1)
        if len(body) > MAX_SITEMAP_BYTES:
            raise FeedError("compressed document expands beyond the size cap")
    try:
        return ElementTree.fromstring(body, forbid_dtd=False, forbid_entities=True,
                                      forbid_external=True)
    except ElementTree.ParseError as exc:
        raise FeedError(f"not well-formed XML ({exc})") from None
    except Exception as exc:  # defusedxml's EntitiesForbidden, DTDForbidden, ...
        raise FeedError(f"refused unsafe XML: {type(exc).__name__}") from None


def feed_links(body: bytes, base: str) -> list[str]:
    """Item links of an RSS 2.0, RSS 1.0 or Atom feed."""
    root = _parse_xml(body)
    links = []
    for element in root.iter():
        name = _local(element.tag)
        if name not in ("item", "entry"):
            continue
        for child in element:
            if _local(child.tag) != "link":
                continue
            href = child.attrib.get("href") if "href" in child.attrib else (child.text or "")
            if child.attrib.get("rel", "alternate") != "alternate":
                continue
            if url := clean_link(base, href):
                links.append(url)
                break
    if _local(root.tag) not in ("rss", "feed", "rdf"):
        raise FeedError(f"not an RSS or Atom feed (root element <{_local(root.tag)}>)")
    return links


def sitemap_links(body: bytes, base: str) -> tuple[list[str], list[str]]:
    """(page URLs, nested sitemap URLs) of a sitemap or sitemap index."""
    root = _parse_xml(body)
    kind = _local(root.tag)
    if kind not in ("urlset", "sitemapindex"):
        raise FeedError(f"not a sitemap (root element <{kind}>)")
    locs = [loc for el in root.iter()
            if _local(el.tag) == "loc" and (loc := clean_link(base, el.text or ""))]
    return (locs, []) if kind == "urlset" else ([], locs)
