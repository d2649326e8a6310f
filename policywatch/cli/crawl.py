"""`policywatch crawl`, `reextract` and `dropped`: check sources now, re-read stored snapshots, and
list what the relevance filter kept out."""

from __future__ import annotations

import click

from policywatch.cli.app import App, iso, pass_app, print_declaration_errors, select_sources, sources_option
from policywatch.output import format_option, render

SUMMARY_COLUMNS = ["source", "new", "amended", "withdrawn", "restored", "moved", "unchanged",
                   "dropped", "errors"]
PROBLEMS_SHOWN = 20


@click.command()
@sources_option
@click.option("--source", "only", multiple=True, metavar="ID", help="Crawl only this source (repeatable).")
@click.option("--quiet", "-q", is_flag=True, help="No per-document progress lines.")
@pass_app
def crawl(app: App, source_paths: tuple[str, ...], only: tuple[str, ...], quiet: bool) -> None:
    """Check the sources once now, then print a summary per source.

    Exits 0 when the cycle ran, even if some sources failed: failures are recorded and shown by
    `policywatch status`.

    \b
    Example:
      policywatch crawl --sources my-sources/ --source cn-cac
    """
    from policywatch.crawling import run_crawl  # Scrapy is imported only for crawls

    catalogue, paths = app.catalogue(source_paths)
    print_declaration_errors(catalogue)
    selected = select_sources(catalogue, only)
    store = app.store(create=True)
    click.echo(f"crawling {len(selected)} source(s) into {store.url}", err=True)
    summary = run_crawl(store, selected, catalogue.files, paths, app.config.crawl, not quiet)
    rows = [{"source": sid, **{k: counts.get(k, 0) for k in
             ("new", "amended", "withdrawn", "restored", "moved", "unchanged")},
             "dropped": counts.get("irrelevant", 0),
             "errors": counts.get("error", 0) + counts.get("gone", 0)}
            for sid, counts in summary.per_source.items()]
    click.echo(render(rows, SUMMARY_COLUMNS, "table"))
    if summary.problems:
        click.echo(f"\n{len(summary.problems)} problem(s) (see `policywatch status`):")
        for source_id, kind, url, message in summary.problems[:PROBLEMS_SHOWN]:
            click.echo(f"  {source_id}: {kind}: {url}: {message}")
        if len(summary.problems) > PROBLEMS_SHOWN:
            click.echo(f"  … and {len(summary.problems) - PROBLEMS_SHOWN} more")


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
