"""Provision-level differences between two versions of an instrument's text.

Provisions are matched by reference (`Article 38` with `Article 38`); texts without headings are
matched paragraph by paragraph with difflib on the paragraph list (never character-level difflib
on a whole text: quadratic). Each modified provision carries a short before/after excerpt.
"""

from __future__ import annotations

import difflib
import re
from dataclasses import asdict, dataclass, field

from texts.provisions import Provision, segment_provisions

EXCERPT_CONTEXT = 60
_TOKENS = re.compile(r"[\u3400-\u9fff\u3040-\u30ff\uac00-\ud7af]|\w+|[^\w\s]|\s+")


@dataclass(frozen=True)
class ModifiedProvision:
    ref: str
    before: str
    after: str


@dataclass
class ProvisionChanges:
    added: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    modified: list[ModifiedProvision] = field(default_factory=list)

    def to_json(self) -> dict:
        return asdict(self)

    @property
    def refs(self) -> list[str]:
        return self.added + self.removed + [m.ref for m in self.modified]


def change_excerpt(before: str, after: str, context: int = EXCERPT_CONTEXT) -> tuple[str, str]:
    """The changed span of two texts with `context` characters either side, elided with '…'."""
    old_tokens, new_tokens = _TOKENS.findall(before), _TOKENS.findall(after)
    matcher = difflib.SequenceMatcher(None, old_tokens, new_tokens, autojunk=False)
    changes = [op for op in matcher.get_opcodes() if op[0] != "equal"]
    if not changes:
        return before[: 2 * context], after[: 2 * context]
    first, last = changes[0], changes[-1]

    def window(tokens: list[str], start: int, end: int) -> str:
        head = "".join(tokens[:start])
        body = "".join(tokens[start:end])
        tail = "".join(tokens[end:])
        prefix = ("…" + head[-context:].lstrip()) if len(head) > context else head
        suffix = (tail[:context].rstrip() + "…") if len(tail) > context else tail
        return (prefix + body + suffix).replace("\n", " ").strip()

    return window(old_tokens, first[1], last[2]), window(new_tokens, first[3], last[4])


def _by_reference(old: list[Provision], new: list[Provision]) -> ProvisionChanges:
    changes = ProvisionChanges()
    old_map = {p.ref: p.text for p in old}
    new_map = {p.ref: p.text for p in new}
    changes.removed = [ref for ref in old_map if ref not in new_map]
    for ref, text in new_map.items():
        if ref not in old_map:
            changes.added.append(ref)
        elif old_map[ref] != text:
            changes.modified.append(ModifiedProvision(ref, *change_excerpt(old_map[ref], text)))
    return changes


def _by_paragraph(old: list[Provision], new: list[Provision]) -> ProvisionChanges:
    changes = ProvisionChanges()
    matcher = difflib.SequenceMatcher(None, [p.text for p in old], [p.text for p in new],
                                      autojunk=False)
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        if tag == "equal":
            continue
        pairs = min(i2 - i1, j2 - j1) if tag == "replace" else 0
        for k in range(pairs):
            before, after = change_excerpt(old[i1 + k].text, new[j1 + k].text)
            changes.modified.append(ModifiedProvision(new[j1 + k].ref, before, after))
        changes.removed += [p.ref for p in old[i1 + pairs:i2]]
        changes.added += [p.ref for p in new[j1 + pairs:j2]]
    return changes


def diff_provisions(old_text: str, new_text: str) -> ProvisionChanges:
    """Which provisions were added, removed or modified between two normalised texts."""
    old, new = segment_provisions(old_text), segment_provisions(new_text)
    paragraphs = all(p.ref.startswith("¶") for p in old + new)
    return _by_paragraph(old, new) if paragraphs else _by_reference(old, new)


def unified_text_diff(old_text: str, new_text: str, old_label: str, new_label: str) -> list[str]:
    """Line diff of two texts (lines are paragraphs), for `policywatch diff --full`."""
    return list(difflib.unified_diff(old_text.split("\n"), new_text.split("\n"),
                                     old_label, new_label, lineterm="", n=1))
