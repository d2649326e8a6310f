"""What every command shares: the configuration and store of one invocation, options, dates."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING

import click

from policywatch.config import Config

if TYPE_CHECKING:  # the store and the catalogue are imported by the commands that use them
    from crawlers.catalogue import Catalogue, Source
    from storage.database import Store

_RELATIVE = re.compile(r"^(\d+)\s*([hdw])$")


@dataclass
class App:
    """One invocation: the configuration, the --db flag, and the store once opened."""

    config: Config
    db_flag: str | None
    opened: Store | None = field(default=None, repr=False)

    def store(self) -> Store:
        """The store, opened (and migrated) on first use; closed by `close`."""
        from storage.database import Store, StoreError

        if self.opened is None:
            try:
                self.opened = Store(self.db_flag or self.config.db)
            except StoreError as exc:
                raise click.ClickException(str(exc)) from None
        return self.opened

    def close(self) -> None:
        if self.opened is not None:
            self.opened.close()
            self.opened = None

    def catalogue(self, paths: tuple[str, ...] = ()) -> tuple[Catalogue, list[Path] | None]:
        """The declarations of `paths`, else of the configured sources, else the bundled ones."""
        from crawlers.catalogue import load_catalogue

        chosen = [Path(p) for p in paths] or list(self.config.sources) or None
        return load_catalogue(chosen), chosen


pass_app = click.make_pass_decorator(App)

sources_option = click.option(
    "--sources", "source_paths", multiple=True, metavar="PATH", type=click.Path(),
    help="A declaration file or a folder of them (repeatable); default: the configured or "
         "bundled catalogue.")


def print_declaration_errors(catalogue: Catalogue) -> None:
    for error in catalogue.errors:
        click.echo(f"error: {error}", err=True)


def select_sources(catalogue: Catalogue, only: tuple[str, ...]) -> list[Source]:
    """The sources named by --source (all when none is), refusing unknown or no sources."""
    selected = catalogue.sources
    if only:
        known = catalogue.by_id()
        unknown = [s for s in only if s not in known]
        if unknown:
            raise click.ClickException(f"--source: no declared source {', '.join(map(repr, unknown))}")
        selected = [known[s] for s in only]
    if not selected:
        raise click.ClickException("no valid source declarations")
    return selected


def parse_when(text: str | None, option: str, end_of_day: bool = False) -> datetime | None:
    """'2024-03-15', '2024-03-15T10:00', or a span back from now ('36h', '7d', '2w'), as naive UTC."""
    if text is None:
        return None
    if match := _RELATIVE.match(text.strip()):
        amount, unit = int(match.group(1)), match.group(2)
        span = {"h": timedelta(hours=amount), "d": timedelta(days=amount),
                "w": timedelta(weeks=amount)}[unit]
        return datetime.now(UTC).replace(tzinfo=None) - span
    try:
        value = datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    except ValueError:
        raise click.BadParameter(
            f"{text!r} is not a date (2024-03-15, 2024-03-15T10:00 or 7d)", param_hint=option
        ) from None
    offset = value.utcoffset()
    if offset is not None:
        value = (value - offset).replace(tzinfo=None)
    if end_of_day and len(text.strip()) == 10:
        value += timedelta(days=1)
    return value


def iso(moment: datetime | None) -> str | None:
    """A stored (naive UTC) time as the listings show it: 2024-03-15T10:00:00Z."""
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ") if moment else None
