"""`policywatch run`: the daemon. APScheduler 3 in threads, crawls in child processes.

Jobs (stable ids, persisted in the store's `apscheduler_jobs` table):
  check:<source>        every source on its declared interval, with jitter; runs
                        `policywatch crawl --source <id>` as a child process with a timeout
  digest:<subscription> on the subscription's cron schedule: build, queue, send
  outbox:retry          every 10 minutes: retry pending digests
  housekeeping          daily: interrupted runs, WAL checkpoint

A run missed while the daemon was down happens once after restart (coalesce, a one-hour misfire
grace period); jobs are added only when missing so that a restart does not reset their next run.
Scrapy's reactor cannot restart inside one process, hence one child per crawl: a hung or crashed
crawl is killed at its timeout and reported, and the daemon carries on.
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import logging
import os
import signal
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

from apscheduler.executors.pool import ThreadPoolExecutor
from apscheduler.jobstores.sqlalchemy import SQLAlchemyJobStore
from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger
from platformdirs import user_data_dir
from sqlalchemy import delete, select, text

from crawlers.catalogue import Catalogue, load_catalogue
from policywatch.config import Config, load_config
from policywatch.scrapyd import Node, NodeError, configured_nodes, least_busy, node_at
from storage import runs
from storage.database import Store
from storage.models import CrawlRun, DaemonState, JobRun, utcnow
from storage.runs import start_run, upsert_source

log = logging.getLogger("policywatch.daemon")
MISFIRE_GRACE = 3600
STOP_GRACE = 30.0  # seconds a crawl child gets to finish after SIGTERM


class DaemonError(RuntimeError):
    """The daemon cannot start (another one runs, bad configuration); one line."""


@dataclass
class Context:
    """What the jobs need; module-level so that persisted jobs stay plain function references."""

    config_path: str | None
    db_url: str
    source_paths: list[str]
    crawl_timeout: float
    store: Store
    config: Config
    catalogue: Catalogue
    children: dict[int, subprocess.Popen] = field(default_factory=dict)
    stopping: threading.Event = field(default_factory=threading.Event)
    lock: threading.Lock = field(default_factory=threading.Lock)


CONTEXT: Context | None = None


# --- jobs (module-level: referenced by name from the job store) -----------------------------

def check_source(source_id: str) -> None:
    """Crawl one source in a child process (or on a Scrapyd node), bounded by the crawl timeout."""
    context = CONTEXT
    if context is None or context.stopping.is_set():
        return
    if context.config.scrapyd.nodes:
        check_source_on_node(context, source_id)
        return
    job_id = f"check:{source_id}"
    command = [sys.executable, "-m", "policywatch", "--db", context.db_url]
    if context.config_path:
        command += ["--config", context.config_path]
    command += ["crawl", "--quiet", "--source", source_id]
    for path in context.source_paths:
        command += ["--sources", path]
    run_id = _job_started(context.store, job_id)
    started = time.monotonic()
    child = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                             start_new_session=True, env=_child_env())
    with context.lock:
        context.children[child.pid] = child
    _set_child(context.store, run_id, child.pid)
    log.info("check %s started (child %d)", source_id, child.pid)
    try:
        stdout, stderr = child.communicate(timeout=context.crawl_timeout)
    except subprocess.TimeoutExpired:
        _terminate(child)
        message = f"crawl killed after {context.crawl_timeout:g} s (timeout)"
        record_killed_crawl(context.store, [source_id], child.pid, message)
        _job_finished(context.store, run_id, "killed", message)
        log.warning("check %s killed: %s", source_id, message)
        return
    finally:
        with context.lock:
            context.children.pop(child.pid, None)
    seconds = time.monotonic() - started
    if child.returncode == 0:
        summary = next((line for line in stdout.splitlines() if line.startswith(source_id)), "")
        _job_finished(context.store, run_id, "ok", " ".join(summary.split()[1:]) or None)
        log.info("check %s done in %.1f s: %s", source_id, seconds, " ".join(summary.split()))
    else:
        if context.stopping.is_set():
            detail = "stopped with the daemon"
        else:
            detail = (stderr.strip().splitlines() or [f"exit {child.returncode}"])[-1][:500]
            record_killed_crawl(context.store, [source_id], child.pid, f"crawl failed: {detail}")
        _job_finished(context.store, run_id, "failed", detail)
        log.warning("check %s failed (exit %s): %s", source_id, child.returncode, detail)


def check_source_on_node(context: Context, source_id: str) -> None:
    """Schedule the crawl on the least busy Scrapyd node, poll its job until it ends or times
    out, and record the outcome as for a local child. The crawl itself writes to the store and
    closes its run (crawlers.extensions.FinishRun)."""
    from policywatch.crawling import crawl_overrides

    job_id = f"check:{source_id}"
    run_id = _job_started(context.store, job_id)
    source = context.catalogue.by_id().get(source_id)
    if source is None:
        _job_finished(context.store, run_id, "failed", "no longer declared")
        return
    settings = context.config.scrapyd
    declaration = Path(context.catalogue.files[source_id])
    with context.store.transaction() as session:
        upsert_source(session, id=source.id, name=source.name, jurisdiction=source.jurisdiction,
                      level=source.level, declaration_file=str(declaration))
        crawl_run = start_run(session, [source_id], None, node="(scheduling)")
    store_url = settings.db or context.db_url
    try:
        node, unanswered = least_busy(configured_nodes(settings))
        for line in unanswered:
            log.warning("%s", line)
        job = node.schedule(
            {**crawl_overrides(context.config.crawl, store_url, crawl_run, False),
             "POLICYWATCH_FINISH_RUN": 1},
            {"only": source_id, "db": store_url,
             "declarations": json.dumps({declaration.name: declaration.read_text(encoding="utf-8")})})
    except (NodeError, OSError) as exc:
        record_killed_crawl(context.store, [source_id], None, f"not scheduled: {exc}", run_id=crawl_run)
        _job_finished(context.store, run_id, "failed", str(exc)[:500])
        log.warning("check %s not scheduled: %s", source_id, exc)
        return
    where = f"{node.url} job {job}"
    with context.store.transaction() as session:
        session.get(CrawlRun, crawl_run).node = where
        session.get(JobRun, run_id).detail = where
    log.info("check %s scheduled on %s", source_id, where)
    outcome = _wait_for_job(context, node, job)
    with context.store.sessions() as session:
        run = session.get(CrawlRun, crawl_run)
        status, stats = run.status, dict(run.stats or {})
    if status == "finished" and outcome == "finished":
        detail = " ".join(f"{k} {v}" for k, v in stats.get(source_id, {}).items() if v)
        _job_finished(context.store, run_id, "ok", f"{where}: {detail or 'nothing to do'}")
        log.info("check %s done on %s: %s", source_id, where, detail)
        return
    if outcome == "timeout":
        message = f"crawl on {where} cancelled after {context.crawl_timeout:g} s (timeout)"
        kind = "killed"
    elif context.stopping.is_set():
        message, kind = f"crawl on {where} cancelled: the daemon stopped", "failed"
    else:
        message = f"crawl on {where} ended without closing its run (log: {node.log_url(job)})"
        kind = "failed"
    if status != "finished" or outcome == "timeout":  # a cancelled crawl is a failed check
        record_killed_crawl(context.store, [source_id], None, message, run_id=crawl_run)
    _job_finished(context.store, run_id, kind, message[:500])
    log.warning("check %s %s: %s", source_id, kind, message)


def _wait_for_job(context: Context, node: Node, job: str) -> str:
    """Poll the node until the job ends: 'finished', or 'timeout' / 'stopped' after cancelling it
    (then wait a little for Scrapy to close the spider and its run)."""
    deadline = time.monotonic() + context.crawl_timeout
    poll = max(0.2, context.config.scrapyd.poll)
    outcome = "finished"
    while True:
        context.stopping.wait(poll)
        try:
            if node.state(job) in ("finished", "unknown"):
                return outcome
        except NodeError as exc:  # a node that stops answering is waited for until the deadline
            log.warning("%s", exc)
        if outcome == "finished" and (context.stopping.is_set() or time.monotonic() > deadline):
            outcome = "stopped" if context.stopping.is_set() else "timeout"
            try:
                node.cancel(job)
            except NodeError as exc:
                log.warning("%s", exc)
            deadline = time.monotonic() + min(STOP_GRACE, 10.0)
        elif outcome != "finished" and time.monotonic() > deadline:
            return outcome


def settle_node_runs(store: Store, config: Config) -> None:
    """Runs left 'running' on Scrapyd nodes (e.g. the daemon was killed while it waited): a job
    the node no longer runs and that never closed its run is marked interrupted."""
    with store.transaction() as session:
        for run in session.scalars(select(CrawlRun).where(CrawlRun.status == "running",
                                                          CrawlRun.node.is_not(None))):
            url, _, job = (run.node or "").partition(" job ")
            if not job:
                run.status = "interrupted"
                continue
            node = node_at(config.scrapyd, url)
            try:
                if node.state(job) in ("finished", "unknown"):
                    run.status = "interrupted"
            except NodeError as exc:
                log.warning("%s", exc)


def send_digest(name: str) -> None:
    """Build the subscription's digest for the window ending now, queue it, send what is pending."""
    from alerts.outbox import send_pending
    from policywatch.digests import build_digest, default_window, queue_digest

    context = CONTEXT
    if context is None or context.stopping.is_set():
        return
    subscription = context.config.subscription(name)
    if subscription is None:
        return
    run_id = _job_started(context.store, f"digest:{name}")
    since, until = default_window(subscription)
    built, message, _ = build_digest(context.store, subscription, since, until, context.config.smtp)
    digest_id, _ = queue_digest(context.store, subscription, since, until, built, message)
    results = send_pending(context.store, context.config.smtp, only=digest_id) if digest_id else []
    outcome = "ok" if all(r.status == "sent" for r in results) else "failed"
    detail = "; ".join(f"digest {r.digest_id}: {r.status}" + (f" ({r.error})" if r.error else "")
                       for r in results) or "nothing changed: not sent"
    _job_finished(context.store, run_id, outcome, detail)
    log.info("digest %s: %s", name, detail)


