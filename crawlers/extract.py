"""Extraction: the title, date and main text of an instrument from its HTML, PDF or plain bytes.

Plain functions of (bytes, content type, declared selectors), testable without a crawl.
"""

from __future__ import annotations

import codecs
import io
import re
from typing import TYPE_CHECKING

from lxml import etree
from selectolax.lexbor import LexborHTMLParser

from crawlers.decoding import decode_body
from crawlers.main_content import (
    ALWAYS_DROP,
    Block,
    block_text,
    block_unchanged,
    detect_main_text,
)
from texts.document import Extracted, ExtractionError, RefusedUnread, SelectorMatchedNothing
from texts.normalise import normalise_text

if TYPE_CHECKING:  # the catalogue (pydantic, RE2) costs 0.2 s to import; `classify` needs none of it
    from crawlers.catalogue import Extract

_DATE_PATTERNS = (
    (re.compile(r"(\d{4})-(\d{1,2})-(\d{1,2})"), (1, 2, 3)),
    (re.compile(r"(\d{4})\s*年\s*(\d{1,2})\s*月\s*(\d{1,2})\s*日"), (1, 2, 3)),
    (re.compile(r"(\d{4})[./](\d{1,2})[./](\d{1,2})"), (1, 2, 3)),
)
_MONTHS = {m: i for i, m in enumerate(
    "january february march april may june july august september october november december".split(),
    start=1)}
_DMY = re.compile(r"(\d{1,2})\s+([A-Za-z]+)\s+(\d{4})")
# Deeper pages are refused before they are parsed: libxml2, which lxml and trafilatura read pages
# with, stops reading at this depth (the rest of the text would be lost), and lexbor takes
# quadratic time on them (minutes for 100,000 levels). Real pages nest a few dozen levels.
MAX_NESTING = 256


def is_pdf(body: bytes, content_type: str | None) -> bool:
    return body[:1024].lstrip().startswith(b"%PDF") or "pdf" in (content_type or "").lower()


def extract_document(body: bytes, content_type: str | None, rules: Extract | None = None,
                     languages: tuple[str, ...] = (), url: str = "") -> Extracted:
    """Read any fetched instrument; raise ExtractionError with a one-line reason."""
    return extract_with_block(body, content_type, rules, languages, url)[0]


def extract_with_block(body: bytes, content_type: str | None, rules: Extract | None = None,
                       languages: tuple[str, ...] = (), url: str = "",
                       ) -> tuple[Extracted, Block | None]:
    """`extract_document`, and the block the main text was found in (None when a selector was
    declared or the document is not HTML): remember it and re-check with `unchanged_block`."""
    if rules is None:
        from crawlers.catalogue import Extract

        rules = Extract()
    if is_pdf(body, content_type):
        return extract_pdf(body), None
    text, encoding = decode_body(body, content_type, languages)
    if is_html(text, content_type):
        refuse_deep_nesting(text)
        return extract_html_with_block(text, rules, encoding)
    plain = normalise_text(text)
    if not plain:
        raise ExtractionError("the document has no text")
    return Extracted(plain.split("\n", 1)[0][:300], plain, None, "text", encoding), None


def unchanged_block(body: bytes, content_type: str | None, block: Block,
                    languages: tuple[str, ...] = ()) -> bool:
    """Whether a page still has the remembered block with the same text: then its extracted
    text is the one recorded last time, and full detection can be skipped."""
    if is_pdf(body, content_type):
        return False
    text, codec = decode_body(body, content_type, languages)
    if not is_html(text, content_type):
        return False
    # A UTF-8 page (without a BOM, which the text has lost) is parsed from the bytes it came in:
    # the parser's input either way, without encoding the text back to UTF-8 (0.1 ms a page).
    utf8 = codec == "utf-8" and not body.startswith(codecs.BOM_UTF8)
    return block_unchanged(body if utf8 else text, block)


def is_html(text: str, content_type: str | None) -> bool:
    return "html" in (content_type or "").lower() or \
        re.search(r"<(html|body|div|p)\b", text[:2000], re.I) is not None


def nesting_depth(html: str, limit: int = MAX_NESTING) -> int:
    """How deep a page nests its elements, as libxml2 reads it, counted no further than one past
    `limit`: a pull parse without recursion, stopped there, so its time is bounded."""
    depth = deepest = 0
    events = etree.iterparse(io.BytesIO(html.encode("utf-8", "replace")), events=("start", "end"),
                             html=True, recover=True, encoding="utf-8")
    try:
        for event, _ in events:
            depth += 1 if event == "start" else -1
            deepest = max(deepest, depth)
            if deepest > limit:
                break
    except etree.XMLSyntaxError:  # nothing libxml2 can read as HTML: no depth to refuse
        pass
    return deepest


def refuse_deep_nesting(html: str) -> None:
    """Raise RefusedUnread for a page nested deeper than MAX_NESTING."""
    if nesting_depth(html) > MAX_NESTING:
        raise RefusedUnread(f"the page nests its elements more than {MAX_NESTING} levels deep: "
                              f"refused unread")


def extract_pdf(body: bytes) -> Extracted:
    import pypdfium2
    import pypdfium2.raw

    try:
        document = pypdfium2.PdfDocument(body)
    except pypdfium2.PdfiumError as exc:
        if getattr(exc, "err_code", None) == pypdfium2.raw.FPDF_ERR_PASSWORD:
            raise ExtractionError("encrypted PDF: a password is needed to read it") from None
        raise ExtractionError(f"corrupt PDF: {exc}") from None
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


def extract_html_with_block(html: str, rules: Extract, encoding: str | None = None,
                            ) -> tuple[Extracted, Block | None]:
    """Title, date and text of a page, by the declared selectors or automatic detection."""
    tree = LexborHTMLParser(html)
    title = _declared_text(tree, rules.title) if rules.title else None
    published = None
    if rules.date:
        node = tree.css_first(rules.date)
        if node is not None:
            published = find_date(node.attributes.get("datetime") or node.attributes.get("content")
                                  or node.text())
    if published is None:
        published = _meta_date(tree)
    block = None
    if rules.content:
        tree.strip_tags(list(ALWAYS_DROP))
        for selector in rules.remove:
            for node in tree.css(selector):
                node.decompose()
        nodes = tree.css(rules.content)
        if not nodes:
            raise SelectorMatchedNothing(f"content selector {rules.content!r} matched nothing")
        text = "\n".join(block_text(node) for node in nodes)
    else:
        text, block = detect_main_text(html, tree, rules.remove)
    text = normalise_text(text)
    if not text:
        raise ExtractionError("no text found in the page")
    if not title:
        title = _first_heading(tree) or _declared_text(tree, "title") or text.split("\n", 1)[0]
    return Extracted(normalise_text(title)[:500], text, published, "html", encoding), block


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
