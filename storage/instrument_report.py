"""One instrument whole, as `policywatch show --format json` and the web API give it: its
record, its versions (paradigm and lifecycle stage), key dates, links both ways and events,
newest first."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from storage.calendar import instrument_key_dates, version_lifecycle
from storage.links import instrument_links, repealed_by
from storage.models import Instrument
from storage.queries import instrument_events, iso_stamp


def instrument_report(session: Session, found: Instrument) -> dict[str, Any]:
    """The instrument `found` with everything the store holds of it."""
    versions = [{"version": v.number, "recorded_at": iso_stamp(v.recorded_at),
                 "paradigm": v.paradigm or "unknown", "characters": len(v.text),
                 "hash": v.text_hash[:12], "title": v.title, "technical": v.technical,
                 **version_lifecycle(v)}
                for v in sorted(found.versions, key=lambda v: v.number, reverse=True)]
    stage_of = {v["version"]: v["stage"] for v in versions}
    events = [{"detected_at": iso_stamp(e.detected_at), "change": e.kind, "version": e.version_number,
               "baseline": e.baseline, "url": e.url, "previous_url": e.previous_url,
               "paradigm": e.paradigm or "unknown", "previous_paradigm": e.previous_paradigm,
               "provisions": e.provisions, "stage": stage_of.get(e.version_number, e.stage or "unknown"),
               "previous_stage": e.previous_stage}
              for e in instrument_events(session, found.id)]
    return {"instrument": found.uid, "title": found.title, "source": found.source_id,
            "jurisdiction": found.jurisdiction, "level": found.level, "url": found.url,
            "doc_type": found.doc_type, "language": found.language, "published": found.published,
            "status": found.status, "first_seen_at": iso_stamp(found.first_seen_at),
            "versions": versions, "key_dates": instrument_key_dates(session, found.id),
            "links": [row.to_json() for row in instrument_links(session, found.id)],
            "repealed_by": repealed_by(session, [found.id]).get(found.id, []),
            "events": events}
