"""Readers of SQL text (storage/history_sql.py's Reader): the standard library's sqlite3 on a
current SQLite store opened read-only, without SQLAlchemy (the command line's quick read), and a
SQLAlchemy session or connection (PostgreSQL, and every reader inside a process that has the
store open already)."""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from storage.phrases import add_phrase_function
from storage.store_files import busy_timeout_ms, database_url, newest_revision, plain_sqlite_file

if TYPE_CHECKING:
    from sqlalchemy import Connection
    from sqlalchemy.orm import Session


class SqliteReader:
    """A read-only sqlite3 connection to one SQLite file. Its faults are sqlite3's own errors:
    whoever reads through it falls back to the store (storage.database), which words them."""

    dialect = "sqlite"

    def __init__(self, connection: sqlite3.Connection) -> None:
        self.connection = connection

    def rows(self, sql: str, params: dict[str, Any] | None = None) -> list[tuple]:
        return self.connection.execute(sql, params or {}).fetchall()

    def scalar(self, sql: str, params: dict[str, Any] | None = None) -> Any:
        row = self.connection.execute(sql, params or {}).fetchone()
        return None if row is None else row[0]

    def run(self, sql: str) -> None:
        self.connection.execute(sql)

    def close(self) -> None:
        self.connection.close()


def current_sqlite_reader(url: str | None = None) -> SqliteReader | None:
    """A SqliteReader of the store at `url` (database_url's default) when it is a plain SQLite
    URL whose file exists, opens read-only and holds the newest schema; else None, and the store
    is opened as usual (migrated, its faults worded). An unusable POLICYWATCH_BUSY_TIMEOUT is
    refused here as there (StoreError)."""
    busy_timeout_ms()
    file = plain_sqlite_file(database_url(url))
    if file is None or not file.is_file():
        return None
    try:
        connection = sqlite3.connect(f"{file.resolve().as_uri()}?mode=ro", uri=True, timeout=0,
                                     check_same_thread=False)
    except sqlite3.Error:
        return None
    try:
        revision = connection.execute("SELECT version_num FROM alembic_version").fetchone()
    except sqlite3.Error:  # no such table, a damaged or busy file: the store says which
        revision = None
    if revision is None or revision[0] != newest_revision():
        connection.close()
        return None
    add_phrase_function(connection)
    return SqliteReader(connection)


class SessionReader:
    """SQL text run on a SQLAlchemy session or connection, in its transaction."""

    def __init__(self, target: Session | Connection) -> None:
        from sqlalchemy import text

        self.target = target
        self.text = text
        bind = target.get_bind() if hasattr(target, "get_bind") else target
        self.dialect = bind.dialect.name

    def rows(self, sql: str, params: dict[str, Any] | None = None) -> Sequence[Sequence[Any]]:
        return self.target.execute(self.text(sql), params or {}).all()  # fetched at once, not row by row

    def scalar(self, sql: str, params: dict[str, Any] | None = None) -> Any:
        return self.target.execute(self.text(sql), params or {}).scalar()

    def run(self, sql: str) -> None:
        self.target.execute(self.text(sql))
