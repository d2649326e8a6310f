"""`policywatch sources list|check`: the declarations, listed and validated."""

from __future__ import annotations

import sys

import click

from policywatch.cli.app import App, pass_app, print_declaration_errors, sources_option
from policywatch.output import format_option, render


@click.group()
def sources() -> None:
    """Show and validate source declarations.

    \b
    Example:
      policywatch sources check --sources my-sources/
    """


@sources.command("list")
@sources_option
@format_option
@pass_app
def sources_list(app: App, source_paths: tuple[str, ...], fmt: str) -> None:
    """List the declared sources.

    \b
    Example:
      policywatch sources list --sources tests/web/sources --format json
    """
    catalogue, _ = app.catalogue(source_paths)
    print_declaration_errors(catalogue)
    rows = [{"id": s.id, "name": s.name, "jurisdiction": s.jurisdiction, "level": s.level,
             "body": s.body, "every": s.every, "entries": len(s.entries),
             "file": catalogue.files[s.id]} for s in catalogue.sources]
    click.echo(render(rows, ["id", "jurisdiction", "level", "body", "every", "entries", "name"]
                      if fmt == "table" else list(rows[0]) if rows else ["id"], fmt))


@sources.command("check")
@sources_option
@click.option("--offline/--online", default=True, show_default=True,
              help="--online also asks each entry URL once whether it answers.")
@pass_app
def sources_check(app: App, source_paths: tuple[str, ...], offline: bool) -> None:
    """Validate declarations: one line per problem naming file, field and reason; exit 1 if any.

    \b
    Example:
      policywatch sources check --offline
      policywatch sources check --sources crawlers/sources/eu-edpb.yaml --online
    """
    catalogue, _ = app.catalogue(source_paths)
    print_declaration_errors(catalogue)
    click.echo(f"{len(catalogue.sources)} valid declaration(s), {len(catalogue.errors)} error(s)")
    if not offline:
        from policywatch.reachability import check_entries

        for source_id, url, verdict in check_entries(catalogue.sources, app.config.crawl):
            click.echo(f"{source_id}: {url}: {verdict}")
    if catalogue.errors:
        sys.exit(1)


COMMANDS = (sources,)
