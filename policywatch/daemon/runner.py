"""The runner: one daemon on one store. It owns the scheduler (APScheduler 3 in threads, its jobs
kept in the store), the store, the configuration and catalogue, the crawl children and the pid
lock, and it does the work each job names: check a source, send a digest, retry the outbox,
keep house.
"""

from __future__ import annotations

import logging
import os
import signal
import sys
import threading
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from apscheduler.executors.pool import ThreadPoolExecutor
from apscheduler.schedulers.background import BackgroundScheduler

from crawlers.catalogue import Catalogue, Source, load_catalogue, sources_to_json
from policywatch.config import Config, ConfigError, load_config
from policywatch.crawl_child import CrawlRequest
from policywatch.daemon.children import await_crawl_child, start_crawl_child
from policywatch.daemon.faults import GuardedJobStore, StoreFaults
from policywatch.daemon.host_turns import HostTurns
from policywatch.daemon.jobs import RUNNERS
from policywatch.daemon.lock import PidLock, pid_file_for
from policywatch.daemon.nodes import check_store_reachable_from_nodes, settle_node_runs, wait_for_job
from policywatch.daemon.planning import (
    ScheduledJob,
    check_job_id,
    digest_job_id,
    job_changes,
    may_start,
    plan_jobs,
    politeness_hosts,
    store_key,
)
from policywatch.forking import ForkedChild, start_fork_server
from policywatch.scrapyd import NodeError, configured_nodes, least_busy
from storage import jobs, runs
from storage.database import Store, StoreError
from storage.models import utcnow
from texts.vocabulary import JOB_FAILED, JOB_KILLED, JOB_OK

log = logging.getLogger(__name__)

MISFIRE_GRACE = 3600  # seconds: a run missed while the daemon was down still happens after restart
STOP_GRACE = 30.0  # seconds crawl children get to finish after the daemon's SIGTERM
HEARTBEAT = 1.0  # seconds between two heartbeats (and two looks at the reload clock)
JOB_RUNS_KEPT = timedelta(days=90)
JOB_STORE = "default"  # the scheduler's one job store: the store's `apscheduler_jobs` table


@dataclass(frozen=True)
class DaemonOptions:
    """What the daemon was started with; a reload re-reads the configuration and the catalogue
    from the same places."""

    config_path: str | None
    db_url: str | None  # None: the configuration's, else the default store
    source_paths: tuple[str, ...] = ()
    reload_every: float | None = None
    crawl_timeout: float = 1800.0
    workers: int = 2
    pid_file: Path | None = None  # None: the store's pid file in the user's data directory


def load_settings(options: DaemonOptions) -> tuple[Config, Catalogue]:
    """The configuration and the catalogue, each declaration error logged."""
    config = load_config(options.config_path)
    paths = [Path(p) for p in options.source_paths] or list(config.sources) or None
    catalogue = load_catalogue(paths)
    for error in catalogue.errors:
        log.error("declaration: %s", error)
    return config, catalogue


def describe_counts(counts: Mapping[str, int]) -> str:
    """A check's outcome counts in one line: `new 2 unchanged 5`."""
    return " ".join(f"{outcome} {n}" for outcome, n in counts.items() if n) or "nothing to do"


