"""Crawl runs, sources and their health: opening and closing runs, the problems they met, and
what each source's health says afterwards. Each function works inside the caller's transaction.
"""

from __future__ import annotations

import fcntl
import os
from collections.abc import Mapping
from datetime import datetime
from pathlib import Path
from typing import Protocol, TextIO

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from storage.models import CrawlRun, Instrument, Problem, Source, utcnow
from texts.vocabulary import TRANSIENT


class DeclaredSource(Protocol):
    """What the store keeps of a source's declaration."""

    id: str
    name: str
    jurisdiction: str
    level: str


class PidFileHeld(Exception):
    """Another process holds the pid file; `holder` is the pid written in it ('?' if none)."""

    def __init__(self, holder: str) -> None:
        super().__init__(holder)
        self.holder = holder


def hold_pid_file(path: Path) -> TextIO:
    """An exclusive lock on `path`, with this process's pid written in it, held until the file
    returned is closed (the kernel releases it however the process ends); PidFileHeld naming
    the holder otherwise. OSError when the file cannot be opened."""
    handle = open(path, "a+")  # noqa: SIM115 (held by the caller)
    try:
        fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        handle.seek(0)
        holder = handle.read().strip() or "?"
        handle.close()
        raise PidFileHeld(holder) from None
    handle.seek(0)
    handle.truncate()
    handle.write(f"{os.getpid()}\n")
    handle.flush()
    return handle


def pid_alive(pid: int) -> bool:
    """Is a process with this pid running (on this machine)?"""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def record_problem(session: Session, run_id: int | None, source_id: str, url: str | None,
                   kind: str, message: str, now: datetime | None = None,
                   severity: str = "error") -> None:
    """One problem a check met; an `error` makes the source unhealthy, a `warning` (a dead link
    on a listing) is shown but does not."""
    session.add(Problem(run_id=run_id, source_id=source_id, url=url, kind=kind, severity=severity,
                        message=message[:2000], at=now or utcnow()))


def upsert_source(session: Session, *, id: str, name: str, jurisdiction: str, level: str,
                  declaration_file: str | None) -> None:
    source = session.get(Source, id) or Source(id=id, consecutive_failures=0,
                                                baseline_complete=False)
    source.name, source.jurisdiction, source.level = name, jurisdiction, level
    source.declaration_file = declaration_file
    session.merge(source)


def mark_dead_runs_interrupted(session: Session, own_pid: int | None = None) -> None:
    """Local runs left 'running' by a process that is gone (or by `own_pid`, whose earlier run
    cannot still be going) are 'interrupted'. A run on a Scrapyd node is judged by the daemon
    that polls its job, not by a pid here."""
    for stale in session.scalars(select(CrawlRun).where(CrawlRun.status == "running",
                                                        CrawlRun.node.is_(None))):
        if stale.pid is None or not pid_alive(stale.pid) or stale.pid == own_pid:
            stale.status = "interrupted"


def start_run(session: Session, source_ids: list[str], pid: int | None, node: str | None = None) -> int:
    """Open a crawl run, after marking the runs of dead local processes interrupted."""
    mark_dead_runs_interrupted(session, own_pid=pid)
    run = CrawlRun(sources=source_ids, pid=pid, node=node, status="running", started_at=utcnow())
    session.add(run)
    session.flush()
    return run.id


def _record_health(source: Source, failure: str | None, kind: str | None, now: datetime) -> None:
    """A check of `source` ended at `now`, healthy when `failure` is None."""
    source.last_attempt_at = now
    if failure is None:
        source.last_success_at, source.consecutive_failures = now, 0
        source.last_error = source.last_error_kind = None
    else:
        source.consecutive_failures = (source.consecutive_failures or 0) + 1
        source.last_error, source.last_error_kind = failure, kind


def finish_run(session: Session, run_id: int, stats: dict) -> None:
    """Close a run and update each crawled source's health from the problems it met."""
    now = utcnow()
    run = session.get(CrawlRun, run_id)
    if run is None:
        raise LookupError(f"no crawl run {run_id}")
    run.status, run.finished_at, run.stats = "finished", now, stats
    for source_id in run.sources:
        source = session.get(Source, source_id)
        if source is None:
            continue
        failure = session.scalar(select(Problem).where(
            Problem.run_id == run_id, Problem.source_id == source_id,
            Problem.severity == "error").order_by(Problem.id).limit(1))
        if failure is None:
            _record_health(source, None, None, now)
        else:
            message = f"{failure.url}: {failure.message}" if failure.url else failure.message
            _record_health(source, message, failure.kind, now)
        has_instruments = session.scalar(select(func.count(Instrument.id)).where(
            Instrument.source_id == source_id))
        if failure is None or has_instruments:
            source.baseline_complete = True


def record_killed_crawl(session: Session, source_ids: list[str], pid: int | None, message: str,
                        run_id: int | None = None,
                        declared: Mapping[str, DeclaredSource] | None = None) -> None:
    """A crawl that hung or crashed: its run (by id, else the running one of `pid`) is marked
    killed and each source's health says why (a source of `declared` that the crawl had not yet
    registered still gets a health row)."""
    now = utcnow()
    for source_id in source_ids:
        if session.get(Source, source_id) is None and declared and source_id in declared:
            known = declared[source_id]
            upsert_source(session, id=known.id, name=known.name, jurisdiction=known.jurisdiction,
                          level=known.level, declaration_file=None)
    session.flush()
    if run_id is not None:
        run = session.get(CrawlRun, run_id)
    else:
        run = session.scalar(select(CrawlRun).where(CrawlRun.pid == pid,
                                                    CrawlRun.status == "running"))
    if run is not None and run.status == "running":
        run.status, run.finished_at = "killed", now
    for source_id in source_ids:
        record_problem(session, run.id if run else None, source_id, None, TRANSIENT, message, now)
        source = session.get(Source, source_id)
        if source is not None:
            _record_health(source, message, TRANSIENT, now)
