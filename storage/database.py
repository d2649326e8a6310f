"""Open the store: engine, sessions and migrations (Alembic, applied on open)."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from alembic import command
from alembic.config import Config
from platformdirs import user_data_dir
from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, NoSuchModuleError
from sqlalchemy.orm import Session, sessionmaker

import storage.search  # noqa: F401 (registers the indexing of every new version)

MIGRATIONS = Path(__file__).parent / "migrations"


class StoreError(RuntimeError):
    """The database cannot be opened or used; the message says which and why."""


def default_database_url() -> str:
    folder = Path(user_data_dir("policywatch", appauthor=False))
    return f"sqlite:///{folder / 'policywatch.sqlite'}"


def database_url(explicit: str | None = None) -> str:
    return explicit or os.environ.get("POLICYWATCH_DB") or default_database_url()


def _sqlite_pragmas(dbapi_connection, _record) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.close()


def make_engine(url: str) -> Engine:
    try:
        parsed = make_url(url)
    except ArgumentError:
        raise StoreError(f"--db: {url!r} is not a database URL (e.g. sqlite:///path/file.sqlite)") \
            from None
    if parsed.get_backend_name() == "sqlite" and parsed.database not in (None, "", ":memory:"):
        Path(parsed.database).expanduser().parent.mkdir(parents=True, exist_ok=True)
    try:
        engine = create_engine(parsed)
    except (ArgumentError, NoSuchModuleError, ImportError) as exc:
        raise StoreError(f"--db: cannot use {parsed.render_as_string()!r}: {exc}") from None
    if parsed.get_backend_name() == "sqlite":
        event.listen(engine, "connect", _sqlite_pragmas)
    return engine


def alembic_config(engine: Engine) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.attributes["engine"] = engine
    return config


def migrate(engine: Engine) -> None:
    """Bring the schema to the newest migration."""
    command.upgrade(alembic_config(engine), "head")


class Store:
    """The database: one engine, sessions on demand."""

    def __init__(self, url: str | None = None, *, upgrade: bool = True) -> None:
        self.url = database_url(url)
        self.engine = make_engine(self.url)
        try:
            if upgrade:
                migrate(self.engine)
        except Exception as exc:
            raise StoreError(f"cannot open the store at {self.url}: {exc}") from exc
        self.sessions = sessionmaker(self.engine, expire_on_commit=False)

    @contextmanager
    def transaction(self) -> Iterator[Session]:
        """A session whose work is committed together, or not at all."""
        with self.sessions() as session, session.begin():
            yield session

    def close(self) -> None:
        self.engine.dispose()
