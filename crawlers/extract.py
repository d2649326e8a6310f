"""Extraction: the title, date and main text of an instrument from its HTML, PDF or plain bytes.

Plain functions of (bytes, content type, declared selectors), testable without a crawl.
"""

from __future__ import annotations

import re

from selectolax.lexbor import LexborHTMLParser, LexborNode

from crawlers.catalogue import Extract
from crawlers.decoding import decode_body
from texts.document import Extracted, ExtractionError
from texts.normalise import normalise_text

BLOCK_TAGS = frozenset({
    "address", "article", "aside", "blockquote", "br", "dd", "details", "div", "dl", "dt",
    "figcaption", "figure", "footer", "form", "h1", "h2", "h3", "h4", "h5", "h6", "header", "hr",
    "li", "main", "nav", "ol", "p", "pre", "section", "summary", "table", "tbody", "td", "tfoot",
    "th", "thead", "tr", "ul", "caption",
})
ALWAYS_DROP = ("script", "style", "noscript", "template", "svg", "iframe", "object", "canvas",
               "button", "select", "input", "textarea")
FURNITURE_DROP = ("nav", "header", "footer", "aside", "form", "[role=navigation]",
                  "[role=banner]", "[role=contentinfo]", "[aria-hidden=true]", "[hidden]")
_FURNITURE_WORDS = re.compile(
    r"(^|[\s_-])(cookie|consent|gdpr-banner|banner|breadcrumbs?|share|social|navbar|nav|menu|"
    r"sidebar|skip|toolbar|footer|header|language|lang-switch|pager|pagination|related|"
    r"newsletter|feedback|visitor|counter|print)([\s_-]|$)", re.I)
_SCORED = ("p", "li", "pre", "blockquote", "td", "dd", "h2", "h3", "h4", "h5", "h6")
_DATE_PATTERNS = (
    (re.compile(r"(\d{4})-(\d{1,2})-(\d{1,2})"), (1, 2, 3)),
    (re.compile(r"(\d{4})\s*年\s*(\d{1,2})\s*月\s*(\d{1,2})\s*日"), (1, 2, 3)),
    (re.compile(r"(\d{4})[./](\d{1,2})[./](\d{1,2})"), (1, 2, 3)),
)
_MONTHS = {m: i for i, m in enumerate(
    "january february march april may june july august september october november december".split(),
    start=1)}
_DMY = re.compile(r"(\d{1,2})\s+([A-Za-z]+)\s+(\d{4})")


def is_pdf(body: bytes, content_type: str | None) -> bool:
    return body[:1024].lstrip().startswith(b"%PDF") or "pdf" in (content_type or "").lower()


def extract_document(body: bytes, content_type: str | None, rules: Extract | None = None,
                     languages: tuple[str, ...] = (), url: str = "") -> Extracted:
    """Read any fetched instrument; raise ExtractionError with a one-line reason."""
    rules = rules or Extract()
    if is_pdf(body, content_type):
        return extract_pdf(body)
    text, encoding = decode_body(body, content_type, languages)
    if "html" in (content_type or "").lower() or re.search(r"<(html|body|div|p)\b", text[:2000], re.I):
        return extract_html(text, rules, encoding)
    plain = normalise_text(text)
    if not plain:
        raise ExtractionError("the document has no text")
    return Extracted(plain.split("\n", 1)[0][:300], plain, None, "text", encoding)


def extract_pdf(body: bytes) -> Extracted:
    import pypdfium2

    try:
        document = pypdfium2.PdfDocument(body)
    except Exception as exc:  # pdfium raises its own error types
        raise ExtractionError(f"corrupt PDF: {exc}") from None
    try:
        pages = []
        for page in document:
            textpage = page.get_textpage()
            pages.append(textpage.get_text_range())
            textpage.close()
            page.close()
        title = (document.get_metadata_dict().get("Title") or "").strip()
    finally:
        document.close()
    text = normalise_text("\n".join(pages))
    if not text:
        raise ExtractionError("the PDF has no extractable text (scanned image?)")
    return Extracted(title or text.split("\n", 1)[0][:300], text, find_date(text[:2000]), "pdf", None)


