"""What kind of page a URL serves, read once, and what a declaration of it would say.

An unknown page is read with BeautifulSoup: its forgiving tree takes the broken markup regulators
publish, and its navigation (parents, CSS selection, attributes) is what telling a listing from a
document needs. A feed or a sitemap is told by its root element, read with the HTML parser, which
expands no entity. A listing is the block holding the most links to pages of the same site under
one path; its declaration gets that block's CSS selector, a `follow` pattern (the links' shared
path) and the next-page link when there is one.
"""

from __future__ import annotations

import posixpath
import re
import warnings
from collections import Counter
from dataclasses import dataclass, field
from urllib.parse import urljoin, urlsplit

from bs4 import BeautifulSoup, Tag, XMLParsedAsHTMLWarning

FEED_ROOTS = frozenset({"rss", "feed", "rdf:rdf"})
SITEMAP_ROOTS = frozenset({"urlset", "sitemapindex"})
CONTAINERS = frozenset({"div", "ul", "ol", "section", "table", "tbody", "main", "article", "dl", "nav"})
SKIPPED = frozenset({"nav", "header", "footer", "aside", "form"})  # site chrome, not instruments
NEXT_WORDS = frozenset({"next", "next page", "next ›", "next »", "›", "»", ">", "下一页", "下页",
                        "siguiente", "suivant", "weiter", "próxima", "次へ", "다음"})
MIN_LISTING_LINKS = 3
REGEX_SPECIALS = re.compile(r"([.^$*+?{}\[\]\\|()])")


@dataclass(frozen=True)
class PageAnalysis:
    """A page as a declaration sees it: its kind, and for a listing the selectors to follow."""

    kind: str                        # feed | sitemap | listing | document
    url: str
    title: str | None = None
    language: str | None = None
    links: str | None = None         # listing: CSS selector of the instrument links
    follow: str | None = None        # listing: regex a discovered URL must match
    next: str | None = None          # listing: CSS selector of the next-page link
    found: tuple[str, ...] = field(default=())  # listing, feed, sitemap: the instrument URLs
    content: str | None = None       # document: the block holding the text, when it is marked
    title_selector: str | None = None


def is_markup_feed_or_sitemap(soup: BeautifulSoup) -> str | None:
    root = next((child for child in soup.children if isinstance(child, Tag)), None)
    if root is None:
        return None
    if root.name in FEED_ROOTS:
        return "feed"
    if root.name in SITEMAP_ROOTS:
        return "sitemap"
    return None


def analyse_page(url: str, body: bytes, content_type: str | None = None) -> PageAnalysis:
    """Tell a feed, a sitemap, a listing and a single document apart, and propose selectors."""
    if (content_type or "").split(";")[0].strip().lower() == "application/pdf" or body[:5] == b"%PDF-":
        return PageAnalysis("document", url)
    with warnings.catch_warnings():  # XML read as HTML on purpose: no entity is expanded
        warnings.simplefilter("ignore", XMLParsedAsHTMLWarning)
        soup = BeautifulSoup(body, "html.parser")
    kind = is_markup_feed_or_sitemap(soup)
    if kind == "feed":
        links = [_feed_link(item) for item in soup.find_all(["item", "entry"])]
        return PageAnalysis("feed", url, _text(soup.find("title")), found=tuple(filter(None, links)))
    if kind == "sitemap":
        return PageAnalysis("sitemap", url, found=tuple(loc.get_text(strip=True)
                                                       for loc in soup.find_all("loc")))
    title = _text(soup.find("title")) or _text(soup.find("h1"))
    html = soup.find("html")
    language = html.get("lang") if isinstance(html, Tag) else None
    language = str(language).split("-")[0].lower() if language else None
    listing = _listing(url, soup)
    if listing is not None:
        selector, follow, found = listing
        return PageAnalysis("listing", url, title, language, links=selector, follow=follow,
                            next=_next_link(soup), found=found)
    return PageAnalysis("document", url, title, language, content=_content_block(soup),
                        title_selector="h1" if len(soup.find_all("h1")) == 1 else None)


def _text(tag: object) -> str | None:
    return tag.get_text(" ", strip=True) or None if isinstance(tag, Tag) else None


