"""Classify one text into a paradigm, with a score per paradigm and quoted, located evidence.

Pure functions over text. The call is explainable: every label comes with the provisions that
support it, and `unknown` comes with the reason. One multi-pattern scan (Aho-Corasick) finds the
words the indicators and the cross-border context need; only the sentences holding them are
matched against the indicators' patterns, so a long statute costs little more than reading it.
"""

from __future__ import annotations

import html
import re
from collections import defaultdict
from dataclasses import asdict, dataclass, field
from functools import cache, lru_cache

import ahocorasick_rs

from paradigms.taxonomy import (
    ADEQUACY_CUE,
    CONTEXT_CUE,
    CUES,
    EXCEPTION_CUE,
    INDICATOR_BY_ID,
    INDICATORS,
    NARROW_CUE,
    NEGATOR_CUE,
    REFERRAL_CUE,
    SOFT_CUE,
    Cue,
    Indicator,
    lower_same_length,
)
from texts.normalise import normalise_text
from texts.provisions import group_ref, heading_ref, heading_title, segment_provisions
from texts.vocabulary import FACILITATION, PARADIGMS, PRUDENT, RESTRICTIVE, UNKNOWN

MIN_SCORE = 1.5            # below this the evidence is too thin to call
STRONG_HIT = 2.0           # one hit this heavy may decide alone; lighter ones need company
MENU_DISCOUNT = 0.35       # a government gate listed as one route among several
NARROW_DISCOUNT = 0.5      # a restriction confined to a narrow category, beside transfer routes
SOFT_DISCOUNT = 0.4        # an endeavour, a cooperation clause, a recital
REFERRAL_DISCOUNT = 0.5    # a rule that only points to rules made elsewhere
QUALIFIED_DISCOUNT = 0.7   # a facilitation commitment qualified in the same breath
NEGATION_REACH = 80        # characters before a phrase in which a negator cancels it
MAX_EVIDENCE = 12
QUOTE_CHARS = 240
_GATES = ("government-security-assessment", "prior-approval")
_LIST_ITEM = re.compile(r"^(?:\(?[a-z0-9ivx]{1,4}[.)]|[（(][一二三四五六七八九十]+[)）]|[-•*])\s")
_ITEM_MARK = re.compile(  # a list item of a lower-cased sentence: "(a) ", "iv. ", "2) ", "（三）", "- "
    r"\s*(?:\(?(?:[a-z]|[ivxl]{1,5}|\d{1,3})[.)]\s|[（(][一二三四五六七八九十]+[)）]|[-•*]\s)")
_CJK = re.compile(r"[\u3040-\u30ff\u3400-\u9fff\uac00-\ud7af]")
_SENTENCE_ENDS = ("\n", "。", "；", "！", "？", "؛", ". ", "; ", "? ", "! ")  # what ends a sentence
_MARKDOWN = re.compile(  # link syntax (its text kept), emphasis, code ticks, heading marks, escapes
    r"\[([^\]\n]*)\]\([^)\n]*\)|(?<!\w)[*_]{1,3}(?=\S)|(?<=\S)[*_]{1,3}(?!\w)|`|^#{1,6}\s*|\\(?=[()\[\]*_#])")
_SPACES = re.compile(r"\s+")


@dataclass(frozen=True)
class Evidence:
    quote: str
    provision: str
    paradigm: str
    dimension: str
    indicator: str
    weight: float


@dataclass(frozen=True)
class Classification:
    paradigm: str
    scores: dict[str, float]
    relevant: bool
    evidence: list[Evidence] = field(default_factory=list)
    reason: str = ""  # why this label, or why none could be given

    def to_json(self) -> dict:
        return {"paradigm": self.paradigm, "scores": self.scores, "relevant": self.relevant,
                "reason": self.reason,
                "evidence": [{k: v for k, v in asdict(e).items() if k != "weight"}
                             | {"indicator": e.indicator} for e in self.evidence]}


