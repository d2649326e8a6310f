"""Normalise extracted text so that only a real change of wording changes its hash."""

from __future__ import annotations

import hashlib
import re
import unicodedata

_SPACES = re.compile(r"[ \t\u00a0\u2000-\u200b\u202f\u205f\u3000\ufeff]+")
# Whole lines that are page furniture, not text of the instrument: counters, "last visited",
# generation stamps, print/share prompts. Matched case-insensitively against a stripped line.
_NOISE_LINES = [re.compile(pattern, re.I) for pattern in (
    r"^(page\s+)?(views?|visits?|hits|reads?)\s*[:：]?\s*[\d,.\s]+$",
    r"^[\d,.\s]+\s+(views?|visits?|reads?)$",
    r"^(last\s+(visited|viewed|accessed)|page\s+generated|generated|rendered|printed|retrieved)"
    r"(\s+(on|at))?\s*[:：]?\s*.{0,60}$",
    r"^(浏览次数|阅读次数|阅读量|访问量|点击数|浏览量)\s*[:：]?\s*\d+.*$",
    r"^(share|print|imprimir|partager|drucken|compartir|分享|打印)(\s*(this|page|:).*)?$",
    r"^(back to top|top of page|返回顶部|关闭窗口)$",
)]


def normalise_text(text: str) -> str:
    """Canonical text: NFC, one space between words, no blank or noise lines."""
    text = unicodedata.normalize("NFC", text).replace("\r\n", "\n").replace("\r", "\n")
    lines = []
    for raw in text.split("\n"):
        line = _SPACES.sub(" ", raw).strip()
        if line and not any(pattern.match(line) for pattern in _NOISE_LINES):
            lines.append(line)
    return "\n".join(lines)


def text_hash(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()
