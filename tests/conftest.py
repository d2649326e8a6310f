"""Shared fixtures: the loopback regulator web, a store per test, and the CLI run for real."""

from __future__ import annotations

import atexit
import contextlib
import dataclasses
import fcntl
import hashlib
import json
import os
import select
import shutil
import signal
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
import traceback
import uuid
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from policywatch.demoweb.server import LoopbackWeb
from storage.database import Store
from storage.runs import upsert_source
from tests.web.sites import regulator_web

if TYPE_CHECKING:
    from bench.extraction import Page

ROOT = Path(__file__).parent.parent
FIXTURES = Path(__file__).parent / "fixtures"
SHARED_CORPUS = ROOT.parent / "shared" / "corpus"


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """The tests marked `long` first: one started near the end would end the run alone, with
    the other workers idle. (Only tests without module-scoped fixtures are marked.)"""
    items.sort(key=lambda item: item.get_closest_marker("long") is None)


@dataclass
class CliResult:
    code: int
    stdout: str
    stderr: str

    def json(self):
        return json.loads(self.stdout)


# Commands that own their process: a crawl starts Scrapy's Twisted reactor, which cannot start
# twice in one process; the daemon installs signal handlers and runs until it is stopped.
OWN_PROCESS_COMMANDS = frozenset({"crawl", "run", "serve"})


def _global_options(db: str | None, config: Path | None) -> list[str]:
    return [*(["--db", db] if db else []), *(["--config", str(config)] if config else [])]


def _command_name(args: tuple[str, ...]) -> str | None:
    """The subcommand of `policywatch ARGS`: the first word that is neither an option nor the
    value of a global option."""
    words = iter(args)
    for word in words:
        if word in ("--db", "--config"):
            next(words, None)
        elif not word.startswith("-"):
            return word
    return None


def run_cli(*args: str, db: str | None = None, config: Path | None = None,
            timeout: float = 180) -> CliResult:
    """Run `policywatch ARGS` as a user would: in this process through click's runner, or in a
    child process for the commands that own their process (a crawl, the daemon). `timeout`
    bounds a child process; an in-process run is bounded by the test's own timeout."""
    if _command_name(args) in OWN_PROCESS_COMMANDS:
        return run_cli_process(*args, db=db, config=config, timeout=timeout)
    return invoke_cli(*args, db=db, config=config)


def run_cli_process(*args: str, db: str | None = None, config: Path | None = None,
                    timeout: float = 180, env: Mapping[str, str] | None = None,
                    stdin: str | None = None) -> CliResult:
    """Run `python -m policywatch ARGS` in its own process, without the caller's POLICYWATCH_*
    variables (`env` adds variables). The process is forked from one that has the project
    imported already (tests/cli_forkserver.py), which spares each run the start-up."""
    command = [sys.executable, "-m", "policywatch", *_global_options(db, config), *args]
    child_env = {k: v for k, v in os.environ.items() if not k.startswith("POLICYWATCH_")}
    child_env["PYTHONPATH"] = str(ROOT)
    child_env.update(env or {})
    if FORK_CHILDREN:
        return FORK_SERVER.run(command, child_env, stdin, timeout)
    done = subprocess.run(command, capture_output=True, text=True, timeout=timeout, cwd=ROOT,
                          env=child_env, input=stdin)
    return CliResult(done.returncode, done.stdout, done.stderr)


# POLICYWATCH_TEST_FORK=0 starts each child afresh instead (slower; to rule the fork server out).
FORK_CHILDREN = os.environ.get("POLICYWATCH_TEST_FORK", "1") != "0"


