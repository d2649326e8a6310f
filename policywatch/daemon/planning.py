"""Which jobs the daemon should have: pure functions of the catalogue, the subscriptions and the
current time, and how a job store's jobs must change to match them.

Checks of several sources run at once, except those whose sources share a host (`may_start`):
they take turns, so that politeness per host holds across the daemon's parallel checks.

Job ids are stable and say what a job does (`check:<source>`, `digest:<subscription>`,
`outbox:retry`, `housekeeping`), so that a restart or a reload finds the job it had and keeps its
next run. Every job's first argument is the key of the store it belongs to, which names the
runner that does the work (see `policywatch.daemon.jobs`).
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from apscheduler.triggers.base import BaseTrigger
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger

from alerts.settings import Subscription
from crawlers.catalogue import Source

# The job functions as the job store keeps them: textual references, stable across releases.
CHECK_SOURCE = "policywatch.daemon:check_source"
SEND_DIGEST = "policywatch.daemon:send_digest"
RETRY_OUTBOX = "policywatch.daemon:retry_outbox"
HOUSEKEEPING = "policywatch.daemon:housekeeping"

OUTBOX_JOB, HOUSEKEEPING_JOB = "outbox:retry", "housekeeping"
OUTBOX_RETRY_EVERY = timedelta(minutes=10)
HOUSEKEEPING_EVERY = timedelta(days=1)
MAX_JITTER = timedelta(hours=1)
MAX_FIRST_RUN_OFFSET = timedelta(minutes=1)


def store_key(url: str) -> str:
    """A short name of a store that does not reveal its URL (which may hold a password)."""
    return hashlib.sha1(url.encode()).hexdigest()[:12]


def check_job_id(source_id: str) -> str:
    return f"check:{source_id}"


def digest_job_id(subscription: str) -> str:
    return f"digest:{subscription}"


def jitter_for(interval: timedelta) -> int:
    """Random delay per run, in seconds, so that sources on one host do not fire together: 10 %
    of the interval, at least a second, at most an hour."""
    return max(1, min(int(interval.total_seconds() * 0.1), int(MAX_JITTER.total_seconds())))


def first_run_offset(source_id: str, interval: timedelta) -> timedelta:
    """A new source is first checked soon, at an offset of its own (the same on every start):
    within a tenth of its interval, a minute at most."""
    spread = int(min(interval.total_seconds() * 0.1, MAX_FIRST_RUN_OFFSET.total_seconds()))
    return timedelta(seconds=int(hashlib.sha1(source_id.encode()).hexdigest(), 16) % max(1, spread))


def check_trigger(source: Source, now: datetime) -> IntervalTrigger:
    """Every `source.interval` with jitter, the first run at the source's offset from `now`."""
    interval = source.interval
    return IntervalTrigger(seconds=int(interval.total_seconds()), jitter=jitter_for(interval),
                           start_date=now + first_run_offset(source.id, interval) - interval,
                           timezone=UTC)


WEEKDAYS = ("sun", "mon", "tue", "wed", "thu", "fri", "sat")  # in cron's order: 0 (and 7) is Sunday


def _cron_day(token: str) -> int:
    if token.lower()[:3] in WEEKDAYS:
        return WEEKDAYS.index(token.lower()[:3])
    if token.isdigit() and int(token) <= 7:
        return int(token) % 7
    raise ValueError(f"{token!r} is not a weekday (0-7 or sun-sat)")


def cron_weekdays(field: str) -> str:
    """A cron weekday field (`1-5`, `0,6`, `*/2`, `mon-fri`) as APScheduler reads it: day names.
    APScheduler 3 counts weekday numbers from Monday, cron from Sunday, so numbers are not
    passed on as they are."""
    if field == "*":
        return field
    days: set[int] = set()
    for part in field.split(","):
        span, _, step = part.partition("/")
        if span == "*":
            first, last = 0, 6
        else:
            start, _, end = span.partition("-")
            first = _cron_day(start)
            last = _cron_day(end) if end else (6 if step else first)
            if end and last < first:  # `7` ends a range on Sunday: `5-7` is fri, sat, sun
                last += 7
        days.update(day % 7 for day in range(first, last + 1, int(step) if step else 1))
    return ",".join(WEEKDAYS[day] for day in sorted(days))


