"""`policywatch crawl`, `reextract` and `dropped`: check sources now, re-read stored snapshots, and
list what the relevance filter kept out."""

from __future__ import annotations

import atexit
import gc
from pathlib import Path

import click

from policywatch.cli.app import App, iso, pass_app, print_declaration_errors, select_sources, sources_option
from policywatch.output import format_option, render

SUMMARY_COLUMNS = ["source", "new", "amended", "withdrawn", "restored", "moved", "unchanged",
                   "dropped", "errors"]
PROBLEMS_SHOWN = 20  # a screenful; past it every problem goes to a file
EXIT_SOME_FAILED = 1  # with --fail-on-error
EXIT_INTERRUPTED = 130  # 128 + SIGINT, as shells report a Ctrl-C


def problem_line(problem: tuple[str, str, str, str]) -> str:
    source_id, kind, url, message = problem
    return f"{source_id}: {kind}: {url}: {message}"


def default_problems_file(run_id: int) -> Path:
    """Where a long problem list goes when no --problems FILE is given."""
    from platformdirs import user_data_dir

    return Path(user_data_dir("policywatch", appauthor=False)) / f"problems-run-{run_id}.txt"


def report_problems(problems: list[tuple[str, str, str, str]], run_id: int,
                    problems_file: Path | None) -> list[str]:
    """The lines that list a run's problems: all of them, or a screenful and the file holding
    every one (written to `problems_file` when given, whatever the count)."""
    if not problems:
        return []
    lines = [f"{len(problems)} problem(s) (see `policywatch status`):",
             *(f"  {problem_line(p)}" for p in problems[:PROBLEMS_SHOWN])]
    if problems_file is None and len(problems) <= PROBLEMS_SHOWN:
        return lines
    target = problems_file or default_problems_file(run_id)
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text("".join(problem_line(p) + "\n" for p in problems), encoding="utf-8")
    hidden = len(problems) - PROBLEMS_SHOWN
    lines.append(f"  … and {hidden} more in {target}" if hidden > 0
                 else f"  (all of them also in {target})")
    return lines


@click.command()
@sources_option
@click.option("--source", "only", multiple=True, metavar="ID", help="Crawl only this source (repeatable).")
@click.option("--quiet", "-q", is_flag=True, help="No progress on standard error.")
@click.option("--problems", "problems_file", type=click.Path(dir_okay=False, path_type=Path),
              help=f"Write every problem met to FILE (past {PROBLEMS_SHOWN} they go to a file anyway).")
@click.option("--fail-on-error", is_flag=True,
              help="Exit 1 when any source failed (for cron and scripts).")
@pass_app
@click.pass_context
def crawl(ctx: click.Context, app: App, source_paths: tuple[str, ...], only: tuple[str, ...],
          quiet: bool, problems_file: Path | None, fail_on_error: bool) -> None:
    """Check the sources once now, then print a summary per source.

    On a terminal a live bar per jurisdiction shows the sources done, the documents recorded,
    the rate and the time left; elsewhere one line per finished source. Ctrl-C stops the crawl
    cleanly: the run is recorded as interrupted and the partial summary printed.

    \b
    Exit codes (for cron):
      0    the cycle ran (failures are recorded and shown by `policywatch status`)
      1    with --fail-on-error: some source failed
      2    usage error
      130  interrupted (Ctrl-C)

    \b
    Example:
      policywatch crawl --sources my-sources/ --source cn-cac --fail-on-error
    """
    # The crawl's imports and set-up make what lives as long as the crawl (modules, settings, the
    # catalogue): the cyclic collector, whose passes over it cost about 0.2 s of CPU before Scrapy
    # starts, is paused until `run_crawl` freezes it all and runs the collector for the crawl
    # itself. The few cycles left meanwhile are collected once the crawl has ended. At the
    # process's exit it is all frozen again, so that the collections of the interpreter's
    # finalisation do not walk it (about 0.4 s of CPU; the memory goes back with the process).
    gc.disable()
    atexit.unregister(gc.freeze)  # once, however many crawls run in this process
    atexit.register(gc.freeze)
    try:
        from policywatch.crawling import run_crawl  # Scrapy is imported only for crawls

        catalogue, paths = app.catalogue(source_paths)
        print_declaration_errors(catalogue)
        selected = select_sources(catalogue, only)
        store = app.store(create=True)
        click.echo(f"crawling {len(selected)} source(s) into {store.url}", err=True)
        summary = run_crawl(store, selected, catalogue.files, paths, app.config.crawl, not quiet,
                            say=lambda line: click.echo(line, err=True))
    except KeyboardInterrupt:  # before a run was opened: nothing to record
        click.echo("interrupted", err=True)
        ctx.exit(EXIT_INTERRUPTED)
    finally:
        gc.enable()
    if summary.interrupted:
        click.echo(f"interrupted: run {summary.run_id} is recorded as such; what it did so far:",
                   err=True)
    rows = [{"source": sid, **{k: counts.get(k, 0) for k in
             ("new", "amended", "withdrawn", "restored", "moved", "unchanged")},
             "dropped": counts.get("irrelevant", 0),
             "errors": counts.get("error", 0) + counts.get("gone", 0)}
            for sid, counts in summary.per_source.items()]
    click.echo(render(rows, SUMMARY_COLUMNS, "table"))
    lines = report_problems(summary.problems, summary.run_id, problems_file)
    if lines:
        click.echo("\n" + "\n".join(lines))
    if summary.interrupted:
        ctx.exit(EXIT_INTERRUPTED)
    if fail_on_error and summary.failed_sources:
        click.echo(f"{len(summary.failed_sources)} source(s) failed", err=True)
        ctx.exit(EXIT_SOME_FAILED)


@click.command()
@sources_option
@click.option("--source", "only", multiple=True, metavar="ID", help="Only this source (repeatable).")
@pass_app
def reextract(app: App, source_paths: tuple[str, ...], only: tuple[str, ...]) -> None:
    """Re-read stored snapshots with the current extraction rules, without fetching anything.

    A text that now reads differently becomes a *technical* version: shown by
    `history --change technical`, never announced, and the base for the next crawl.

    \b
    Example:
      policywatch reextract --sources my-sources/ --source eu-edpb
    """
    from policywatch.reextraction import reextract as reextract_snapshots

    catalogue, _ = app.catalogue(source_paths)
    print_declaration_errors(catalogue)
    selected = select_sources(catalogue, only)
    outcomes = reextract_snapshots(app.store(), selected, lambda line: click.echo(line, err=True))
    click.echo(f"{sum(outcomes.values())} instrument(s): {outcomes['technical']} technical "
               f"version(s), {outcomes['unchanged']} unchanged, {outcomes['error']} error(s)")


@click.command()
@click.option("--source", multiple=True, metavar="ID", help="Source id (repeatable).")
@format_option
@pass_app
def dropped(app: App, source: tuple[str, ...], fmt: str) -> None:
    """Documents the relevance filter kept out of the instruments, and why.

    \b
    Example:
      policywatch dropped --source eu-edpb --format json
    """
    from storage.queries import dropped_documents

    with app.store().sessions() as session:
        rows = [{"source": d.source_id, "title": d.title, "url": d.url, "reason": d.reason,
                 "first_seen": iso(d.first_seen_at), "last_seen": iso(d.last_seen_at)}
                for d in dropped_documents(session, source)]
    click.echo(render(rows, ["source", "last_seen", "title", "reason", "url"], fmt))


COMMANDS = (crawl, reextract, dropped)
