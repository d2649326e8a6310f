"""Re-run the classifier and the lifecycle reader over the stored history without creating change
events."""

from __future__ import annotations

from sqlalchemy import func, select

from paradigms.classifier import classify_text
from paradigms.shifts import version_shift
from storage import trend_spans
from storage.database import Store
from storage.links import relink_store
from storage.models import ChangeEvent, Instrument, KeyDate, Version, utcnow
from storage.versions import read_lifecycle, version_stage
from texts.vocabulary import STAGE


def reclassify_store(store: Store) -> dict[str, int]:
    """Classify every version again and read its lifecycle stage and key dates again (which also
    fills them in a store recorded before stages were read); refresh each event's paradigm,
    previous paradigm, shift and stage. One transaction per instrument."""
    counts = {"versions": 0, "relabelled": 0, "events": 0, "stages": 0, "key_dates": 0}
    today = utcnow().date()
    with store.sessions() as session:
        ids = session.scalars(select(Instrument.id).order_by(Instrument.id)).all()
    for instrument_id in ids:
        with store.transaction() as session:
            instrument = session.get(Instrument, instrument_id)
            published = instrument.published if instrument else None
            versions = session.scalars(select(Version).where(Version.instrument_id == instrument_id)
                                       .order_by(Version.number)).all()
            by_number = {}
            for version in versions:
                classification = classify_text(version.text).to_json()
                counts["versions"] += 1
                counts["relabelled"] += version.paradigm != classification["paradigm"]
                version.paradigm, version.classification = classification["paradigm"], classification
                before = version.stage
                read_lifecycle(session, version, published, today)
                counts["stages"] += before != version.stage
                by_number[version.number] = version
            counts["key_dates"] += session.scalar(select(func.count(KeyDate.id)).where(
                KeyDate.instrument_id == instrument_id)) or 0
            for event in session.scalars(select(ChangeEvent).where(
                    ChangeEvent.instrument_id == instrument_id)):
                current = by_number.get(event.version_number)
                previous = by_number.get(event.version_number - 1)
                event.paradigm = current.paradigm if current else None
                event.stage = version_stage(current, today)
                if event.kind == STAGE:
                    event.previous_stage = version_stage(previous, today)
                if event.kind in ("amended", "restored", "technical") and event.provisions:
                    event.previous_paradigm = previous.paradigm if previous else None
                    refs = (event.provisions.get("added", []) + event.provisions.get("removed", [])
                            + [m["ref"] for m in event.provisions.get("modified", [])])
                    event.shift = version_shift(previous.classification if previous else None,
                                                (current.classification if current else None) or {}, refs)
                counts["events"] += 1
    counts["links"] = relink_store(store)["links"]  # links between instruments, read again
    with store.transaction() as session:
        trend_spans.reset(session)  # old versions may be relabelled: the trends' spans start over
    trend_spans.advance(store)
    return counts
