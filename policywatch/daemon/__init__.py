"""`policywatch run`: the daemon. APScheduler 3 in threads, crawls in child processes.

Jobs (stable ids, persisted in the store's `apscheduler_jobs` table):
  check:<source>        every source on its declared interval, with jitter; crawls the source in
                        a crawl child (`policywatch.crawl_child`) or on a Scrapyd node, with a timeout
  digest:<subscription> on the subscription's cron schedule: build, queue, send
  outbox:retry          every 10 minutes: retry pending digests
  housekeeping          daily: interrupted runs, old job runs, WAL checkpoint

A run missed while the daemon was down happens once after restart (coalesce, a one-hour misfire
grace period); jobs are added only when missing so that a restart does not reset their next run.
Scrapy's reactor cannot restart inside one process, hence one child per crawl: a hung or crashed
crawl is killed at its timeout and reported, and the daemon carries on.

  planning   which jobs, their ids, triggers, jitter and first-run offsets, which checks may
             run together (pure functions)
  host_turns checks whose sources share a host take turns: per-host politeness across checks
  jobs       the functions the job store names, and the registry through which they reach a runner
  runner     the Runner (scheduler, store, configuration, children, lock) and `run_daemon`
  children   starting (forked from a server that imported the crawl once), waiting for and
             stopping crawl children
  nodes      checks on Scrapyd nodes: polling, cancelling, settling runs left behind
  lock       the pid lock: one daemon per store
  faults     faults of the store while it runs: one line each; a transient one is retried,
             a fatal one (a damaged file) stops the daemon
"""

from policywatch.daemon.jobs import check_source, housekeeping, retry_outbox, send_digest
from policywatch.daemon.lock import DaemonError, PidLock, pid_file_for
from policywatch.daemon.runner import DaemonOptions, Runner, run_daemon

__all__ = ["DaemonError", "DaemonOptions", "PidLock", "Runner", "check_source", "housekeeping",
           "pid_file_for", "retry_outbox", "run_daemon", "send_digest"]
