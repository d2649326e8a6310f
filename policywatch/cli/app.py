"""What every command shares: the configuration and store of one invocation, options, dates,
and input taken as people type it (any case, near misses answered with a suggestion)."""

from __future__ import annotations

import difflib
import functools
import sys
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Concatenate, ParamSpec, TypeVar

import click

from alerts.settings import SmtpSettings
from policywatch.config import Config, store_url
from texts.durations import parse_interval

if TYPE_CHECKING:  # the store and the catalogue are imported by the commands that use them
    from crawlers.catalogue import Catalogue, Source
    from storage.database import Store
    from storage.readers import SqliteReader


@dataclass
class App:
    """One invocation: the configuration, the --db flag, and the store once opened."""

    config: Config
    db_flag: str | None
    opened: Store | None = field(default=None, repr=False)

    @property
    def database_url(self) -> str:
        """The store's URL: --db (a URL or a file path), else the configuration, else the default."""
        from storage.store_files import database_url

        return database_url(store_url(self.db_flag) if self.db_flag else self.config.db)

    def store(self, create: bool = False) -> Store:
        """The store, opened (and migrated) on first use; closed by `close`. Only a crawl creates
        one, and holds it against a second crawl until it ends: the other commands refuse a
        SQLite file that is not there, in one line naming it, rather than read a new empty
        store."""
        from storage.database import Store, StoreError

        if self.opened is None:
            url = self.database_url
            missing = missing_sqlite_file(url)
            if missing is not None and not create:
                raise click.ClickException(
                    f"no store at {missing} (`policywatch crawl` or `policywatch demo` makes one; "
                    "give another with --db or POLICYWATCH_DB)")
            try:
                self.opened = Store(url, for_crawl=create)
            except StoreError as exc:
                raise click.ClickException(str(exc)) from None
        return self.opened

    def sqlite_reader(self) -> SqliteReader | None:
        """A read-only connection of the standard library's sqlite3 to the store, when it is a
        SQLite file that exists and needs no migration and the store is not open yet: a read
        through it answers without loading SQLAlchemy. None otherwise: `store()` opens it."""
        from storage.readers import current_sqlite_reader

        return None if self.opened is not None else current_sqlite_reader(self.database_url)

    def close(self) -> None:
        if self.opened is not None:
            self.opened.close()
            self.opened = None

    def catalogue(self, paths: tuple[str, ...] = ()) -> tuple[Catalogue, list[Path] | None]:
        """The declarations of `paths`, else of the configured sources, else the bundled ones."""
        from crawlers.catalogue import load_catalogue

        chosen = [Path(p) for p in paths] or list(self.config.sources) or None
        return load_catalogue(chosen), chosen

    def smtp(self) -> SmtpSettings:
        """The [smtp] settings, refused in one line when the configuration has none."""
        if not self.config.smtp_configured:
            where = self.config.file or "the configuration (give one with --config FILE)"
            raise click.ClickException(f"no [smtp] section in {where}")
        return self.config.smtp


def missing_sqlite_file(url: str) -> Path | None:
    """The file of a SQLite URL when that file does not exist (None for other databases)."""
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import ArgumentError

    try:
        parsed = make_url(url)
    except ArgumentError:
        return None  # the store says why, when it is opened
    if parsed.get_backend_name() != "sqlite" or parsed.database in (None, "", ":memory:"):
        return None
    file = Path(parsed.database).expanduser()
    return None if file.exists() else file


P = ParamSpec("P")
R = TypeVar("R")


def is_store_error(error: BaseException) -> bool:
    """Whether `error` is the store's one-line StoreError (a damaged, busy, read-only or full
    store). Only a command that opened the store can meet one, so the store's module is looked up
    among those loaded rather than imported: `policywatch --help` stays quick."""
    store_files = sys.modules.get("storage.store_files")
    return store_files is not None and isinstance(error, store_files.StoreError)


