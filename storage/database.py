"""Open the store: engine, sessions and migrations (Alembic, applied on open)."""

from __future__ import annotations

import hashlib
import os
import sqlite3
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO

from platformdirs import user_data_dir
from sqlalchemy import Engine, create_engine, event, text
from sqlalchemy.engine import ExceptionContext, make_url
from sqlalchemy.exc import ArgumentError, DBAPIError, NoSuchModuleError
from sqlalchemy.orm import Session, sessionmaker

import storage.search  # noqa: F401 (registers the indexing of every new version)
from storage.runs import PidFileHeld, hold_pid_file
from storage.store_files import (  # noqa: F401 (this module's names since before)
    BUSY_TIMEOUT,
    BUSY_TIMEOUT_VARIABLE,
    MIGRATIONS,
    StoreError,
    busy_timeout_ms,
    database_url,
    default_database_url,
    newest_revision,
)

if TYPE_CHECKING:
    from alembic.config import Config

_DAMAGED = ("is damaged", "restore it from a backup or move it away and crawl again")
_BUSY = ("is busy", "another policywatch process is writing to it; wait for it to finish or "
                    "stop it, then try again")
_READ_ONLY = ("cannot be written", "make the file and its folder writable, or give another "
                                   "store with --db")

# What a SQLite fault means for the user and what to do, by SQLite's primary result code.
SQLITE_FAULTS: dict[int, tuple[str, str]] = {
    sqlite3.SQLITE_CORRUPT: _DAMAGED,
    sqlite3.SQLITE_NOTADB: _DAMAGED,
    sqlite3.SQLITE_BUSY: _BUSY,
    sqlite3.SQLITE_LOCKED: _BUSY,
    sqlite3.SQLITE_READONLY: _READ_ONLY,
    sqlite3.SQLITE_PERM: _READ_ONLY,
    sqlite3.SQLITE_FULL: ("cannot grow: its disk is full", "free space on that disk or move the "
                                                            "store to a larger one"),
    sqlite3.SQLITE_CANTOPEN: ("cannot be opened", "check that its folder exists and that the file "
                                                  "and the folder are readable and writable"),
    sqlite3.SQLITE_IOERR: ("cannot be read or written", "check that its disk has free space "
                                                        "and reports no fault"),
}

# The faults that may pass without anyone repairing the file: a lock is released, space is freed.
TRANSIENT_SQLITE_FAULTS = frozenset({sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED,
                                     sqlite3.SQLITE_FULL, sqlite3.SQLITE_IOERR})


def store_fault(store: str, error: BaseException) -> StoreError | None:
    """The one-line StoreError for a fault of the database itself (damaged, busy, read-only,
    full, unreachable), naming `store` and what to do; None for an error of the statement (a
    constraint, a bug), which keeps its own exception."""
    plain = first_line(error)
    if isinstance(error, sqlite3.Error):
        code = getattr(error, "sqlite_errorcode", None)
        primary = code & 0xFF if isinstance(code, int) else None
        fault = SQLITE_FAULTS.get(primary) if primary is not None else None
        if fault is None:
            return None
        what, todo = fault
        return StoreError(f"the store {store} {what} ({plain}): {todo}",
                          transient=primary in TRANSIENT_SQLITE_FAULTS)
    if type(error).__name__ == "OperationalError":  # the DB-API's name for a server's fault
        return StoreError(f"the store {store} cannot be used ({plain}): check that its server "
                          "runs and accepts this connection", transient=True)
    return None


def first_line(error: BaseException) -> str:
    """An error's message on one line (its first), or its kind when it has none."""
    lines = str(error).strip().splitlines()
    return lines[0] if lines else type(error).__name__


def sqlite_file(url: str) -> Path | None:
    """The file of a SQLite URL (None for an in-memory store or another database)."""
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite" or parsed.database in (None, "", ":memory:"):
        return None
    return Path(parsed.database).expanduser()


def store_name(url: str) -> str:
    """How messages name a store: a SQLite store's file, else its URL without the password."""
    file = sqlite_file(url)
    return str(file) if file is not None else make_url(url).render_as_string(hide_password=True)


def _sqlite_pragmas(busy_ms: int) -> Callable[[Any, Any], None]:
    """The connect hook that sets a new SQLite connection's pragmas."""

    def set_pragmas(dbapi_connection, _record) -> None:
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute(f"PRAGMA busy_timeout={busy_ms:d}")
        cursor.close()

    return set_pragmas


def make_engine(url: str) -> Engine:
    try:
        parsed = make_url(url)
    except ArgumentError:
        raise StoreError(f"--db: {url!r} is not a database URL (e.g. sqlite:///path/file.sqlite)") \
            from None
    file = sqlite_file(url)
    if file is not None:
        try:
            file.parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise StoreError(f"the store {file} {_READ_ONLY[0]} ({exc.strerror}: {file.parent}): "
                             f"{_READ_ONLY[1]}") from None
    try:
        engine = create_engine(parsed)
    except (ArgumentError, NoSuchModuleError, ImportError) as exc:
        raise StoreError(f"--db: cannot use {parsed.render_as_string()!r}: {exc}") from None
    if parsed.get_backend_name() == "sqlite":
        event.listen(engine, "connect", _sqlite_pragmas(busy_timeout_ms()))
    translate_faults(engine, store_name(url))
    return engine