def retry_outbox() -> None:
    from alerts.outbox import send_pending

    context = CONTEXT
    if context is None or context.stopping.is_set():
        return
    for result in send_pending(context.store, context.config.smtp):
        log.info("outbox: digest %d %s%s", result.digest_id, result.status,
                 f" ({result.error})" if result.error else "")


def mark_dead_runs_interrupted(store: Store) -> None:
    """Crawl runs whose process is gone (stopped or killed mid-crawl) are 'interrupted'."""
    with store.transaction() as session:
        runs.mark_dead_runs_interrupted(session)


JOB_RUNS_KEPT = timedelta(days=90)


def housekeeping() -> None:
    """Mark runs of dead processes interrupted; forget job runs older than 90 days; fold the
    SQLite WAL back into the database."""
    context = CONTEXT
    if context is None:
        return
    mark_dead_runs_interrupted(context.store)
    settle_node_runs(context.store, context.config)
    with context.store.transaction() as session:
        session.execute(delete(JobRun).where(JobRun.started_at < utcnow() - JOB_RUNS_KEPT))
    if context.store.engine.dialect.name == "sqlite":
        with context.store.engine.connect() as connection:
            connection.execute(text("PRAGMA wal_checkpoint(TRUNCATE)"))
    log.info("housekeeping done")