def pass_app(command: Callable[Concatenate[App, P], R]) -> Callable[P, R]:
    """Hand a command the invocation's App; a fault of the store met anywhere in the command
    ends it with that fault's one line (and a non-zero exit status), never a traceback."""

    @functools.wraps(command)
    def with_app(*args: P.args, **kwargs: P.kwargs) -> R:
        app = click.get_current_context().find_object(App)
        if app is None:
            raise RuntimeError("a policywatch command runs under the root group")
        try:
            return command(app, *args, **kwargs)
        except Exception as error:
            if is_store_error(error):
                raise click.ClickException(str(error)) from None
            raise

    return with_app

sources_option = click.option(
    "--sources", "source_paths", multiple=True, metavar="PATH", type=click.Path(),
    help="A declaration file or a folder of them (repeatable); default: the configured or "
         "bundled catalogue.")


def print_declaration_errors(catalogue: Catalogue) -> None:
    for error in catalogue.errors:
        click.echo(f"error: {error}", err=True)


def did_you_mean(value: str, known: Iterable[str]) -> str:
    """' (did you mean eu-edpb?)' for a near miss among `known`, else ''."""
    lowered = {k.lower(): k for k in known}
    cutoff = 0.5 if len(value) <= 3 else 0.7  # 'CM' is one letter from 'CN'
    close = difflib.get_close_matches(value.lower(), list(lowered), n=1, cutoff=cutoff)
    return f" (did you mean {lowered[close[0]]}?)" if close else ""


def checked_values(option: str, given: tuple[str, ...], known: Iterable[str], what: str,
                   upper: bool = False) -> tuple[str, ...]:
    """`given` in the case of `known` (cn → CN), refusing values that match none, with a
    suggestion for a near miss."""
    known = list(known)
    by_case = {k.lower(): k for k in known}
    chosen = []
    for value in given:
        match = by_case.get(value.lower())
        if match is None:
            listed = f"; known: {', '.join(sorted(known))}" if 0 < len(known) <= 12 else ""
            raise click.BadParameter(
                f"no {what} {(value.upper() if upper else value)!r}{did_you_mean(value, known)}"
                f"{listed}", param_hint=option)
        chosen.append(match)
    return tuple(chosen)


def select_sources(catalogue: Catalogue, only: tuple[str, ...]) -> list[Source]:
    """The sources named by --source (all when none is), refusing unknown or no sources."""
    selected = catalogue.sources
    if only:
        known = catalogue.by_id()
        try:
            ids = checked_values("--source", only, known, "declared source")
        except click.BadParameter as exc:
            raise click.ClickException(f"--source: {exc.message}") from None
        selected = [known[s] for s in ids]
    if not selected:
        raise click.ClickException("no valid source declarations")
    return selected


def utc_now() -> datetime:
    """Now as the store keeps times: naive UTC, to the microsecond."""
    return datetime.now(UTC).replace(tzinfo=None)


def parse_when(text: str | None, option: str, end_of_day: bool = False) -> datetime | None:
    """'2024-03-15', '2024-03-15T10:00', or a span back from now ('30m', '36h', '7d', '2w', the
    intervals declarations and subscriptions use), as naive UTC."""
    if text is None:
        return None
    try:
        return utc_now() - parse_interval(text)
    except ValueError:
        pass
    try:
        value = datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    except ValueError:
        raise click.BadParameter(
            f"{text!r} is not a date (2024-03-15, 2024-03-15T10:00) or a span (30m, 6h, 7d, 2w)",
            param_hint=option) from None
    offset = value.utcoffset()
    if offset is not None:
        value = (value - offset).replace(tzinfo=None)
    if end_of_day and len(text.strip()) == 10:
        value += timedelta(days=1)
    return value


def iso(moment: datetime | None) -> str | None:
    """A stored (naive UTC) time as the listings show it: 2024-03-15T10:00:00Z."""
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ") if moment else None
