"""The daemon on a store that fails while it runs: a damaged store stops it with one line and a
non-zero exit; a store locked past its busy timeout or on a full disk is one line, the daemon
carries on and its checks run again once the store answers. Never a traceback, in its log or on
its stderr. Also the reading commands on a damaged store: one line each.

The daemon runs as a real process; every wait is for something it leaves behind (a line in its
log, a row in the store, its exit), with a deadline."""

from __future__ import annotations

import contextlib
import shutil
import sqlite3
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from storage.database import BUSY_TIMEOUT_VARIABLE, Store, store_fault
from tests.conftest import ROOT, run_cli, small_filesystem
from tests.test_daemon import (
    clean_env,
    finished_since,
    last_job_run,
    query,
    start_daemon,
    stop_daemon,
    wait_for,
)
from tests.test_store_faults import _corrupt_schema, _repair_schema, _sqlite_error
from tests.web.sites import write_declarations

SOURCE = "eu-edpb"


def test_busy_and_full_stores_are_transient_and_damaged_or_read_only_ones_fatal(tmp_path):
    """The real exceptions SQLite raises: a page limit stands in for a full disk, a second
    connection's write lock (busy timeout 0) for a busy store."""
    probe = tmp_path / "probe.sqlite"
    full = _sqlite_error(tmp_path, "PRAGMA max_page_count=2", "insert into t values (zeroblob(100000))")
    read_only = _sqlite_error(tmp_path, "insert into t values (1)", uri=f"file:{probe}?mode=ro")
    holder = sqlite3.connect(probe, isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")
    try:
        busy = _sqlite_error(tmp_path, "PRAGMA busy_timeout=0", "insert into t values (1)")
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    _corrupt_schema(probe, "t")
    with pytest.raises(sqlite3.DatabaseError) as damaged:
        sqlite3.connect(probe).execute("select * from t")
    kinds = {name: store_fault("/x/y.sqlite", error) for name, error in
             (("full", full), ("busy", busy), ("read-only", read_only), ("damaged", damaged.value))}
    assert {name: fault.transient for name, fault in kinds.items() if fault is not None} == {
        "full": True, "busy": True, "read-only": False, "damaged": False}


def _one_source(web, tmp_path: Path) -> Path:
    """A folder declaring one source of the loopback web, checked every 2 s."""
    web.set(epoch=1, noise=1)
    every_source = write_declarations(web, tmp_path / "all")
    folder = tmp_path / "sources"
    folder.mkdir()
    text = (every_source / f"{SOURCE}.yaml").read_text()
    lines = [line for line in text.splitlines() if not line.startswith("every:")]
    (folder / f"{SOURCE}.yaml").write_text("\n".join([*lines, "every: 2s", ""]))
    return folder


def _config(tmp_path: Path) -> Path:
    config = tmp_path / "policywatch.toml"
    config.write_text('[crawl]\ncontact = "tests@example.org"\n')
    return config


def _log(tmp_path: Path) -> str:
    log = tmp_path / "daemon.log"
    return log.read_text() if log.exists() else ""


def _lines_with(text: str, *parts: str) -> list[str]:
    return [line for line in text.splitlines() if all(part in line for part in parts)]


def _checked_ok(db_file: Path, after: int = 0) -> bool:
    return bool(query(db_file, "select 1 from job_runs where id > ? and job_id = ? and "
                               "outcome = 'ok'", after, f"check:{SOURCE}"))


def _assert_no_traceback(daemon_stderr: str, log: str) -> None:
    assert "Traceback" not in daemon_stderr, daemon_stderr
    assert "Traceback" not in log, log
    assert "raised an exception" not in log, log


def _daemon_logging_to_stderr(tmp_path: Path, db_file: Path, config: Path,
                              sources: Path) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "policywatch", "--config", str(config), "--db", f"sqlite:///{db_file}",
         "run", "--sources", str(sources)],
        cwd=ROOT, env=clean_env(tmp_path), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


@pytest.mark.parametrize("log_to", ["file", "stderr"])
def test_a_store_damaged_while_the_daemon_runs_stops_it_with_one_line(web, tmp_path, log_to):
    """With a log file, the log and stderr each say it once; logging to stderr, once in all."""
    sources = _one_source(web, tmp_path)
    db_file = tmp_path / "store.sqlite"
    start = start_daemon if log_to == "file" else _daemon_logging_to_stderr
    daemon = start(tmp_path, db_file, _config(tmp_path), sources)
    try:
        wait_for(lambda: _checked_ok(db_file), 90, "a first check of the source")
        root = _corrupt_schema(db_file, "snapshots")
        code = daemon.wait(timeout=120)
    finally:
        if daemon.poll() is None:
            stop_daemon(daemon)
    stderr, log = daemon.stderr.read(), _log(tmp_path)
    _assert_no_traceback(stderr, log)
    assert code == 1, stderr
    damaged = f"the store {db_file} is damaged (malformed database schema"
    if log_to == "file":
        last = stderr.strip().splitlines()[-1]
        assert last.startswith(f"Error: {damaged}") and "restore it from a backup" in last, stderr
        assert len(_lines_with(stderr, str(db_file))) == 1, stderr
    else:
        log = stderr
    assert len(_lines_with(log, str(db_file), "is damaged")) == 1, log
    stops = _lines_with(log, damaged, "restore it from a backup", "the daemon stops")
    assert len(stops) == 1 and " ERROR " in stops[0], log
    _repair_schema(db_file, "snapshots", root)  # what was recorded before the damage is whole
    with sqlite3.connect(db_file) as connection:
        assert connection.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        assert connection.execute("select count(*) from versions").fetchone()[0] >= 1


