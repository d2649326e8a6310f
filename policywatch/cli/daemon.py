"""`policywatch run` and `status`: the daemon, and what it and the crawls left in the store."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TYPE_CHECKING

import click

from policywatch.cli.app import App, pass_app, sources_option
from policywatch.output import format_option, render, render_object

if TYPE_CHECKING:
    pass


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
    daemon on the same store is refused. A store that is busy past its timeout or whose disk is
    full is logged in one line and tried again on the next pass; a damaged, read-only or
    unopenable store stops the daemon with one line and exit status 1.

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

    with app.store().sessions() as session:
        report = queries.status_report(session)
    if fmt in ("json", "ndjson"):
        click.echo(render_object(report, fmt))
        return
    table = [{**row, "warnings": len(row["warnings"]),
              "first_warning": warning_line(row["warnings"][0]) if row["warnings"] else None}
             for row in report["sources"]]
    click.echo(render(table, ["source", "jurisdiction", "instruments", "last_check", "last_success",
                              "failures", "error_kind", "next_run", "last_error", "warnings",
                              "first_warning"], fmt, whole=("first_warning",)))
    if fmt != "table":
        return
    daemon = report["daemon"]
    if daemon["running"]:
        started = datetime.strptime(daemon["started_at"], "%Y-%m-%dT%H:%M:%SZ")
        uptime = datetime.now(UTC).replace(tzinfo=None) - started
        click.echo(f"\ndaemon: running, pid {daemon['pid']}, up {str(uptime).split('.')[0]}, "
                   f"last heartbeat {daemon['heartbeat_at']}")
    else:
        stopped = f" (last stopped {daemon['stopped_at']})" if daemon["stopped_at"] else ""
        click.echo(f"\ndaemon: not running{stopped}")
    for digest in report["digests"]:
        last = f", last: {digest['last_outcome']} ({digest['last_detail']})" \
            if digest["last_outcome"] else ""
        click.echo(f"{digest['job']}: next {digest['next_run']}{last}")
    for name, counts in (("outbox", report["outbox"]), ("notifications", report["notifications"])):
        if name == "outbox" or counts:
            click.echo(f"{name}: " + (", ".join(f"{n} {state}" for state, n in sorted(counts.items()))
                                      or "empty"))


def warning_line(warning: dict[str, str | None]) -> str:
    """One warning as the table shows it, whole: its kind, the page and what was wrong."""
    where = f"{warning['url']}: " if warning["url"] else ""
    return f"{warning['kind']}: {where}{warning['message']}"


COMMANDS = (run, status)