class ForkServer:
    """This worker's fork server (tests/cli_forkserver.py), started on first use: `run` behaves
    as `subprocess.run(command, capture_output=True, text=True, timeout=…)` from ROOT would."""

    def __init__(self) -> None:
        self.process: subprocess.Popen[bytes] | None = None
        self.pending = b""
        self.lock = threading.Lock()

    def _start(self) -> subprocess.Popen[bytes]:
        if self.process is not None and self.process.poll() is None:
            return self.process
        env = {k: v for k, v in os.environ.items() if not k.startswith("POLICYWATCH_")}
        env["PYTHONPATH"] = str(ROOT)
        self.process = subprocess.Popen([sys.executable, "-m", "tests.cli_forkserver"], cwd=ROOT,
                                        env=env, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                        bufsize=0)
        self.pending = b""
        atexit.register(self.stop)
        self._reply(time.monotonic() + 120)  # {"ready": pid} once the project is imported
        return self.process

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            assert self.process.stdin is not None
            self.process.stdin.close()  # the server ends at the end of its input
            self.process.wait(timeout=30)

    def _reply(self, deadline: float) -> dict:
        """The server's next JSON line; TimeoutError once `deadline` passes without one."""
        assert self.process is not None and self.process.stdout is not None
        fd = self.process.stdout.fileno()
        while b"\n" not in self.pending:
            left = deadline - time.monotonic()
            if left <= 0 or not select.select([fd], [], [], left)[0]:
                raise TimeoutError
            chunk = os.read(fd, 65536)
            if not chunk:
                raise RuntimeError("the fork server of tests/cli_forkserver.py ended")
            self.pending += chunk
        line, self.pending = self.pending.split(b"\n", 1)
        return json.loads(line)

    def run(self, command: list[str], env: Mapping[str, str], stdin: str | None,
            timeout: float) -> CliResult:
        with self.lock, tempfile.TemporaryDirectory(prefix="policywatch-run-") as folder:
            process = self._start()
            streams = Path(folder)
            (streams / "stdin").write_text(stdin or "")
            request = {"argv": [command[0], *command[3:]], "env": dict(env), "cwd": str(ROOT),
                       "stdin": str(streams / "stdin") if stdin is not None else os.devnull,
                       "stdout": str(streams / "stdout"), "stderr": str(streams / "stderr")}
            assert process.stdin is not None
            process.stdin.write((json.dumps(request) + "\n").encode())
            pid = self._reply(time.monotonic() + 60)["pid"]
            try:
                code = self._reply(time.monotonic() + timeout)["code"]
            except BaseException as interrupted:  # a timeout, or the test's own
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(pid, signal.SIGKILL)
                self._reply(time.monotonic() + 60)
                if isinstance(interrupted, TimeoutError):
                    raise subprocess.TimeoutExpired(command, timeout, self._read(streams / "stdout"),
                                                    self._read(streams / "stderr")) from None
                raise
            return CliResult(code, self._read(streams / "stdout"), self._read(streams / "stderr"))

    @staticmethod
    def _read(path: Path) -> str:
        """The child's output as `text=True` decodes it (universal newlines)."""
        return path.read_text() if path.exists() else ""


FORK_SERVER = ForkServer()


def invoke_cli(*args: str, db: str | None = None, config: Path | None = None,
               env: Mapping[str, str] | None = None, stdin: str | None = None) -> CliResult:
    """Run `policywatch ARGS` in this process with click's runner, as `run_cli_process` would:
    from the repository's folder, without the caller's POLICYWATCH_* variables (`env` adds
    variables for this run only), and with the traceback on stderr when a command crashes."""
    from click.testing import CliRunner

    from policywatch.cli import cli

    scoped_env: dict[str, str | None] = {k: None for k in os.environ if k.startswith("POLICYWATCH_")}
    scoped_env.update(env or {})
    with contextlib.chdir(ROOT):
        result = CliRunner().invoke(cli, [*_global_options(db, config), *args], input=stdin,
                                    env=scoped_env, prog_name="policywatch")
    stderr = result.stderr
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        stderr += "".join(traceback.format_exception(result.exception))
    return CliResult(result.exit_code, result.stdout, stderr)


@dataclass(frozen=True)
class DemoRun:
    """What `policywatch demo --dir FOLDER` printed, and the folder it wrote."""

    folder: Path
    result: CliResult