def _through_a_passing_fault(tmp_path: Path, db_file: Path, sources: Path,
                             fault: Callable[[], contextlib.AbstractContextManager[object]],
                             logged: tuple[str, ...], what: str,
                             env: dict[str, str] | None = None) -> str:
    """Run the daemon on `db_file` through a fault that passes: `fault()` holds it while open,
    until the daemon has logged a line with all of `logged`. The daemon must carry on, say when
    the store answers again, check again, and stop cleanly. Returns its log."""
    daemon = start_daemon(tmp_path, db_file, _config(tmp_path), sources, env=env)
    try:
        wait_for(lambda: _checked_ok(db_file), 90, "a first check of the source")
        with fault():
            wait_for(lambda: _lines_with(_log(tmp_path), *logged), 120, f"the daemon to log {what}")
        released = last_job_run(db_file)
        wait_for(lambda: "the store answers again" in _log(tmp_path), 60,
                 "the daemon to log that the store answers")
        wait_for(lambda: _checked_ok(db_file, after=released), 90, f"a check after {what}")
        assert daemon.poll() is None, "the daemon stopped on a transient fault"
    finally:
        code = stop_daemon(daemon)
    stderr, log = daemon.stderr.read(), _log(tmp_path)
    _assert_no_traceback(stderr, log)
    assert code == 0, stderr
    return log


@pytest.mark.long
def test_a_store_locked_past_the_busy_timeout_is_one_line_and_the_daemon_carries_on(web, tmp_path):
    """The test holds the store's write lock for longer than its busy timeout (2 s here)."""
    db_file = tmp_path / "store.sqlite"

    @contextlib.contextmanager
    def write_lock() -> Iterator[None]:
        holder = sqlite3.connect(db_file, isolation_level=None)
        try:
            holder.execute("BEGIN IMMEDIATE")
            yield
        finally:
            holder.execute("ROLLBACK")
            holder.close()

    log = _through_a_passing_fault(tmp_path, db_file, _one_source(web, tmp_path), write_lock,
                                   ("is busy", "carries on"), "the busy store",
                                   env={BUSY_TIMEOUT_VARIABLE: "2"})
    busy = _lines_with(log, str(db_file), "is busy (database is locked)", "carries on")
    assert len(busy) == 1, log  # once when it began, however many jobs met it
    assert " WARNING " in busy[0] and "wait for it to finish" in busy[0]


@pytest.fixture
def small_disk(tmp_path) -> Iterator[Path]:
    """A 4 MB tmpfs mounted for the test (skipped where mounting is not allowed)."""
    with small_filesystem(tmp_path / "disk", "4m") as mount:
        yield mount


@pytest.mark.long
def test_a_full_disk_is_one_line_and_the_daemon_carries_on_once_there_is_room(
        web, tmp_path, small_disk):
    db_file = small_disk / "store.sqlite"

    @contextlib.contextmanager
    def full_disk() -> Iterator[None]:
        filler = small_disk / "filler"
        filler.write_bytes(b"\0" * max(0, shutil.disk_usage(small_disk).free - 4096))
        try:
            yield
        finally:
            filler.unlink()

    log = _through_a_passing_fault(tmp_path, db_file, _one_source(web, tmp_path), full_disk,
                                   (str(db_file), "free space", "carries on"), "the full disk")
    assert " WARNING " in _lines_with(log, str(db_file), "free space", "carries on")[0]
    assert finished_since(db_file, 0).get(f"check:{SOURCE}", 0) >= 2


# --- the reading commands on a damaged store --------------------------------------------------

@pytest.fixture
def damaged_store(tmp_path) -> Path:
    """A migrated store whose schema points a table at a page the file does not have."""
    file = tmp_path / "store.sqlite"
    Store(f"sqlite:///{file}").close()
    _corrupt_schema(file, "versions")
    return file


@pytest.mark.parametrize("command", [("status",), ("history",), ("digest", "--since", "30d"),
                                     ("outbox",)], ids=lambda c: c[0])
def test_a_reading_command_on_a_damaged_store_is_one_line(damaged_store, command):
    result = run_cli(*command, db=f"sqlite:///{damaged_store}", timeout=60)
    last = _one_line(result)
    assert last.startswith(f"Error: the store {damaged_store} is damaged (malformed database "
                           "schema"), result.stderr
    assert "restore it from a backup" in last


def test_serve_on_a_damaged_store_is_one_line(damaged_store):
    """The web view opens the store read-only through an engine of its own, which words the
    store's faults as every other command does: the store, SQLite's reason, what to do."""
    result = run_cli("serve", "--port", "0", db=f"sqlite:///{damaged_store}", timeout=60)
    last = _one_line(result)
    assert last.startswith("Error: ") and str(damaged_store) in last, result.stderr
    assert "malformed database schema" in last and "restore it from a backup" in last


def _one_line(result) -> str:
    """The last line of a failed command's stderr, which holds no traceback."""
    assert result.code != 0
    assert "Traceback" not in result.stderr and "Traceback" not in result.stdout, result.stderr
    return result.stderr.strip().splitlines()[-1]
