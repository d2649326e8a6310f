"""What comes into force when: the key dates of each instrument's latest version, in date order,
as `policywatch calendar` and its iCalendar export list them."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import Session

from storage.models import Instrument, KeyDate, Version
from storage.queries import effective_stage_sql, utc_today
from storage.versions import version_stage


@dataclass(frozen=True)
class CalendarFilter:
    since: date | None = None     # first day listed (inclusive)
    until: date | None = None     # last day listed (inclusive)
    kinds: tuple[str, ...] = ()   # paradigms.key_dates.DATE_KINDS
    jurisdictions: tuple[str, ...] = ()
    sources: tuple[str, ...] = ()
    limit: int | None = None
    today: date | None = None     # what stages are reckoned against (default: today, UTC)


def calendar(session: Session, where: CalendarFilter) -> list[dict]:
    """The key dates of every instrument's latest version, oldest date first: one JSON object
    per date, with the instrument, its stage as of today and the quote that gives the date."""
    stage = effective_stage_sql(Version.stage, Version.lifecycle, where.today or utc_today())
    query = (select(KeyDate, Instrument, Version.number, stage)
             .join(Version, KeyDate.version_id == Version.id)
             .join(Instrument, KeyDate.instrument_id == Instrument.id)
             .where(Version.number == Instrument.version_count)
             .order_by(KeyDate.on, KeyDate.kind, Instrument.uid, KeyDate.id))
    if where.since:
        query = query.where(KeyDate.on >= where.since.isoformat())
    if where.until:
        query = query.where(KeyDate.on <= where.until.isoformat())
    if where.kinds:
        query = query.where(KeyDate.kind.in_(where.kinds))
    if where.jurisdictions:
        query = query.where(Instrument.jurisdiction.in_(where.jurisdictions))
    if where.sources:
        query = query.where(Instrument.source_id.in_(where.sources))
    if where.limit:
        query = query.limit(where.limit)
    return [{"on": row.on, "kind": row.kind, "instrument": instrument.uid, "title": instrument.title,
             "source": instrument.source_id, "jurisdiction": instrument.jurisdiction,
             "level": instrument.level, "language": instrument.language, "url": instrument.url,
             "status": instrument.status, "version": number, "stage": stage_now,
             "quote": row.quote, "provision": row.provision, "basis": row.basis}
            for row, instrument, number, stage_now in session.execute(query)]


def instrument_key_dates(session: Session, instrument_id: int, version_id: int | None = None) -> list[dict]:
    """The key dates of one version of an instrument (default: its latest), in date order."""
    if version_id is None:
        version_id = session.scalar(select(Version.id).where(Version.instrument_id == instrument_id)
                                    .order_by(Version.number.desc()).limit(1))
    rows = session.scalars(select(KeyDate).where(KeyDate.version_id == version_id)
                           .order_by(KeyDate.on, KeyDate.kind, KeyDate.id))
    return [{"on": row.on, "kind": row.kind, "quote": row.quote, "provision": row.provision,
             "basis": row.basis} for row in rows]


def version_lifecycle(version: Version, today: date | None = None) -> dict:
    """A version's stage as of `today` with what decided it, as `show` and the web view give it:
    stage, quote, provision, rule and since (the date behind the stage)."""
    lifecycle = version.lifecycle or {}
    return {"stage": version_stage(version, today or utc_today()),
            "stage_quote": lifecycle.get("quote", ""), "stage_provision": lifecycle.get("provision", ""),
            "stage_rule": lifecycle.get("rule", ""), "stage_since": lifecycle.get("since")}