# --- bookkeeping ------------------------------------------------------------------------------

def _child_env() -> dict[str, str]:
    return {k: v for k, v in os.environ.items() if k not in ("POLICYWATCH_DB", "POLICYWATCH_CONFIG")}


def _job_started(store: Store, job_id: str) -> int:
    with store.transaction() as session:
        run = JobRun(job_id=job_id, started_at=utcnow(), outcome="running")
        session.add(run)
        session.flush()
        return run.id


def _set_child(store: Store, run_id: int, pid: int) -> None:
    with store.transaction() as session:
        session.get(JobRun, run_id).child_pid = pid


def _job_finished(store: Store, run_id: int, outcome: str, detail: str | None) -> None:
    with store.transaction() as session:
        run = session.get(JobRun, run_id)
        run.outcome, run.detail, run.finished_at = outcome, detail, utcnow()


def _terminate(child: subprocess.Popen, grace: float = 10.0) -> None:
    """SIGTERM the child's process group once, then SIGKILL it after `grace` seconds."""
    try:
        os.killpg(child.pid, signal.SIGTERM)
        child.wait(timeout=grace)
    except subprocess.TimeoutExpired:
        os.killpg(child.pid, signal.SIGKILL)
        child.wait()
    except ProcessLookupError:
        pass


def record_killed_crawl(store: Store, source_ids: list[str], pid: int | None, message: str,
                        run_id: int | None = None) -> None:
    """A crawl that hung or crashed: its run is marked killed and each source's health says why."""
    declared = CONTEXT.catalogue.by_id() if CONTEXT else {}
    with store.transaction() as session:
        runs.record_killed_crawl(session, source_ids, pid, message, run_id, declared)


