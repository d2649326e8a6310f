"""`policywatch run` and `status`: the daemon, and what it and the crawls left in the store."""

from __future__ import annotations

from dataclasses import asdict
from datetime import UTC, datetime
from typing import TYPE_CHECKING

import click

from policywatch.cli.app import App, iso, pass_app, sources_option
from policywatch.output import format_option, render, render_object

if TYPE_CHECKING:
    from storage.queries import SourceWarning


@click.command()
@sources_option
@click.option("--reload-every", type=click.FloatRange(min=1), metavar="SECONDS",
              help="Re-read the configuration and catalogue this often (SIGHUP does it at once).")
@click.option("--crawl-timeout", type=click.FloatRange(min=1), default=1800, show_default=True,
              metavar="SECONDS", help="Kill a crawl child that runs longer than this.")
@click.option("--workers", type=click.IntRange(min=1, max=16), default=2, show_default=True,
              help="Jobs run at the same time (crawl children at most).")
@click.option("--log-file", type=click.Path(dir_okay=False), help="Log here instead of stderr.")
@pass_app
def run(app: App, source_paths: tuple[str, ...], reload_every: float | None, crawl_timeout: float,
        workers: int, log_file: str | None) -> None:
    """The daemon: check every source on its interval and send digests on their schedules.

    One crawl child process per source check; SIGTERM or SIGINT stop it cleanly; a second
    daemon on the same store is refused.

    \b
    Example:
      policywatch --config /etc/policywatch.toml run --log-file /var/log/policywatch.log
    """
    from policywatch.daemon import DaemonError, run_daemon

    try:
        run_daemon(str(app.config.file) if app.config.file else None, app.database_url,
                   list(source_paths), reload_every, crawl_timeout, workers, log_file)
    except DaemonError as exc:
        raise click.ClickException(str(exc)) from None


@click.command()
@format_option
@pass_app
def status(app: App, fmt: str) -> None:
    """Source health (last check, failures, last error, next run, the last run's warnings), the
    daemon, digests, outbox.

    JSON is one object: sources (each with the `warnings` of its last run: kind, url, message),
    daemon, digests (next run, last outcome) and outbox counts.

    \b
    Example:
      policywatch status --format json
    """
    from storage import queries
    from storage.runs import pid_alive

    with app.store().sessions() as session:
        next_runs = {job: iso(moment) for job, moment in queries.scheduled_jobs(session).items()}
        healths = queries.source_health(session)
        rows = [{"source": h.source.id, "jurisdiction": h.source.jurisdiction,
                 "instruments": h.instruments, "last_check": iso(h.source.last_attempt_at),
                 "last_success": iso(h.source.last_success_at),
                 "failures": h.source.consecutive_failures, "error_kind": h.source.last_error_kind,
                 "last_error": h.source.last_error, "next_run": next_runs.get(f"check:{h.source.id}"),
                 "warnings": [asdict(w) for w in h.warnings]}
                for h in healths]
        daemon = queries.daemon_state(session)
        outbox = queries.outbox_counts(session)
        last_jobs = queries.last_job_outcomes(session)
    running = bool(daemon and daemon.pid and daemon.started_at and pid_alive(daemon.pid))
    digests = [{"job": job, "next_run": next_runs[job],
                "last_outcome": last_jobs[job][0] if job in last_jobs else None,
                "last_detail": last_jobs[job][1] if job in last_jobs else None}
               for job in sorted(job for job in next_runs if job.startswith("digest:"))]
    if fmt in ("json", "ndjson"):
        click.echo(render_object({
            "sources": rows,
            "daemon": {"running": running, "pid": daemon.pid if daemon else None,
                       "started_at": iso(daemon.started_at) if daemon else None,
                       "heartbeat_at": iso(daemon.heartbeat_at) if daemon else None,
                       "stopped_at": iso(daemon.stopped_at) if daemon else None},
            "digests": digests, "outbox": outbox}, fmt))
        return
    table = [{**row, "warnings": len(h.warnings),
              "first_warning": warning_line(h.warnings[0]) if h.warnings else None}
             for row, h in zip(rows, healths, strict=True)]
    click.echo(render(table, ["source", "jurisdiction", "instruments", "last_check", "last_success",
                              "failures", "error_kind", "next_run", "last_error", "warnings",
                              "first_warning"], fmt, whole=("first_warning",)))
    if fmt != "table":
        return
    if running and daemon and daemon.started_at:
        uptime = datetime.now(UTC).replace(tzinfo=None) - daemon.started_at
        click.echo(f"\ndaemon: running, pid {daemon.pid}, up {str(uptime).split('.')[0]}, "
                   f"last heartbeat {iso(daemon.heartbeat_at)}")
    else:
        stopped = f" (last stopped {iso(daemon.stopped_at)})" if daemon and daemon.stopped_at else ""
        click.echo(f"\ndaemon: not running{stopped}")
    for digest in digests:
        last = f", last: {digest['last_outcome']} ({digest['last_detail']})" \
            if digest["last_outcome"] else ""
        click.echo(f"{digest['job']}: next {digest['next_run']}{last}")
    click.echo("outbox: " + (", ".join(f"{n} {state}" for state, n in sorted(outbox.items()))
                             or "empty"))


def warning_line(warning: SourceWarning) -> str:
    """One warning as the table shows it, whole: its kind, the page and what was wrong."""
    where = f"{warning.url}: " if warning.url else ""
    return f"{warning.kind}: {where}{warning.message}"


COMMANDS = (run, status)