@dataclass
class _Hit:
    indicator: Indicator
    provision: str
    sentence: str
    start: int
    end: int
    weight: float
    qualifies_rule: bool = False  # a qualifier beside a rule it waives (even one it negates)
    in_heading: bool = False      # found in the provision's heading line: quote the body first
    narrow: bool = False          # a restriction confined to a narrow category


@dataclass(frozen=True)
class _Scanner:
    """One automaton over every word an indicator's or a cue's pattern needs, and over what ends a
    sentence; for each word the (owner, pattern index) pairs that need it (none: a sentence end)."""

    automaton: ahocorasick_rs.AhoCorasick
    needed_by: tuple[tuple[tuple[str, int], ...], ...]


@cache
def _scanner() -> _Scanner:
    needs: dict[str, set[tuple[str, int]]] = defaultdict(set)
    owners = [(i.id, i.literals) for i in INDICATORS] + [(c.name, c.literals) for c in CUES]
    for name, per_pattern in owners:
        for index, literals in enumerate(per_pattern):
            for literal in literals:
                needs[literal].add((name, index))
    words = sorted(needs)
    return _Scanner(ahocorasick_rs.AhoCorasick(words + list(_SENTENCE_ENDS)),
                    tuple(tuple(sorted(needs[w])) for w in words) + ((),) * len(_SENTENCE_ENDS))


class _Sentence:
    """One sentence of a provision and the patterns whose words it holds."""

    __slots__ = ("begin", "end", "lead", "lowered", "wanted")

    def __init__(self, begin: int) -> None:
        self.begin, self.end, self.lowered = begin, begin, ""  # bounded once the provision is scanned
        self.wanted: dict[str, set[int]] = defaultdict(set)  # owner -> pattern indices
        self.lead: _Sentence | None = None  # for a list item, the sentence that introduces the list

    def cue(self, cue: Cue, start: int = 0, stop: int | None = None) -> re.Match[str] | None:
        """The first match of a cue in the sentence (or in `start:stop`), trying only the cue's
        patterns whose words the sentence holds."""
        stop = len(self.lowered) if stop is None else stop
        first = None
        for index in self.wanted.get(cue.name, ()):
            if (match := cue.compiled[index].search(self.lowered, start, stop)) and \
                    (first is None or match.end() < first.end()):
                first = match
        return first


def clean_quote_text(text: str) -> str:
    """A quote as a reader wants it: no Markdown, no entities, single spaces."""
    return _SPACES.sub(" ", _MARKDOWN.sub(lambda m: m.group(1) or "", html.unescape(text)))


_CLOSING = "）)」』]、，,;；"  # what a sentence split inside a parenthesis leaves at a quote's start
_CLAUSE_MARKS = ("，", "；", ", and ", ", but ", "; ")  # a soft word before these binds no later clause
_CUTS = (". ", "; ", ", ", "，", "、", " ")  # where a quote may start or end, best first
_CUT_REACH = 40                             # how far from the ideal cut to look for one


def _word_cut_left(text: str, at: int) -> int:
    """Where a quote cut near `at` may start: after a clause or word boundary, never mid-word
    (a run of CJK characters, which has no spaces, is cut where it must)."""
    if at <= 0:
        return 0
    for mark in _CUTS:
        found = text.find(mark, at, at + _CUT_REACH)
        if found >= 0:
            return found + len(mark)
    return at if _CJK.match(text[at - 1:at] or " ") else text.find(" ", at) + 1 or at


def _word_cut_right(text: str, at: int) -> int:
    """Where a quote cut near `at` may end: at a clause or word boundary."""
    if at >= len(text):
        return len(text)
    for mark in _CUTS:
        found = text.rfind(mark, max(0, at - _CUT_REACH), at)
        if found >= 0:
            return found + (len(mark.rstrip()) or 0)
    return at if _CJK.match(text[at - 1:at] or " ") else max(text.rfind(" ", 0, at), 0) or at


