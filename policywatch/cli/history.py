"""`policywatch history`, `show` and `diff`: the change events, one instrument, two versions."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any, TypeVar

import click

from policywatch.cli.app import App, checked_values, parse_when, pass_app
from policywatch.output import format_option, render, render_object
from texts.vocabulary import CHANGE_KINDS, PARADIGM_CHOICES, STAGE, STAGES

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from storage.history_sql import Reader
    from storage.models import Instrument
    from texts.provision_diffs import ProvisionChange

HISTORY_COLUMNS = ["detected_at", "change", "source", "jurisdiction", "version", "stage", "instrument",
                   "title"]
T = TypeVar("T")
REFS_SHOWN = 6
QUOTE_SHOWN = 120


@click.command()
@click.option("--since", metavar="WHEN", help="From this date/time (2024-03-15) or span (7d).")
@click.option("--until", metavar="WHEN", help="Up to this date (inclusive) or date/time.")
@click.option("--jurisdiction", multiple=True, metavar="J", help="e.g. EU, CN, cn, US (repeatable).")
@click.option("--source", multiple=True, metavar="ID", help="Source id, any case (repeatable).")
@click.option("--change", multiple=True, type=click.Choice(CHANGE_KINDS), help="Change kind (repeatable).")
@click.option("--paradigm", multiple=True, type=click.Choice(PARADIGM_CHOICES), help="Paradigm (repeatable).")
@click.option("--stage", multiple=True, type=click.Choice(STAGES),
              help="Lifecycle stage of the event's version, as of today (repeatable).")
@click.option("--search", metavar="TEXT", help="A phrase in any version's title or text.")
@click.option("--baseline/--no-baseline", default=True, show_default=True,
              help="Include instruments found by a source's first crawl.")
@click.option("--limit", type=click.IntRange(min=1), help="At most this many events.")
@format_option
@pass_app
def history(app: App, since: str | None, until: str | None, jurisdiction: tuple[str, ...],
            source: tuple[str, ...], change: tuple[str, ...], paradigm: tuple[str, ...],
            stage: tuple[str, ...], search: str | None, baseline: bool, limit: int | None,
            fmt: str) -> None:
    """Change events, newest first.

    Each event carries the lifecycle stage of its version (draft, consultation, adopted,
    in_force, repealed, unknown) as of today: an adopted text whose entry into force has passed
    is in force. A `stage` event records a version whose stage differs from the one before.

    \b
    Example:
      policywatch history --since 2025-01-01 --jurisdiction CN --change amended --format json
      policywatch history --change stage --stage adopted
    """
    since_at, until_at = parse_when(since, "--since"), parse_when(until, "--until", end_of_day=True)

    def events(reader: Reader) -> list[dict]:
        from storage.history_sql import HistoryFilter, known_jurisdictions, known_source_ids, read_history

        return read_history(reader, HistoryFilter(
            since=since_at, until=until_at,
            jurisdictions=checked_values("--jurisdiction", jurisdiction, known_jurisdictions(reader),
                                         "instrument in jurisdiction", upper=True),
            sources=checked_values("--source", source, known_source_ids(reader), "source"),
            changes=change, paradigms=paradigm, stages=stage, search=search,
            include_baseline=baseline, limit=limit))

    rows = read_quickly(app, events)
    if rows is None:
        from storage.readers import SessionReader

        with app.store().sessions() as session:
            rows = events(SessionReader(session))
    if fmt == "table":
        for row in rows:
            if row["baseline"]:
                row["change"] = "new (baseline)"
            if row["change"] == STAGE:
                row["stage"] = stage_change(row)
                row["provisions"] = (f"{row.get('stage_provision') or ''}: "
                                     f"{short_quote(row.get('stage_quote') or '')}")
            else:
                row["provisions"] = provision_refs(row.get("provisions") or {})
        click.echo(render(rows, [*HISTORY_COLUMNS, "provisions"], fmt, whole={"provisions"}))
        return
    click.echo(render(rows, [*HISTORY_COLUMNS, "url", "baseline", "paradigm", "previous_paradigm",
                             "previous_stage", "stage_quote"], fmt))


def read_quickly(app: App, read: Callable[[Reader], T]) -> T | None:
    """What `read` reads of a current SQLite store through the standard library's sqlite3 alone
    (no SQLAlchemy: the answer comes in a third of the time); None when the store is another
    database, needs migrating, or meets any fault of SQLite's on the way (busy, damaged): the
    store, opened as usual, then reads it again and words the fault."""
    import sqlite3

    reader = app.sqlite_reader()
    if reader is None:
        return None
    try:
        return read(reader)
    except sqlite3.Error:
        return None
    finally:
        reader.close()


def stage_change(row: dict) -> str:
    """'draft → adopted': what a stage event changed."""
    return f"{row.get('previous_stage') or 'unknown'} → {row['stage']}"


def provision_refs(provisions: dict) -> str:
    """'+Article 3, -Article 9, ~Article 45': what an event changed, in one short cell."""
    parts = [f"+{r}" for r in provisions.get("added", [])]
    parts += [f"-{r}" for r in provisions.get("removed", [])]
    parts += [f"~{m['ref']}" for m in provisions.get("modified", [])]
    return ", ".join(parts[:REFS_SHOWN]) + (" …" if len(parts) > REFS_SHOWN else "")


def instrument_or_fail(session: Session, key: str) -> Instrument:
    from storage.queries import find_instrument

    instrument = find_instrument(session, key)
    if instrument is None:
        raise click.ClickException(
            f"no instrument {key!r} (give its id as shown by `policywatch history`, the start of "
            "one id, its number or its URL)")
    return instrument


@click.command()
@click.argument("instrument")
@click.option("--text", "text_of", is_flag=False, flag_value="latest", default=None,
              metavar="[VERSION]", help="Print the text of a version (default: the latest).")
@format_option
@pass_app
def show(app: App, instrument: str, text_of: str | None, fmt: str) -> None:
    """One instrument with its versions (their paradigm, and their lifecycle stage with the
    quote that decided it), its key dates and its change events, newest first.

    \b
    Example:
      policywatch show 1
      policywatch show 1 --text 1
    """
    from storage.instrument_report import instrument_report

    with app.store().sessions() as session:
        found = instrument_or_fail(session, instrument)
        if text_of is not None:
            click.echo(version_text(found, text_of))
            return
        info = instrument_report(session, found)
    versions, key_dates, links, events = info["versions"], info["key_dates"], info["links"], info["events"]
    if fmt in ("json", "ndjson"):
        click.echo(render_object(info, fmt))
        return
    if fmt == "csv":
        click.echo(render(versions, list(versions[0]) if versions else ["version"], "csv"))
        return
    for key in ("instrument", "title", "source", "jurisdiction", "level", "url", "doc_type",
                "language", "published", "status", "first_seen_at"):
        click.echo(f"{key + ':':<15}{info[key] if info[key] is not None else ''}")
    if info["repealed_by"]:
        click.echo(f"{'repealed by:':<15}{', '.join(info['repealed_by'])}")
    click.echo("\nversions:")
    click.echo(render(versions, ["version", "recorded_at", "paradigm", "stage", "characters", "hash",
                                 "title"], "table"))
    click.echo("\nstages:")
    for v in versions:
        said = (f"{v['stage_provision']}: \"{short_quote(v['stage_quote'])}\"" if v["stage_quote"]
                else "nothing in the text says")
        since = f" (since {v['stage_since']})" if v["stage_since"] else ""
        click.echo(f"  version {v['version']}: {v['stage']}{since} · {said}")
    click.echo("\nkey dates:")
    click.echo(render([d | {"quote": short_quote(d["quote"])} for d in key_dates],
                      ["on", "kind", "provision", "quote"], "table", whole={"quote"})
               if key_dates else "  none: its latest version dates no adoption, publication "
                                         "or entry into force")
    click.echo("\nlinks:")  # what its text does to other instruments, and what theirs do to it
    click.echo(render([link | {"quote": short_quote(link["quote"])} for link in links],
                      ["direction", "reads", "cited", "instrument", "provision", "quote"], "table",
                      whole={"quote", "instrument"}) if links
               else "  none: its text names no other instrument, and no text in the store names it")
    click.echo("\nevents:")
    for event in events:
        if event["change"] == STAGE:
            event["stage"] = stage_change(event)
        event["provisions"] = provision_refs(event["provisions"] or {})
    click.echo(render(events, ["detected_at", "change", "version", "paradigm", "stage", "url",
                               "provisions"], "table", whole={"provisions"}))


def short_quote(quote: str, limit: int = QUOTE_SHOWN) -> str:
    """A quote cut at a word boundary for one table cell."""
    from texts.header_safe import header_safe

    quote = header_safe(quote)
    if len(quote) <= limit:
        return quote
    return quote[:limit].rsplit(" ", 1)[0] + " …"


def version_text(found: Instrument, wanted: str) -> str:
    """The text of version `wanted` ('latest' or a number) of an instrument."""
    numbers = sorted(v.number for v in found.versions)
    if not numbers:
        raise click.ClickException(f"{found.uid} has no stored version")
    number = numbers[-1] if wanted == "latest" else int(wanted) if wanted.isdigit() else None
    chosen = next((v for v in found.versions if v.number == number), None)
    if chosen is None:
        raise click.BadParameter(f"{found.uid} has no version {wanted!r} (versions {numbers[0]} to "
                                 f"{numbers[-1]})", param_hint="--text")
    return chosen.text


@click.command()
@click.argument("instrument")
@click.option("--from", "from_", type=int, metavar="N", help="Older version (default: the one before --to).")
@click.option("--to", type=int, metavar="N", help="Newer version (default: the latest).")
@click.option("--full", is_flag=True, help="Also print a line diff of the whole text.")
@format_option
@pass_app
def diff(app: App, instrument: str, from_: int | None, to: int | None, full: bool, fmt: str) -> None:
    """Provision-level differences between two versions of an instrument, the changed words
    marked: in colour on a terminal, [-deleted-]{+inserted+} otherwise.

    \b
    Example:
      policywatch diff cn-cac/provisions-1a2b3c --from 1 --to 2
    """
    from storage.queries import version
    from texts.provision_diffs import compare_provisions, unified_text_diff

    with app.store().sessions() as session:
        found = instrument_or_fail(session, instrument)
        newest = found.version_count
        to = to or newest
        from_ = from_ or to - 1
        if newest < 2 and from_ < 1:
            raise click.ClickException(f"{found.uid} has only one version: nothing to compare")
        old, new = version(session, found.id, from_), version(session, found.id, to)
        if new is None or old is None:
            missing = to if new is None else from_
            raise click.ClickException(f"{found.uid} has no version {missing} (versions 1 to {newest})")
        changes = compare_provisions(old.text, new.text)
        uid, old_text, new_text = found.uid, old.text, new.text
    if fmt != "table":
        click.echo(render([change.to_json() for change in changes],
                          ["change", "provision", "before", "after", "text"], fmt))
        return
    colour = click.get_current_context().color
    on_terminal = click.get_text_stream("stdout").isatty() if colour is None else colour
    click.echo(f"{uid}: version {from_} → {to}")
    if not changes:
        click.echo("no provision changed")
    for change in changes:
        click.echo(f"\n{change.change:>9}  {change.ref}")
        click.echo(indented(marked_words(change, on_terminal)))
    if full:
        click.echo("")
        for line in unified_text_diff(old_text, new_text, f"version {from_}", f"version {to}"):
            click.echo(line)


STYLES: dict[str, dict[str, Any]] = {"deleted": {"fg": "red", "strikethrough": True},
                                     "inserted": {"fg": "green", "underline": True}}


def marked_words(change: ProvisionChange, on_terminal: bool) -> str:
    """A changed provision for the terminal: a modified one's excerpt with its changed words
    marked, an added or removed one's whole text (marked as inserted or deleted)."""
    from texts.word_diff import Run, marked_plain

    runs = change.runs or (Run("inserted" if change.change == "added" else "deleted", change.text),)
    if not on_terminal:
        return marked_plain(runs)
    return "".join(click.style(run.text, **STYLES[run.mark]) if run.mark in STYLES else run.text
                   for run in runs).strip()


def indented(text: str, margin: str = " " * 11) -> str:
    return "\n".join(margin + line for line in text.split("\n"))


COMMANDS = (history, show, diff)