# --- the daemon -------------------------------------------------------------------------------

def pid_file_for(db_url: str) -> Path:
    digest = hashlib.sha1(db_url.encode()).hexdigest()[:12]
    return Path(user_data_dir("policywatch", appauthor=False)) / f"daemon-{digest}.pid"


class PidLock:
    """An exclusive lock on a pid file: released by the kernel however the daemon dies."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.handle = None

    def acquire(self) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        handle = open(self.path, "a+")  # noqa: SIM115 (held for the daemon's life)
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            handle.seek(0)
            other = handle.read().strip() or "?"
            handle.close()
            raise DaemonError(f"another policywatch daemon (pid {other}) is running on this "
                              f"store ({self.path})") from None
        handle.seek(0)
        handle.truncate()
        handle.write(str(os.getpid()))
        handle.flush()
        self.handle = handle

    def release(self) -> None:
        if self.handle:
            fcntl.flock(self.handle, fcntl.LOCK_UN)
            self.handle.close()
            self.handle = None


def jitter_for(interval: timedelta) -> int:
    """Random delay per run, so that sources on one host do not fire together: 10 % of the
    interval, at most an hour."""
    return max(1, min(int(interval.total_seconds() * 0.1), 3600))


def first_run_offset(source_id: str, interval: timedelta) -> timedelta:
    """A new source is first checked soon, at an offset of its own: within a tenth of its
    interval, a minute at most."""
    spread = min(interval.total_seconds() * 0.1, 60.0)
    return timedelta(seconds=int(hashlib.sha1(source_id.encode()).hexdigest(), 16) % max(1, int(spread)))


def cron_trigger(expression: str) -> CronTrigger:
    """Five fields (minute hour day month weekday), or six with seconds first."""
    fields = expression.split()
    if len(fields) == 6:
        second, minute, hour, day, month, weekday = fields
        return CronTrigger(second=second, minute=minute, hour=hour, day=day, month=month,
                           day_of_week=weekday, timezone=UTC)
    return CronTrigger.from_crontab(expression, timezone=UTC)


def desired_jobs(config: Config, catalogue: Catalogue) -> dict[str, tuple]:
    """job id → (function, trigger, args) for the current configuration and catalogue."""
    jobs: dict[str, tuple] = {}
    now = datetime.now(UTC)
    for source in catalogue.sources:
        interval = source.interval
        trigger = IntervalTrigger(seconds=int(interval.total_seconds()), jitter=jitter_for(interval),
                                  start_date=now + first_run_offset(source.id, interval) - interval,
                                  timezone=UTC)
        jobs[f"check:{source.id}"] = (check_source, trigger, (source.id,))
    for subscription in config.subscriptions:
        jobs[f"digest:{subscription.name}"] = (send_digest, cron_trigger(subscription.schedule),
                                               (subscription.name,))
    jobs["outbox:retry"] = (retry_outbox, IntervalTrigger(minutes=10, timezone=UTC), ())
    jobs["housekeeping"] = (housekeeping, IntervalTrigger(days=1, timezone=UTC), ())
    return jobs


def _trigger_key(trigger) -> str:
    return str(trigger)


def sync_jobs(scheduler: BackgroundScheduler, config: Config, catalogue: Catalogue) -> None:
    """Add missing jobs, reschedule changed ones, remove those no longer configured."""
    wanted = desired_jobs(config, catalogue)
    for job in scheduler.get_jobs():
        if job.id not in wanted:
            job.remove()
            log.info("job %s removed", job.id)
    for job_id, (function, trigger, args) in wanted.items():
        existing = scheduler.get_job(job_id)
        if existing is None:
            scheduler.add_job(function, trigger, args=args, id=job_id, name=job_id,
                              misfire_grace_time=MISFIRE_GRACE, coalesce=True, max_instances=1)
            log.info("job %s added (%s)", job_id, trigger)
        elif _trigger_key(existing.trigger) != _trigger_key(trigger):
            existing.reschedule(trigger)
            log.info("job %s rescheduled (%s)", job_id, trigger)


def _load(config_path: str | None, source_paths: list[str], db_url: str | None):
    config = load_config(config_path)
    paths = [Path(p) for p in source_paths] or list(config.sources) or None
    catalogue = load_catalogue(paths)
    for error in catalogue.errors:
        log.error("declaration: %s", error)
    return config, catalogue


def _check_store_reachable_from_nodes(config: Config, store_url: str) -> None:
    """Scrapyd nodes write to the store themselves: a SQLite file only works for nodes on this
    machine; other machines need PostgreSQL."""
    from urllib.parse import urlsplit

    url = config.scrapyd.db or store_url
    hosts = {node: urlsplit(node).hostname or "" for node in config.scrapyd.nodes}
    remote = [node for node, host in hosts.items()
              if host not in ("localhost", "::1") and not host.startswith("127.")]
    if remote and url.startswith("sqlite"):
        raise DaemonError(f"scrapyd node {remote[0]} cannot write to a SQLite file on this machine: "
                          "use a PostgreSQL store (--db postgresql+psycopg://...) or [scrapyd] db")


def run_daemon(config_path: str | None, db_url: str | None, source_paths: list[str],
               reload_every: float | None = None, crawl_timeout: float = 1800.0,
               workers: int = 2, pid_file: Path | None = None) -> None:
    """Run until SIGTERM or SIGINT; SIGHUP (or --reload-every) re-reads configuration and catalogue."""
    global CONTEXT
    config, catalogue = _load(config_path, source_paths, db_url)
    store = Store(db_url or config.db)
    _check_store_reachable_from_nodes(config, store.url)
    lock = PidLock(pid_file or pid_file_for(store.url))
    lock.acquire()
    CONTEXT = Context(config_path, store.url, source_paths, crawl_timeout, store, config, catalogue)
    reload_requested = threading.Event()
    stop_requested = threading.Event()

    def on_stop(signum, _frame) -> None:
        log.info("received %s: stopping", signal.Signals(signum).name)
        stop_requested.set()

    signal.signal(signal.SIGTERM, on_stop)
    signal.signal(signal.SIGINT, on_stop)
    signal.signal(signal.SIGHUP, lambda *_: reload_requested.set())

    scheduler = BackgroundScheduler(
        jobstores={"default": SQLAlchemyJobStore(engine=store.engine, tablename="apscheduler_jobs")},
        executors={"default": ThreadPoolExecutor(workers)}, timezone=UTC,
        job_defaults={"coalesce": True, "max_instances": 1, "misfire_grace_time": MISFIRE_GRACE})
    settle_node_runs(store, config)
    scheduler.start(paused=True)
    sync_jobs(scheduler, config, catalogue)
    with store.transaction() as session:
        state = session.get(DaemonState, 1) or DaemonState(id=1)
        state.pid, state.started_at, state.stopped_at = os.getpid(), utcnow(), None
        state.heartbeat_at = state.started_at
        session.merge(state)
    scheduler.resume()
    log.info("daemon started (pid %d): %d sources, %d subscriptions, store %s", os.getpid(),
             len(catalogue.sources), len(config.subscriptions), store.url)
    last_reload = time.monotonic()
    try:
        while not stop_requested.is_set():
            stop_requested.wait(1.0)
            if reload_every and time.monotonic() - last_reload >= reload_every:
                reload_requested.set()
            if reload_requested.is_set() and not stop_requested.is_set():
                reload_requested.clear()
                last_reload = time.monotonic()
                try:
                    config, catalogue = _load(config_path, source_paths, db_url)
                except Exception as exc:  # a broken file keeps the jobs we have
                    log.error("reload failed, keeping the current jobs: %s", exc)
                else:
                    CONTEXT.config, CONTEXT.catalogue = config, catalogue
                    sync_jobs(scheduler, config, catalogue)
                    log.info("reloaded: %d sources, %d subscriptions", len(catalogue.sources),
                             len(config.subscriptions))
            with store.transaction() as session:
                session.get(DaemonState, 1).heartbeat_at = utcnow()
    finally:
        CONTEXT.stopping.set()
        scheduler.pause()
        with CONTEXT.lock:
            children = list(CONTEXT.children.values())
        for child in children:  # one SIGTERM each: Scrapy finishes cleanly; twice would not
            try:
                os.killpg(child.pid, signal.SIGTERM)
            except ProcessLookupError:
                pass
        deadline = time.monotonic() + STOP_GRACE
        for child in children:
            try:
                child.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                os.killpg(child.pid, signal.SIGKILL)
        scheduler.shutdown(wait=True)
        mark_dead_runs_interrupted(store)
        with store.transaction() as session:
            state = session.get(DaemonState, 1)
            state.stopped_at, state.pid = utcnow(), None
        lock.release()
        store.close()
        log.info("daemon stopped")