def _feed_link(item: Tag) -> str | None:
    """An item's link: Atom's href, or RSS's text (after the tag: HTML knows `link` as empty)."""
    link = item.find("link")
    if not isinstance(link, Tag):
        return None
    if link.get("href"):
        return str(link["href"])
    text = link.get_text(strip=True) or str(link.next_sibling or "").strip()
    return text or None


def _instrument_links(url: str, soup: BeautifulSoup) -> list[tuple[Tag, str]]:
    """Links to other pages of the same host, outside the site's navigation and footer."""
    host = urlsplit(url).netloc
    links = []
    for anchor in soup.find_all("a", href=True):
        if any(parent.name in SKIPPED for parent in anchor.parents):
            continue
        target = urljoin(url, str(anchor["href"])).split("#")[0]
        parts = urlsplit(target)
        if parts.scheme in ("http", "https") and parts.netloc == host and target != url.split("#")[0]:
            links.append((anchor, target))
    return links


def _blocks(anchor: Tag) -> list[Tag]:
    """The blocks around a link that name themselves (an id or a class), innermost first."""
    return [parent for parent in anchor.parents
            if parent.name in CONTAINERS and (parent.get("id") or parent.get("class"))]


def _selector(tag: Tag) -> str:
    if tag.get("id"):
        return f"{tag.name}#{tag['id']}"
    return f"{tag.name}.{tag.get_attribute_list('class')[0]}"


def _listing(url: str, soup: BeautifulSoup) -> tuple[str, str | None, tuple[str, ...]] | None:
    """The links selector, follow pattern and links of the block with most same-site links."""
    by_block: dict[int, list[tuple[Tag, str]]] = {}
    blocks: dict[int, Tag] = {}
    for anchor, target in _instrument_links(url, soup):
        for block in _blocks(anchor):
            by_block.setdefault(id(block), []).append((anchor, target))
            blocks[id(block)] = block
    if not by_block:
        return None
    # The block with most distinct links; of blocks holding the same links, the innermost.
    key, links = max(by_block.items(), key=lambda item: (len({t for _, t in item[1]}),
                                                         len(list(blocks[item[0]].parents))))
    targets = tuple(dict.fromkeys(target for _, target in links))
    if len(targets) < MIN_LISTING_LINKS:
        return None
    selector = f"{_selector(blocks[key])} a"
    classes = Counter(a.get_attribute_list("class")[0] for a, _ in links if a.get("class"))
    shared = [name for name, count in classes.items() if count == len(links)]
    if shared:
        selector += f".{shared[0]}"
    return selector, _follow(targets), targets


def _follow(targets: tuple[str, ...]) -> str | None:
    """The path the links share, as a regex ('/our-documents/'); None when it is only '/'."""
    paths = [urlsplit(t).path for t in targets]
    prefix = posixpath.commonprefix(paths)
    prefix = prefix[: prefix.rfind("/") + 1]
    return REGEX_SPECIALS.sub(r"\\\1", prefix) if len(prefix) > 1 else None


def _next_link(soup: BeautifulSoup) -> str | None:
    """A selector of the next-page link: rel=next, a 'next' class, or a 'next' word."""
    if soup.select_one('a[rel~="next"]'):
        return 'a[rel~="next"]'
    for anchor in soup.find_all("a", href=True):
        words = anchor.get_text(" ", strip=True).lower()
        classes = [*anchor.get_attribute_list("class"), *(
            anchor.parent.get_attribute_list("class") if isinstance(anchor.parent, Tag) else [])]
        marked = next((c for c in classes if c and "next" in c.lower()), None)
        if marked is None and words not in NEXT_WORDS:
            continue
        if marked and marked in anchor.get_attribute_list("class"):
            return f"a.{marked}"
        parent = anchor.parent
        if marked and isinstance(parent, Tag):
            return f"{parent.name}.{marked} a"
        if isinstance(parent, Tag) and parent.get("class"):
            return f"{_selector(parent)} a"
    return None


def _content_block(soup: BeautifulSoup) -> str | None:
    """`main`, `article` or `[role=main]` when the page has exactly one: the text to watch."""
    for selector in ("main article", "article", "main", '[role="main"]'):
        if len(soup.select(selector)) == 1:
            return selector
    return None
