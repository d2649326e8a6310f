"""Normalise extracted text so that only a real change of wording changes its hash."""

from __future__ import annotations

import hashlib
import re
import unicodedata

_SPACES = re.compile(r"[ \t\u00a0\u2000-\u200b\u202f\u205f\u3000\ufeff]+")
# str.split() knows these as spaces too, _SPACES does not: a text with any of them takes the
# regular-expression path, so that every text keeps the hash it always had.
_OTHER_SPLIT_SPACES = "\x0b\x0c\x1c\x1d\x1e\x1f\x85\u1680\u2028\u2029"
# Whole lines that are page furniture, not text of the instrument: counters, "last visited",
# generation stamps, print/share prompts. Matched case-insensitively against a stripped line.
_NOISE_PATTERNS = (
    r"^(page\s+)?(views?|visits?|hits|reads?)\s*[:：]?\s*[\d,.\s]+$",
    r"^[\d,.\s]+\s+(views?|visits?|reads?)$",
    r"^(last\s+(visited|viewed|accessed)|page\s+generated|generated|rendered|printed|retrieved)"
    r"(\s+(on|at))?\s*[:：]?\s*.{0,60}$",
    r"^(浏览次数|阅读次数|阅读量|访问量|点击数|浏览量)\s*[:：]?\s*\d+.*$",
    r"^(share|print|imprimir|partager|drucken|compartir|分享|打印)(\s*(this|page|:).*)?$",
    r"^(back to top|top of page|返回顶部|关闭窗口)$",
)
_NOISE_LINE = re.compile("|".join(f"(?:{pattern})" for pattern in _NOISE_PATTERNS), re.I)


def normalise_text(text: str) -> str:
    """Canonical text: NFC, one space between words, no blank or noise lines."""
    text = unicodedata.normalize("NFC", text).replace("\r\n", "\n").replace("\r", "\n")
    if any(space in text for space in _OTHER_SPLIT_SPACES):
        spaced = [_SPACES.sub(" ", raw).strip() for raw in text.split("\n")]
    else:  # the same result, three times faster than the regular expression on a long text
        text = text.replace("\u200b", " ").replace("\ufeff", " ")
        spaced = [raw if spaced_once(raw) else " ".join(raw.split()) for raw in text.split("\n")]
    return "\n".join(line for line in spaced if line and not _NOISE_LINE.match(line))


def spaced_once(line: str) -> bool:
    """Whether `" ".join(line.split())` is `line` itself, told without splitting it: every other
    space `str.split` knows is a separator or a control character, which `isprintable` refuses."""
    return line.isprintable() and "  " not in line and not line.startswith(" ") and not line.endswith(" ")


def text_hash(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()
