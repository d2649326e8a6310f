"""Word-level differences between two versions of a provision, and excerpts cut around them.

Texts are compared word by word (each CJK character, kana or Hangul syllable counts as a word,
since those scripts put no spaces between words; punctuation and runs of spaces are tokens of
their own), with difflib on the token lists. The result is a sequence of equal, deleted and
inserted runs in reading order; excerpts keep a little context either side of each change, cut
at word boundaries, so that "确需→确须" in a 400-character article reads as one marked change.
"""

from __future__ import annotations

import difflib
import html
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

EXCERPT_CONTEXT = 60  # characters of unchanged text kept either side of a change
ELISION = "…"
_WIDE = "\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uac00-\ud7af\uf900-\ufaff\U00020000-\U0002fa1f"
# A word is letters and digits with their combining marks (a decomposed "ó" stays one word).
TOKENS = re.compile(rf"[{_WIDE}]|(?:[^\W{_WIDE}][\u0300-\u036f]*)+|[^\w\s]|\s+")

Mark = Literal["equal", "deleted", "inserted"]


@dataclass(frozen=True)
class Run:
    """A stretch of text kept, deleted from the older version or inserted in the newer one."""

    mark: Mark
    text: str

    def to_json(self) -> dict[str, str]:
        return {"mark": self.mark, "text": self.text}


def tokens(text: str) -> list[str]:
    """The words, CJK characters, punctuation marks and space runs of a text, in order."""
    return TOKENS.findall(text)


def word_runs(before: str, after: str) -> list[Run]:
    """`before` turned into `after` as equal, deleted and inserted runs, in reading order (a
    replaced span gives its deletion, then its insertion). Changes separated by nothing but
    spaces read as one change ("[-requires passing-]{+may take+}", not word by word)."""
    old, new = tokens(before), tokens(after)
    matcher = difflib.SequenceMatcher(None, old, new, autojunk=False)
    blocks: list[tuple[bool, str, str]] = []  # (changed, old text, new text)
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        removed, added = "".join(old[i1:i2]), "".join(new[j1:j2])
        changed = tag != "equal"
        if changed and len(blocks) >= 2 and not blocks[-1][0] and not blocks[-1][1].strip():
            space = blocks.pop()[1]
            _, old_text, new_text = blocks.pop()
            blocks.append((True, old_text + space + removed, new_text + space + added))
        else:
            blocks.append((changed, removed, added))
    runs: list[Run] = []
    for changed, removed, added in blocks:
        if not changed:
            runs.append(Run("equal", removed))
            continue
        if removed:
            runs.append(Run("deleted", removed))
        if added:
            runs.append(Run("inserted", added))
    return runs


def _head(text: str, context: int) -> str:
    """The first whole tokens of `text` that fit in `context` characters."""
    kept, used = [], 0
    for token in tokens(text):
        if used + len(token) > context:
            break
        kept.append(token)
        used += len(token)
    return "".join(kept).rstrip()


def _tail(text: str, context: int) -> str:
    """The last whole tokens of `text` that fit in `context` characters."""
    kept: list[str] = []
    used = 0
    for token in reversed(tokens(text)):
        if used + len(token) > context:
            break
        kept.append(token)
        used += len(token)
    return "".join(reversed(kept)).lstrip()


def _trim(text: str, context: int, *, first: bool, last: bool) -> str:
    """An unchanged run cut to `context` characters next to each change it touches."""
    if first and last:  # nothing changed at all
        return _head(text, 2 * context) + (ELISION if len(text) > 2 * context else "")
    if first:
        return text if len(text) <= context else ELISION + _tail(text, context)
    if last:
        return text if len(text) <= context else _head(text, context) + ELISION
    if len(text) <= 2 * context + len(ELISION):
        return text
    return f"{_head(text, context)} {ELISION} {_tail(text, context)}"


def excerpt(runs: Sequence[Run], context: int = EXCERPT_CONTEXT) -> list[Run]:
    """The runs with their unchanged text cut to `context` characters either side of each
    change, at word boundaries, elided with '…'; line breaks read as spaces."""
    cut: list[Run] = []
    for index, run in enumerate(runs):
        text = run.text.replace("\n", " ")
        if run.mark == "equal":
            text = _trim(text, context, first=index == 0, last=index == len(runs) - 1)
        if text:
            cut.append(Run(run.mark, text))
    return cut


def side_runs(runs: Sequence[Run], mark: Mark) -> list[Run]:
    """One version's runs, for a side-by-side view: the unchanged runs and those marked `mark`."""
    return [run for run in runs if run.mark in ("equal", mark)]


def side(runs: Sequence[Run], mark: Mark) -> str:
    """One version's text from the runs: the unchanged runs and those marked `mark`."""
    return "".join(run.text for run in side_runs(runs, mark)).strip()


def change_excerpt(before: str, after: str, context: int = EXCERPT_CONTEXT) -> tuple[str, str]:
    """The before and after excerpts of a change: each change with `context` characters of
    unchanged text either side, cut at word boundaries."""
    runs = excerpt(word_runs(before, after), context)
    return side(runs, "deleted"), side(runs, "inserted")


def marked_plain(runs: Sequence[Run]) -> str:
    """The runs as one line, changes marked as `git diff --word-diff` marks them:
    '[-deleted-]{+inserted+}'."""
    marks = {"equal": "{}", "deleted": "[-{}-]", "inserted": "{{+{}+}}"}
    return "".join(marks[run.mark].format(run.text) for run in runs).strip()


def marked_html(runs: Sequence[Run]) -> str:
    """The runs as HTML, escaped, deletions in <del> and insertions in <ins>."""
    tags = {"deleted": "del", "inserted": "ins"}
    return "".join(html.escape(run.text) if run.mark == "equal"
                   else f"<{tags[run.mark]}>{html.escape(run.text)}</{tags[run.mark]}>"
                   for run in runs).strip()
