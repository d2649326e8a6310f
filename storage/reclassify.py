"""Re-run the classifier over the stored history without creating change events."""

from __future__ import annotations

from sqlalchemy import select

from paradigms.classifier import classify_text
from paradigms.shifts import version_shift
from storage import trend_spans
from storage.database import Store
from storage.models import ChangeEvent, Instrument, Version


def reclassify_store(store: Store) -> dict[str, int]:
    """Classify every version again; refresh each event's paradigm, previous paradigm and shift.
    One transaction per instrument."""
    counts = {"versions": 0, "relabelled": 0, "events": 0}
    with store.sessions() as session:
        ids = session.scalars(select(Instrument.id).order_by(Instrument.id)).all()
    for instrument_id in ids:
        with store.transaction() as session:
            versions = session.scalars(select(Version).where(Version.instrument_id == instrument_id)
                                       .order_by(Version.number)).all()
            by_number = {}
            for version in versions:
                classification = classify_text(version.text).to_json()
                counts["versions"] += 1
                counts["relabelled"] += version.paradigm != classification["paradigm"]
                version.paradigm, version.classification = classification["paradigm"], classification
                by_number[version.number] = version
            for event in session.scalars(select(ChangeEvent).where(
                    ChangeEvent.instrument_id == instrument_id)):
                current = by_number.get(event.version_number)
                previous = by_number.get(event.version_number - 1)
                event.paradigm = current.paradigm if current else None
                if event.kind in ("amended", "restored", "technical") and event.provisions:
                    event.previous_paradigm = previous.paradigm if previous else None
                    refs = (event.provisions.get("added", []) + event.provisions.get("removed", [])
                            + [m["ref"] for m in event.provisions.get("modified", [])])
                    event.shift = version_shift(previous.classification if previous else None,
                                                (current.classification if current else None) or {}, refs)
                counts["events"] += 1
    with store.transaction() as session:
        trend_spans.reset(session)  # old versions may be relabelled: the trends' spans start over
    trend_spans.advance(store)
    return counts
