"""Segment an instrument's text into provisions: articles, sections, clauses or paragraphs.

Headings recognised at the start of a line (after optional Markdown '#'):
English `Article 38`, `ARTICLE 14.1:`, `Art. 14.11`, `Section 16`, `Sec. 3.`, `Clause 8`, `§ 202.201`;
Chinese `第三十八条`; Spanish `Artículo 5`; French `Article 1er`; Portuguese `Artigo 5º`, `Art. 5.º`;
German `Artikel 5`, `§ 5`; Indonesian `Pasal 5`; Vietnamese `Điều 5`; Russian `Статья 5`; Korean
`제5조`; Japanese `第五条`; Arabic `المادة 5`. Chapter, part and lettered section headings (`第三章`,
`CHAPTER V`, `SECTION A`) become group entries of their own, so that they never change the article before
them. A caption line in full-width parentheses just above a heading belongs to the provision below.
A line that only cites an article ("Article 45 of the GDPR…", "Article 46(2)") is not a
heading. Text without headings is split into paragraphs ¶1, ¶2, …
"""

from __future__ import annotations

import re
from dataclasses import dataclass

PREAMBLE = "Preamble"
_NUMBER = r"\d+[A-Za-z]?(?:\.\d+)*(?:\s?(?:º|°|\.º|er|bis|ter))?"
_WESTERN = re.compile(
    r"^(?:#{1,6}\s*)?(?P<word>ARTICLE|Article|ARTÍCULO|Artículo|ARTICULO|Articulo|ARTIGO|Artigo|ARTIKEL|"
    r"Artikel|Articolo|Art\.|SECTION|Section|Sec\.|CLAUSE|Clause|PASAL|Pasal|ĐIỀU|Điều|СТАТЬЯ|Статья|"
    r"المادة|§)\s*(?P<number>" + _NUMBER + r")"
    r"(?P<after>\.?(?:$|[\s:—–-]))",
)
_CHINESE_NUMBER = r"[一二三四五六七八九十百千零〇两\d]+"
_CHINESE = re.compile(
    r"^(?:#{1,6}\s*)?(?P<ref>第" + _CHINESE_NUMBER + r"条(?:[之の][一二三四五六七八九十]+)?"
    r"|제\d+조(?:의\d+)?)")
_GROUP_CHINESE = re.compile(r"^(?:#{1,6}\s*)?(?P<ref>第" + _CHINESE_NUMBER + r"[章节编])")
_GROUP_WESTERN = re.compile(
    r"^(?:#{1,6}\s*)?(?P<word>CHAPTER|Chapter|PART|Part|TITLE|Title|Chapitre|CHAPITRE|Titre|TITRE|"
    r"Capítulo|CAPÍTULO|Título|TÍTULO|Kapitel|KAPITEL|Abschnitt|SECTION|Section)\s+"
    r"(?P<number>[IVXLC]+|\d+|[A-Z])(?=$|[\s.:—–-])")
_CITATION_FOLLOWS = re.compile(r"^\s*(of|to|and|or|in|de|del|da|do|des|du|der|des|y|et|e|und)\b", re.I)
_WORD_FORMS = {"ARTICLE": "Article", "ARTÍCULO": "Artículo", "Articulo": "Artículo", "ARTICULO": "Artículo",
               "ARTIGO": "Artigo", "ARTIKEL": "Artikel", "SECTION": "Section", "CLAUSE": "Clause",
               "PASAL": "Pasal", "ĐIỀU": "Điều", "СТАТЬЯ": "Статья"}
_MARKDOWN_HEADING = re.compile(r"^#{1,6}\s+(?P<title>\S.*?)\s*#*$")
_TITLE_LINE = re.compile(r"^[^\s.;:,。；：，!?！？].{0,78}[^.;:,。；：，!?！？]$")
_TITLE_CHARS = 80
# A Japanese-style caption on the line above an article, "（外国にある第三者への提供の制限）": it
# belongs to the article below it.
_CAPTION = re.compile(r"^（[^（）]{2,60}）$")


@dataclass(frozen=True)
class Provision:
    ref: str   # "Article 38", "第三十八条", "Art. 14.11", "¶3"; groups: "Chapter V", "第三章"
    text: str  # the provision's full text, heading line included
    is_group: bool = False  # a chapter/part/section heading that groups provisions


def group_ref(line: str) -> str | None:
    """The reference of a chapter/part heading ('第三章', 'Chapter V', 'Section A'), or None."""
    if match := _GROUP_CHINESE.match(line):
        return match.group("ref")
    if match := _GROUP_WESTERN.match(line):
        return f"{match.group('word').capitalize()} {match.group('number')}"
    return None


def heading_ref(line: str) -> str | None:
    """The provision reference a line opens with, or None if it is not a provision heading."""
    if match := _CHINESE.match(line):
        return match.group("ref")
    match = _WESTERN.match(line)
    if not match:
        return None
    rest = line[match.end():]
    if _CITATION_FOLLOWS.match(rest):
        return None
    word = _WORD_FORMS.get(match.group("word"), match.group("word"))
    number = re.sub(r"\s+", "", match.group("number"))
    return f"§ {number}" if word == "§" else f"{word} {number}"


def heading_title(line: str) -> str | None:
    """The title a line gives the paragraphs after it — a Markdown heading, or a short line
    that ends without punctuation — or None; how a reader names text that has no numbers."""
    line = line.strip()
    if match := _MARKDOWN_HEADING.match(line):
        return match.group("title")[:_TITLE_CHARS]
    if "\n" not in line and _TITLE_LINE.match(line) and not line[0].islower():
        return line
    return None


def segment_provisions(text: str) -> list[Provision]:
    """Split normalised text into provisions; references are unique within the result."""
    chunks: list[tuple[str, list[str], bool]] = []
    for line in text.split("\n"):
        ref = heading_ref(line.strip())
        group = None if ref else group_ref(line.strip())
        if opened := ref or group:
            previous = chunks[-1][1] if chunks else []
            movable = len(previous) > 1 or (previous and chunks[-1][0] == PREAMBLE)  # never a heading
            caption = [previous.pop()] if movable and _CAPTION.match(previous[-1].strip()) else []
            chunks.append((opened, caption + [line], group is not None))
        elif chunks:
            chunks[-1][1].append(line)
        else:
            chunks.append((PREAMBLE, [line], False))
    if not any(ref != PREAMBLE and not is_group for ref, _, is_group in chunks):
        return [Provision(f"¶{i}", para) for i, para in
                enumerate((p for p in text.split("\n") if p.strip()), start=1)]
    seen: dict[str, int] = {}
    provisions = []
    for ref, lines, is_group in chunks:
        body = "\n".join(lines).strip()
        if not body:
            continue
        seen[ref] = seen.get(ref, 0) + 1
        provisions.append(Provision(ref if seen[ref] == 1 else f"{ref} ({seen[ref]})", body, is_group))
    return provisions
