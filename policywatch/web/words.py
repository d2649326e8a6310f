"""Which words changed between two texts, for the diff view: runs of kept, deleted and inserted
text, words (and each CJK character) compared whole, as `change_excerpt` compares them."""

from __future__ import annotations

import difflib
from dataclasses import dataclass
from typing import Literal

from texts.provision_diffs import _TOKENS as TOKENS

Mark = Literal["same", "del", "ins"]


@dataclass(frozen=True)
class Run:
    mark: Mark
    text: str


def word_runs(before: str, after: str) -> list[Run]:
    """`before` turned into `after` as kept, deleted and inserted runs, in reading order (a
    replaced span gives its deletion, then its insertion). Changes separated by nothing but
    spaces read as one change: "~~requires passing~~ **may take**", not word by word."""
    old, new = TOKENS.findall(before), TOKENS.findall(after)
    matcher = difflib.SequenceMatcher(None, old, new, autojunk=False)
    blocks: list[tuple[str, str, str]] = []  # (tag, old text, new text)
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        removed, added = "".join(old[i1:i2]), "".join(new[j1:j2])
        joinable = len(blocks) >= 2 and blocks[-1][0] == "equal" and not blocks[-1][1].strip() \
            and blocks[-2][0] != "equal"
        if tag != "equal" and joinable:
            space = blocks.pop()[1]
            _, old_text, new_text = blocks.pop()
            blocks.append(("change", old_text + space + removed, new_text + space + added))
        else:
            blocks.append(("equal" if tag == "equal" else "change", removed, added))
    runs: list[Run] = []
    for kind, removed, added in blocks:
        if kind == "equal":
            runs.append(Run("same", removed))
            continue
        if removed:
            runs.append(Run("del", removed))
        if added:
            runs.append(Run("ins", added))
    return runs


def side(runs: list[Run], keep: Mark) -> list[Run]:
    """One side of a side-by-side diff: the kept runs and those marked `keep` ('del' or 'ins')."""
    return [run for run in runs if run.mark in ("same", keep)]
