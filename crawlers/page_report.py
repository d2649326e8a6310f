"""What policywatch would watch on one page, for `policywatch extract FILE|URL`.

The way users debug a declaration: the title, date and text extraction keeps, its share of the
page's visible text, the element it was taken from, and the warnings a crawl would record.
"""

from __future__ import annotations

from typing import Any

from selectolax.lexbor import LexborHTMLParser

from crawlers.catalogue import Extract
from crawlers.decoding import decode_body
from crawlers.extract import MAX_NESTING, extract_with_block, is_html, is_pdf, nesting_depth
from crawlers.visible_text import (
    coverage_warning,
    describe_element,
    is_script_shell,
    parse,
    visible_characters,
)
from texts.document import Extracted, ExtractionError


def page_report(body: bytes, content_type: str | None, rules: Extract | None = None,
                languages: tuple[str, ...] = ()) -> dict[str, Any]:
    """`{"title", "published", "text", "characters", "visible_characters", "doc_type",
    "warnings", "block"}` for one fetched page; an extraction error becomes a warning."""
    rules = rules or Extract()
    pdf = is_pdf(body, content_type)
    html = None
    if not pdf:
        decoded, _ = decode_body(body, content_type, languages)
        html = decoded if is_html(decoded, content_type) else None
    warnings: list[str] = []
    extracted: Extracted | None = None
    block = None
    try:
        extracted, block = extract_with_block(body, content_type, rules, languages)
    except ExtractionError as exc:
        warnings.append(str(exc))
    watched = extracted.text if extracted else ""
    visible = None
    if html is not None and nesting_depth(html) <= MAX_NESTING:  # a deeper page is refused unread
        visible = visible_characters(html)
        if line := coverage_warning(len(watched), visible, is_script_shell(html, visible)):
            warnings.append(line)
    return {
        "title": extracted.title if extracted else None,
        "published": extracted.published if extracted else None,
        "text": watched, "characters": len(watched), "visible_characters": visible,
        "doc_type": extracted.doc_type if extracted else
        "pdf" if pdf else "html" if html is not None else "text",
        "warnings": warnings,
        "block": _block_description(html, rules, block.path if block else None)
        if extracted else None,
    }


def _block_description(html: str | None, rules: Extract, path: str | None) -> str | None:
    """The declared selector, or the detected element described from the page as the detection
    parsed it (the CSS path counts positions in that tree, which may differ from lxml's on
    broken markup: BeautifulSoup reads the serialised parse)."""
    if html is None:
        return None
    if rules.content:
        return f"declared selector {rules.content!r}"
    if path is None:
        return "no single element (the text was scored from the whole page)"
    return describe_element(parse(LexborHTMLParser(html).html or ""), path) or path
