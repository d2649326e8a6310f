"""The store opened for reading only: a SQLite file through a `mode=ro` URI, PostgreSQL with
every transaction read-only. The web view can therefore never write, whatever a request says."""

from __future__ import annotations

import sqlite3
from pathlib import Path
from urllib.parse import quote

from sqlalchemy import Engine, create_engine
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, NoSuchModuleError, SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.pool import QueuePool

from storage.database import (
    StoreError,
    busy_timeout_ms,
    current_revision,
    newest_revision,
    store_name,
    translate_faults,
)


def sqlite_read_only_uri(path: Path) -> str:
    """The URI that opens `path` read-only (writes fail with 'attempt to write a readonly database')."""
    return f"file:{quote(str(path.resolve()))}?mode=ro"


def read_only_engine(url: str) -> Engine:
    """An engine on `url` that cannot write; refused in one line when the store is not there."""
    try:
        parsed = make_url(url)
    except ArgumentError:
        raise StoreError(f"--db: {url!r} is not a database URL (e.g. sqlite:///path/file.sqlite)") \
            from None
    backend = parsed.get_backend_name()
    if backend == "sqlite":
        if parsed.database in (None, "", ":memory:"):
            raise StoreError("--db: an in-memory SQLite store holds nothing to serve")
        path = Path(parsed.database).expanduser()
        if not path.is_file():
            raise StoreError(f"no store at {path}")
        uri = sqlite_read_only_uri(path)
        busy_ms = busy_timeout_ms()

        def connect() -> sqlite3.Connection:
            connection = sqlite3.connect(uri, uri=True, check_same_thread=False)
            connection.execute(f"PRAGMA busy_timeout={busy_ms:d}")
            return connection

        engine = create_engine("sqlite://", creator=connect, poolclass=QueuePool)
    else:
        connect_args = {"options": "-c default_transaction_read_only=on"} if backend == "postgresql" else {}
        try:
            engine = create_engine(parsed, connect_args=connect_args, pool_pre_ping=True)
        except (ArgumentError, NoSuchModuleError, ImportError) as exc:
            raise StoreError(f"--db: cannot use {parsed.render_as_string()!r}: {exc}") from None
    translate_faults(engine, store_name(url))  # a damaged or busy store: one line, what to do
    return engine


def check_schema(engine: Engine, url: str) -> None:
    """Refuse, in one line, a database that holds no store or a store of an older schema (the
    web view cannot migrate it: it never writes)."""
    try:
        current = current_revision(engine)
    except SQLAlchemyError as exc:
        raise StoreError(f"cannot open the store at {url}: {str(exc).splitlines()[0]}") from None
    head = newest_revision()
    if current is None:
        raise StoreError(f"no policywatch store at {url} (`policywatch crawl` or `policywatch demo` "
                         "makes one)")
    if current != head:
        raise StoreError(f"the store at {url} has schema {current}, this version reads {head}: run "
                         "`policywatch status` once to migrate it")


class ReadOnlyStore:
    """The store as the web view reads it: sessions on a read-only engine, never migrated."""

    def __init__(self, url: str) -> None:
        self.engine = read_only_engine(url)
        try:
            check_schema(self.engine, url)
        except StoreError:
            self.engine.dispose()
            raise
        self.sessions: sessionmaker[Session] = sessionmaker(self.engine, expire_on_commit=False)

    def close(self) -> None:
        self.engine.dispose()
