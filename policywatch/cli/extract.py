"""`policywatch extract`: what policywatch would watch on one page, to debug a declaration."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

import click

from policywatch.cli.app import App, pass_app, print_declaration_errors, select_sources, sources_option

if TYPE_CHECKING:
    from crawlers.catalogue import Extract


@click.command()
@click.argument("target", metavar="FILE|URL|-")
@click.option("--source", "source_id", metavar="ID",
              help="Read the page with this declared source's extract rules and languages.")
@sources_option
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text",
              show_default=True, help="Output format.")
@pass_app
def extract(app: App, target: str, source_id: str | None, source_paths: tuple[str, ...],
            fmt: str) -> None:
    """What policywatch would watch on one page: title, date, text, its share of the page's
    visible text, the block it was taken from, and the warnings a crawl would record.

    Without --source the page is read as an undeclared one (automatic main-content detection);
    with it, with that declaration's `extract` selectors and languages, as a crawl reads it.

    \b
    Example:
      policywatch extract https://www.edpb.europa.eu/our-documents/adequacy_en --source eu-edpb
      policywatch extract saved-page.html --sources my-sources/ --source ico --format json
    """
    from crawlers.page_report import page_report
    from policywatch.fetch import FetchError, read_document

    rules: Extract | None = None
    languages: tuple[str, ...] = ()
    if source_id is not None:
        catalogue, _ = app.catalogue(source_paths)
        print_declaration_errors(catalogue)
        source = select_sources(catalogue, (source_id,))[0]
        rules, languages = source.extract, source.languages
    try:
        document = read_document(target, app.config.crawl.timeout, app.config.crawl.contact)
    except FetchError as exc:
        raise click.ClickException(str(exc)) from None
    report = page_report(document.body, document.content_type, rules, languages)
    if fmt == "json":
        click.echo(json.dumps(report, ensure_ascii=False, indent=2))
        return
    click.echo(report_text(report))


def report_text(report: dict[str, Any]) -> str:
    """The report as people read it: one field a line, the warnings, then the watched text."""
    visible = report["visible_characters"]
    share = f" of {visible:,} visible ({report['characters'] / visible:.0%})" if visible else ""
    fields = [("title", report["title"] or "(none)"), ("published", report["published"] or "(none)"),
              ("doc_type", report["doc_type"]), ("characters", f"{report['characters']:,}{share}"),
              ("block", report["block"] or "(none)"),
              *(("warning", warning) for warning in report["warnings"])]
    head = "\n".join(f"{name + ':':<12}{value}" for name, value in fields)
    return f"{head}\n\n{report['text'] or '(no text)'}"


COMMANDS = (extract,)
