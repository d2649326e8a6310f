"""Lifecycle stage of a version — draft, consultation, adopted, in force, repealed — read from its
title and text, with the quote and the rule that decided it.

Pure functions. The rules, first that applies decides (what a document says of itself on its
title page outranks what its articles say):

1. **Title.** The version's title or a heading line at the top of the text names a consultation
   (征求意见稿, "draft for public consultation", "consulta pública") or a draft (草案, "proposal for
   a regulation", "Entwurf", "proyecto de ley", "projet de loi", "法律案", "dự thảo", "проект"),
   or marks the text repealed ("[Repealed]", 已废止, "derogado", "abrogé").
2. **Status line.** A short line at the top such as EUR-Lex's "In force" / "No longer in force"
   or a gazette's 现行有效 / 已废止 / 失效.
3. **Header wording** that only a text not yet adopted carries, anywhere in its first lines:
   "公开征求意见", "comments may be submitted", a WTO "stabilised text".
4. **Repeal of this instrument**: a repeal clause whose subject is this instrument ("This
   Regulation is repealed", "本办法自2023年1月1日起废止", no other title quoted) and whose date, if
   it has one, has passed. A clause repealing another instrument ("Directive 95/46/EC is repealed")
   never makes the text repealed. A repeal of this instrument dated after `today` decides
   nothing yet: the stage is read by the rules below, and the repeal's date is kept as the
   stage's `until`, the day it is repealed from.
5. **Entry into force** of this instrument: `in_force` once a dated entry into force is on or
   before `today`, `adopted` while it is still to come or cannot be dated.
6. **Adoption or promulgation formula** (会议通过, 国务院令…公布, "Done at Brussels, 4 June 2021",
   "THE WHITE HOUSE, February 28, 2024"): `adopted`.
7. Otherwise `unknown`, saying so.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from paradigms.classifier import clean_quote_text, quote_around
from paradigms.key_dates import (
    ADOPTION,
    ENTRY_INTO_FORCE,
    OTHER_INSTRUMENT,
    PUBLICATION,
    REPEAL,
    KeyDate,
    key_dates_of,
    nearest_date,
    prepare,
    self_names,
)
from paradigms.taxonomy import lower_same_length
from texts.provisions import PREAMBLE
from texts.vocabulary import (  # noqa: F401 - the stages are this module's vocabulary too
    ADOPTED,
    CONSULTATION,
    DRAFT,
    IN_FORCE,
    REPEALED,
    STAGE_NAMES,
    STAGES,
    UNKNOWN_STAGE,
)

__all__ = ["STAGE_NAMES", "STAGES"]  # defined in texts.vocabulary, where the views read them too

TITLE_PROVISION = "Title"

_CONSULTATION_TITLE = re.compile(
    r"征求意见稿|征求意见|意见征求|意見募集|パブリックコメント|의견수렴|입법예고|"
    r"for (?:public )?consultation|"
    r"consultation (?:draft|paper|document)|public consultation|call for (?:comments|evidence|input)|"
    r"consulta pública|consultation publique|konsultation|vernehmlassung|dự thảo lấy ý kiến|"
    r"общественн(?:ое|ого) обсуждени|uji publik|استطلاع (?:آراء|الرأي)|طلب (?:الآراء|المرئيات)")
_DRAFT_TITLE = re.compile(
    r"草案|送审稿|\bdraft\b|\bproposal for an? |\bproposed (?:rule|regulation|law)\b|\bbill\b|"
    r"entwurf|\bproyecto de\b|\banteproyecto\b|\bprojet de\b|\bproposition de\b|\bproposta de\b|"
    r"\bprojeto de\b|"
    r"\brancangan\b|\bruu\b|dự thảo|\bпроект\b|مشروع|法律案|改正案|개정안|법률안|제정안")
_REPEALED_TITLE = re.compile(
    r"\[repealed\]|\(repealed\)|no longer in force|已废止|已失效|[（(](?:失效|废止)[)）]|廃止済|폐지됨|"
    r"\bderogad[oa]\b|"
    r"\babrogée?\b|\baufgehoben\b|außer kraft|\brevogad[oa]\b|утратил силу|hết hiệu lực|dicabut|ملغى|ملغاة")
_STATUS_IN_FORCE = re.compile(
    r"(?:status:?\s*)?(?:in force|现行有效|有效|施行中|시행|vigente|en vigueur|in kraft|em vigor|berlaku|"
    r"còn hiệu lực|действует|действующий|ساري(?: المفعول)?|نافذ)")
_STATUS_REPEALED = re.compile(
    r"(?:status:?\s*)?(?:no longer in force|repealed|已废止|已失效|失效|废止|廃止|폐지|derogad[oa]|abrogée?|"
    r"aufgehoben|außer kraft|revogad[oa]|hết hiệu lực|утратил силу|не действует|dicabut|ملغى|ملغاة)")
_STATUS_CHARS = 40      # a status line is short: "In force", "Status: no longer in force"
_HEADING_CHARS = 160    # a title line is short too, and ends without a full stop
_TOP_CHARS, _TOP_LINES = 1500, 12  # where a text's title page ends
# Wording only a text not yet adopted carries near its top.
_HEADER_WORDING = {
    CONSULTATION: ("公开征求意见", "征求意见稿", "意见反馈截止", "comments may be submitted",
                   "comments are invited", "comments should be sent", "draft for consultation",
                   "draft for public consultation", "consultation period", "observaciones hasta",
                   "consultation est ouverte", "stellungnahmen bis", "意見募集", "의견을 제출"),
    DRAFT: ("stabilised text", "stabilized text", "negotiating text"),
}
_QUOTE_CHARS = 240
_SELF_REPEAL_REACH = 60  # characters between "Diese Verordnung" and "aufgehoben"
# What makes a repeal clause no repeal of this text: a condition, or the laws it contradicts.
_CONDITIONAL = re.compile(
    r"\b(?:until|unless|if|may|remain|inconsistent|contrar(?:y|ias?|ios?)|contraires?)\b|直至|之前|除外|相抵触")
_NOT_SUBJECT = ("with ", "of ", "under ", "by ", "to ", "in ", "than ", "de ", "du ", "des ", "mit ", "von ")


@dataclass(frozen=True)
class Lifecycle:
    stage: str                  # one of STAGES
    quote: str                  # the words that decided it ("" for unknown)
    provision: str              # where they stand: "Title", "Preamble", "Article 99", "第七十四条"
    rule: str                   # which rule decided: title, status line, header wording, repeal clause,
                                # entry into force, adoption formula, none
    since: date | None = None   # the date behind the stage, when the text gives one
    dates: list[KeyDate] = field(default_factory=list)  # every key date read, for the calendar
    until: date | None = None   # the day a repeal of this instrument still to come takes effect

    def to_json(self) -> dict:
        return {"stage": self.stage, "quote": self.quote, "provision": self.provision, "rule": self.rule,
                "since": self.since.isoformat() if self.since else None,
                "until": self.until.isoformat() if self.until else None,
                "dates": [d.to_json() for d in self.dates]}


def _top_lines(text: str, title: str) -> tuple[list[tuple[str, str]], list[tuple[str, str]]]:
    """(title lines, status lines), each as (line, provision): the version's title, the first line
    and the Markdown headings at the top of the text; and every short line there."""
    titles = [(title.strip(), TITLE_PROVISION)] if title.strip() else []
    statuses = []
    for number, line in enumerate(text[:_TOP_CHARS].split("\n")[:_TOP_LINES]):
        stripped = clean_quote_text(line).strip(" #*_")
        if not stripped or len(stripped) > _HEADING_CHARS or stripped.endswith((".", "。", ";", "；")):
            continue
        if number == 0 or line.lstrip().startswith("#"):
            titles.append((stripped, PREAMBLE))
        elif len(stripped) <= _STATUS_CHARS:
            statuses.append((stripped, PREAMBLE))
    return titles, statuses


def _by_title(lines: list[tuple[str, str]]) -> Lifecycle | None:
    for stage, pattern in ((CONSULTATION, _CONSULTATION_TITLE), (DRAFT, _DRAFT_TITLE),
                           (REPEALED, _REPEALED_TITLE)):
        for line, provision in lines:
            if pattern.search(line.lower()):
                return Lifecycle(stage, line, provision, "title")
    return None


def _by_status_line(lines: list[tuple[str, str]]) -> Lifecycle | None:
    for line, provision in lines:
        lowered = line.lower()
        for stage, pattern in ((REPEALED, _STATUS_REPEALED), (IN_FORCE, _STATUS_IN_FORCE)):
            if pattern.fullmatch(lowered):
                return Lifecycle(stage, line, provision, "status line")
    return None


def _by_header_wording(text: str) -> Lifecycle | None:
    lowered = lower_same_length(text[:_TOP_CHARS])
    for stage, phrases in _HEADER_WORDING.items():
        for phrase in phrases:
            if (at := lowered.find(phrase)) >= 0:
                line_start = text.rfind("\n", 0, at) + 1
                line_end = text.find("\n", at)
                line = clean_quote_text(text[line_start:line_end if line_end >= 0 else None]).strip()
                return Lifecycle(stage, line[:_QUOTE_CHARS], PREAMBLE, "header wording")
    return None


def lifecycle_stage(text: str, *, today: date, title: str = "", published: date | None = None) -> Lifecycle:
    """The stage of one version (normalised text and page title) as of `today`, with the quote,
    the provision and the rule that decided it, and every key date read on the way. `published`
    (from the page or the gazette) resolves entry into force written relative to publication."""
    prepared = prepare(text)
    dates = key_dates_of(prepared, published)
    titles, statuses = _top_lines(text, title)  # lines as written: unwrapping would join them
    decided = _by_title(titles) or _by_status_line(statuses) or _by_header_wording(text)
    if decided:
        return Lifecycle(decided.stage, decided.quote, decided.provision, decided.rule, None, dates)
    coming_repeals = []
    for cue in prepared.cues:
        if cue.kind == REPEAL and _repeal_is_of_this(cue.lowered, cue.start):
            written = nearest_date(cue)
            when = written[0] if written else None
            if when is None or when <= today:
                return Lifecycle(REPEALED, quote_around(cue.sentence, cue.start, cue.end),
                                 prepared.provision_at(cue.begin + cue.start), "repeal clause", when, dates)
            coming_repeals.append(when)
    until = min(coming_repeals, default=None)
    entries = [d for d in dates if d.kind == ENTRY_INTO_FORCE and d.of_this_instrument]
    passed = [d for d in entries if d.date and d.date <= today]
    if passed:
        first = min(passed, key=lambda d: d.date or today)
        return Lifecycle(IN_FORCE, first.quote, first.provision, "entry into force", first.date, dates,
                         until)
    if entries:
        coming = min(entries, key=lambda d: (d.date is None, d.date or today))
        return Lifecycle(ADOPTED, coming.quote, coming.provision, "entry into force", coming.date, dates,
                         until)
    adoption = next((d for d in dates if d.kind in (ADOPTION, PUBLICATION) and d.of_this_instrument), None)
    if adoption:
        return Lifecycle(ADOPTED, adoption.quote, adoption.provision, "adoption formula", adoption.date,
                         dates, until)
    return Lifecycle(UNKNOWN_STAGE, "", "", "none", None, dates, until)


def _repeal_is_of_this(lowered: str, cue_start: int) -> bool:
    """Whether a repeal clause repeals this instrument: this instrument is named just before the
    repeal words, no other instrument's title is quoted, and nothing makes it conditional."""
    named = any(cue_start - _SELF_REPEAL_REACH <= start < cue_start
                and not lowered[max(0, start - 6):start].endswith(_NOT_SUBJECT)
                for start, _ in self_names(lowered))
    return named and not OTHER_INSTRUMENT.search(lowered) and not _CONDITIONAL.search(lowered)