def run_folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The temporary folder of this run, shared by its workers."""
    base = tmp_path_factory.getbasetemp()
    return base.parent if os.environ.get("PYTEST_XDIST_WORKER") else base


@pytest.fixture(scope="session")
def real_page_text(tmp_path_factory: pytest.TempPathFactory) -> Callable[[Page], str]:
    """What policywatch watches on a page of `../shared/realpages/` with no selector declared,
    extracted once per run: the first worker to need a page keeps its text for the others."""
    from bench.extraction import REALPAGES, product_text  # trafilatura: only for these tests

    kept = run_folder(tmp_path_factory) / "realpage-texts"
    kept.mkdir(exist_ok=True)

    def text_of(page: Page) -> str:
        file = kept / (hashlib.sha1(page.file.encode()).hexdigest() + ".txt")
        if file.exists():
            return file.read_text(encoding="utf-8")
        text = product_text((REALPAGES / page.file).read_bytes(), page.content_type)
        partial = file.with_suffix(f".{os.getpid()}")
        partial.write_text(text, encoding="utf-8")
        partial.replace(file)  # whole or absent for the other workers
        return text

    return text_of


@pytest.fixture(scope="session")
def demo_run(tmp_path_factory: pytest.TempPathFactory) -> DemoRun:
    """One `policywatch demo` for the whole run, in a folder named as the README's: the first
    worker to ask runs it, under a file lock; the others wait for it and read what it left.
    Its users only read the demo's store and files."""
    shared = run_folder(tmp_path_factory) / "shared-demo"
    shared.mkdir(exist_ok=True)
    folder, saved = shared / "policywatch-demo", shared / "result.json"
    with (shared / "lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not saved.exists():
            result = run_cli("demo", "--dir", str(folder), timeout=400)
            saved.write_text(json.dumps(dataclasses.asdict(result)))
    return DemoRun(folder, CliResult(**json.loads(saved.read_text())))


@pytest.fixture(scope="session")
def web() -> Iterator[LoopbackWeb]:
    loopback = regulator_web().start()
    yield loopback
    loopback.stop()


@pytest.fixture
def db_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'store.sqlite'}"


POSTGRES = os.environ.get("POLICYWATCH_TEST_POSTGRES")  # set by .ci/run, which starts a server
BACKENDS = ["sqlite", pytest.param("postgresql", marks=pytest.mark.skipif(
    not POSTGRES, reason="no PostgreSQL server (POLICYWATCH_TEST_POSTGRES); .ci/run starts one"))]


@contextmanager
def fresh_database(backend: str, folder: Path, template: str | None = None,
                   keep: bool = False) -> Iterator[str]:
    """A new, empty database on `backend`: a SQLite file, or a PostgreSQL database made for it
    (a copy of database `template` when given; dropped afterwards unless `keep`)."""
    if backend == "sqlite":
        yield f"sqlite:///{folder / 'store.sqlite'}"
        return
    assert POSTGRES, "the postgresql backend is skipped without POLICYWATCH_TEST_POSTGRES"
    name = f"pw_test_{uuid.uuid4().hex[:12]}"
    copied = f' TEMPLATE "{template}"' if template else ""
    _on_postgresql_server(f'CREATE DATABASE "{name}"{copied}')
    try:
        yield make_url(POSTGRES).set(database=name).render_as_string(hide_password=False)
    finally:
        if not keep:
            _drop_postgresql(name)


