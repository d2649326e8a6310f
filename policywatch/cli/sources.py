"""`policywatch sources list|check`: the declarations, listed and validated."""

from __future__ import annotations

import sys
from pathlib import Path

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
      policywatch sources list --sources my-sources/ --format json
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


@sources.command("add")
@click.argument("url")
@click.option("--id", "source_id", metavar="ID", help="Source id (default: from the host).")
@click.option("--sources", "folder", type=click.Path(file_okay=False), metavar="FOLDER",
              help="Your sources folder (default: the first folder of the configuration's sources).")
@click.option("--jurisdiction", metavar="J", help="EU, CN, OECD … (default: from the domain).")
@click.option("--name", metavar="TEXT", help="Source name (default: the page title).")
@click.option("--level", metavar="LEVEL", help="national, supranational, multilateral … "
              "(default: from the jurisdiction).")
@click.option("--body", metavar="BODY", default="regulator", show_default=True,
              help="regulator, ministry, legislature, gazette, court, …")
@click.option("--every", default="1d", show_default=True, metavar="INTERVAL",
              help="How often to check (30m, 6h, 1d, 2w).")
@click.option("--dry-run", is_flag=True, help="Print the declaration without writing it.")
@pass_app
def sources_add(app: App, url: str, source_id: str | None, folder: str | None,
                jurisdiction: str | None, name: str | None, level: str | None, body: str,
                every: str, dry_run: bool) -> None:
    """Declare a new source from one page: fetch it once, tell a feed, a sitemap, a listing or a
    single document, propose the declaration, validate it and write it to your sources folder.

    \b
    Example:
      policywatch sources add https://www.edpb.europa.eu/our-work-tools/our-documents_en --sources my-sources/
    """
    from crawlers.catalogue import load_catalogue
    from crawlers.extract import extract_document
    from crawlers.page_analysis import analyse_page
    from policywatch.fetch import FetchError, fetch_document
    from policywatch.source_proposal import jurisdiction_for, propose, source_id_for
    from texts.document import ExtractionError

    target = Path(folder) if folder else next((p for p in app.config.sources if p.is_dir()), None)
    if target is None:
        raise click.UsageError("give the folder to write into with --sources FOLDER")
    try:
        fetched = fetch_document(url, app.config.crawl.timeout, app.config.crawl.contact)
    except FetchError as exc:
        raise click.ClickException(f"{url}: {exc}") from None
    page = analyse_page(url, fetched.body, fetched.content_type)
    chosen = jurisdiction or jurisdiction_for(url)
    if chosen is None:
        raise click.UsageError(f"cannot tell the jurisdiction from {url}: give --jurisdiction "
                               "(an ISO code like FR, or EU, OECD, WTO …)")
    source_id = (source_id or source_id_for(url)).lower()
    proposal = propose(page, source_id, chosen, name, level, body, every)
    click.echo(f"{url}: a {page.kind}" + (f" with {len(page.found)} link(s) to follow, e.g. "
                                          f"{page.found[0]}" if page.found else ""))
    if page.kind == "document":
        try:
            watched = extract_document(fetched.body, fetched.content_type).text
            click.echo(f"extraction would watch {len(watched)} characters: "
                       f"{' '.join(watched.split())[:160]}…")
        except ExtractionError as exc:
            click.echo(f"extraction finds no text yet: {exc}", err=True)
    click.echo("\n" + proposal.text)
    for error in proposal.errors:
        click.echo(f"error: {error}", err=True)
    if proposal.errors:
        raise click.ClickException("the proposed declaration is not valid; fix the options above")
    known = load_catalogue([target]).by_id() if target.exists() else {}
    if source_id in known:
        raise click.ClickException(f"{source_id!r} is already declared in {target}: choose "
                                   "another --id")
    if dry_run:
        return
    written = target / f"{source_id}.yaml"
    target.mkdir(parents=True, exist_ok=True)
    written.write_text(proposal.text, encoding="utf-8")
    click.echo(f"written to {written}; check it with `policywatch sources check --sources {target}`")


COMMANDS = (sources,)