def cron_trigger(expression: str) -> CronTrigger:
    """Five fields (minute hour day month weekday), or six with seconds first; weekdays as cron
    counts them."""
    fields = expression.split()
    second = fields.pop(0) if len(fields) == 6 else None  # None: APScheduler's default, 0
    minute, hour, day, month, weekday = fields
    return CronTrigger(second=second, minute=minute, hour=hour, day=day, month=month,
                       day_of_week=cron_weekdays(weekday), timezone=UTC)


def politeness_hosts(source: Source) -> frozenset[str]:
    """The hosts a check of `source` fetches from, as politeness counts them: its declared hosts,
    lowercase, a `www.` twin the same host (redirects stay on the declared hosts)."""
    return frozenset(host.lower().removeprefix("www.") for host in source.hosts if host)


def hosts_overlap(first: Iterable[str], second: Iterable[str]) -> bool:
    """Whether two checks may fetch from one host: a host in both, or one a subdomain of the
    other's (a source may fetch the subdomains of its declared hosts)."""
    return any(a == b or a.endswith("." + b) or b.endswith("." + a)
               for a in first for b in second)


def may_start(hosts: frozenset[str], running: Iterable[frozenset[str]]) -> bool:
    """Whether a check of `hosts` may start beside the checks running on `running`: only when it
    shares no host with any of them, so that the per-host concurrency and delay, which hold
    within one crawl, hold across the daemon's parallel checks too."""
    return not any(hosts_overlap(hosts, busy) for busy in running)


@dataclass(frozen=True)
class PlannedJob:
    """A job the daemon should have."""

    id: str
    function: str  # a textual reference (module:function), as persisted
    trigger: BaseTrigger
    args: tuple[str, ...]

    def scheduled(self) -> ScheduledJob:
        """How this job reads once it is in a job store."""
        return ScheduledJob(self.function, str(self.trigger), self.args)


@dataclass(frozen=True)
class ScheduledJob:
    """A job in a job store, as far as planning compares it: its function, its schedule (the
    trigger's text, which leaves out start date and jitter: a reload does not move a job that
    only got a new start date) and its arguments."""

    function: str
    schedule: str
    args: tuple


def plan_jobs(key: str, sources: Iterable[Source], subscriptions: Iterable[Subscription],
              now: datetime) -> dict[str, PlannedJob]:
    """job id → the job wanted for these sources and subscriptions, on the store named `key`."""
    jobs = [PlannedJob(check_job_id(source.id), CHECK_SOURCE, check_trigger(source, now),
                       (key, source.id)) for source in sources]
    jobs += [PlannedJob(digest_job_id(subscription.name), SEND_DIGEST,
                        cron_trigger(subscription.schedule), (key, subscription.name))
             for subscription in subscriptions]
    jobs.append(PlannedJob(OUTBOX_JOB, RETRY_OUTBOX, IntervalTrigger(
        seconds=int(OUTBOX_RETRY_EVERY.total_seconds()), timezone=UTC), (key,)))
    jobs.append(PlannedJob(HOUSEKEEPING_JOB, HOUSEKEEPING, IntervalTrigger(
        seconds=int(HOUSEKEEPING_EVERY.total_seconds()), timezone=UTC), (key,)))
    return {job.id: job for job in jobs}


@dataclass(frozen=True)
class JobChanges:
    """What to do to a job store so that it holds the planned jobs."""

    add: tuple[PlannedJob, ...] = ()
    retarget: tuple[PlannedJob, ...] = ()  # same schedule, another function or arguments
    reschedule: tuple[PlannedJob, ...] = ()  # another schedule: the next run is recomputed
    remove: tuple[str, ...] = ()


def job_changes(scheduled: Mapping[str, ScheduledJob],
                planned: Mapping[str, PlannedJob]) -> JobChanges:
    """Add what is missing, remove what is no longer planned, retarget and reschedule what
    differs; a job that only differs in its function or arguments keeps its next run."""
    add, retarget, reschedule = [], [], []
    for job_id, job in planned.items():
        existing = scheduled.get(job_id)
        if existing is None:
            add.append(job)
            continue
        wanted = job.scheduled()
        if (existing.function, tuple(existing.args)) != (wanted.function, wanted.args):
            retarget.append(job)
        if existing.schedule != wanted.schedule:
            reschedule.append(job)
    remove = tuple(job_id for job_id in scheduled if job_id not in planned)
    return JobChanges(tuple(add), tuple(retarget), tuple(reschedule), remove)
