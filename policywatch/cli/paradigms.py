"""`policywatch classify`, `trends` and `reclassify`: the paradigm of one text, the shares over
time, and the stored history classified again."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING

import click

from policywatch.cli.app import App, pass_app
from policywatch.output import format_option, render, render_object
from texts.vocabulary import PARADIGMS

if TYPE_CHECKING:
    from paradigms.trends import Period

EVIDENCE_COLUMNS = ["provision", "paradigm", "dimension", "indicator", "quote"]


@click.command()
@click.argument("target", metavar="FILE|URL|-")
@format_option
def classify(target: str, fmt: str) -> None:
    """Paradigm, scores and quoted evidence for one text (HTML, PDF or plain text).

    \b
    Example:
      policywatch classify policywatch/demoweb/corpus/cn-pipl-2021.md --format json
    """
    from crawlers.extract import extract_document
    from paradigms.classifier import classify_text
    from policywatch.fetch import FetchError, read_document
    from texts.document import ExtractionError
    from texts.vocabulary import PARADIGM_NAMES

    try:
        document = read_document(target)
    except FetchError as exc:
        raise click.ClickException(str(exc)) from None
    try:
        text = extract_document(document.body, document.content_type).text
    except ExtractionError as exc:
        raise click.ClickException(f"{document.where}: {exc}") from None
    result = classify_text(text).to_json()
    if fmt in ("json", "ndjson"):
        click.echo(render_object(result, fmt))
        return
    if fmt == "csv":
        click.echo(render(result["evidence"], EVIDENCE_COLUMNS, "csv"))
        return
    scores = ", ".join(f"{p} {s}" for p, s in result["scores"].items())
    click.echo(f"paradigm:  {result['paradigm']} ({PARADIGM_NAMES[result['paradigm']]})")
    click.echo(f"scores:    {scores}")
    click.echo(f"relevant:  {'yes' if result['relevant'] else 'no'}")
    if result["evidence"]:
        click.echo("\nevidence:")
        click.echo(render(result["evidence"], EVIDENCE_COLUMNS, "table"))


@click.command()
@click.option("--by", type=click.Choice(["year", "quarter"]), default="year", show_default=True,
              help="Period length.")
@click.option("--chart", type=click.Path(dir_okay=False, writable=True), metavar="FILE.png",
              help="Also draw the shares over time, flagged shifts marked, as a PNG.")
@format_option
@pass_app
def trends(app: App, by: str, chart: str | None, fmt: str) -> None:
    """Paradigm shares of the instruments in force per period, and flagged shifts.

    Flags: a jurisdiction whose instruments in force change dominant paradigm, a share that
    moves 15 points against the previous periods, a burst of new restrictive instruments.

    \b
    Example:
      policywatch trends --by quarter --chart trends.png
    """
    from paradigms.trends import compute_trends, trends_json
    from storage.queries import trend_histories

    with app.store().sessions() as session:
        histories = trend_histories(session)
    periods, flags = compute_trends(histories, by)
    if chart:
        from paradigms.chart import draw_trend_chart

        try:
            Path(chart).write_bytes(draw_trend_chart(periods, flags))
        except OSError as exc:
            raise click.ClickException(f"--chart: cannot write {chart}: {exc.strerror}") from None
    if fmt == "json":
        click.echo(json.dumps(trends_json(periods, flags), ensure_ascii=False, indent=2))
        return
    # Shares are fractions (0.67) in CSV and NDJSON, percentages only in the table.
    as_share = (lambda share: f"{share:.0%}") if fmt == "table" else (lambda share: round(share, 4))
    rows = [{"period": p.period, "in_force": p.in_force,
             **{name: as_share(p.shares[name]) for name in PARADIGMS},
             "unknown": p.counts.get("unknown", 0),
             "national/regional R": as_share(restrictive_share(p, "national/regional")),
             "multi/bilateral R": as_share(restrictive_share(p, "multilateral/bilateral"))}
            for p in periods]
    columns = ["period", "in_force", *PARADIGMS, "unknown", "national/regional R", "multi/bilateral R"]
    click.echo(render(rows, columns, fmt))
    if fmt == "table" and flags:
        click.echo("\nflagged shifts:")
        for flag in flags:
            more = f" ({', '.join(flag.instruments[:4])}{' …' if len(flag.instruments) > 4 else ''})"
            click.echo(f"  {flag.period}  {flag.kind:<18} {flag.message}{more if flag.instruments else ''}")
    if chart:
        click.echo(f"chart written to {chart}", err=True)


def restrictive_share(period: Period, group: str) -> float:
    """The restrictive share among one group of levels' instruments in force in a period."""
    return period.by_level.get(group, {}).get("restrictive", 0.0)


@click.command()
@pass_app
def reclassify(app: App) -> None:
    """Re-run the classifier and the lifecycle reader over every stored version.

    After the classifier improved, or on a store recorded before stages were read: labels,
    scores, evidence, lifecycle stages, key dates and links between instruments are read again,
    and the paradigms, shifts and stages of existing events updated; no change event is created.

    \b
    Example:
      policywatch reclassify
    """
    from storage.reclassify import reclassify_store

    counts = reclassify_store(app.store())
    click.echo(f"{counts['versions']} version(s) classified, {counts['relabelled']} relabelled, "
               f"{counts.get('stages', 0)} stage(s) changed, {counts.get('key_dates', 0)} key date(s), "
               f"{counts.get('links', 0)} link(s), {counts['events']} event(s) updated")


COMMANDS = (classify, trends, reclassify)
