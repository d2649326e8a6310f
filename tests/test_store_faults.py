"""A damaged, busy, read-only or full store is one line naming the file and what to do, never a
traceback; a second crawl of a store is refused with the pid of the crawl that holds it."""

from __future__ import annotations

import os
import shutil
import sqlite3
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from storage.database import BUSY_TIMEOUT_VARIABLE, Store, store_fault
from tests.conftest import ROOT, run_cli, run_cli_process, small_filesystem
from tests.web.hostile import declaration, law_page
from tests.web.sites import (
    BULK_DOCUMENTS,
    write_bulk_declaration,
    write_declarations,
    write_fault_declarations,
)

PAGE = 4096


def _crawl_source(web, folder: Path, db: str) -> None:
    result = run_cli("crawl", "--sources", str(folder), "--source", "eu-edpb", db=db)
    assert result.code == 0, result.stderr


@pytest.fixture(scope="module")
def crawled(web, tmp_path_factory) -> tuple[Path, Path]:
    """A real store holding one crawl of one source (its WAL folded in), and the declarations."""
    folder = tmp_path_factory.mktemp("crawled")
    web.set(epoch=1, noise=1)
    sources = write_declarations(web, folder / "sources")
    store = folder / "store.sqlite"
    _crawl_source(web, sources, f"sqlite:///{store}")
    with sqlite3.connect(store) as connection:
        connection.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    return store, sources


def _copy(crawled: tuple[Path, Path], folder: Path) -> Path:
    copy = folder / "store.sqlite"
    shutil.copyfile(crawled[0], copy)
    return copy


