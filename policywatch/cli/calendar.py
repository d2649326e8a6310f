"""`policywatch calendar`: what comes into force when — the key dates of each instrument's latest
version, as a listing or as an iCalendar file for calendar apps."""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path

import click

from policywatch.cli.app import App, checked_values, pass_app, utc_now
from policywatch.output import FORMATS, render
from texts.durations import parse_interval
from texts.vocabulary import DATE_KIND_NAMES, DATE_KINDS

CALENDAR_COLUMNS = ["on", "kind", "stage", "jurisdiction", "instrument", "title"]
PRODID = "-//policywatch//key dates//EN"


def parse_day(text: str | None, option: str, ahead: bool = False) -> date | None:
    """'2025-01-01', 'today', or a span from today ('30d', '2w'): back for --since, ahead for
    --until."""
    if text is None:
        return None
    today = utc_now().date()
    if text.strip().lower() == "today":
        return today
    try:
        span = parse_interval(text)
        return today + span if ahead else today - span
    except ValueError:
        pass
    try:
        return date.fromisoformat(text.strip())
    except ValueError:
        raise click.BadParameter(f"{text!r} is not a date (2025-01-01), 'today' or a span (30d, 2w)",
                                 param_hint=option) from None


def calendar_ics(rows: list[dict], name: str = "policywatch: key dates") -> bytes:
    """The key dates as an RFC 5545 calendar: one all-day event per date, its summary the kind
    and the instrument, its description the quote that gives the date."""
    import icalendar

    ics = icalendar.Calendar.new(prodid=PRODID, name=name, uid="policywatch-key-dates")
    for row in rows:
        day = date.fromisoformat(row["on"])
        described = [f"{row['provision']}: “{row['quote']}”" if row["provision"] else f"“{row['quote']}”"]
        if row["basis"]:
            described.append(f"Reckoned: {row['basis']}")
        described.append(f"{row['instrument']} ({row['jurisdiction']}, stage {row['stage']}), "
                         f"version {row['version']}")
        event = icalendar.Event.new(
            summary=f"{DATE_KIND_NAMES.get(row['kind'], row['kind'])}: {row['title'] or row['instrument']}",
            start=day, end=day + timedelta(days=1),
            uid=f"{row['instrument']}/{row['kind']}/{row['on']}@policywatch",
            description="\n".join(described), url=row["url"])
        event.add("categories", [row["kind"]])
        ics.add_component(event)
    return ics.to_ical()


@click.command()
@click.option("--since", metavar="WHEN", help="From this day (2025-01-01, today) or span back (30d).")
@click.option("--until", metavar="WHEN", help="Up to this day (inclusive) or span ahead (90d).")
@click.option("--kind", multiple=True, type=click.Choice(DATE_KINDS), help="Kind of date (repeatable).")
@click.option("--jurisdiction", multiple=True, metavar="J", help="e.g. EU, CN (repeatable).")
@click.option("--source", multiple=True, metavar="ID", help="Source id (repeatable).")
@click.option("--limit", type=click.IntRange(min=1), help="At most this many dates.")
@click.option("--format", "fmt", type=click.Choice([*FORMATS, "ics"]), default="table", show_default=True,
              help="Output format (ics: an iCalendar file on standard output).")
@click.option("--ics", "ics_file", type=click.Path(dir_okay=False, writable=True), metavar="FILE.ics",
              help="Also write the dates as an iCalendar file, for calendar apps.")
@pass_app
def calendar(app: App, since: str | None, until: str | None, kind: tuple[str, ...],
             jurisdiction: tuple[str, ...], source: tuple[str, ...], limit: int | None, fmt: str,
             ics_file: str | None) -> None:
    """What comes into force when: the dated adoption, publication, entry into force,
    application and transition deadlines of each instrument's latest version, oldest first,
    with the quote that gives each date.

    \b
    Example:
      policywatch calendar --since today --kind entry_into_force --kind application
      policywatch calendar --ics key-dates.ics
    """
    from storage.calendar import CalendarFilter
    from storage.calendar import calendar as query_calendar
    from storage.queries import known_jurisdictions, known_source_ids

    first, last = parse_day(since, "--since"), parse_day(until, "--until", ahead=True)
    if first and last and last < first:
        raise click.BadParameter(f"{until!r} is before --since {since!r}", param_hint="--until")
    with app.store().sessions() as session:
        where = CalendarFilter(
            since=first, until=last, kinds=kind,
            jurisdictions=checked_values("--jurisdiction", jurisdiction, known_jurisdictions(session),
                                         "instrument in jurisdiction", upper=True),
            sources=checked_values("--source", source, known_source_ids(session), "source"),
            limit=limit)
        rows = query_calendar(session, where)
    if ics_file:
        try:
            Path(ics_file).write_bytes(calendar_ics(rows))
        except OSError as exc:
            raise click.ClickException(f"--ics: cannot write {ics_file}: {exc.strerror}") from None
    if fmt == "ics":
        click.echo(calendar_ics(rows).decode("utf-8"), nl=False)
    else:
        click.echo(render(rows, [*CALENDAR_COLUMNS, "provision", "quote", "basis", "url"]
                          if fmt == "csv" else CALENDAR_COLUMNS, fmt))
    if ics_file:
        click.echo(f"{len(rows)} date(s) written to {ics_file}", err=True)


COMMANDS = (calendar,)
