"""What the web view reads beyond `storage.queries`: a cursor over the history (on top of
`history` itself), and the JSON shapes of `show`, `diff` and `status`.

The shapes are those the command line prints with `--format json`; they belong beside the
queries so that both front ends build them in one place.
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass, replace
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.orm import Session

from alerts.settings import DigestFilter
from policywatch.cli.app import iso
from storage import queries
from storage.models import Instrument
from storage.runs import pid_alive

STAMP = "%Y-%m-%dT%H:%M:%SZ"
_CURSOR = re.compile(r"^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ)\.(\d{1,6})$")


@dataclass(frozen=True)
class Cursor:
    """Where a page of the history ended: the second of its last event, and how many events of
    that second it already showed (events are newest first, ties in a fixed order)."""

    second: datetime
    shown: int

    def encode(self) -> str:
        return f"{self.second.strftime(STAMP)}.{self.shown}"

    @classmethod
    def decode(cls, text: str) -> Cursor:
        """The cursor of `text`, or ValueError naming what is wrong with it."""
        match = _CURSOR.match(text)
        if match is None:
            raise ValueError(f"{text!r} is not a cursor given by a previous page")
        return cls(datetime.strptime(match[1], STAMP), int(match[2]))


def history_page(session: Session, where: queries.HistoryFilter, cursor: Cursor | None,
                 size: int) -> tuple[list[dict], Cursor | None]:
    """One page of `history(where)` after `cursor`, and the cursor of the next page (None on the
    last). The cursor bounds the query by time, so a deep page costs what the first one does."""
    skip, shown, until = 0, 0, where.until
    if cursor is not None:
        bound = cursor.second + timedelta(seconds=1)
        until = min(until, bound) if until else bound
        skip = cursor.shown
    rows = queries.history(session, replace(where, until=until, limit=skip + size + 1))
    if cursor is not None:
        stamp = cursor.second.strftime(STAMP)
        shown = next((i for i, row in enumerate(rows[:skip]) if row["detected_at"] != stamp), skip)
        rows = rows[shown:]
    page = rows[:size]
    if len(rows) <= size:
        return page, None
    last = page[-1]["detected_at"]
    same = sum(1 for row in page if row["detected_at"] == last)
    if cursor is not None and same == len(page) and cursor.second.strftime(STAMP) == last:
        same += shown
    return page, Cursor(datetime.strptime(last, STAMP), same)


def subscription_events(session: Session, wanted: DigestFilter, size: int) -> list[dict]:
    """The newest `size` events a subscription's digest would carry: `wanted.accepts` decides, as
    it does for the digest; the query is narrowed by the filter's jurisdictions and sources
    first, so a selective subscription does not read the whole history."""
    where = queries.HistoryFilter(jurisdictions=wanted.jurisdictions, sources=wanted.sources)
    chosen: list[dict] = []
    cursor: Cursor | None = None
    while True:
        rows, cursor = history_page(session, where, cursor, size)
        chosen += [row for row in rows if wanted.accepts(row)]
        if len(chosen) >= size or cursor is None:
            return chosen[:size]


def instrument_json(session: Session, found: Instrument) -> dict[str, Any]:
    """One instrument as `policywatch show --format json` gives it: metadata, versions and events
    (newest first)."""
    versions = [{"version": v.number, "recorded_at": iso(v.recorded_at),
                 "paradigm": v.paradigm or "unknown", "characters": len(v.text),
                 "hash": v.text_hash[:12], "title": v.title, "technical": v.technical}
                for v in sorted(found.versions, key=lambda v: v.number, reverse=True)]
    events = [{"detected_at": iso(e.detected_at), "change": e.kind, "version": e.version_number,
               "baseline": e.baseline, "url": e.url, "previous_url": e.previous_url,
               "paradigm": e.paradigm or "unknown", "previous_paradigm": e.previous_paradigm,
               "provisions": e.provisions}
              for e in queries.instrument_events(session, found.id)]
    return {"instrument": found.uid, "title": found.title, "source": found.source_id,
            "jurisdiction": found.jurisdiction, "level": found.level, "url": found.url,
            "doc_type": found.doc_type, "language": found.language, "published": found.published,
            "status": found.status, "first_seen_at": iso(found.first_seen_at),
            "versions": versions, "events": events}


def status_json(session: Session) -> dict[str, Any]:
    """What `policywatch status --format json` gives: sources (with their last run's coverage
    warnings), daemon, digests and outbox."""
    next_runs = {job: iso(moment) for job, moment in queries.scheduled_jobs(session).items()}
    sources = [{"source": h.source.id, "jurisdiction": h.source.jurisdiction,
                "instruments": h.instruments, "last_check": iso(h.source.last_attempt_at),
                "last_success": iso(h.source.last_success_at),
                "failures": h.source.consecutive_failures, "error_kind": h.source.last_error_kind,
                "last_error": h.source.last_error, "next_run": next_runs.get(f"check:{h.source.id}"),
                "warnings": [asdict(w) for w in h.warnings]}
               for h in queries.source_health(session)]
    daemon = queries.daemon_state(session)
    last_jobs = queries.last_job_outcomes(session)
    running = bool(daemon and daemon.pid and daemon.started_at and pid_alive(daemon.pid))
    digests = [{"job": job, "next_run": next_runs[job],
                "last_outcome": last_jobs[job][0] if job in last_jobs else None,
                "last_detail": last_jobs[job][1] if job in last_jobs else None}
               for job in sorted(job for job in next_runs if job.startswith("digest:"))]
    return {"sources": sources,
            "daemon": {"running": running, "pid": daemon.pid if daemon else None,
                       "started_at": iso(daemon.started_at) if daemon else None,
                       "heartbeat_at": iso(daemon.heartbeat_at) if daemon else None,
                       "stopped_at": iso(daemon.stopped_at) if daemon else None},
            "digests": digests, "outbox": queries.outbox_counts(session)}