def translate_faults(engine: Engine, name: str) -> None:
    """Every fault of the database, on any statement of `engine`, raised as one StoreError
    naming the store `name` and what to do."""

    def translate_fault(context: ExceptionContext) -> None:
        fault = store_fault(name, context.original_exception)
        if fault is not None:
            raise fault from None

    event.listen(engine, "handle_error", translate_fault)


def alembic_config(engine: Engine) -> Config:
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.attributes["engine"] = engine
    return config


def current_revision(engine: Engine) -> str | None:
    """The store's schema revision, or None for a store without one (new, or not ours)."""
    try:
        with engine.connect() as connection:
            return connection.execute(text("select version_num from alembic_version")).scalar()
    except StoreError:
        raise
    except DBAPIError:  # no such table
        return None


def migrate(engine: Engine, apart: bool = False) -> None:
    """Bring the schema to the newest migration. A store already there is told by one query,
    without loading Alembic (about 0.4 s of CPU to import, on every command). `apart`: migrate
    in a child process when this one may fork (no other thread runs) and the store is not in
    this process's memory, so that Alembic never loads here."""
    if current_revision(engine) == newest_revision():
        return
    url = engine.url
    in_memory = url.get_backend_name() == "sqlite" and (
        url.database in (None, "", ":memory:") or ":memory:" in url.database
        or url.query.get("mode") == "memory")
    if apart and hasattr(os, "fork") and threading.active_count() == 1 and not in_memory:
        _upgrade_in_child(engine)
    else:
        _upgrade(engine)


def _upgrade(engine: Engine) -> None:
    from alembic import command

    command.upgrade(alembic_config(engine), "head")


def _upgrade_in_child(engine: Engine) -> None:
    """Alembic's upgrade in a forked child: its modules and the migrations' objects (about 13 MB
    of a crawl's peak memory) are freed with the child. The child's fault is raised here as it
    would have been raised in this process: a StoreError as such, anything else by its first
    line."""
    engine.dispose()  # no pooled connection is shared with the child
    read, write = os.pipe()
    try:
        pid = os.fork()
    except OSError:  # no child to be had (memory, process limit): migrate here instead
        os.close(read)
        os.close(write)
        _upgrade(engine)
        return
    if pid == 0:  # the child: upgrade, say what failed, and leave without running any cleanup
        os.close(read)
        code = 0
        try:
            _upgrade(engine)
        except BaseException as exc:  # noqa: BLE001 (every fault goes back to the parent)
            kind = "transient" if isinstance(exc, StoreError) and exc.transient else \
                "store" if isinstance(exc, StoreError) else "other"
            os.write(write, f"{kind}\n{first_line(exc)}".encode())
            code = 1
        finally:
            os._exit(code)
    os.close(write)
    with os.fdopen(read, "rb") as pipe:
        said = pipe.read().decode()
    _, status = os.waitpid(pid, 0)
    if status == 0:
        return
    kind, _, message = said.partition("\n")
    if kind in ("store", "transient"):
        raise StoreError(message, transient=kind == "transient")
    raise RuntimeError(message or "the migration process ended with status "
                       f"{os.waitstatus_to_exitcode(status)}")


class Store:
    """The database: one engine, sessions on demand."""

    def __init__(self, url: str | None = None, *, upgrade: bool = True,
                 for_crawl: bool = False) -> None:
        """Open the store at `url`, migrated when `upgrade`; `for_crawl` first holds it against a
        second crawl (`lock_for_crawl`), so that two crawls never migrate it at once either, and
        migrates it in a child process (`migrate(apart=True)`): a crawl never holds Alembic."""
        self.url = database_url(url)
        self.crawl_lock: TextIO | None = None
        self.engine = make_engine(self.url)
        try:
            if for_crawl:
                self.lock_for_crawl()
            if upgrade:
                migrate(self.engine, apart=for_crawl)
        except Exception as exc:
            self.close()
            if isinstance(exc, StoreError):
                raise
            raise StoreError(f"cannot open the store at {self.url}: {first_line(exc)}") from exc
        self.sessions = sessionmaker(self.engine, expire_on_commit=False)

    @contextmanager
    def transaction(self) -> Iterator[Session]:
        """A session whose work is committed together, or not at all."""
        with self.sessions() as session, session.begin():
            yield session

    def crawl_lock_file(self) -> Path:
        """The file a crawl locks: beside a SQLite store's file, else in the user's data folder."""
        file = sqlite_file(self.url)
        if file is not None:
            return file.with_name(file.name + ".crawl-lock")
        key = hashlib.sha256(self.url.encode()).hexdigest()
        return Path(user_data_dir("policywatch", appauthor=False)) / f"crawl-{key[:16]}.lock"

    def lock_for_crawl(self) -> None:
        """Hold the store for one crawl until `close`, or raise StoreError naming the process
        that holds it: two crawls of one store at once would race to record the same new
        instruments. The kernel releases the lock however the crawl ends."""
        path = self.crawl_lock_file()
        try:
            self.crawl_lock = hold_pid_file(path)
        except PidFileHeld as held:
            raise StoreError(f"the store {store_name(self.url)} is being crawled by process "
                             f"{held.holder}: wait for that crawl to finish, or stop it") from None
        except OSError as exc:
            raise StoreError(f"the store {store_name(self.url)} {_READ_ONLY[0]} ({exc.strerror}: "
                             f"{path}): {_READ_ONLY[1]}") from None

    def close(self) -> None:
        if self.crawl_lock is not None:
            self.crawl_lock.close()  # closing the file releases its lock
            self.crawl_lock = None
        self.engine.dispose()
