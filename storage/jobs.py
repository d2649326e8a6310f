"""The daemon's bookkeeping: one row per job run, the daemon's own state row, the crawl runs it
hands to Scrapyd nodes, and the store's upkeep. Each function works inside the caller's
transaction, like those of `storage.runs`.
"""

from __future__ import annotations

from datetime import datetime
from typing import cast

from sqlalchemy import CursorResult, Engine, delete, select, text
from sqlalchemy.orm import Session

from storage.models import CrawlRun, DaemonState, JobRun, utcnow
from texts.vocabulary import JOB_OUTCOMES, JOB_RUNNING

# How a job run ended (JobRun.outcome); `running` until it does.

DETAIL_LIMIT = 500  # characters of a job run's detail: one line in `policywatch status`

DAEMON_STATE_ID = 1  # one daemon state row per store


def start_job_run(session: Session, job_id: str) -> int:
    """Open a job run; its id."""
    run = JobRun(job_id=job_id, started_at=utcnow(), outcome=JOB_RUNNING)
    session.add(run)
    session.flush()
    return run.id


def _job_run(session: Session, run_id: int) -> JobRun:
    run = session.get(JobRun, run_id)
    if run is None:
        raise LookupError(f"no job run {run_id}")
    return run


def set_job_child(session: Session, run_id: int, pid: int) -> None:
    """The job run's crawl child process, so that a crashed daemon's children can be found."""
    _job_run(session, run_id).child_pid = pid


def finish_job_run(session: Session, run_id: int, outcome: str, detail: str | None) -> None:
    """Close a job run with its outcome (one of JOB_OUTCOMES) and a one-line detail."""
    if outcome not in JOB_OUTCOMES or outcome == JOB_RUNNING:
        raise ValueError(f"{outcome!r} is not how a job run ends")
    run = _job_run(session, run_id)
    run.outcome, run.finished_at = outcome, utcnow()
    run.detail = detail[:DETAIL_LIMIT] if detail else detail


def forget_job_runs(session: Session, before: datetime) -> int:
    """Delete job runs started before `before`; how many."""
    result = cast(CursorResult, session.execute(delete(JobRun).where(JobRun.started_at < before)))
    return result.rowcount


def record_node_job(session: Session, job_run_id: int, crawl_run_id: int, where: str) -> None:
    """A check handed to a Scrapyd node: its crawl run and its job run name the node's job
    (`<node url> job <job id>`)."""
    run = session.get(CrawlRun, crawl_run_id)
    if run is None:
        raise LookupError(f"no crawl run {crawl_run_id}")
    run.node = where
    _job_run(session, job_run_id).detail = where


def crawl_run_result(session: Session, run_id: int) -> tuple[str, dict]:
    """(status, stats per source) of a crawl run."""
    run = session.get(CrawlRun, run_id)
    if run is None:
        raise LookupError(f"no crawl run {run_id}")
    return run.status, dict(run.stats or {})


def running_node_runs(session: Session) -> list[tuple[int, str]]:
    """(crawl run id, node) of the runs still 'running' on Scrapyd nodes."""
    return [(run_id, node or "") for run_id, node in session.execute(
        select(CrawlRun.id, CrawlRun.node).where(CrawlRun.status == "running",
                                                 CrawlRun.node.is_not(None)))]


def mark_runs_interrupted(session: Session, run_ids: list[int]) -> None:
    """Runs that will never close themselves (their process or node job is gone)."""
    for run_id in run_ids:
        run = session.get(CrawlRun, run_id)
        if run is not None and run.status == "running":
            run.status = "interrupted"


def daemon_started(session: Session, pid: int) -> None:
    """The daemon `pid` runs on this store from now on."""
    state = session.get(DaemonState, DAEMON_STATE_ID) or DaemonState(id=DAEMON_STATE_ID)
    state.pid, state.started_at, state.stopped_at = pid, utcnow(), None
    state.heartbeat_at = state.started_at
    session.merge(state)


def daemon_heartbeat(session: Session) -> None:
    """The running daemon is still alive."""
    state = session.get(DaemonState, DAEMON_STATE_ID)
    if state is not None:
        state.heartbeat_at = utcnow()


def daemon_stopped(session: Session) -> None:
    """The daemon stopped cleanly."""
    state = session.get(DaemonState, DAEMON_STATE_ID)
    if state is not None:
        state.stopped_at, state.pid = utcnow(), None


def checkpoint_sqlite_wal(engine: Engine) -> None:
    """Fold a SQLite store's write-ahead log back into the database file (other databases:
    nothing to do). Outside any transaction, on a connection of its own."""
    if engine.dialect.name == "sqlite":
        with engine.connect() as connection:
            connection.execute(text("PRAGMA wal_checkpoint(TRUNCATE)"))