class Runner:
    """One daemon on one store. `start`, then `serve` until asked to stop, then `stop`; the job
    methods (`check_source`, `send_digest`, `retry_outbox`, `housekeeping`) may also be called
    directly, without the scheduler running."""

    def __init__(self, options: DaemonOptions, store: Store, config: Config,
                 catalogue: Catalogue) -> None:
        self.options = options
        self.store = store
        self.config = config
        self.catalogue = catalogue
        self.key = store_key(store.url)
        self.lock = PidLock(options.pid_file or pid_file_for(store.url))
        self.stopping = threading.Event()
        self._children: dict[int, ForkedChild] = {}
        self._children_lock = threading.Lock()
        self.host_turns = HostTurns()  # checks whose sources share a host take turns
        self.faults = StoreFaults()  # a fault of the store: one line; a fatal one stops `serve`
        job_store = GuardedJobStore(self.faults, engine=store.engine, tablename="apscheduler_jobs")
        self.scheduler = BackgroundScheduler(
            jobstores={JOB_STORE: job_store},
            executors={"default": ThreadPoolExecutor(options.workers)}, timezone=UTC,
            job_defaults={"coalesce": True, "max_instances": 1, "misfire_grace_time": MISFIRE_GRACE})

    @classmethod
    def open(cls, options: DaemonOptions) -> Runner:
        """Read the configuration and the catalogue and open (and migrate) the store."""
        config, catalogue = load_settings(options)
        store = Store(options.db_url or config.db)
        try:
            check_store_reachable_from_nodes(config, store.url)
        except BaseException:
            store.close()
            raise
        return cls(options, store, config, catalogue)

    # --- lifecycle ----------------------------------------------------------------------------

    def start(self) -> None:
        """Take the store's lock (DaemonError if another daemon holds it), settle what a previous
        daemon left, bring the jobs up to date while the scheduler is paused (so that a missed run
        is not lost), then let them run."""
        self.lock.acquire()
        RUNNERS.register(self)
        if not self.config.scrapyd.nodes:
            start_fork_server()  # it imports the crawl while the daemon settles in
        settle_node_runs(self.store, self.config.scrapyd)
        self.scheduler.start(paused=True)
        self.sync_jobs()
        with self.store.transaction() as session:
            jobs.daemon_started(session, os.getpid())
        self.scheduler.resume()
        log.info("daemon started (pid %d): %d sources, %d subscriptions, store %s", os.getpid(),
                 len(self.catalogue.sources), len(self.config.subscriptions), self.store.url)

    def serve(self, stop_requested: threading.Event, reload_requested: threading.Event) -> None:
        """Beat the heart until `stop_requested` or a fatal fault of the store; reload when
        `reload_requested` (SIGHUP) or when the reload interval has passed."""
        last_reload = time.monotonic()
        while not stop_requested.is_set() and not self.faults.fatal_met.is_set():
            stop_requested.wait(HEARTBEAT)
            every = self.options.reload_every
            if every and time.monotonic() - last_reload >= every:
                reload_requested.set()
            if reload_requested.is_set() and not stop_requested.is_set():
                reload_requested.clear()
                last_reload = time.monotonic()
                self.faults.guard("reloading", self.reload, None)
            self.faults.guard("beating the heart", self._heartbeat, None)

    def _heartbeat(self) -> None:
        with self.store.transaction() as session:
            jobs.daemon_heartbeat(session)

    def reload(self) -> None:
        """Re-read the configuration and the catalogue and bring the jobs up to date; a broken
        configuration keeps the jobs we have."""
        try:
            config, catalogue = load_settings(self.options)
        except (ConfigError, OSError) as exc:
            log.error("reload failed, keeping the current jobs: %s", exc)
            return
        self.config, self.catalogue = config, catalogue
        self.sync_jobs()
        log.info("reloaded: %d sources, %d subscriptions", len(catalogue.sources),
                 len(config.subscriptions))

    def sync_jobs(self) -> None:
        """Add missing jobs, retarget and reschedule changed ones, remove those no longer wanted."""
        planned = plan_jobs(self.key, self.catalogue.sources, self.config.subscriptions,
                            datetime.now(UTC))
        scheduled = {job.id: ScheduledJob(job.func_ref, str(job.trigger), tuple(job.args))
                     for job in self.scheduler.get_jobs()}
        changes = job_changes(scheduled, planned)
        for job_id in changes.remove:
            self.scheduler.remove_job(job_id)
            log.info("job %s removed", job_id)
        for job in changes.add:
            self.scheduler.add_job(job.function, job.trigger, args=job.args, id=job.id, name=job.id)
            log.info("job %s added (%s)", job.id, job.trigger)
        for job in changes.retarget:
            self.scheduler.modify_job(job.id, func=job.function, args=job.args)
        for job in changes.reschedule:
            self.scheduler.reschedule_job(job.id, trigger=job.trigger)
            log.info("job %s rescheduled (%s)", job.id, job.trigger)

    def stop(self) -> None:
        """Stop cleanly: no new job starts, each crawl child gets one SIGTERM and STOP_GRACE
        seconds (then SIGKILL), running jobs end, runs left behind are marked interrupted."""
        self.stopping.set()
        self.host_turns.wake()
        self.scheduler.pause()
        # Detach the job store (its jobs stay in the database): a pass of the scheduler that
        # wakes while it shuts down then has no due job to hand to a closing executor.
        self.scheduler.remove_jobstore(JOB_STORE, shutdown=False)
        self._stop_children()
        self.scheduler.shutdown(wait=True)
        self.faults.guard("stopping", self._record_stop, None)
        self.close()
        log.info("daemon stopped")

    def _record_stop(self) -> None:
        with self.store.transaction() as session:
            runs.mark_dead_runs_interrupted(session)
            jobs.daemon_stopped(session)

    def close(self) -> None:
        """Let go of the scheduler, the registry entry, the lock and the store."""
        if self.scheduler.running:
            self.scheduler.shutdown(wait=False)
        RUNNERS.unregister(self)
        self.lock.release()
        self.store.close()

    def _stop_children(self) -> None:
        with self._children_lock:
            children = list(self._children.values())
        for child in children:  # one SIGTERM each: Scrapy finishes cleanly; twice would not
            child.signal_group(signal.SIGTERM)
        deadline = time.monotonic() + STOP_GRACE
        for child in children:
            if not child.wait(max(0.1, deadline - time.monotonic())):
                child.signal_group(signal.SIGKILL)

    # --- jobs -----------------------------------------------------------------------------------

    def check_source(self, source_id: str) -> None:
        """Check one source once: in a crawl child here, or on the least busy Scrapyd node when
        the configuration names nodes; bounded by the crawl timeout either way. A check whose
        source shares a host with a check running now waits for that one to end (`HostTurns`)."""
        if self.stopping.is_set():
            return
        config, catalogue = self.config, self.catalogue  # one reading, whatever a reload does
        source = catalogue.by_id().get(source_id)
        if source is None:
            self._finish_job(self._start_job(check_job_id(source_id)), JOB_FAILED,
                             "no longer declared")
            return
        hosts = politeness_hosts(source)
        if not may_start(hosts, self.host_turns.busy()):
            log.info("check %s waits for its turn on %s", source_id, ", ".join(sorted(hosts)))
        with self.host_turns.turn(hosts, self.stopping) as started:
            if not started:
                log.info("check %s not started: the daemon is stopping", source_id)
                return
            job_run = self._start_job(check_job_id(source_id))
            if config.scrapyd.nodes:
                self._check_on_node(config, catalogue, source, job_run)
            else:
                self._check_in_child(config, catalogue, source, job_run)

    def _check_in_child(self, config: Config, catalogue: Catalogue, source: Source,
                        job_run: int) -> None:
        request = CrawlRequest(self.store.url, config.crawl, source, catalogue.files[source.id])
        timeout = self.options.crawl_timeout
        started = time.monotonic()
        child = start_crawl_child(request)
        with self._children_lock:
            self._children[child.pid] = child
        try:
            with self.store.transaction() as session:
                jobs.set_job_child(session, job_run, child.pid)
            log.info("check %s started (child %d)", source.id, child.pid)
            outcome = await_crawl_child(child, timeout)
        except BaseException:
            child.terminate()
            raise
        finally:
            with self._children_lock:
                self._children.pop(child.pid, None)
        if outcome.timed_out:
            message = f"crawl killed after {timeout:g} s (timeout)"
            self._record_killed(catalogue, source.id, child.pid, message)
            self._finish_job(job_run, JOB_KILLED, message)
            log.warning("check %s killed: %s", source.id, message)
        elif outcome.report is not None:
            detail = describe_counts(outcome.report.counts.get(source.id, {}))
            self._finish_job(job_run, JOB_OK, detail)
            log.info("check %s done in %.1f s: %s", source.id, time.monotonic() - started, detail)
        elif self.stopping.is_set():
            self._finish_job(job_run, JOB_FAILED, "stopped with the daemon")
            log.warning("check %s stopped with the daemon (exit %s)", source.id, outcome.returncode)
        else:
            self._record_killed(catalogue, source.id, child.pid, f"crawl failed: {outcome.error}")
            self._finish_job(job_run, JOB_FAILED, outcome.error)
            log.warning("check %s failed (exit %s): %s", source.id, outcome.returncode, outcome.error)

    def _check_on_node(self, config: Config, catalogue: Catalogue, source: Source,
                       job_run: int) -> None:
        """Schedule the crawl on the least busy Scrapyd node, poll its job until it ends or times
        out, and record the outcome as for a local child. The crawl itself writes to the store
        and closes its run (crawlers.extensions.FinishRun)."""
        from policywatch.crawling import crawl_overrides

        settings = config.scrapyd
        with self.store.transaction() as session:
            runs.upsert_source(session, id=source.id, name=source.name,
                               jurisdiction=source.jurisdiction, level=source.level,
                               declaration_file=catalogue.files[source.id])
            crawl_run = runs.start_run(session, [source.id], None, node="(scheduling)")
        store_url = settings.db or self.store.url
        try:
            node, unanswered = least_busy(configured_nodes(settings))
            for line in unanswered:
                log.warning("%s", line)
            job = node.schedule(
                {**crawl_overrides(config.crawl, store_url, crawl_run, False),
                 "POLICYWATCH_FINISH_RUN": 1},
                {"db": store_url, "declarations": sources_to_json([source])})
        except NodeError as exc:
            self._record_killed(catalogue, source.id, None, f"not scheduled: {exc}", crawl_run)
            self._finish_job(job_run, JOB_FAILED, str(exc))
            log.warning("check %s not scheduled: %s", source.id, exc)
            return
        where = f"{node.url} job {job}"
        with self.store.transaction() as session:
            jobs.record_node_job(session, job_run, crawl_run, where)
        log.info("check %s scheduled on %s", source.id, where)
        outcome = wait_for_job(node, job, self.options.crawl_timeout, settings.poll, self.stopping)
        with self.store.sessions() as session:
            status, stats = jobs.crawl_run_result(session, crawl_run)
        if status == "finished" and outcome == "finished":
            detail = describe_counts(stats.get(source.id, {}))
            self._finish_job(job_run, JOB_OK, f"{where}: {detail}")
            log.info("check %s done on %s: %s", source.id, where, detail)
            return
        if outcome == "timeout":
            message = f"crawl on {where} cancelled after {self.options.crawl_timeout:g} s (timeout)"
            kind = JOB_KILLED
        elif self.stopping.is_set():
            message, kind = f"crawl on {where} cancelled: the daemon stopped", JOB_FAILED
        else:
            message = f"crawl on {where} ended without closing its run (log: {node.log_url(job)})"
            kind = JOB_FAILED
        if status != "finished" or outcome == "timeout":  # a cancelled crawl is a failed check
            self._record_killed(catalogue, source.id, None, message, crawl_run)
        self._finish_job(job_run, kind, message)
        log.warning("check %s %s: %s", source.id, kind, message)

    def send_digest(self, name: str) -> None:
        """Build the subscription's digest for its next window (from where its previous digest
        ended to now), queue it, send what is pending."""
        from alerts.outbox import send_pending
        from policywatch.digests import build_digest, default_window, queue_digest

        if self.stopping.is_set():
            return
        config = self.config
        subscription = config.subscription(name)
        if subscription is None:
            return
        job_run = self._start_job(digest_job_id(name))
        since, until = default_window(subscription, store=self.store)
        built, message, _ = build_digest(self.store, subscription, since, until, config.smtp,
                                         base_url=config.web.base_url)
        digest_id, _ = queue_digest(self.store, subscription, since, until, built, message)
        results = send_pending(self.store, config.smtp, only=digest_id) if digest_id else []
        outcome = JOB_OK if all(r.status == "sent" for r in results) else JOB_FAILED
        detail = "; ".join(f"digest {r.digest_id}: {r.status}" + (f" ({r.error})" if r.error else "")
                           for r in results) or "nothing changed: not sent"
        self._finish_job(job_run, outcome, detail)
        log.info("digest %s: %s", name, detail)

    def retry_outbox(self) -> None:
        """Try the pending digests again."""
        from alerts.outbox import send_pending

        if self.stopping.is_set():
            return
        for result in send_pending(self.store, self.config.smtp):
            log.info("outbox: digest %d %s%s", result.digest_id, result.status,
                     f" ({result.error})" if result.error else "")

    def housekeeping(self) -> None:
        """Mark runs of dead processes and ended node jobs interrupted; forget job runs older than
        JOB_RUNS_KEPT; fold the SQLite WAL back into the database."""
        with self.store.transaction() as session:
            runs.mark_dead_runs_interrupted(session)
        settle_node_runs(self.store, self.config.scrapyd)
        with self.store.transaction() as session:
            forgotten = jobs.forget_job_runs(session, utcnow() - JOB_RUNS_KEPT)
        jobs.checkpoint_sqlite_wal(self.store.engine)
        log.info("housekeeping done: %d old job run(s) forgotten", forgotten)

    # --- bookkeeping --------------------------------------------------------------------------

    def _start_job(self, job_id: str) -> int:
        with self.store.transaction() as session:
            return jobs.start_job_run(session, job_id)

    def _finish_job(self, job_run: int, outcome: str, detail: str | None) -> None:
        with self.store.transaction() as session:
            jobs.finish_job_run(session, job_run, outcome, detail)

    def _record_killed(self, catalogue: Catalogue, source_id: str, pid: int | None, message: str,
                       crawl_run: int | None = None) -> None:
        """A crawl that hung, crashed or was never scheduled: its run is marked killed and the
        source's health says why."""
        with self.store.transaction() as session:
            runs.record_killed_crawl(session, [source_id], pid, message, crawl_run, catalogue.by_id())