def quote_around(sentence: str, start: int, end: int) -> str:
    """The sentence, cleaned; when long, the part around the match, cut between words."""
    before, match, after = (clean_quote_text(part)
                            for part in (sentence[:start], sentence[start:end], sentence[end:]))
    whole = (before + match + after).strip().lstrip(_CLOSING)
    if len(whole) <= QUOTE_CHARS:
        return whole
    room = max(0, (QUOTE_CHARS - len(match)) // 2)
    left = before[_word_cut_left(before, len(before) - room):] if len(before) > room else before
    right = after[:_word_cut_right(after, room)] if len(after) > room else after
    opening = "…" if len(left) < len(before) else ""
    closing = "…" if len(right) < len(after) else ""
    return opening + (left + match + right).strip().lstrip(_CLOSING) + closing


_TERMINAL = tuple(".;:。；：!?！？)）")


# A new version's text is read three times in a row (paradigm, lifecycle, links): unwrapping it
# and naming its provisions are done once for all three.
_SAME_TEXT = 2


@lru_cache(maxsize=_SAME_TEXT)
def unwrap_lines(text: str) -> str:
    """Join lines that a PDF or a plain-text layout wrapped in mid-sentence, so that a quote is a
    whole sentence. A line is kept apart when the one before ends a sentence, or when it opens a
    provision or a list item."""
    lines = text.split("\n")
    out: list[str] = []
    for line in lines:
        stripped = line.strip()
        if (out and out[-1] and not out[-1].endswith(_TERMINAL) and stripped
                and heading_ref(stripped) is None and group_ref(stripped) is None
                and not _LIST_ITEM.match(stripped)
                and (stripped[0].islower() or _CJK.match(stripped))):
            out[-1] += ("" if _CJK.match(stripped) else " ") + stripped
        else:
            out.append(stripped)
    return "\n".join(out)


@lru_cache(maxsize=_SAME_TEXT)
def provision_names(text: str) -> tuple[tuple[str, str], ...]:
    """(name a reader would cite, text) for each provision; paragraphs of a text without numbered
    provisions are named by the nearest heading above them."""
    provisions = segment_provisions(text)
    if not provisions or not provisions[0].ref.startswith("¶"):
        return tuple((p.ref, p.text) for p in provisions)
    named: list[tuple[str, str]] = []
    heading: str | None = None
    for provision in provisions:
        title = heading_title(provision.text)
        if title is not None:
            heading = clean_quote_text(title)
        named.append((heading or provision.ref, provision.text))
    return tuple(named)


def _weigh(hit: _Hit, sentence: _Sentence, routes: set[str]) -> None:
    """The force of the sentence and the scope of the rule adjust the indicator's weight."""
    indicator = hit.indicator
    clause = max((found + len(mark) for mark in _CLAUSE_MARKS
                  if (found := sentence.lowered.rfind(mark, 0, hit.start)) >= 0), default=0)
    if sentence.cue(SOFT_CUE, clause, hit.end) or (sentence.lead and sentence.lead.cue(SOFT_CUE)):
        hit.weight *= SOFT_DISCOUNT  # an endeavour or cooperation, not a rule
    if sentence.cue(REFERRAL_CUE):
        hit.weight *= REFERRAL_DISCOUNT  # the rule is made elsewhere; this text points to it
    if indicator.paradigm == RESTRICTIVE:
        if indicator.id in _GATES and len(routes) >= 2:
            hit.weight *= MENU_DISCOUNT  # one route of a menu, not the gate
        hit.narrow = sentence.cue(NARROW_CUE) is not None
    if indicator.paradigm == FACILITATION and sentence.cue(EXCEPTION_CUE):
        hit.weight *= QUALIFIED_DISCOUNT  # a commitment qualified in the same breath


def _sentences(lowered: str, scanner: _Scanner) -> list[_Sentence]:
    """The sentences of a provision that hold a word some pattern needs, with those patterns. The
    scan reports sentence ends too, in order, so sentences are bounded without a second pass."""
    sentences: dict[int, _Sentence] = {}
    ends: list[int] = []  # where each sentence so far ends
    for word, _, end in scanner.automaton.find_matches_as_indexes(lowered, overlapping=True):
        who = scanner.needed_by[word]
        if not who:
            ends.append(end)
            continue
        index = len(ends)
        if index not in sentences:
            sentences[index] = _Sentence(ends[-1] if ends else 0)
        wanted = sentences[index].wanted
        for owner, pattern in who:
            wanted[owner].add(pattern)
    ends.append(len(lowered))
    for index, sentence in sentences.items():
        sentence.end = ends[index]
        sentence.lowered = lowered[sentence.begin:sentence.end]
        if _ITEM_MARK.match(sentence.lowered):
            lead = index - 1  # the list's lead-in: the nearest sentence before that is no item
            while lead >= 0 and _ITEM_MARK.match(lowered, ends[lead - 1] if lead else 0):
                lead -= 1
            sentence.lead = sentences.get(lead)  # absent: it holds no word any pattern needs
    return list(sentences.values())


_Match = tuple[Indicator, re.Match[str]]


def _matches(sentence: _Sentence, in_context: bool, in_sentence_context: bool) -> tuple[list[_Match], bool]:
    """The indicator matches of one sentence that count, and whether it names a rule only to
    waive it (a negated restrictive phrase)."""
    found: list[_Match] = []
    waives = False
    for owner, patterns in sentence.wanted.items():
        indicator = INDICATOR_BY_ID.get(owner)
        if indicator is None:
            continue  # a cue, not an indicator
        if not (indicator.self_contextual or in_context):
            continue
        if indicator.near_context and not in_sentence_context:
            continue
        if indicator.id == "named-country-ban" and sentence.cue(ADEQUACY_CUE):
            continue  # a ban on countries without adequate protection is an adequacy rule
        for pattern in patterns:
            for match in indicator.compiled[pattern].finditer(sentence.lowered):
                if indicator.negatable and sentence.cue(NEGATOR_CUE, max(0, match.start() - NEGATION_REACH),
                                                        match.start()):
                    waives = True
                    continue
                found.append((indicator, match))
    return found, waives


def find_evidence(text: str) -> tuple[list[_Hit], int]:
    """Every indicator hit inside a cross-border context, provision by provision, and the number
    of sentences that speak of data leaving the jurisdiction."""
    scanner = _scanner()
    hits: list[_Hit] = []
    contexts = 0
    for name, body in provision_names(text):
        sentences = _sentences(lower_same_length(body), scanner)
        with_context = {id(s) for s in sentences if s.cue(CONTEXT_CUE)}
        contexts += len(with_context)
        found_here: list[tuple[_Hit, _Sentence, bool]] = []
        for sentence in sentences:
            near = id(sentence) in with_context or id(sentence.lead) in with_context
            matches, waives = _matches(sentence, bool(with_context), near)
            in_heading = sentence.begin == 0 and "\n" in body
            found_here += [(_Hit(indicator, name, body[sentence.begin:sentence.end], m.start(), m.end(),
                                 indicator.weight, in_heading=in_heading), sentence, waives)
                           for indicator, m in matches]
        routes = {h.indicator.id for h, _, _ in found_here if h.indicator.route}
        for hit, sentence, waives in found_here:
            if waives and hit.indicator.qualifier:
                hit.qualifies_rule = True
                hit.weight = max(hit.weight, STRONG_HIT)  # a waiver of a named gate is a rule itself
            _weigh(hit, sentence, routes)
            hits.append(hit)
    if any(h.indicator.route for h in hits):
        for hit in hits:
            if hit.narrow:  # beside transfer routes for the rest, a narrow restriction is no regime
                hit.weight *= NARROW_DISCOUNT
    return hits, contexts


def _strongest(hits: list[_Hit]) -> dict[tuple[str, str], float]:
    """Each indicator's strongest weight in each provision."""
    strongest: dict[tuple[str, str], float] = {}
    for hit in hits:
        key = (hit.indicator.id, hit.provision)
        strongest[key] = max(strongest.get(key, 0.0), hit.weight)
    return strongest


def _scores(hits: list[_Hit]) -> dict[str, float]:
    """Sum per paradigm. An indicator counts once per provision (its strongest hit); across
    provisions each further one counts 0.6 times the one before, so that a measure repeated
    through an instrument weighs more than one mention, but never without bound. Qualifiers
    (exceptions, derogations) count only beside a rule."""
    strongest = _strongest(hits)
    has_rule = any(not h.indicator.qualifier or h.qualifies_rule for h in hits)
    by_indicator: dict[str, list[float]] = defaultdict(list)
    for (indicator_id, _), weight in strongest.items():
        if has_rule or not INDICATOR_BY_ID[indicator_id].qualifier:
            by_indicator[indicator_id].append(weight)
    scores = dict.fromkeys(PARADIGMS, 0.0)
    for indicator_id, weights in by_indicator.items():
        paradigm = INDICATOR_BY_ID[indicator_id].paradigm
        scores[paradigm] += sum(w * 0.6 ** k for k, w in enumerate(sorted(weights, reverse=True)))
    return {p: round(s, 2) for p, s in scores.items()}


def _enough(paradigm: str, hits: list[_Hit]) -> bool:
    """A label needs one strong hit, or several that weigh as much together (one weak mention,
    or two mentions discounted as endeavours or referrals, never decides)."""
    weights = [w for (i, _), w in _strongest(hits).items()
               if INDICATOR_BY_ID[i].paradigm == paradigm]
    return any(w >= STRONG_HIT for w in weights) or (len(weights) >= 2 and sum(weights) >= STRONG_HIT)


def decide(scores: dict[str, float], hits: list[_Hit], relevant: bool) -> tuple[str, str]:
    """The label and the reason for it."""
    if not relevant:
        return UNKNOWN, "the text does not speak of data leaving the jurisdiction"
    if not hits:
        return UNKNOWN, "the text mentions cross-border transfer but sets no rule on it"
    if all(h.indicator.qualifier and not h.qualifies_rule for h in hits):
        return UNKNOWN, "only exceptions or derogations, qualifying no rule"
    routes = {h.indicator.id for h in hits if h.indicator.route}
    top = max(PARADIGMS, key=lambda p: (scores[p], p == PRUDENT))
    if scores[top] < MIN_SCORE or not _enough(top, hits):
        return UNKNOWN, f"too little evidence: {top} scores {scores[top]} on " + \
            ", ".join(sorted({h.indicator.id for h in hits if h.indicator.paradigm == top}))
    if top == RESTRICTIVE and len(routes) >= 3 and scores[PRUDENT] >= 0.6 * scores[RESTRICTIVE]:
        top = PRUDENT  # a menu of transfer routes with narrow or listed gates
    elif top == FACILITATION and scores[PRUDENT] > scores[FACILITATION]:
        top = PRUDENT
    backing = sorted({h.provision for h in hits if h.indicator.paradigm == top})
    return top, f"{top} on " + ", ".join(backing[:6]) + (" …" if len(backing) > 6 else "")


def classify_text(text: str, *, normalised: bool = False) -> Classification:
    """Paradigm, scores, relevance, evidence and reason for one instrument's text.

    `normalised`: the text is already `normalise_text`'s output (every extracted text is), so it
    is not normalised again; normalising is idempotent, the result is the same."""
    text = unwrap_lines(text if normalised else normalise_text(text))
    hits, contexts = find_evidence(text)
    scores = _scores(hits)
    relevant = contexts >= 2 or (contexts >= 1 and bool(hits)) or max(scores.values()) >= 2.0
    paradigm, reason = decide(scores, hits, relevant)
    # Evidence for the label first, then what speaks against it, strongest first.
    strongest = sorted(hits, key=lambda h: (h.indicator.paradigm != paradigm, -h.weight, h.in_heading))
    evidence, seen = [], set()
    for hit in strongest:
        key = (hit.indicator.id, hit.provision)
        if key in seen:
            continue
        seen.add(key)
        evidence.append(Evidence(quote_around(hit.sentence, hit.start, hit.end), hit.provision,
                                 hit.indicator.paradigm, hit.indicator.dimension, hit.indicator.id,
                                 round(hit.weight, 2)))
        if len(evidence) == MAX_EVIDENCE:
            break
    return Classification(paradigm, scores, relevant, evidence, reason)
