"""Instrument texts for the demo web, cut from the real legal texts in policywatch/demoweb/corpus/."""

from __future__ import annotations

import html
import re
from pathlib import Path

CORPUS = Path(__file__).parent / "corpus"


def corpus(name: str) -> str:
    return (CORPUS / name).read_text(encoding="utf-8")


def between(text: str, start: str, end: str | None) -> str:
    """The part of `text` from the line starting with `start` up to the line starting with `end`."""
    begin = re.search(rf"^\s*{re.escape(start)}", text, re.M)
    assert begin, start
    rest = text[begin.start():]
    if end is None:
        return rest
    stop = re.search(rf"^\s*{re.escape(end)}", rest[1:], re.M)
    assert stop, end
    return rest[: stop.start() + 1]


def to_html(markdown: str) -> str:
    """Paragraphs and '#' headings of a Markdown-ish text as HTML blocks."""
    blocks = []
    for para in re.split(r"\n\s*\n", markdown.strip()):
        lines = [line.strip() for line in para.splitlines() if line.strip()]
        if not lines:
            continue
        if lines[0].startswith("#"):
            blocks.append(f"<h2>{html.escape(lines[0].lstrip('# '))}</h2>")
            lines = lines[1:]
            if not lines:
                continue
        text = html.unescape(" ".join(lines))
        blocks.append(f"<p>{html.escape(text)}</p>")
    return "\n".join(blocks)


def gdpr(article_from: str, article_to: str | None) -> str:
    return between(corpus("eu-gdpr-chapter-v.md"), f"## Article {article_from}",
                   f"## Article {article_to}" if article_to else None)


def pipl(start: str, end: str | None) -> str:
    return between(corpus("cn-pipl-2021.md"), start, end)


def csl(start: str, end: str | None) -> str:
    return between(corpus("cn-csl-2016.md"), start, end)


def eo_14117(start: str, end: str) -> str:
    return between(corpus("us-eo-14117-2024.md"), start, end)


def wto(start: str, end: str) -> str:
    return between(corpus("wto-jsi-ecommerce-2024.md"), start, end)
