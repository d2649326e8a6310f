"""`policywatch report`: the comparative report of the instruments in force — per level and
jurisdiction, the paradigm shares, their trend by year, the instruments behind each cell and
the dimension that drives each call."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING

import click

from policywatch.cli.app import App, pass_app
from policywatch.output import render
from texts.vocabulary import PARADIGMS, UNKNOWN

if TYPE_CHECKING:
    from paradigms.report import Cell, Report

IDS_SHOWN = 4
SHORT = {"facilitation": "F", "prudent": "P", "restrictive": "R"}


def cell_row(cell: Cell, as_share) -> dict:
    """One table or CSV row of a cell."""
    return {"level": cell.group, "jurisdiction": cell.jurisdiction, "in_force": cell.in_force,
            **{p: as_share(cell.shares[p]) for p in PARADIGMS}, "unknown": cell.counts[UNKNOWN],
            "leading": cell.leading or "", "driven_by": cell.driven_by.get(cell.leading or "") or ""}


def _instruments(cell: Cell) -> str:
    """'R: cn-cac/a, cn-cac/b; P: …': the ids behind a cell, by paradigm."""
    parts = []
    for paradigm in (*PARADIGMS, UNKNOWN):
        ids = cell.instruments[paradigm]
        if ids:
            shown = ", ".join(ids[:IDS_SHOWN]) + (f" +{len(ids) - IDS_SHOWN}" if len(ids) > IDS_SHOWN else "")
            parts.append(f"{SHORT.get(paradigm, '?')}: {shown}")
    return "; ".join(parts)


def render_table(report: Report) -> str:
    percent = (lambda share: f"{share:.0%}")  # noqa: E731 (one formatter handed to cell_row)
    columns = ["level", "jurisdiction", "in_force", *PARADIGMS, "unknown", "leading", "driven_by"]
    lines = [render([cell_row(c, percent) for c in report.cells], columns, "table")]
    lines.append("\ninstruments behind each cell (F facilitation, P prudent, R restrictive, ? unknown; "
                 "`policywatch show` gives each one's evidence):")
    named = [cell for cell in report.cells if cell.jurisdiction != "(all)"]
    width = max((len(cell.jurisdiction) for cell in named), default=0)
    for cell in named:
        lines.append(f"  {cell.group:<22} {cell.jurisdiction:<{width}}  {_instruments(cell)}")
    if report.trend:
        lines.append("\ntrend by year (F / P / R shares among the instruments in force today dated that "
                     "year or earlier, and how many):")
        rows = []
        for year in report.trend:
            row: dict = {"year": year.year}
            for group, shares in year.shares.items():
                row[group] = (" / ".join(f"{shares[p]:.0%}" for p in PARADIGMS) + f"  n={year.counts[group]}"
                              if year.counts[group] else "")
            rows.append(row)
        lines.append(render(rows, list(rows[0]), "table"))
    if report.left_out:
        lines.append("\nnot in force, left out: " + "; ".join(
            f"{why} {len(ids)} ({', '.join(ids[:IDS_SHOWN])}{' …' if len(ids) > IDS_SHOWN else ''})"
            for why, ids in report.left_out.items()))
    return "\n".join(lines)


@click.command()
@click.option("--since", type=click.IntRange(1900, 2100), metavar="YEAR",
              help="Only instruments adopted (or first published) in YEAR or later.")
@click.option("--format", "fmt", type=click.Choice(["table", "json", "csv"]), default="table",
              show_default=True, help="Output format (csv: one row per cell, with its instrument ids).")
@click.option("--chart", type=click.Path(dir_okay=False, writable=True), metavar="FILE.svg|FILE.png",
              help="Also draw the trend of each share by year, per level group (SVG or PNG by suffix).")
@pass_app
def report(app: App, since: int | None, fmt: str, chart: str | None) -> None:
    """The comparative report of the instruments in force: per level (national/regional,
    multilateral/bilateral) and jurisdiction, the paradigm shares, which dimension drives the
    calls, the instruments behind each cell, and the trend of each share by year.

    In force: not withdrawn, not a draft, consultation or repealed text, and repealed by no
    instrument in the store; a text that does not state its stage counts as in force. Shares
    are of the instruments with a paradigm; unknown ones are counted beside.

    \b
    Example:
      policywatch report --since 2018 --chart report.svg
    """
    from paradigms.report import comparative_report, draw_report_chart
    from storage.report import report_instruments

    with app.store().sessions() as session:
        instruments = report_instruments(session)
    result = comparative_report(instruments, since)
    if chart:
        suffix = Path(chart).suffix.lower().lstrip(".")
        if suffix not in ("svg", "png"):
            raise click.BadParameter(f"{chart}: give a file ending in .svg or .png", param_hint="--chart")
        if not result.trend:
            raise click.ClickException("--chart: no instrument in force to draw")
        try:
            Path(chart).write_bytes(draw_report_chart(result, suffix))
        except OSError as exc:
            raise click.ClickException(f"--chart: cannot write {chart}: {exc.strerror}") from None
    if fmt == "json":
        click.echo(json.dumps(result.to_json(), ensure_ascii=False, indent=2))
    elif fmt == "csv":
        rows = [cell_row(c, lambda share: round(share, 4))
                | {f"{p}_ids": " ".join(c.instruments[p]) for p in (*PARADIGMS, UNKNOWN)}
                for c in result.cells]
        columns = ["level", "jurisdiction", "in_force", *PARADIGMS, "unknown", "leading", "driven_by",
                   *(f"{p}_ids" for p in (*PARADIGMS, UNKNOWN))]
        click.echo(render(rows, columns, "csv"))
    else:
        click.echo(render_table(result) if result.cells else "no instrument in force in the store")
    if chart:
        click.echo(f"chart written to {chart}", err=True)


COMMANDS = (report,)
