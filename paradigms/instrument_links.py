"""Links between instruments: the other instruments a version's text names, and what it does to
each — repeals, replaces, amends, implements, or merely cites it — with the quote and provision.

Pure functions over a version's normalised text. References are read in the forms statutes write
them: EU acts by number in six languages ("Directive 95/46/EC", "Regulation (EU) 2016/679",
"règlement (UE) 2016/679", "Verordnung (EU) 2016/679"), titles in 《》, executive orders, numbered
laws and decrees ("Ley N° 25.326", "Lei nº 13.709", "loi n° 78-17", "Undang-Undang Nomor 11 Tahun
2008", "Republic Act No. 10173"), and English short titles ("the Personal Information Protection
Law", "the Competition Act"). The kind is read from the words around the reference, in the
sentence that holds it:

- **repeals**: "repealing Directive 95/46/EC", "Directive 97/66/EC is hereby repealed",
  "《…》同时废止", "queda derogada la Ley …", "est abrogé", "wird aufgehoben", "fica revogada";
- **replaces**: "replacing …", "… is replaced by this", "取代《…》", "remplace", "sustituye", "ersetzt";
- **amends**: "amending Regulation …", "Amendment to Regulation …", "关于修改《…》的决定", "modifiant";
- **implements**: the legal basis ("Having regard to …", "根据《…》…制定本条例", "vu le règlement",
  "by the authority vested in me by … the … Act") or an article applied ("pursuant to Article 46
  of Regulation (EU) 2016/679", "依照《…》第三十八条");
- **cites**: any other mention.

A repeal, replacement or amendment counts only when this text does it: not in the title of
another act quoted in a citation ("Regulation (EU) 2016/679 … repealing Directive 95/46/EC" in a
footnote), not when negated or conditional ("Nothing in this Act shall be construed as to have
repealed …", "remain valid until amended, replaced or repealed"). References to this instrument
itself (its own number or title) are left out. Each cited instrument is reported once, with its
strongest kind.
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass
from functools import cache

import ahocorasick_rs

from paradigms.classifier import clean_quote_text, quote_around
from paradigms.key_dates import HEADER_CHARS, prepare
from paradigms.taxonomy import lower_same_length, required_literals
from texts.vocabulary import AMENDS, CITES, IMPLEMENTS, LINK_KINDS, REPEALS, REPLACES

# ------------------------------------------------------------------------------ references

_EU_TYPES = {"directive": "L", "directives": "L", "directiva": "L", "diretiva": "L", "richtlinie": "L",
             "regulation": "R", "regulations": "R", "règlement": "R", "reglamento": "R",
             "regulamento": "R", "verordnung": "R",
             "decision": "D", "decisions": "D", "décision": "D", "decisión": "D", "decisão": "D",
             "beschluss": "D"}
_EU_ACT = re.compile(
    r"(?P<type>" + "|".join(sorted(_EU_TYPES, key=len, reverse=True)) + r")\s+"
    r"(?:(?:d'exécution|delegado|de ejecución)\s+)?(?:-\s+)?"  # "Regulation - 2016/679 - EN - EUR-Lex"
    r"(?:\((?P<org>eu|ec|eec|ue|ce|cee|eg|ewg|euratom)(?:,\s*euratom)?\)\s*)?"
    r"(?P<no>no\.?\s*|n[º°o]\s*|nr\.?\s*)?"
    r"(?P<first>\d{2,4})/(?P<second>\d{1,4})(?:/(?P<suffix>ec|eu|eec|ce|ue|cee|eg|ewg|jha|cfsp|ji))?\b")
# What may stand before an EU act's type: "Commission Implementing Decision".
_EU_PREFIX = re.compile(r"(?:\b(?:commission|council)\s+)?(?:\b(?:implementing|delegated|framework)\s+)?\Z")
# 《…》 names an instrument, except a licence or a form: 《增值电信业务经营许可证》.
_CN_TITLE = re.compile(r"《(?P<title>[^》\n]{2,60}?)(?<![证书表单])》")
_EXECUTIVE_ORDER = re.compile(r"(?:executive order|e\.\s?o\.)\s*(?:no\.?\s*)?(?P<number>\d{4,5})\b")
_NUMBERED_LAW = re.compile(
    r"(?P<type>ley|lei|loi|decreto|décret|republic act|law)\s+"
    r"(?:(?:orgánica|estatutaria|federal|complementar|organique)\s+)?"
    r"(?:n(?:[º°o]|ro|úm)?\.?\s*|número\s+)?"
    r"(?P<number>\d{1,3}(?:\.\d{3})+|\d{2,6}(?:-\d{1,4})?)(?:/(?P<year>\d{4}))?"
    r"(?:,?\s+(?:de|of)\s+(?P<of_year>\d{4})\b)?")
_INDONESIAN_LAW = re.compile(
    r"(?P<type>undang-undang|peraturan pemerintah)\s+(?:republik indonesia\s+)?nomor\s+(?P<number>\d+)"
    r"\s+tahun\s+(?P<year>\d{4})")
# English short titles, matched on the text as written: capitalised words ending in Law or Act.
_NAMED_LAW = re.compile(
    r"\b(?P<name>(?:[A-Z][\w'’-]*(?:\s+(?:and|of|on|for|the|to|in)(?=\s+[A-Z]))*\s+){1,8}(?:Law|Act))(?![\w-])"
    r"(?:,?\s+(?P<year>(?:19|20)\d{2})\b)?")
# Words a short title cannot start with (sentence openers, this instrument, connectives).
_NOT_A_NAME = {"this", "that", "such", "each", "any", "said", "the", "pursuant", "under", "in", "according",
               "subject", "notwithstanding", "where", "if", "with", "by", "as", "for", "of", "on", "to",
               "and", "nothing", "every", "an", "a", "model", "republic", "implementing", "section",
               "article", "part", "chapter", "schedule", "title", "all", "other", "no", "relevant"}
# Words after which a short title starts afresh ("Art. 1 Purpose This Act": no title at all).
_NAME_BREAKS = {"this", "that", "such", "each", "any", "said", "these", "those", "every", "under",
                "pursuant", "by", "with", "nothing"}
_GENERIC_NAMES = {"federal act", "republic act", "basic law", "model law", "organic law", "public law",
                  "federal law", "national law", "domestic law", "international law", "common law",
                  "case law", "civil law", "criminal law", "private law", "administrative law"}
_CONNECTIVES = ("and", "of", "on", "for", "the", "to", "in")
_GLUED = re.compile(r"[a-z][A-Z]")  # "RepresentativesThis": two words a layout glued together
_NAME_SUFFIXES = (" of the people's republic of china", " of the people’s republic of china")
_CN_STATE = "中华人民共和国"


@dataclass(frozen=True)
class Reference:
    """One mention of another instrument: as written, where, and the key that identifies it."""

    cited: str
    key: str      # "eu:R2016/679", "title:个人信息保护法", "eo:14117", "law:25326", "law:11/2008"
    start: int
    end: int


def title_key(title: str) -> str:
    """The key of an instrument known by its title: '中华人民共和国个人信息保护法（第三章）' and
    '《个人信息保护法》' both give 'title:个人信息保护法'; 'the Personal Information Protection Law
    of the People's Republic of China' gives 'title:personal information protection law'."""
    name = clean_quote_text(title).strip(" 《》\"“”")
    name = re.sub(r"[（(][^）)]*[）)]\s*$", "", name).strip()
    name = name.removeprefix(_CN_STATE)
    lowered = re.sub(r"\s+", " ", name.lower())
    for suffix in _NAME_SUFFIXES:
        lowered = lowered.removesuffix(suffix)
    lowered = re.sub(r",?\s+(?:19|20)\d{2}$", "", lowered).removeprefix("the ")
    return f"title:{lowered.strip()}" if lowered.strip() else ""


def _eu_key(match: re.Match[str]) -> str:
    first, second = match.group("first"), match.group("second")
    if match.group("no"):  # "(EC) No 45/2001": number, then year
        number, year = first, second
    else:                  # "2016/679", "95/46/EC": year, then number
        year, number = first, second
    if len(year) == 2:
        year = ("19" if int(year) > 50 else "20") + year
    if len(year) != 4:
        return ""
    return f"eu:{_EU_TYPES[match.group('type').lower()]}{year}/{int(number)}"


def celex_number(key: str) -> str:
    """The CELEX number EUR-Lex files an EU act under ('eu:R2016/679' → '32016R0679'), or ''."""
    found = re.fullmatch(r"eu:([RLD])(\d{4})/(\d+)", key)
    return f"3{found.group(2)}{found.group(1)}{int(found.group(3)):04d}" if found else ""


def _law_key(kind: str, number: str, year: str | None) -> str:
    digits = number.replace(".", "")
    prefix = "decree" if kind.startswith(("decreto", "décret", "peraturan")) else "law"
    return f"{prefix}:{digits}/{year}" if year and "-" not in digits else f"{prefix}:{digits}"


def _short_title(match: re.Match[str]) -> tuple[str, int] | None:
    """(the name without its leading connectives or sentence openers, its start), or None."""
    words = list(re.finditer(r"\S+", match.group("name")))
    breaks = [i for i, word in enumerate(words) if word.group().lower() in _NAME_BREAKS]
    if breaks:
        words = words[breaks[-1] + 1:]
    while words and (words[0].group().lower() in _NOT_A_NAME or not words[0].group()[0].isupper()):
        words = words[1:]
    inner = next((i for i, word in enumerate(words[:-1]) if word.group() in ("Act", "Law")), None)
    if inner is not None:  # "the Consumer Act of Republic Act": the first title
        words = words[:inner + 1]
    if len(words) < 2 or words[-2].group() in _CONNECTIVES or any(_GLUED.search(w.group()) for w in words):
        return None
    start = match.start("name") + words[0].start()
    name = match.string[start:match.start("name") + words[-1].end()]
    return None if re.sub(r"\s+", " ", name.lower()) in _GENERIC_NAMES else (name, start)


# Each form is read only where a word it cannot do without starts: one multi-pattern scan finds
# them, so that a long statute is not read by every expression at every position.
_ANCHORED = ((_EU_ACT, tuple(_EU_TYPES)), (_EXECUTIVE_ORDER, ("executive order", "e.o.", "e. o.")),
             (_NUMBERED_LAW, ("ley", "lei", "loi", "decreto", "décret", "republic act", "law")),
             (_INDONESIAN_LAW, ("undang-undang", "peraturan pemerintah")))
_SHORT_TITLE_ENDS = (" Law", " Act")
_SHORT_TITLE_REACH = 160  # characters a short title may take before its "Law" or "Act"


@cache
def _anchor_scanner() -> tuple[ahocorasick_rs.AhoCorasick, list[re.Pattern[str]]]:
    words = [(word, pattern) for pattern, anchors in _ANCHORED for word in anchors]
    scanner = ahocorasick_rs.AhoCorasick([word for word, _ in words],
                                         matchkind=ahocorasick_rs.MatchKind.Standard)
    return scanner, [pattern for _, pattern in words]


def _anchored_matches(lowered: str) -> list[re.Match[str]]:
    """Matches of the lower-case forms, each tried where one of its words starts a word."""
    scanner, patterns = _anchor_scanner()
    found: list[re.Match[str]] = []
    for index, start, _ in scanner.find_matches_as_indexes(lowered, overlapping=True):
        if start and lowered[start - 1].isalnum():
            continue
        if match := patterns[index].match(lowered, start):
            found.append(match)
    return found


def _short_titles(text: str) -> list[re.Match[str]]:
    """Matches of `_NAMED_LAW` ending at each " Law" or " Act" of the text."""
    found: list[re.Match[str]] = []
    for end_word in _SHORT_TITLE_ENDS:
        at = text.find(end_word)
        while at >= 0:
            end = at + len(end_word)
            begin = max(0, at - _SHORT_TITLE_REACH)
            begin = text.find(" ", begin) + 1 if begin else 0
            found.extend(m for m in _NAMED_LAW.finditer(text, begin, min(len(text), end + 8))
                         if m.end("name") == end)
            at = text.find(end_word, end)
    return found


def find_references(text: str) -> list[Reference]:
    """Every mention of another instrument in a text, in text order; where two forms overlap
    ("Republic Act No. 10173" and "Republic Act"), the numbered one."""
    lowered = lower_same_length(text)
    found: list[Reference] = []
    for match in _anchored_matches(lowered):
        groups = match.groupdict()
        if match.re is _EU_ACT:
            prefix = _EU_PREFIX.search(lowered, max(0, match.start() - 40), match.start())
            start = prefix.start() if prefix else match.start()
            if key := _eu_key(match):
                found.append(Reference(text[start:match.end()], key, start, match.end()))
        elif match.re is _EXECUTIVE_ORDER:
            found.append(Reference(text[match.start():match.end()], f"eo:{match.group('number')}",
                                   match.start(), match.end()))
        else:
            year = groups.get("year") or groups.get("of_year")
            found.append(Reference(text[match.start():match.end()],
                                   _law_key(match.group("type"), match.group("number"), year),
                                   match.start(), match.end()))
    for match in _CN_TITLE.finditer(text):
        if key := title_key(match.group("title")):
            found.append(Reference(match.group(0), key, match.start(), match.end()))
    for match in _short_titles(text):
        named = _short_title(match)
        if named and (key := title_key(named[0])):
            end = named[1] + len(named[0])
            if end == match.end("name") and match.group("year"):
                end = match.end()
            found.append(Reference(text[named[1]:end], key, named[1], end))
    found.sort(key=lambda r: (r.start, -(r.end - r.start)))
    kept: list[Reference] = []
    for reference in found:
        if kept and reference.start < kept[-1].end:
            continue
        kept.append(reference)
    return kept


# ----------------------------------------------------------------------------------- kinds

class _Gated:
    """A pattern of `_kind`, tried only on a window that holds one of the words every match of it
    contains (`required_literals`): most references are plain citations, and looking for a few
    words in a short window costs a fraction of a search that fails."""

    __slots__ = ("pattern", "words")

    def __init__(self, pattern: str) -> None:
        self.pattern = re.compile(pattern)
        self.words = tuple(required_literals(pattern))

    def _may(self, window: str) -> bool:
        return not self.words or any(word in window for word in self.words)

    def search(self, window: str) -> re.Match[str] | None:
        return self.pattern.search(window) if self._may(window) else None

    def match(self, window: str) -> re.Match[str] | None:
        return self.pattern.match(window) if self._may(window) else None


_GAP = r"[^.;:。；]{0,70}?"  # what may stand between a verb and its object: other references, "and"
# Verbs before the reference they act on ("repealing Directive 95/46/EC", "废止《…》").
_BEFORE = {
    REPEALS: _Gated(
        r"(?:\brepealing|\brepeals?|\bhereby repeal|\brepeal of|\babrogeant|\babroge|\babrogation d[eu]|"
        r"\bderóga(?:n)?se|\bderoga\b|\bderóganse|\bqueda(?:n)? derogad[oa]s?|\bse derogan?|\bderogación de|"
        r"\brevoga(?:m)?\b|\brevogando|\bfica(?:m)? revogad[oa]s?|\brevogação d[aoe]|\baufhebung d|"
        r"\bhebt\b|\bmencabut|废止|废除)" + _GAP + "$"),
    REPLACES: _Gated(
        r"(?:\breplacing|\breplaces|\bin place of|\bsupersed(?:es|ing)|\bremplaçant|\bremplace\b|"
        r"\bsustituye|\bsustituyendo|\bersetzt\b|\bsubstitui(?:ndo)?\b|取代|代替)" + _GAP + "$"),
    AMENDS: _Gated(
        r"(?:\bamending|\bamends\b|\bhereby amend|\bto amend|\bamendments? (?:to|of)|\bmodifiant|"
        r"\bpor (?:el|la) que se modifica|\bmodifica(?:ndo)?\b|\bzur änderung|\bändert\b|"
        r"\baltera(?:ndo)?\b|\bmengubah|关于修改|修改)" + _GAP + "$"),
}
# Verbs after the reference they act on ("Directive 97/66/EC is hereby repealed", "《…》同时废止").
_AFTER_GAP = r"^[\s)）\]]*(?:(?:,|and|et|y|und|e)\s[^.;:。；]{0,60}?)?"
_AFTER = {
    REPEALS: _Gated(
        _AFTER_GAP + r"(?:(?:is|are|shall be|will be) (?:hereby )?(?:repealed|revoked)|"
        r"(?:est|sont) abrogée?s?|(?:wird|werden|ist|sind)\b[^;]{0,60}?\baufgehoben|tritt außer kraft|"
        r"(?:é|são) revogad|"
        r"queda(?:n)? derogad|fica(?:m)? revogad|dicabut|dinyatakan tidak berlaku)"
        r"|^[^。；，]{0,12}?(?:同时|即行|予以)?(?:废止|不再执行|停止执行|同时失效)"),
    REPLACES: _Gated(
        _AFTER_GAP + r"(?:(?:is|are|shall be) (?:hereby )?(?:replaced(?! by the following)|superseded)|"
        r"(?:est|sont) remplacée?s?|"
        r"wird ersetzt|queda(?:n)? sustituid)"),
    AMENDS: _Gated(
        _AFTER_GAP + r"(?:(?:is|are|shall be) (?:hereby )?(?:amended|replaced by the following)|"
        r"(?:est|sont) modifiée?s?|"
        r"(?:wird|werden) (?:wie folgt )?geändert|queda(?:n)? modificad|fica(?:m)? alterad)"
        r"|^[^。；]{0,8}?(?:作如下修改|修改如下|的修改)"),
}
# A legal basis: an enacting formula, which may list several acts ("By the authority vested in me
# by … including the International Emergency Economic Powers Act …, the National Emergencies
# Act"), or the act a text says it implements, named right after.
_BASIS_BEFORE = _Gated(
    r"(?:\bhaving regard to|\bby the authority vested in me|\bvu (?:l[ae']|les)|\bvisto|\bvistos|"
    r"\bgestützt auf|\bberdasarkan|\bmengingat|\bcăn cứ)[^。；;]{0,300}$"
    r"|(?:\bto implement|\bfor the implementation of|\bin implementation of|\breglamentaria de|"
    r"\bregulamenta|\bzur durchführung|\bpour l'application d[eu]|\bpara la aplicación de)"
    r"(?:\s+(?:the|la|le|el|a|o|der|des|del)\b)?[^.;:。；,]{0,12}$")
# The provision of the reference applied: "pursuant to Article 46(1) of", "gemäß Artikel 5 des".
_ARTICLE_OF = _Gated(
    r"(?:\bpursuant to|\bin accordance with|"
    r"\bconforme (?:a|al|o)|\bde conformidad con|\bde acuerdo con|\ben application de|\bconformément à|"
    r"\bgemäß|\bnach|\bnos termos d[oa]|\bsesuai dengan)\s+(?:the\s+)?"
    r"(?:articles?|art\.|arts\.|sections?|sec\.|§|artículos?|artigos?|artikels?|paragraphs?|pasal|"
    r"chapter|cap[ií]tulo)\s[^.;:]{0,40}?\b(?:of|de la|de|del|do|da|des|du|der)\s+(?:the\s+)?$")
_CN_BASIS = _Gated(r"(?:根据|依据|依照|按照)[^。；]{0,80}$")
_CN_ENACTS = _Gated(r"制定本(?:法|条例|规定|办法|细则|措施|规则|决定)")
_CN_ARTICLE = _Gated(r"^\s*第[一二三四五六七八九十百零〇\d]+条")
# What makes a repeal, replacement or amendment none: negation, condition, or a provision for later.
_NOT_DONE = _Gated(
    r"\b(?:nothing in|not be construed|shall not|does not|until|unless|remain(?:s)? (?:valid|in force)|"
    r"if|may|should|where|références faites|references (?:made )?to the repealed)\b|直至|之前")
# Where a sentence ends: a full stop before a capital, a Chinese full stop, a line that ends one or
# opens a provision (a plain-text layout wraps mid-sentence before capitals too).
_CLAUSE_MARK = re.compile(
    r"[。；]|(?<!\d)[.;](?=\s+[A-Z(\"“¿¡])|(?<=[.;:!?)）])\n|\n(?=\s*\n)|"
    r"\n(?=\s*(?:#|[Aa]rt(?:icle|ículo|igo)?\b|[Ss]ec(?:tion)?\b|第|\(\w{1,3}\)|\d+[.)]\s|[-*•]\s))")
_REACH = 400
_NEAR, _FAR = 140, 340  # how far before a reference its verb, or the formula opening its list, may stand
# Verbs of a title ("… and repealing Directive 95/46/EC"): in a sentence that names another act
# first, they belong to that act's title, quoted in a citation.
_PARTICIPLES = ("repealing", "replacing", "amending", "superseding", "abrogeant", "modifiant", "remplaçant")
_STRENGTH = {kind: rank for rank, kind in enumerate(LINK_KINDS)}


@dataclass(frozen=True)
class Link:
    """What this text does to one other instrument it names."""

    kind: str        # one of LINK_KINDS
    cited: str       # the reference as written: "Directive 95/46/EC", "《中华人民共和国个人信息保护法》"
    key: str         # what identifies the cited instrument (see `Reference.key`)
    quote: str
    provision: str   # "Article 94", "第五十八条", "Preamble"

    def to_json(self) -> dict:
        return asdict(self)


def _sentence(text: str, start: int, end: int) -> tuple[int, int]:
    """Bounds of the sentence around text[start:end] (within `_REACH` characters each way)."""
    begin = max(0, start - _REACH)
    marks = [m.end() for m in _CLAUSE_MARK.finditer(text, begin, start)]
    begin = marks[-1] if marks else begin
    after = _CLAUSE_MARK.search(text, end, min(len(text), end + _REACH))
    return begin, after.start() if after else min(len(text), end + _REACH)


def _kind(lowered: str, reference: Reference, sentence: tuple[int, int], others_before: bool) -> str:
    """The kind of one reference, read from its sentence. `others_before`: another instrument is
    named earlier in the sentence, so a participle ("repealing") belongs to that one's title."""
    begin, stop = sentence
    before = lowered[max(begin, reference.start - _NEAR):reference.start]  # where a verb acts on it
    far = lowered[max(begin, reference.start - _FAR):reference.start]      # where a formula may open
    after = lowered[reference.end:stop]
    whole = lowered[begin:stop]
    done = not _NOT_DONE.search(whole)
    for kind in (REPEALS, REPLACES, AMENDS):
        if _AFTER[kind].search(after) and done:
            return kind
        verb = _BEFORE[kind].search(before)
        if verb and others_before and verb.group(0).startswith(_PARTICIPLES):
            return CITES  # the object of a verb in another act's title, quoted in a citation
        if verb and done:
            return kind
    if _CN_BASIS.search(far) and (_CN_ENACTS.search(after) or _CN_ARTICLE.match(after)):
        return IMPLEMENTS
    if _ARTICLE_OF.search(before) or _BASIS_BEFORE.search(far):
        return IMPLEMENTS
    return CITES