def _as_date(value: date | str) -> date:
    return date.fromisoformat(value) if isinstance(value, str) else value


def effective_stage(stage: str | None, since: date | str | None, today: date,
                    until: date | str | None = None) -> str:
    """A stored stage as of `today`, the one rule every view applies: a version whose repeal was
    still to come when it was read (`until`, the day it takes effect) is repealed once that day
    is on or before `today`; a version read `adopted` whose entry into force (`since`) is dated
    on or before `today` is in force by now; every other stage stands as read (None, for a
    version not read yet: unknown). The dates are the stored ones (the lifecycle's `since` and
    `until`), as dates or ISO text. storage.queries.effective_stage_sql is the same rule in SQL."""
    if until and _as_date(until) <= today:
        return REPEALED
    if stage == ADOPTED and since and _as_date(since) <= today:
        return IN_FORCE
    return stage or UNKNOWN_STAGE


def stage_as_of(stage: str | None, lifecycle: Mapping[str, Any] | None, today: date) -> str:
    """effective_stage of a stored version: its stage column and its stored lifecycle."""
    stored = lifecycle or {}
    return effective_stage(stage, stored.get("since"), today, stored.get("until"))


def is_stage_change(previous: str | None, current: str | None) -> bool:
    """Whether a new version's stage makes a `stage` event: both stages known and different. A
    stage read where none was (unknown -> adopted), or lost (a page that no longer says), is no
    event: the text did not move, only what it says of itself did."""
    known = {previous, current} - {None, UNKNOWN_STAGE}
    return len(known) == 2


def stored_lifecycle(lifecycle: Lifecycle) -> dict:
    """What a version keeps of its lifecycle (its key dates go to their own rows)."""
    return {key: value for key, value in lifecycle.to_json().items() if key != "dates"}


def calendar_dates(lifecycle: Lifecycle) -> list[KeyDate]:
    """The key dates a calendar lists: those of this instrument the text dates."""
    return [d for d in lifecycle.dates if d.date is not None and d.of_this_instrument]