def _damage_pages(file: Path) -> None:
    """Garbage over the second half of the file: the schema reads, the rows do not."""
    size = file.stat().st_size
    start = (size // 2) // PAGE * PAGE
    with file.open("r+b") as handle:
        handle.seek(start)
        handle.write(b"\xa5" * (size - start))


def _not_a_database(file: Path) -> None:
    file.write_bytes(b"policywatch export, not a database\n" * 300)


def _assert_one_line(result, *expected: str) -> None:
    """A non-zero exit and the fault as the last line of stderr, with no traceback."""
    assert result.code != 0
    assert "Traceback" not in result.stderr and "Traceback" not in result.stdout, result.stderr
    last = result.stderr.strip().splitlines()[-1]
    assert last.startswith("Error: the store "), result.stderr
    for part in expected:
        assert part in last, result.stderr


COMMANDS = [("crawl",), ("history",), ("status",), ("digest", "--since", "30d"), ("show", "1"),
            ("run",)]


@pytest.mark.parametrize("damage, reason", [(_damage_pages, "database disk image is malformed"),
                                            (_not_a_database, "file is not a database")],
                         ids=["garbage-over-pages", "not-a-database"])
@pytest.mark.parametrize("command", COMMANDS, ids=lambda c: c[0])
def test_a_damaged_store_is_one_line_naming_it(crawled, tmp_path, damage, reason, command):
    store = _copy(crawled, tmp_path)
    damage(store)
    extra = {"crawl": ("--sources", str(crawled[1]), "--source", "eu-edpb"),
             "run": ("--sources", str(crawled[1]))}.get(command[0], ())
    result = run_cli(*command, *extra, db=f"sqlite:///{store}", timeout=120)
    _assert_one_line(result, str(store), "is damaged", reason, "restore it from a backup")


def _rows(store: Path) -> list[tuple]:
    with sqlite3.connect(store) as connection:
        return connection.execute("select id, url, version_count, current_hash from instruments "
                                  "order by id").fetchall()


def test_a_store_locked_past_the_busy_timeout_is_one_line_and_loses_nothing(crawled, tmp_path):
    store = _copy(crawled, tmp_path)
    before = _rows(store)
    holder = sqlite3.connect(store, isolation_level=None)
    holder.execute("PRAGMA journal_mode=WAL")
    holder.execute("BEGIN IMMEDIATE")  # the write lock, held past the store's busy timeout
    try:
        result = run_cli_process("crawl", "--sources", str(crawled[1]), "--source", "eu-edpb",
                                 db=f"sqlite:///{store}", timeout=120,
                                 env={BUSY_TIMEOUT_VARIABLE: "2"})  # seconds, instead of 30
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    _assert_one_line(result, str(store), "is busy", "database is locked", "wait for it to finish")
    assert _rows(store) == before


@pytest.mark.parametrize("value", ["soon", "-1", "1e9"])
def test_a_busy_timeout_that_is_not_a_number_of_seconds_is_one_line(crawled, tmp_path, value):
    result = run_cli_process("history", db=f"sqlite:///{_copy(crawled, tmp_path)}",
                             env={BUSY_TIMEOUT_VARIABLE: value})
    assert result.code == 1 and "Traceback" not in result.stderr
    assert result.stderr.strip().splitlines() == \
        [f"Error: POLICYWATCH_BUSY_TIMEOUT: {value!r} is not a number of seconds from 0 to 86400"]


@pytest.mark.long
def test_a_second_crawl_is_refused_with_the_pid_of_the_first_and_the_data_is_exact(web, tmp_path):
    """The first crawl is held open by a page that answers after 20 s (its timeout: 4 s, each
    of its tries)."""
    web.set(epoch=1, noise=1)
    sources = write_bulk_declaration(web, tmp_path / "sources")
    write_fault_declarations(web, tmp_path / "sources")
    config = tmp_path / "policywatch.toml"
    config.write_text('[crawl]\ntimeout = 4\ncontact = "tests@example.org"\n')
    store = tmp_path / "store.sqlite"
    db = f"sqlite:///{store}"
    env = {k: v for k, v in os.environ.items() if not k.startswith("POLICYWATCH_")}
    env["PYTHONPATH"] = str(ROOT)
    first = subprocess.Popen(
        [sys.executable, "-m", "policywatch", "--db", db, "--config", str(config), "crawl",
         "--sources", str(sources), "--source", "bulk-gazette", "--source", "fault-timeout"],
        cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    lock = store.with_name("store.sqlite.crawl-lock")
    try:
        deadline = time.monotonic() + 60
        while first.poll() is None and time.monotonic() < deadline and \
                not (lock.exists() and lock.read_text().strip()):
            time.sleep(0.05)  # the first crawl holds the store once its pid is in the lock file
        second = run_cli("crawl", "--sources", str(sources), "--source", "bulk-gazette", db=db,
                         config=config)
        out, err = first.communicate(timeout=120)
    finally:
        first.kill()
    _assert_one_line(second, str(store), f"is being crawled by process {first.pid}")
    assert first.returncode == 0, err
    assert "Traceback" not in err
    with sqlite3.connect(store) as connection:
        instruments = connection.execute("select count(*), count(distinct url) from instruments"
                                         ).fetchone()
        versions = connection.execute("select count(*) from versions").fetchone()[0]
        runs = connection.execute("select count(*) from crawl_runs").fetchone()[0]
    assert instruments == (BULK_DOCUMENTS, BULK_DOCUMENTS)
    assert versions == BULK_DOCUMENTS
    assert runs == 1  # the refused crawl opened no run


@pytest.fixture
def tiny_disk(tmp_path) -> Iterator[Path]:
    """A 1 MB tmpfs mounted for the test (skipped where mounting is not allowed)."""
    with small_filesystem(tmp_path / "disk", "1m") as mount:
        yield mount


def _fill(folder: Path, leave: int) -> Path:
    """A file that takes all the free space of `folder`'s filesystem but `leave` bytes."""
    filler = folder / "filler"
    free = shutil.disk_usage(folder).free
    filler.write_bytes(b"\0" * max(0, free - leave))
    return filler


def test_a_full_disk_is_one_line_and_loses_nothing_once_there_is_room(
        crawled, tiny_disk):
    store = _copy(crawled, tiny_disk)
    db = f"sqlite:///{store}"
    history = run_cli("history", "--format", "json", db=db)
    assert history.code == 0, history.stderr
    filler = _fill(tiny_disk, leave=16 * 1024)
    result = run_cli("crawl", "--sources", str(crawled[1]), "--source", "eu-edpb", db=db)
    # A full tmpfs fails SQLite's shared memory first ("disk I/O error"), a page write later
    # ("database or disk is full"): both name the store and say to free space.
    _assert_one_line(result, str(store), "free space")
    filler.unlink()
    assert run_cli("history", "--format", "json", db=db).stdout == history.stdout
    again = run_cli("crawl", "--sources", str(crawled[1]), "--source", "eu-edpb", db=db)
    assert again.code == 0, again.stderr


def test_a_store_on_a_read_only_filesystem_is_one_line(crawled, tiny_disk):
    store = _copy(crawled, tiny_disk)
    subprocess.run(["mount", "-o", "remount,ro", str(tiny_disk)], check=True)
    db = f"sqlite:///{store}"
    _assert_one_line(run_cli("status", db=db), str(store), "cannot be opened")
    _assert_one_line(run_cli("crawl", "--sources", str(crawled[1]), db=db), str(store),
                     "cannot be written", "Read-only file system")


def _sqlite_error(tmp_path: Path, *statements: str, uri: str | None = None) -> sqlite3.Error:
    """The exception SQLite itself raises for `statements` on a file with a table `t`."""
    file = tmp_path / "probe.sqlite"
    with sqlite3.connect(file) as setup:
        setup.execute("create table if not exists t(x)")
    setup.close()
    connection = sqlite3.connect(uri or file, uri=uri is not None)
    try:
        for statement in statements:
            connection.execute(statement)
        connection.commit()
    except sqlite3.Error as exc:
        return exc
    finally:
        connection.close()
    raise AssertionError("SQLite raised nothing")


def test_sqlite_faults_are_translated_and_statement_errors_are_not(tmp_path):
    """The real exceptions SQLite raises for a full store (a page limit stands in for the disk),
    a read-only file and a constraint."""
    full = _sqlite_error(tmp_path, "PRAGMA max_page_count=2",
                         "insert into t values (zeroblob(100000))")
    assert str(store_fault("/x/y.sqlite", full)) == (
        "the store /x/y.sqlite cannot grow: its disk is full (database or disk is full): free "
        "space on that disk or move the store to a larger one")
    read_only = _sqlite_error(tmp_path, "insert into t values (1)",
                              uri=f"file:{tmp_path / 'probe.sqlite'}?mode=ro")
    assert "cannot be written (attempt to write a readonly database)" in \
        str(store_fault("/x/y.sqlite", read_only))
    constraint = _sqlite_error(tmp_path, "create unique index u on t(x)",
                               "insert into t values (1)", "insert into t values (1)")
    assert store_fault("/x/y.sqlite", constraint) is None


# --- a fault of the store in the middle of a crawl -------------------------------------------

def _corrupt_schema(store: Path, table: str) -> int:
    """Point `table` at a page the file does not have, as a damaged file does: from then on every
    statement of every connection fails with "malformed database schema". Returns the table's
    real root page, to repair it with."""
    connection = sqlite3.connect(store, isolation_level=None)
    try:
        connection.execute("PRAGMA writable_schema=ON")
        root = connection.execute("select rootpage from sqlite_master where name = ?",
                                  (table,)).fetchone()[0]
        version = connection.execute("PRAGMA schema_version").fetchone()[0]
        connection.execute("update sqlite_master set rootpage = 999999 where name = ?", (table,))
        connection.execute(f"PRAGMA schema_version={version + 1}")  # the others re-read it
    finally:
        connection.close()
    return root


def _repair_schema(store: Path, table: str, root: int) -> None:
    connection = sqlite3.connect(store, isolation_level=None)
    try:
        connection.execute("PRAGMA writable_schema=ON")
        version = connection.execute("PRAGMA schema_version").fetchone()[0]
        connection.execute("update sqlite_master set rootpage = ? where name = ?", (root, table))
        connection.execute(f"PRAGMA schema_version={version + 1}")
    finally:
        connection.close()


def _instrument_count(store: Path, source: str) -> int:
    with sqlite3.connect(store) as connection:
        return connection.execute("select count(*) from instruments where source_id = ?",
                                  (source,)).fetchone()[0]


class MidCrawlFault:
    """A loopback host with two documents: `/first` is served at once; `/second` waits until the
    first is recorded in the store, then damages the store and only then answers. The crawl meets
    the fault when it records the second document."""

    def __init__(self, store: Path) -> None:
        self.store = store
        self.root: int | None = None
        self.served: list[str] = []
        fault = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args) -> None:
                pass

            def do_GET(self) -> None:  # noqa: N802
                fault.served.append(self.path)
                if self.path == "/second":
                    fault.damage_once_first_is_recorded()
                found = self.path in ("/first", "/second")
                body = law_page(f"Instrument {self.path}") if found else b"not found"
                self.send_response(200 if found else 404)
                self.send_header("Content-Type", "text/html; charset=utf-8")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

        self.server = ThreadingHTTPServer(("127.0.0.53", 0), Handler)
        self.server.daemon_threads = True
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def url(self, path: str) -> str:
        return f"http://127.0.0.53:{self.server.server_address[1]}{path}"

    def damage_once_first_is_recorded(self) -> None:
        deadline = time.monotonic() + 60
        while _instrument_count(self.store, "fault-first") == 0:
            assert time.monotonic() < deadline, "the first document was never recorded"
            time.sleep(0.05)
        self.root = _corrupt_schema(self.store, "snapshots")

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def mid_crawl_fault(tmp_path) -> Iterator[MidCrawlFault]:
    web = MidCrawlFault(tmp_path / "store.sqlite")
    folder = tmp_path / "sources"
    folder.mkdir()
    for name in ("first", "second"):
        (folder / f"fault-{name}.yaml").write_text(
            declaration(f"fault-{name}", web.url(f"/{name}")))
    yield web
    web.stop()


def _assert_nothing_half_written(web: MidCrawlFault) -> None:
    """Once repaired, the store holds the first source's instrument whole, the second's not at
    all, and reads cleanly."""
    assert web.root is not None, "the store was never damaged"
    _repair_schema(web.store, "snapshots", web.root)
    with sqlite3.connect(web.store) as connection:
        assert connection.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        rows = connection.execute(
            "select i.source_id, count(v.id) from instruments i "
            "left join versions v on v.instrument_id = i.id group by i.source_id").fetchall()
        snapshots = connection.execute("select url from snapshots").fetchall()
    assert rows == [("fault-first", 1)]
    assert snapshots == [(web.url("/first"),)]


def test_a_store_damaged_in_the_middle_of_a_crawl_is_one_line_and_keeps_what_was_recorded(
        mid_crawl_fault, tmp_path):
    web = mid_crawl_fault
    result = run_cli("crawl", "--quiet", "--sources", str(tmp_path / "sources"),
                     db=f"sqlite:///{web.store}", timeout=120)
    assert "/second" in web.served
    _assert_one_line(result, str(web.store), "is damaged", "malformed database schema",
                     "restore it from a backup")
    lines = result.stderr.strip().splitlines()  # what the crawl says, then the fault: no log
    assert len(lines) == 2 and lines[0].startswith("crawling 2 source(s)"), result.stderr
    _assert_nothing_half_written(web)


def test_a_crawl_child_meeting_a_damaged_store_answers_its_one_line(mid_crawl_fault, tmp_path):
    from crawlers.catalogue import load_catalogue
    from policywatch.config import CrawlSettings
    from policywatch.crawl_child import CHILD_MODULE, CrawlRequest, read_failure

    web = mid_crawl_fault
    db = f"sqlite:///{web.store}"
    Store(db).close()  # the daemon migrates the store before it starts a child
    sources = load_catalogue([tmp_path / "sources"]).by_id()

    def child(source: str) -> subprocess.CompletedProcess[str]:
        request = CrawlRequest(db, CrawlSettings(contact="tests@example.org"), sources[source],
                               f"{source}.yaml")
        env = {k: v for k, v in os.environ.items() if not k.startswith("POLICYWATCH_")}
        env["PYTHONPATH"] = str(ROOT)
        return subprocess.run([sys.executable, "-m", CHILD_MODULE], input=request.to_json(),
                              capture_output=True, text=True, cwd=ROOT, env=env, timeout=120)

    first = child("fault-first")
    assert first.returncode == 0, first.stderr
    second = child("fault-second")
    assert second.returncode == 1
    assert "Traceback" not in second.stderr, second.stderr
    failure = read_failure(second.stdout)
    assert failure is not None and failure.startswith(f"StoreError: the store {web.store} is "
                                                      "damaged (malformed database schema"), \
        second.stdout
    _assert_nothing_half_written(web)


def test_the_busy_timeout_is_taken_from_the_environment(tmp_path, monkeypatch):
    """Every connection to a SQLite store waits as long as POLICYWATCH_BUSY_TIMEOUT says, the
    web view's read-only ones too."""
    from sqlalchemy import text

    from policywatch.web.store import read_only_engine

    url = f"sqlite:///{tmp_path / 'store.sqlite'}"
    Store(url).close()
    for seconds, expected in ((None, 30000), ("2", 2000), ("0.5", 500)):
        if seconds is None:
            monkeypatch.delenv(BUSY_TIMEOUT_VARIABLE, raising=False)
        else:
            monkeypatch.setenv(BUSY_TIMEOUT_VARIABLE, seconds)
        store = Store(url)
        reader = read_only_engine(url)
        try:
            with store.engine.connect() as connection, reader.connect() as reading:
                assert connection.execute(text("PRAGMA busy_timeout")).scalar() == expected
                assert reading.execute(text("PRAGMA busy_timeout")).scalar() == expected
        finally:
            store.close()
            reader.dispose()
