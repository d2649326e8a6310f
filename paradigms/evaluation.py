"""Labelled corpora of real instruments, and whether a classification agrees with an analyst.

A labelled corpus is a folder with a `labels.tsv` (file, accepted_paradigms separated by `|`,
deciding_provisions separated by `;`, language, jurisdiction, level, why) next to the texts.
A prediction is right when it is any accepted paradigm; its evidence cites a deciding provision
when a quoted provision names the same article, section or clause, however the text spells it
("ARTICULO 12" and "Artículo 12", "Sec. 2" and "Section 2", "14.11" and "Article 14.11").
"""

from __future__ import annotations

import csv
import re
import unicodedata
from dataclasses import dataclass
from pathlib import Path

from paradigms.classifier import Classification
from texts.vocabulary import UNKNOWN

_SECTION_WORDS = {"section", "sec", "sección", "seccion", "§"}
_CLAUSE_WORDS = {"clause", "cláusula", "clausula"}
_REFERENCE = re.compile(r"^(?P<word>[^\d\s]*?)\.?\s*(?P<number>\d[\w.]*?)\.?(?:\s*\(\d+\))?$")


@dataclass(frozen=True)
class LabelledText:
    """One instrument of a labelled corpus, as the analyst read it."""

    path: Path
    accepted: tuple[str, ...]
    deciding: tuple[str, ...]
    language: str
    jurisdiction: str
    level: str
    why: str

    @property
    def primary(self) -> str:
        return self.accepted[0]


def read_labels(folder: Path) -> list[LabelledText]:
    """The labelled texts of one corpus folder, in the order of its `labels.tsv`."""
    with (folder / "labels.tsv").open(encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle, delimiter="\t"))
    return [LabelledText(
        path=folder / row["file"],
        accepted=tuple(p.strip() for p in row["accepted_paradigms"].split("|")),
        deciding=tuple(d.strip() for d in row["deciding_provisions"].split(";")
                       if d.strip() and d.strip() != "(none)"),
        language=row["language"], jurisdiction=row["jurisdiction"], level=row["level"],
        why=row["why"]) for row in rows]


def _word_kind(word: str) -> str:
    word = word.lower().rstrip(".")
    if word in _SECTION_WORDS:
        return "section"
    if word in _CLAUSE_WORDS:
        return "clause"
    return "article" if word else ""


def reference_key(reference: str) -> tuple[str, str]:
    """(kind, number) of a provision reference: 'Art. 16' -> ('article', '16'); a Chinese
    reference is its own number; a bare number has no kind."""
    plain = unicodedata.normalize("NFC", reference.strip())
    plain = re.sub(r"\s\(\d+\)$", "", plain)  # a repeated heading, "Article 5 (2)"
    if plain.startswith("第"):
        return "article", plain
    match = _REFERENCE.match(plain)
    if not match:
        return "", plain.lower()
    return _word_kind(match.group("word")), match.group("number").lower()


def same_provision(cited: str, deciding: str) -> bool:
    """Do two references name the same provision, however each text spells it?"""
    cited_kind, cited_number = reference_key(cited)
    deciding_kind, deciding_number = reference_key(deciding)
    return cited_number == deciding_number and (
        not cited_kind or not deciding_kind or cited_kind == deciding_kind)


def cites_deciding(result: Classification, deciding: tuple[str, ...]) -> bool:
    """Does the evidence for the label (any evidence, for `unknown`) quote a deciding provision?"""
    backing = [e for e in result.evidence if result.paradigm == UNKNOWN or e.paradigm == result.paradigm]
    return any(same_provision(e.provision, d) for e in backing for d in deciding)
