"""What opening a store needs before SQLAlchemy: its URL, the file of a plain SQLite URL, the
newest schema revision, how long to wait for another writer, and the one-line StoreError.
Imports only the standard library and platformdirs, so that a read of a current SQLite store
(storage/readers.py) answers without loading SQLAlchemy."""

from __future__ import annotations

import os
from pathlib import Path

from platformdirs import user_data_dir

MIGRATIONS = Path(__file__).parent / "migrations"


class StoreError(RuntimeError):
    """The database cannot be opened or used; the message says which and why. `transient`: the
    fault may pass by itself (busy, full, a server away), so a long-running process retries."""

    def __init__(self, message: str, *, transient: bool = False) -> None:
        super().__init__(message)
        self.transient = transient


def default_database_url() -> str:
    folder = Path(user_data_dir("policywatch", appauthor=False))
    return f"sqlite:///{folder / 'policywatch.sqlite'}"


def database_url(explicit: str | None = None) -> str:
    return explicit or os.environ.get("POLICYWATCH_DB") or default_database_url()


def plain_sqlite_file(url: str) -> Path | None:
    """The file of a plain SQLite URL (`sqlite:///relative.sqlite`, `sqlite:////absolute.sqlite`,
    no driver, query or escapes), read as SQLAlchemy reads it; None for any other URL, which
    only SQLAlchemy reads."""
    prefix = "sqlite:///"
    if not url.startswith(prefix) or any(mark in url for mark in "?%#"):
        return None
    database = url[len(prefix):]
    if database in ("", ":memory:") or database.startswith("file:"):
        return None
    return Path(database).expanduser()


def newest_revision() -> str:
    """The newest migration's revision, from the file names (`0012_trend_spans.py`: the history
    is one numbered line, which tests/test_schema.py checks against Alembic's own reading)."""
    return max(path.name[:4] for path in (MIGRATIONS / "versions").glob("[0-9][0-9][0-9][0-9]_*.py"))


BUSY_TIMEOUT = 30.0  # seconds a statement waits for another process's write lock on a SQLite store
BUSY_TIMEOUT_VARIABLE = "POLICYWATCH_BUSY_TIMEOUT"  # seconds, instead of BUSY_TIMEOUT


def busy_timeout_ms() -> int:
    """How long, in milliseconds (SQLite's `busy_timeout`), a statement waits for another writer
    of a SQLite store before the store is reported busy: `POLICYWATCH_BUSY_TIMEOUT` seconds, else
    BUSY_TIMEOUT."""
    value = os.environ.get(BUSY_TIMEOUT_VARIABLE, "").strip()
    if not value:
        return round(BUSY_TIMEOUT * 1000)
    try:
        seconds = float(value)
    except ValueError:
        seconds = -1.0
    if not 0 <= seconds <= 86_400:
        raise StoreError(f"{BUSY_TIMEOUT_VARIABLE}: {value!r} is not a number of seconds "
                         f"from 0 to 86400")
    return round(seconds * 1000)