_BARE_NUMBER = re.compile(r"\b(\d{2,4})/(\d{1,4})\b")
_ACTED_ON = re.compile(r"repeal|amend|replac|pursuant|regard|accordance|abrog|aufhebung|änderung|deroga|"
                       r"revoga|modifi|根据|依照|废止|修改")
_HEADING_CHARS = 400  # a heading line is short, and ends without a full stop


def _self_keys(text: str, title: str) -> set[str]:
    """Keys that name this instrument: its title's; the first number its title carries
    ("Implementing decision - 2021/914 - EN - EUR-Lex"); and the reference a heading line at the
    top of the text opens with ("COMMISSION IMPLEMENTING DECISION (EU) 2021/914", "《…条例》已经…通过"),
    when nothing acts on it there."""
    keys = {title_key(title)} if title.strip() else set()
    if number := _BARE_NUMBER.search(title):
        year, serial = number.groups()
        year = ("19" if int(year) > 50 else "20") + year if len(year) == 2 else year
        keys |= {f"eu:{letter}{year}/{int(serial)}" for letter in "RLD"}
    for line in [title, *text[:HEADER_CHARS].split("\n")]:
        references = find_references(line)
        heading = len(line) <= _HEADING_CHARS and not line.rstrip().endswith(".")
        if references and heading:
            if references[0].start == len(line) - len(line.lstrip(" #*>")):
                # its number, and the short title it gives itself: "… (Data Governance Act)"
                keys |= {r.key for r in references if not _ACTED_ON.search(line[:r.start].lower())}
                break
    return keys - {""}


