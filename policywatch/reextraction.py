"""Re-read stored snapshots with the current extraction rules (after a selector or extractor fix).

The store keeps the raw bytes behind every version, so fixing extraction never needs a new
crawl and never raises a false alert: a text that reads differently becomes a *technical*
version, and the next crawl compares against it.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable

from crawlers.catalogue import Source
from crawlers.extract import extract_document
from storage.compression import MissingReference
from storage.database import Store
from storage.models import Instrument
from storage.queries import instrument_ids, latest_version
from storage.versions import record_reextraction, snapshot_body
from texts.document import ExtractionError


def reextract(store: Store, sources: list[Source],
              report: Callable[[str], None] = lambda line: None) -> Counter:
    """Re-extract the latest snapshot of every instrument of `sources`; count the outcomes."""
    outcomes: Counter = Counter()
    for source in sources:
        with store.sessions() as session:
            ids = instrument_ids(session, source.id)
        for instrument_id in ids:
            with store.transaction() as session:
                instrument = session.get_one(Instrument, instrument_id)
                latest = latest_version(session, instrument_id)
                if latest is None or latest.snapshot is None:
                    outcomes["no snapshot"] += 1
                    continue
                snapshot = latest.snapshot
                try:
                    extracted = extract_document(snapshot_body(snapshot, instrument_id),
                                                 snapshot.headers.get("content-type"),
                                                 source.extract, source.languages, snapshot.url)
                except (ExtractionError, MissingReference) as exc:
                    report(f"{instrument.uid}: {exc}")
                    outcomes["error"] += 1
                    continue
                outcome = record_reextraction(session, instrument, extracted)
                outcomes[outcome] += 1
                if outcome == "technical":
                    report(f"{instrument.uid}: technical version {instrument.version_count}")
    return outcomes