@contextmanager
def daemon_logging(log_file: str | None) -> Iterator[None]:
    """One line per event, to stderr or `log_file`, for as long as the daemon runs."""
    handler = logging.FileHandler(log_file) if log_file else logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(message)s",
                                           "%Y-%m-%dT%H:%M:%S"))
    product, scheduler = logging.getLogger("policywatch"), logging.getLogger("apscheduler")
    product.addHandler(handler)
    product.setLevel(logging.INFO)
    scheduler.setLevel(logging.WARNING)
    scheduler.addHandler(handler)
    try:
        yield
    finally:
        product.removeHandler(handler)
        scheduler.removeHandler(handler)
        handler.close()


def run_daemon(config_path: str | None, db_url: str | None, source_paths: list[str],
               reload_every: float | None = None, crawl_timeout: float = 1800.0,
               workers: int = 2, log_file: str | None = None, *,
               pid_file: Path | None = None) -> None:
    """`policywatch run`: run until SIGTERM or SIGINT; SIGHUP (or every `reload_every` seconds)
    re-reads the configuration and the catalogue. DaemonError when it cannot start; a fatal
    fault of the store stops it with exit status 1, its one line logged (and raised as the
    StoreError when the log is a file, so that stderr says it too)."""
    with daemon_logging(log_file):
        fatal = _run(DaemonOptions(config_path, db_url, tuple(source_paths), reload_every,
                                   crawl_timeout, workers, pid_file))
    if fatal is not None:
        if log_file:
            raise fatal
        raise SystemExit(1)  # the log, on stderr, said it in one line


def _run(options: DaemonOptions) -> StoreError | None:
    """Run the daemon until it is asked to stop (None) or meets a fatal fault of its store."""
    runner = Runner.open(options)
    stop_requested, reload_requested = threading.Event(), threading.Event()

    def on_stop(signum: int, _frame: object) -> None:
        log.info("received %s: stopping", signal.Signals(signum).name)
        stop_requested.set()

    signal.signal(signal.SIGTERM, on_stop)
    signal.signal(signal.SIGINT, on_stop)
    signal.signal(signal.SIGHUP, lambda *_: reload_requested.set())
    try:
        runner.start()
    except BaseException:
        runner.close()
        raise
    try:
        runner.serve(stop_requested, reload_requested)
    finally:
        runner.stop()
    return runner.faults.fatal