def find_links(text: str, title: str = "") -> list[Link]:
    """The instruments a version's text names, once each with its strongest kind, in the order
    they are first named; `title` (the version's) tells this instrument's own references apart."""
    prepared = prepare(text)
    clean = prepared.text
    lowered = lower_same_length(clean)
    own = _self_keys(clean, title)
    best: dict[str, Link] = {}
    order: list[str] = []
    references = find_references(clean)
    for index, reference in enumerate(references):
        if reference.key in own:
            continue
        sentence = _sentence(clean, reference.start, reference.end)
        others_before = any(sentence[0] <= other.start < reference.start
                            and other.key not in (reference.key, *own)
                            for other in references[max(0, index - 12):index])
        kind = _kind(lowered, reference, sentence, others_before)
        known = best.get(reference.key)
        if known is not None and _STRENGTH[known.kind] <= _STRENGTH[kind]:
            continue
        if known is None:
            order.append(reference.key)
        phrase = clean[sentence[0]:sentence[1]]
        best[reference.key] = Link(kind, clean_quote_text(reference.cited).strip(), reference.key,
                                   quote_around(phrase, reference.start - sentence[0],
                                                reference.end - sentence[0]),
                                   prepared.provision_at(reference.start))
    return [best[key] for key in order]


_CELEX = re.compile(r"\b3(\d{4})([RLD])(\d{4})\b")


KEY_CHARS = 500  # keys are stored (and compared) cut to this length: an index holds them whole


def reference_key(cited: str) -> str:
    """The key of a reference as cited ("Directive 95/46/EC" gives 'eu:L1995/46'), cut to
    KEY_CHARS: the key a waiting link is found by when the instrument it names appears."""
    found = find_references(cited)
    return (found[0].key if found else title_key(cited))[:KEY_CHARS]


def identity_keys(title: str, url: str = "") -> set[str]:
    """The keys under which other texts may cite an instrument: its title's, the numbers its
    title carries ("Regulation (EU) 2016/679", "Executive Order 14117", "Ley 25.326"), and the
    EU act its URL names by CELEX number ("…?uri=CELEX:32016R0679")."""
    keys = {title_key(title)} | {r.key for r in find_references(title)}
    keys |= {f"eu:{kind}{year}/{int(number)}" for year, kind, number in _CELEX.findall(url)}
    return {key[:KEY_CHARS] for key in keys} - {""}
