"""Automatic main-content detection, and the block it was found in for cheap re-checks.

Full detection runs trafilatura (recall mode) on the page without its consent dialogs, then
puts back the headings it dropped: measured on 126 real public-sector pages it keeps the main
text of 122, against 64 for the scorer used before (bench/README.md, "Main-content extraction
on real pages"). It costs 20-50 ms a page, so it should run only when a page is new or its text
changed: the element that encloses the text is remembered as a `Block` (a CSS path and hashes
of that element) and a re-check reads that element alone (about 1 ms) and compares.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from lxml import html as lxml_html
from lxml.html import HtmlElement
from selectolax.lexbor import LexborHTMLParser, LexborNode

from texts.normalise import normalise_text, text_hash

BLOCK_TAGS = frozenset({
    "address", "article", "aside", "blockquote", "br", "dd", "details", "div", "dl", "dt",
    "figcaption", "figure", "footer", "form", "h1", "h2", "h3", "h4", "h5", "h6", "header", "hr",
    "li", "main", "nav", "ol", "p", "pre", "section", "summary", "table", "tbody", "td", "tfoot",
    "th", "thead", "tr", "ul", "caption",
})
ALWAYS_DROP = ("script", "style", "noscript", "template", "svg", "iframe", "object", "canvas",
               "button", "select", "input", "textarea")
# Never text, though inside the elements whose text is read.
_SILENT = frozenset({"script", "style", "noscript", "template", "-comment"})
# Consent dialogs of the common platforms (Cookiebot, OneTrust, Axeptio, Didomi, Usercentrics,
# CookieYes, tarteaucitron, Quantcast, Sourcepoint, TrustArc, Osano, Klaro, iubenda, Borlabs)
# and of hand-made banners: never the main text, whatever their size.
_CONSENT = re.compile(
    r"cybotcookiebot|cookiebot|onetrust|optanon|axeptio|didomi|usercentrics|cookieyes|cky-|"
    r"tarteaucitron|qc-cmp|sp_message|truste|osano|klaro|iubenda|borlabs|cc-window|"
    r"cookie[-_]?(consent|banner|notice|law|popup|bar|dialog|modal|wall)|"
    r"consent[-_]?(banner|dialog|modal|manager|popup)|gdpr[-_]?(banner|consent)|COOKIE_CONSENT",
    re.I)
_HOLDS_CONTENT = ".//main | .//article | .//*[@role='main'] | .//h1"
# Page chrome by its landmark role; a <form> is not chrome (ASP.NET wraps whole pages in one).
_LANDMARK_CHROME = ("nav", "[role=navigation]", "[role=banner]", "[role=contentinfo]")
# Class or id words of chrome: an element so marked is dropped only when it is short or mostly
# links, so a container merely named "banner" or "feedback-enabled" keeps its content.
_CHROME_WORDS = re.compile(
    r"(^|[\s_-])(breadcrumbs?|share|social|navbar|nav|menu|sidebar|skip|toolbar|footer|header|"
    r"language|lang-switch|pager|pagination|related|newsletter|feedback|visitor|counter|print|"
    r"banner)([\s_-]|$)", re.I)
_SHORT_CHROME = 300
_NAVIGATION_ENTRIES = ("nav a, nav li, [role=navigation] a, [role=navigation] li, "
                       "[class*=breadcrumb] a, [class*=breadcrumb] li")
_CHROME_TAGS = frozenset({"header", "nav", "footer", "aside"})
_CHROME_ROLES = frozenset({"banner", "navigation", "contentinfo", "complementary"})
_SCORED = ("p", "li", "pre", "blockquote", "td", "dd", "h2", "h3", "h4", "h5", "h6")
_LIST_MARKS = ("-", "*", "•")  # how trafilatura opens a list item's line


@dataclass(frozen=True)
class Block:
    """Where the main text was found: a CSS path from <body>, the hash of that element's
    markup (the quick test) and the hash of its normalised text (equal when only noise inside
    it changed: counters, "last visited" lines)."""

    path: str
    markup_digest: str
    digest: str


def cleaned_for_detection(html: str, remove: tuple[str, ...] = ()) -> HtmlElement | None:
    """The page as trafilatura parses it (lxml), without what is never text to watch.

    Consent dialogs go, whatever their size, unless they wrap the page's content; the
    `remove` selectors go; collapsed accordions (`aria-hidden="true"`, `hidden`) holding real
    text are revealed, being how long policies are shown; <time> elements become their text.
    lxml's parse, not an HTML5 one: on broken tables (an unclosed <a> in a cell) an HTML5 tree
    turns every later cell into a link, which trafilatura then drops as navigation.
    """
    import trafilatura  # 0.25 s to import: when a page is new or changed (fork servers preload it)

    root = trafilatura.load_html(html)
    if root is None:
        return None
    for element in root.xpath("//body//*[@id or @class or @aria-label]"):
        marks = " ".join(element.get(name, "") for name in ("class", "id", "aria-label"))
        if _CONSENT.search(marks) and element.getparent() is not None and \
                not element.xpath(_HOLDS_CONTENT):
            element.drop_tree()
    for selector in remove:
        for element in root.cssselect(selector):
            element.drop_tree()
    for element in root.xpath("//*[@aria-hidden='true' or @hidden]"):
        if len(element.text_content().strip()) >= _SHORT_CHROME:
            element.attrib.pop("aria-hidden", None)
            element.attrib.pop("hidden", None)
    for element in root.xpath("//time"):
        element.drop_tag()
    return root


def _marks(node: LexborNode) -> str:
    return " ".join(filter(None, (node.attributes.get("class"), node.attributes.get("id"))))


def detect_main_text(html: str, tree: LexborHTMLParser, remove: tuple[str, ...] = (),
                     ) -> tuple[str, Block | None]:
    """The main text (not normalised) of the page `html`, parsed as `tree`, and its block.

    trafilatura reads the page `cleaned_for_detection`; when it finds nothing (tiny or unusual
    pages), our own scorer picks an element. The block is located in `tree` as parsed, so that
    a re-check finds it with one parse and no cleaning.
    """
    body = tree.body
    cleaned = cleaned_for_detection(html, remove)
    if body is None or cleaned is None:
        return "", None
    import trafilatura

    found = trafilatura.extract(cleaned, favor_recall=True, include_comments=False,
                                include_tables=True, deduplicate=False)
    if found and found.strip():
        enclosing = enclosing_element(body, found)
        sections = navigation_labels(body)
        if enclosing is not None:
            found = restore_headings(found, enclosing, sections)
        return with_title_heading(found, body, sections), block_of(enclosing)
    again = cleaned_for_detection(html, remove)  # trafilatura edited the first one
    fallback = LexborHTMLParser(lxml_html.tostring(again, encoding="unicode") if again is not None
                                else "")
    fallback.strip_tags(list(ALWAYS_DROP))
    chosen = score_main_element(fallback)
    return (block_text(chosen), None) if chosen is not None else ("", None)


def restore_headings(text: str, block: LexborNode, sections: set[str]) -> str:
    """`text` with the headings of `block` that detection dropped put back above the text that
    follows them: a provision's heading is part of it, whatever the template's wrappers.
    Headings made of a link, or naming a section of the site (`sections`), stay out."""
    lines = text.split("\n")
    keys = [_needle(line) for line in lines]
    kept = _squeezed(text)
    for heading in block.css("h1, h2, h3, h4, h5, h6"):
        line = " ".join(heading.text(separator=" ").split())
        if not line or _squeezed(line) in kept or _squeezed(line) in sections or \
                link_density(heading) > 0.5:
            continue
        needle = _needle(_following_text(heading))
        at = next((i for i, key in enumerate(keys) if needle and key.startswith(needle)), None)
        if at is not None:
            lines.insert(at, line)
            keys.insert(at, _needle(line))
    return "\n".join(lines)


def _following_text(node: LexborNode) -> str:
    """The text right after `node` in reading order (its next sibling with text, or its
    parent's), at most a few levels up."""
    current: LexborNode | None = node
    for _ in range(4):
        if current is None:
            return ""
        sibling = current.next
        while sibling is not None:
            if sibling.tag == "-text":
                if (sibling.text_content or "").strip():
                    return sibling.text_content or ""
            elif not (sibling.tag or "-").startswith("-") and sibling.text(strip=True):
                return sibling.text(separator=" ")
            sibling = sibling.next
        current = current.parent
    return ""


def with_title_heading(text: str, body: LexborNode, sections: set[str]) -> str:
    """The main text opening with the page's title heading (its first <h1>) when detection left
    it out and it is not in the page's chrome: a template that moves the title out of the content
    block, or into it, leaves the watched text as it was."""
    heading = body.css_first("h1")
    if heading is None:
        return text
    line = " ".join(heading.text(separator=" ").split())
    if not line or _opens_a_line(_squeezed(line), text[:len(line) + 2000]) or \
            _in_chrome(heading) or _squeezed(line) in sections:
        return text
    return f"{line}\n{text}"


def _opens_a_line(squeezed: str, text: str) -> bool:
    """Whether a line of `text` starts with `squeezed` (a heading's text, whitespace squeezed
    out): the heading is there itself, not only as words of another line (an article
    "Article 46: Transfers …" under a page titled "Transfers …")."""
    return any(_squeezed(_unmarked(line)).startswith(squeezed)
               for line in text.splitlines())


def navigation_labels(body: LexborNode) -> set[str]:
    """The entries of the page's menus and breadcrumbs: a heading that repeats one names a
    section of the site (a listing's "Board Meetings"), not the instrument."""
    return {_squeezed(node.text()) for node in body.css(_NAVIGATION_ENTRIES)}


def _in_chrome(node: LexborNode) -> bool:
    current = node.parent
    while current is not None and current.tag not in ("body", "html"):
        if current.tag in _CHROME_TAGS or current.attributes.get("role") in _CHROME_ROLES or \
                _CHROME_WORDS.search(_marks(current)):
            return True
        current = current.parent
    return False


def enclosing_element(body: LexborNode, text: str) -> LexborNode | None:
    """The deepest element whose text holds the first and the last line of `text`."""
    lines = text.splitlines()
    first = next((needle for line in lines if (needle := _needle(line))), "")
    if not first:
        return None
    last = next(needle for line in reversed(lines) if (needle := _needle(line)))
    longest = max(len(first), len(last))
    if not _holds(body, first, last, longest):
        return None
    node = body
    while True:
        holders = [child for child in node.iter() if _holds(child, first, last, longest)]
        if len(holders) != 1:
            return node
        node = holders[0]


def _holds(node: LexborNode, first: str, last: str, longest: int) -> bool:
    """Whether the text of `node`, whitespace squeezed out, holds both needles (a text shorter
    than the longer needle is not squeezed at all)."""
    raw = node.text()
    if len(raw) < longest:
        return False
    squeezed = _squeezed(raw)
    return first in squeezed and last in squeezed


def _needle(line: str) -> str:
    """A piece of a trafilatura line as it appears in the page's text: its list and table marks
    removed, whitespace squeezed out, at most 40 characters."""
    return _squeezed(_unmarked(line))[:40]


def _unmarked(line: str) -> str:
    """A trafilatura line without its list mark (a mark and whitespace at its start) and its
    table bars, as far as it matters once whitespace is squeezed out."""
    if line[:1] in _LIST_MARKS and line[1:2].isspace():
        line = line[1:]
    return line.replace("|", "")


def _squeezed(text: str) -> str:
    return "".join(text.split())


def css_path(node: LexborNode) -> str:
    """A CSS path from <body> to `node`, each step `tag:nth-child(k)`."""
    steps = []
    current: LexborNode | None = node
    while current is not None and current.tag not in ("body", "html", "#document"):
        parent = current.parent
        position = 1
        if parent is not None:
            for sibling in parent.iter():
                if sibling.mem_id == current.mem_id:
                    break
                position += not (sibling.tag or "-").startswith("-")  # comments are not children
        steps.append(f"{current.tag}:nth-child({position})")
        current = parent
    return " > ".join(["body", *reversed(steps)])


def block_digest(node: LexborNode) -> str:
    """The hash of an element's normalised text: equal hashes, equal main text."""
    return text_hash(normalise_text(block_text(node)))


def block_of(node: LexborNode | None) -> Block | None:
    """The `Block` to remember for `node`, the element that enclosed the main text."""
    if node is None:
        return None
    return Block(css_path(node), text_hash(node.html or ""), block_digest(node))


def block_unchanged(html: str | bytes, block: Block) -> bool:
    """Whether the remembered element is still on the page (its markup, or its UTF-8 bytes) with
    the same text.

    The cheap re-check: a parse, one CSS lookup, the hash of the element's markup, and only
    when that differs the hash of its normalised text. False sends the caller to full
    detection (the element is gone, or its text changed).
    """
    node = LexborHTMLParser(html).css_first(block.path)
    if node is None:
        return False
    return text_hash(node.html or "") == block.markup_digest or block_digest(node) == block.digest


def score_main_element(tree: LexborHTMLParser) -> LexborNode | None:
    """Our own choice of the main element: landmarks, then paragraph scoring, chrome removed.

    Chrome goes by landmark role or by a class word only when it is short or mostly links;
    forms and hidden-from-readers containers stay: their text is often the page.
    """
    body = tree.body
    if body is None:
        return None
    for selector in _LANDMARK_CHROME:
        for node in body.css(selector):
            node.decompose()
    for node in body.css("div, section, span, ul, p, ol, aside, table, header, footer"):
        if node.parent is not None and _CHROME_WORDS.search(_marks(node)) and _is_slight(node):
            node.decompose()
    for selector in ("main", "[role=main]", "article"):
        candidates = body.css(selector)
        if len(candidates) == 1 and len(candidates[0].text(strip=True)) > 200:
            return candidates[0]
    scores: dict[int, tuple[float, LexborNode]] = {}
    for node in body.css(",".join(_SCORED)):
        length = len(node.text(strip=True))
        if length < 20:
            continue
        parent = node.parent
        for share in (1.0, 0.5):
            if parent is None or parent.tag in ("html", "#document"):
                break
            key = parent.mem_id
            scores[key] = (scores.get(key, (0.0, parent))[0] + length * share, parent)
            parent = parent.parent
    if not scores:
        return body
    return max(scores.values(), key=lambda pair: pair[0] * (1 - link_density(pair[1])))[1]


def _is_slight(node: LexborNode) -> bool:
    return len(node.text(strip=True)) < _SHORT_CHROME or link_density(node) > 0.6


def link_density(node: LexborNode) -> float:
    total = len(node.text(strip=True)) or 1
    linked = sum(len(a.text(strip=True)) for a in node.css("a"))
    return min(linked / total, 1.0)


def block_text(node: LexborNode) -> str:
    """Text of a node with a line break around every block element, inline text kept together."""
    parts: list[str] = []

    def walk(current: LexborNode) -> None:
        for child in current.iter(include_text=True):
            tag = child.tag
            if tag == "-text":
                parts.append(child.text_content or "")
            elif tag in _SILENT:
                continue
            elif tag in BLOCK_TAGS:
                parts.append("\n")
                walk(child)
                parts.append("\n")
            else:
                walk(child)

    walk(node)
    return "".join(parts)