def _on_postgresql_server(statement: str, **parameters: str) -> None:
    """Run one statement on the test server's own database, outside any transaction."""
    admin = create_engine(POSTGRES or "", isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as connection:
            connection.execute(text(statement), parameters)
    finally:
        admin.dispose()


def _drop_postgresql(name: str) -> None:
    _on_postgresql_server(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


class PreparedDatabases:
    """Databases each prepared once in this worker (migrated, or holding a recorded history) and
    handed out as copies: a SQLite file copied, a PostgreSQL database made from it as template.
    A copy is what the preparation would have written into a new database, at a fraction of the
    cost of migrating and recording again for every test."""

    def __init__(self) -> None:
        self.folder: Path | None = None
        self.made: dict[tuple[str, str], str] = {}  # (backend, what) → the prepared database
        atexit.register(self.drop)

    def _prepared(self, backend: str, what: str, prepare: Callable[[str], None]) -> str:
        key = (backend, what)
        if key not in self.made:
            if self.folder is None:
                self.folder = Path(tempfile.mkdtemp(prefix="policywatch-prepared-"))
            folder = self.folder / f"{backend}-{what}"
            folder.mkdir(exist_ok=True)  # left by a preparation that failed
            with fresh_database(backend, folder, keep=True) as url:
                try:
                    prepare(url)
                except BaseException:
                    if backend == "postgresql":
                        _drop_postgresql(make_url(url).database or "")
                    raise
            if backend == "sqlite":
                with contextlib.closing(sqlite3.connect(folder / "store.sqlite")) as connection:
                    busy, _, _ = connection.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()
                    assert not busy, "the prepared store is still open"
            else:  # a template must have no session open
                _on_postgresql_server("SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                                      "WHERE datname = :name", name=make_url(url).database or "")
            self.made[key] = url
        return self.made[key]

    @contextmanager
    def copy(self, backend: str, folder: Path, what: str,
             prepare: Callable[[str], None]) -> Iterator[str]:
        """A new database on `backend` holding what `prepare(url)` writes into an empty one."""
        prepared = self._prepared(backend, what, prepare)
        if backend == "sqlite":
            shutil.copyfile(prepared.removeprefix("sqlite:///"), folder / "store.sqlite")
            yield f"sqlite:///{folder / 'store.sqlite'}"
            return
        with fresh_database(backend, folder, template=make_url(prepared).database) as url:
            yield url

    def drop(self) -> None:
        for (backend, _), url in self.made.items():
            if backend == "postgresql":
                _drop_postgresql(make_url(url).database or "")
        self.made.clear()
        if self.folder is not None:
            shutil.rmtree(self.folder, ignore_errors=True)


PREPARED = PreparedDatabases()


def migrate(url: str) -> None:
    Store(url).close()


@pytest.fixture(params=BACKENDS)
def store_url(request, tmp_path: Path) -> Iterator[str]:
    """A fresh store at the newest schema on SQLite and, where a server is available, on
    PostgreSQL."""
    with PREPARED.copy(request.param, tmp_path, "migrated", migrate) as url:
        yield url


@pytest.fixture
def store(store_url: str) -> Iterator[Store]:
    """A fresh store on each backend with one registered source, `eu-test` (EU, supranational)."""
    store = Store(store_url)
    with store.transaction() as session:
        upsert_source(session, id="eu-test", name="Test", jurisdiction="EU", level="supranational",
                      declaration_file=None)
    yield store
    store.close()


@pytest.fixture
def fast_config(tmp_path: Path) -> Path:
    """Short timeouts so that fault tests finish quickly."""
    path = tmp_path / "policywatch.toml"
    path.write_text('[crawl]\ntimeout = 1.5\nretry_after_max = 5\nmax_download_mb = 1\n'
                    'contact = "tests@example.org"\n')
    return path


@contextlib.contextmanager
def small_filesystem(folder: Path, size: str) -> Iterator[Path]:
    """A tmpfs of `size` ("4m") mounted on `folder` for a test of a full disk (the test is
    skipped where mounting is not allowed)."""
    folder.mkdir()
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(folder)],
                          capture_output=True, check=False)
    if done.returncode != 0:
        pytest.skip(f"cannot mount a small filesystem here: {done.stderr.decode().strip()}")
    try:
        yield folder
    finally:
        subprocess.run(["umount", "-l", str(folder)], check=False)
