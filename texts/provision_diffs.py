"""Provision-level differences between two versions of an instrument's text.

Provisions are matched by reference (`Article 38` with `Article 38`); texts without headings are
matched paragraph by paragraph with difflib on the paragraph list (never character-level difflib
on a whole text: quadratic). A modified provision is compared word by word (`texts.word_diff`),
and its before/after excerpts are cut around the changed words.
"""

from __future__ import annotations

import difflib
from dataclasses import asdict, dataclass, field
from typing import Literal

from texts.provisions import Provision, segment_provisions
from texts.word_diff import EXCERPT_CONTEXT, Run, change_excerpt, excerpt, side, word_runs

__all__ = ["EXCERPT_CONTEXT", "ModifiedProvision", "ProvisionChange", "ProvisionChanges",
           "change_excerpt", "compare_provisions", "diff_provisions", "unified_text_diff"]


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


@dataclass(frozen=True)
class ProvisionChange:
    """One changed provision: an added or removed one with its whole text, a modified one with
    the word runs of its excerpt (unchanged text cut around each change)."""

    change: Literal["added", "removed", "modified"]
    ref: str
    text: str = ""
    runs: tuple[Run, ...] = ()

    @property
    def before(self) -> str:
        return side(self.runs, "deleted")

    @property
    def after(self) -> str:
        return side(self.runs, "inserted")

    def to_json(self) -> dict:
        return {"change": self.change, "provision": self.ref, "text": self.text,
                "before": self.before, "after": self.after,
                "runs": [run.to_json() for run in self.runs]}


def _modified(ref: str, before: str, after: str) -> ProvisionChange:
    return ProvisionChange("modified", ref, runs=tuple(excerpt(word_runs(before, after))))


def _by_reference(old: list[Provision], new: list[Provision]) -> list[ProvisionChange]:
    old_map = {p.ref: p.text for p in old}
    new_map = {p.ref: p.text for p in new}
    changes = [ProvisionChange("removed", ref, text) for ref, text in old_map.items()
               if ref not in new_map]
    for ref, text in new_map.items():
        if ref not in old_map:
            changes.append(ProvisionChange("added", ref, text))
        elif old_map[ref] != text:
            changes.append(_modified(ref, old_map[ref], text))
    return changes


def _by_paragraph(old: list[Provision], new: list[Provision]) -> list[ProvisionChange]:
    changes: list[ProvisionChange] = []
    matcher = difflib.SequenceMatcher(None, [p.text for p in old], [p.text for p in new],
                                      autojunk=False)
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        if tag == "equal":
            continue
        pairs = min(i2 - i1, j2 - j1) if tag == "replace" else 0
        changes += [_modified(new[j1 + k].ref, old[i1 + k].text, new[j1 + k].text)
                    for k in range(pairs)]
        changes += [ProvisionChange("removed", p.ref, p.text) for p in old[i1 + pairs:i2]]
        changes += [ProvisionChange("added", p.ref, p.text) for p in new[j1 + pairs:j2]]
    return changes


def compare_provisions(old_text: str, new_text: str) -> list[ProvisionChange]:
    """Every provision added, removed or modified between two normalised texts, in the order
    the texts give them, modified ones with their word runs."""
    old, new = segment_provisions(old_text), segment_provisions(new_text)
    paragraphs = all(p.ref.startswith("¶") for p in old + new)
    return _by_paragraph(old, new) if paragraphs else _by_reference(old, new)


def diff_provisions(old_text: str, new_text: str) -> ProvisionChanges:
    """Which provisions were added, removed or modified between two normalised texts (the
    summary kept with each change event)."""
    changes = ProvisionChanges()
    for change in compare_provisions(old_text, new_text):
        if change.change == "modified":
            changes.modified.append(ModifiedProvision(change.ref, change.before, change.after))
        else:
            getattr(changes, change.change).append(change.ref)
    return changes


def unified_text_diff(old_text: str, new_text: str, old_label: str, new_label: str) -> list[str]:
    """Line diff of two texts (lines are paragraphs), for `policywatch diff --full`."""
    return list(difflib.unified_diff(old_text.split("\n"), new_text.split("\n"),
                                     old_label, new_label, lineterm="", n=1))
