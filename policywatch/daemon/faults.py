"""Faults of the store while the daemon runs: one line each, never a traceback.

A transient fault (the store is busy past its busy timeout, its disk is full or fails to write,
its server is away) is logged once when it begins and once when the store answers again; the
daemon keeps running and the job that met it runs again on its next pass. A fatal fault (the
file is damaged, not a database, read-only or cannot be opened) is logged once and stops the
daemon, which then exits with that line and a non-zero status: retrying cannot repair a file.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import TypeVar

from apscheduler.job import Job
from apscheduler.jobstores.sqlalchemy import SQLAlchemyJobStore

from storage.database import StoreError

log = logging.getLogger(__name__)

RETRY_AFTER = timedelta(seconds=10)  # the scheduler's next look at a store that did not answer

T = TypeVar("T")


class StoreFaults:
    """The faults the daemon met on its store: each new one logged once, the fatal one kept."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._current: tuple[str, str] | None = None  # the transient fault now: its line, where
        self.fatal: StoreError | None = None
        self.fatal_met = threading.Event()

    def met(self, error: StoreError, doing: str) -> None:
        """The store failed while the daemon was `doing` something ("checking eu-edpb")."""
        with self._lock:
            if self.fatal is not None:
                return  # the daemon is stopping on its first fatal fault; that line said it all
            if not error.transient:
                self.fatal = error
                log.error("%s (while %s): the daemon stops", error, doing)
                self.fatal_met.set()
            elif self._current is None or self._current[0] != str(error):
                log.warning("%s (while %s): the daemon carries on and tries again on the next "
                            "pass", error, doing)
                self._current = (str(error), doing)

    def answered(self, doing: str) -> None:
        """`doing` went through: the transient fault it met has passed. (Only the work that met
        it says so: a heartbeat may still be written on a disk too full for a check.)"""
        with self._lock:
            if self._current is not None and self._current[1] == doing and self.fatal is None:
                log.info("the store answers again")
                self._current = None

    def guard(self, doing: str, work: Callable[[], T], otherwise: T) -> T:
        """`work()`, or `otherwise` when the store fails it (the fault is `met`)."""
        try:
            done = work()
        except StoreError as error:
            self.met(error, doing)
            return otherwise
        self.answered(doing)
        return done


class GuardedJobStore(SQLAlchemyJobStore):
    """The scheduler's job store in the store's `apscheduler_jobs` table, whose faults are the
    daemon's one-line faults: without this, the scheduler's thread dies of a fault met while it
    reschedules a job, with a traceback. A job whose new next run could not be written keeps its
    stored one, in the past: it is due again on the scheduler's next look, RETRY_AFTER on."""

    def __init__(self, faults: StoreFaults, **options: object) -> None:
        super().__init__(**options)
        self.faults = faults
        self._retry_at: datetime | None = None

    def get_due_jobs(self, now: datetime) -> list[Job]:
        try:
            jobs = super().get_due_jobs(now)
        except StoreError as error:
            self.faults.met(error, "looking for due jobs")
            self._retry_at = now + RETRY_AFTER
            return []
        self._retry_at = None
        return jobs

    def update_job(self, job: Job) -> None:
        doing = f"rescheduling job {job.id}"
        try:
            super().update_job(job)
        except StoreError as error:  # its stored next run is past: it would be due at once
            self.faults.met(error, doing)
            self._retry_at = datetime.now(UTC) + RETRY_AFTER
            return
        self.faults.answered(doing)

    def get_next_run_time(self) -> datetime | None:
        """The stored next run, but not sooner than a retry after a fault: no loop on it."""
        try:
            stored = super().get_next_run_time()
        except StoreError as error:
            self.faults.met(error, "looking for the next job")
            return self._retry_at or datetime.now(UTC) + RETRY_AFTER
        if stored is None or self._retry_at is None:
            return stored
        return max(stored, self._retry_at)
