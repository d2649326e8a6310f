"""The trends' spans: one per change of label, kept up to date incrementally, the same trends as
reading every version."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import func, select

from paradigms.trends import compute_trends
from storage import trend_spans
from storage.models import Instrument, Source, TrendSpan, Version
from storage.queries import trend_histories


def add_versions(store, labels: dict[str, list[tuple[str, str | None]]]) -> None:
    """labels: instrument uid -> [(ISO day, paradigm)] appended as its next versions."""
    with store.transaction() as session:
        if session.get(Source, "eu-test") is None:
            session.add(Source(id="eu-test", name="EU test", jurisdiction="EU", level="supranational"))
        for uid, versions in labels.items():
            instrument = session.scalar(select(Instrument).where(Instrument.uid == uid))
            if instrument is None:
                instrument = Instrument(uid=uid, source_id="eu-test", url=f"https://example.eu/{uid}",
                                        title=uid, jurisdiction="EU", level="supranational",
                                        first_seen_at=datetime.fromisoformat(versions[0][0]))
                session.add(instrument)
                session.flush()
            for day, paradigm in versions:
                instrument.version_count += 1
                session.add(Version(instrument_id=instrument.id, number=instrument.version_count,
                                    text=f"{uid} {day}", text_hash=f"{uid}{day}", paradigm=paradigm,
                                    recorded_at=datetime.fromisoformat(day)))


def labels_by_uid(store) -> dict[str, tuple]:
    with store.sessions() as session:
        return {h.uid: h.labels for h in trend_histories(session)}


def span_rows(store) -> int:
    with store.sessions() as session:
        return session.scalar(select(func.count()).select_from(TrendSpan)) or 0


HISTORY = {
    "a": [("2023-01-05", "prudent"), ("2023-06-01", "prudent"), ("2024-02-01", "restrictive"),
          ("2025-03-01", "restrictive")],
    "b": [("2023-03-01", None), ("2024-01-01", "facilitation")],
    "c": [("2024-05-01", "restrictive"), ("2024-06-01", "prudent"), ("2024-07-01", "restrictive")],
}
EXPECTED = {
    "a": ((date(2023, 1, 5), "prudent"), (date(2024, 2, 1), "restrictive")),
    "b": ((date(2023, 3, 1), "unknown"), (date(2024, 1, 1), "facilitation")),
    "c": ((date(2024, 5, 1), "restrictive"), (date(2024, 6, 1), "prudent"), (date(2024, 7, 1), "restrictive")),
}


def test_a_label_kept_by_amendments_is_one_span_and_a_return_to_it_is_another(store):
    add_versions(store, HISTORY)
    assert labels_by_uid(store) == EXPECTED  # read from the versions: nothing advanced yet
    assert trend_spans.advance(store) == 9
    assert span_rows(store) == 7
    assert labels_by_uid(store) == EXPECTED  # read from the spans
    assert trend_spans.advance(store) == 0   # nothing new to fold in


def test_versions_recorded_after_the_last_advance_count_before_it_runs_again(store):
    add_versions(store, HISTORY)
    trend_spans.advance(store)
    add_versions(store, {"a": [("2025-09-01", "restrictive"), ("2026-01-10", "facilitation")],
                         "d": [("2026-02-01", "prudent")]})
    expected = {**EXPECTED, "a": (*EXPECTED["a"], (date(2026, 1, 10), "facilitation")),
                "d": ((date(2026, 2, 1), "prudent"),)}
    assert labels_by_uid(store) == expected   # the spans plus the versions not folded in
    assert trend_spans.advance(store) == 3
    assert span_rows(store) == 9
    assert labels_by_uid(store) == expected


def test_reset_after_relabelling_rebuilds_the_spans(store):
    add_versions(store, HISTORY)
    trend_spans.advance(store)
    with store.transaction() as session:  # a reclassification relabels an old version
        version = session.scalar(select(Version).join(Instrument).where(Instrument.uid == "a",
                                                                        Version.number == 2))
        version.paradigm = "facilitation"
        trend_spans.reset(session)
    assert trend_spans.advance(store) == 9
    assert labels_by_uid(store)["a"] == ((date(2023, 1, 5), "prudent"), (date(2023, 6, 1), "facilitation"),
                                         (date(2024, 2, 1), "restrictive"))


def test_trends_from_spans_equal_trends_from_every_version(store):
    add_versions(store, HISTORY)
    with store.sessions() as session:
        before = compute_trends(trend_histories(session), "year")
    trend_spans.advance(store)
    with store.sessions() as session:
        after = compute_trends(trend_histories(session), "year")
    assert before == after
    assert [p.period for p in after[0]] == ["2023", "2024", "2025"]
    assert after[0][-1].counts["restrictive"] == 2 and after[0][-1].counts["facilitation"] == 1