def extract_html(html: str, rules: Extract, encoding: str | None = None) -> Extracted:
    tree = LexborHTMLParser(html)
    title = _declared_text(tree, rules.title) if rules.title else None
    published = None
    if rules.date:
        node = tree.css_first(rules.date)
        if node is not None:
            published = find_date(node.attributes.get("datetime") or node.attributes.get("content")
                                  or node.text())
    tree.strip_tags(list(ALWAYS_DROP))
    for selector in rules.remove:
        for node in tree.css(selector):
            node.decompose()
    if rules.content:
        nodes = tree.css(rules.content)
        if not nodes:
            raise ExtractionError(f"content selector {rules.content!r} matched nothing")
        text = "\n".join(block_text(node) for node in nodes)
    else:
        main = find_main_content(tree)
        text = block_text(main) if main is not None else ""
    text = normalise_text(text)
    if not text:
        raise ExtractionError("no text found in the page")
    if not title:
        title = _first_heading(tree) or _declared_text(tree, "title") or text.split("\n", 1)[0]
    if published is None:
        published = _meta_date(tree)
    return Extracted(normalise_text(title)[:500], text, published, "html", encoding)


def _declared_text(tree: LexborHTMLParser, selector: str) -> str | None:
    node = tree.css_first(selector)
    return normalise_text(node.text(separator=" ")) or None if node is not None else None


def _first_heading(tree: LexborHTMLParser) -> str | None:
    for node in tree.css("h1"):
        text = normalise_text(node.text(separator=" "))
        if text:
            return text
    return None


def _meta_date(tree: LexborHTMLParser) -> str | None:
    for selector in ('meta[name="dcterms.date"]', 'meta[property="article:published_time"]',
                     'meta[name="date"]', "time[datetime]"):
        node = tree.css_first(selector)
        if node is not None:
            value = node.attributes.get("content") or node.attributes.get("datetime")
            if value and (date := find_date(value)):
                return date
    return None


def find_date(text: str | None) -> str | None:
    """The first date in `text` as YYYY-MM-DD (ISO, 2024年3月15日, 2024.03.15, 15 March 2024)."""
    if not text:
        return None
    for pattern, (y, m, d) in _DATE_PATTERNS:
        if match := pattern.search(text):
            year, month, day = int(match.group(y)), int(match.group(m)), int(match.group(d))
            if 1 <= month <= 12 and 1 <= day <= 31:
                return f"{year:04d}-{month:02d}-{day:02d}"
    if (match := _DMY.search(text)) and match.group(2).lower() in _MONTHS:
        return f"{int(match.group(3)):04d}-{_MONTHS[match.group(2).lower()]:02d}-{int(match.group(1)):02d}"
    return None


def _is_furniture(node: LexborNode) -> bool:
    marks = " ".join(filter(None, (node.attributes.get("class"), node.attributes.get("id"))))
    return bool(marks) and bool(_FURNITURE_WORDS.search(marks))


def find_main_content(tree: LexborHTMLParser) -> LexborNode | None:
    """The element holding the main text: readability-style scoring after removing furniture."""
    body = tree.body
    if body is None:
        return None
    for selector in FURNITURE_DROP:
        for node in body.css(selector):
            node.decompose()
    for node in body.css("div, section, span, ul, p, ol, aside, table"):
        if _is_furniture(node):
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
    best = max(scores.values(), key=lambda pair: pair[0] * (1 - _link_density(pair[1])))[1]
    return best


def _link_density(node: LexborNode) -> float:
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
            elif tag in BLOCK_TAGS:
                parts.append("\n")
                walk(child)
                parts.append("\n")
            elif tag not in ("-comment",):
                walk(child)

    walk(node)
    return "".join(parts)
