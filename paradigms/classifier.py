"""Classify one text into a paradigm, with a score per paradigm and quoted, located evidence.

Pure functions over text. The call is explainable: every label comes with the provisions that
support it. When a text says too little about cross-border transfers the answer is "unknown".
"""

from __future__ import annotations

import bisect
import re
from collections import defaultdict
from dataclasses import asdict, dataclass, field

from paradigms.taxonomy import (
    EXCEPTIONS,
    INDICATOR_BY_ID,
    INDICATORS,
    NARROW_SCOPE,
    NEGATORS,
    Indicator,
    context_hits,
    lower_same_length,
)
from texts.normalise import normalise_text
from texts.provisions import group_ref, heading_ref, segment_provisions
from texts.vocabulary import FACILITATION, PARADIGMS, PRUDENT, RESTRICTIVE, UNKNOWN

MIN_SCORE = 1.0            # below this the evidence is too thin to call
MENU_DISCOUNT = 0.35       # a government gate listed as one route among several
NARROW_DISCOUNT = 0.5      # a restriction confined to a narrow category
MAX_EVIDENCE = 12
QUOTE_CHARS = 240
_SENTENCES = re.compile(r"(?<=[.;。；!?！？])\s+|(?<=[。；！？])|\n")
_GATES = ("government-security-assessment", "prior-approval")
_LIST_ITEM = re.compile(r"^(?:\(?[a-z0-9ivx]{1,4}[.)]|[（(][一二三四五六七八九十]+[)）]|[-•*])\s")
_CJK = re.compile(r"[\u3400-\u9fff]")


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

    def to_json(self) -> dict:
        return {"paradigm": self.paradigm, "scores": self.scores, "relevant": self.relevant,
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


def _quote(sentence: str, start: int, end: int) -> str:
    if len(sentence) <= QUOTE_CHARS:
        return sentence.strip()
    room = max(0, (QUOTE_CHARS - (end - start)) // 2)
    left, right = max(0, start - room), min(len(sentence), end + room)
    return ("…" if left else "") + sentence[left:right].strip() + ("…" if right < len(sentence) else "")


_TERMINAL = tuple(".;:。；：!?！？)）")


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


def find_evidence(text: str) -> tuple[list[_Hit], int]:
    """Every indicator hit, provision by provision, and the number of transfer-context mentions."""
    hits: list[_Hit] = []
    contexts = 0
    for provision in segment_provisions(text):
        body = provision.text
        lowered = lower_same_length(body)
        mentions = context_hits(lowered)
        in_context = mentions > 0
        contexts += mentions
        found: list[_Hit] = []
        starts = [0] + [m.end() for m in _SENTENCES.finditer(body)]
        for indicator in INDICATORS:
            if indicator.needs_context and not in_context:
                continue
            for match in indicator.regex.finditer(lowered):
                index = bisect.bisect_right(starts, match.start()) - 1
                begin = starts[index]
                end = starts[index + 1] if index + 1 < len(starts) else len(body)
                sentence = body[begin:end]
                before = lowered[max(begin, match.start() - 80):match.start()]
                if indicator.negatable and NEGATORS.search(before):
                    continue
                found.append(_Hit(indicator, provision.ref, sentence, match.start() - begin,
                                  match.end() - begin, indicator.weight))
        routes = {h.indicator.id for h in found if h.indicator.route}
        for hit in found:
            sentence = lower_same_length(hit.sentence)
            if hit.indicator.paradigm == RESTRICTIVE:
                if hit.indicator.id in _GATES and len(routes) >= 2:
                    hit.weight *= MENU_DISCOUNT  # one route of a menu, not the gate
                if NARROW_SCOPE.search(sentence):
                    hit.weight *= NARROW_DISCOUNT
            if hit.indicator.paradigm == FACILITATION and EXCEPTIONS.search(sentence):
                hit.weight *= 0.7  # a commitment qualified in the same breath
        hits.extend(found)
    return hits, contexts


def _scores(hits: list[_Hit]) -> dict[str, float]:
    """Sum per paradigm. An indicator counts once per provision (its strongest hit); across
    provisions each further one counts 0.6 times the one before, so that a measure repeated
    through an instrument weighs more than one mention, but never without bound."""
    strongest: dict[tuple[str, str], float] = {}
    for hit in hits:
        key = (hit.indicator.id, hit.provision)
        strongest[key] = max(strongest.get(key, 0.0), hit.weight)
    by_indicator: dict[str, list[float]] = defaultdict(list)
    for (indicator_id, _), weight in strongest.items():
        by_indicator[indicator_id].append(weight)
    scores = dict.fromkeys(PARADIGMS, 0.0)
    for indicator_id, weights in by_indicator.items():
        paradigm = INDICATOR_BY_ID[indicator_id].paradigm
        scores[paradigm] += sum(w * 0.6 ** k for k, w in enumerate(sorted(weights, reverse=True)))
    return {p: round(s, 2) for p, s in scores.items()}


def decide(scores: dict[str, float], hits: list[_Hit], relevant: bool) -> str:
    if not relevant or max(scores.values()) < MIN_SCORE:
        return UNKNOWN
    routes = {h.indicator.id for h in hits if h.indicator.route}
    top = max(PARADIGMS, key=lambda p: (scores[p], p == PRUDENT))
    if top == RESTRICTIVE and len(routes) >= 3 and scores[PRUDENT] >= 0.6 * scores[RESTRICTIVE]:
        return PRUDENT  # a menu of transfer routes with narrow or listed gates
    if top == FACILITATION and scores[PRUDENT] > scores[FACILITATION]:
        return PRUDENT
    return top


def classify_text(text: str) -> Classification:
    """Paradigm, scores, relevance and evidence of one instrument's text (any of six languages)."""
    text = unwrap_lines(normalise_text(text))
    hits, contexts = find_evidence(text)
    scores = _scores(hits)
    relevant = contexts >= 2 or (contexts >= 1 and bool(hits)) or max(scores.values()) >= 2.0
    paradigm = decide(scores, hits, relevant)
    # Evidence for the label first, then what speaks against it, strongest first.
    strongest = sorted(hits, key=lambda h: (h.indicator.paradigm != paradigm, -h.weight))
    evidence, seen = [], set()
    for hit in strongest:
        key = (hit.indicator.id, hit.provision)
        if key in seen:
            continue
        seen.add(key)
        evidence.append(Evidence(_quote(hit.sentence, hit.start, hit.end), hit.provision,
                                 hit.indicator.paradigm, hit.indicator.dimension, hit.indicator.id,
                                 round(hit.weight, 2)))
        if len(evidence) == MAX_EVIDENCE:
            break
    return Classification(paradigm, scores, relevant, evidence)
