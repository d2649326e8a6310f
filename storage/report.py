"""What the comparative report reads of the store: each instrument with its latest version's
paradigm, stage and evidence, its year, and who repeals it (`paradigms.report`)."""

from __future__ import annotations

import re
from datetime import date

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from paradigms.instrument_links import find_references
from paradigms.lifecycle import stage_as_of
from paradigms.report import ReportInstrument, driving_dimension
from storage.links import repealed_by
from storage.models import Instrument, KeyDate, Version, utcnow
from texts.vocabulary import UNKNOWN

# How an instrument is dated, best first: the adoption its text states, else its publication; the
# year its title gives ("Regulation (EU) 2022/868", "Data Privacy Act of 2012"); the entry into
# force its text states (often a year after adoption); the page's date; the day it was first seen.
STATED_FIRST, STATED_LAST = ("adoption", "publication"), ("entry_into_force",)
_TITLE_YEAR = re.compile(r"(?<![\d.])(19[4-9]\d|20\d\d)(?![\d.])")


def _year(value: str | None) -> int | None:
    try:
        return date.fromisoformat(value).year if value else None
    except ValueError:
        return None


def title_year(title: str) -> int | None:
    """The year an instrument's title gives: that of an EU act's number, else the first year
    written in it."""
    for reference in find_references(title):
        if reference.key.startswith("eu:") and reference.key[5:9].isdigit():
            return int(reference.key[5:9])
    found = _TITLE_YEAR.search(title)
    return int(found.group(1)) if found else None


def stated_dates(session: Session) -> dict[int, dict[str, str]]:
    """Instrument id → kind → the earliest date of that kind its latest version states."""
    found: dict[int, dict[str, str]] = {}
    for instrument_id, kind, earliest in session.execute(
            select(KeyDate.instrument_id, KeyDate.kind, func.min(KeyDate.on))
            .join(Instrument, Instrument.id == KeyDate.instrument_id)
            .join(Version, (Version.id == KeyDate.version_id) & (Version.number == Instrument.version_count))
            .where(KeyDate.kind.in_((*STATED_FIRST, *STATED_LAST)))
            .group_by(KeyDate.instrument_id, KeyDate.kind)):
        found.setdefault(instrument_id, {})[kind] = earliest
    return found


def instrument_year(instrument: Instrument, stated: dict[str, str]) -> int:
    """The year of an instrument, by the first of the ways above that gives one."""
    for year in (*(_year(stated.get(kind)) for kind in STATED_FIRST), title_year(instrument.title),
                 *(_year(stated.get(kind)) for kind in STATED_LAST), _year(instrument.published)):
        if year:
            return year
    return instrument.first_seen_at.year


def report_instruments(session: Session, today: date | None = None) -> list[ReportInstrument]:
    """Every instrument with a version, as the report reads it (no text is read), its stage as
    of `today` (default: today) by the rule every view applies."""
    today = today or utcnow().date()
    stated = stated_dates(session)
    repealing = repealed_by(session)
    rows = []
    for instrument, paradigm, stage, lifecycle, classification in session.execute(
            select(Instrument, Version.paradigm, Version.stage, Version.lifecycle, Version.classification)
            .join(Version, (Version.instrument_id == Instrument.id)
                  & (Version.number == Instrument.version_count))
            .order_by(Instrument.id)):
        rows.append(ReportInstrument(
            instrument.uid, instrument.title, instrument.jurisdiction, instrument.level,
            instrument_year(instrument, stated.get(instrument.id, {})),
            paradigm or UNKNOWN, stage_as_of(stage, lifecycle, today),
            driving_dimension(classification),
            instrument.status, tuple(repealing.get(instrument.id, ()))))
    return rows
