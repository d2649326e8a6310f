"""Text made safe for one line of structure: a mail header, a line of a plain-text digest.

A title or a source's name comes from the web; a CR or LF in it would end the header (or the
digest line) early and let the page write the next one: a Bcc, a forged instrument line.
"""

from __future__ import annotations

import unicodedata

# Controls (CR, LF, tab, NUL, ESC, NEL, ...) and Unicode line and paragraph separators.
_UNSAFE_CATEGORIES = frozenset({"Cc", "Zl", "Zp"})


def header_safe(text: str) -> str:
    """`text` on one line with nothing that can forge structure: each control character or line
    separator becomes a space, runs of white space one space, and the ends are trimmed."""
    spaced = "".join(" " if unicodedata.category(char) in _UNSAFE_CATEGORIES else char
                     for char in text)
    return " ".join(spaced.split())
