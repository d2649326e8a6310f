"""`policywatch history` on a current SQLite store reads it through the standard library's sqlite3
alone, never loading SQLAlchemy, and answers exactly what the store opened through SQLAlchemy
answers: the same rows, the same JSON and table, the same one-line refusals."""

from __future__ import annotations

import os
import shutil
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from storage.history_sql import HistoryFilter, read_history
from storage.readers import SessionReader, current_sqlite_reader
from storage.store_files import BUSY_TIMEOUT_VARIABLE, newest_revision
from tests.conftest import ROOT, DemoRun, run_cli, run_cli_process


@pytest.fixture
def demo_copy(demo_run: DemoRun, tmp_path: Path) -> Path:
    """A copy of the demo's store, its write-ahead log folded in."""
    copy = tmp_path / "demo.sqlite"
    with sqlite3.connect(demo_run.folder / "demo.sqlite") as source, sqlite3.connect(copy) as target:
        source.backup(target)
    return copy


def imported_modules(db: str) -> tuple[int, str, set[str]]:
    """Exit status, output and the top-level packages imported by a fresh
    `python3 -X importtime -m policywatch --db DB history --limit 3`."""
    environment = {k: v for k, v in os.environ.items() if not k.startswith("POLICYWATCH_")}
    environment["PYTHONPATH"] = str(ROOT)
    done = subprocess.run([sys.executable, "-X", "importtime", "-m", "policywatch", "--db", db,
                           "history", "--limit", "3"], capture_output=True, text=True, cwd=ROOT,
                          env=environment, timeout=120)
    packages = {line.rsplit("|", 1)[-1].strip().split(".")[0]
                for line in done.stderr.splitlines() if line.startswith("import time:")}
    return done.returncode, done.stdout, packages


def test_history_of_a_current_sqlite_store_never_imports_sqlalchemy(demo_copy):
    code, shown, packages = imported_modules(f"sqlite:///{demo_copy}")
    assert code == 0 and len(shown.splitlines()) == 5, shown  # the header, its rule, 3 events
    assert "sqlite3" in packages and "click" in packages
    assert "sqlalchemy" not in packages and "alembic" not in packages
    # The same store named by a URL only SQLAlchemy reads is opened through it, as before.
    code, through_sqlalchemy, packages = imported_modules(f"sqlite+pysqlite:///{demo_copy}")
    assert code == 0 and "sqlalchemy" in packages
    assert through_sqlalchemy == shown


FILTERS = [
    (), ("--limit", "3"), ("--search", "data"), ("--search", "transfer", "--limit", "2"),
    ("--search", "个人信息"), ("--search", "standard contractual clau"), ("--search", "!!!"), ("--stage", "adopted"),
    ("--stage", "in_force", "--stage", "repealed", "--stage", "draft"), ("--paradigm", "unknown"),
    ("--paradigm", "restrictive", "--paradigm", "prudent"), ("--no-baseline",),
    ("--since", "2000-01-01", "--until", "2100-01-01"), ("--since", "2100-01-01"), ("--until", "2000-01-01"),
    ("--change", "stage"), ("--change", "amended", "--change", "technical"),
    ("--jurisdiction", "cn", "--jurisdiction", "EU"), ("--source", "EU-EDPB"),
    ("--jurisdiction", "CM"), ("--source", "nowhere"),
    ("--search", "data", "--no-baseline", "--paradigm", "prudent", "--limit", "4"),
]


@pytest.mark.parametrize("fmt", ["json", "table", "csv"])
def test_every_filter_answers_as_through_sqlalchemy(demo_copy, fmt):
    answered = 0
    for args in FILTERS:
        quick = run_cli("history", *args, "--format", fmt, db=f"sqlite:///{demo_copy}")
        usual = run_cli("history", *args, "--format", fmt, db=f"sqlite+pysqlite:///{demo_copy}")
        assert (quick.code, quick.stdout, quick.stderr) == (usual.code, usual.stdout, usual.stderr), args
        answered += quick.code == 0 and len(quick.stdout.splitlines()) > 2
    assert answered >= len(FILTERS) - 8  # most filters find events (refusals and empty ones do not)


def test_the_two_readers_give_the_same_events_with_every_part(demo_copy):
    from storage.database import Store

    quick = current_sqlite_reader(f"sqlite:///{demo_copy}")
    assert quick is not None
    store = Store(f"sqlite:///{demo_copy}")
    try:
        with store.sessions() as session:
            for where in (HistoryFilter(include_technical=True), HistoryFilter(search="data", limit=5),
                          HistoryFilter(stages=("adopted", "draft"), include_baseline=False)):
                usual = read_history(SessionReader(session), where)
                assert read_history(quick, where) == usual, where
        everything = read_history(quick, HistoryFilter(include_technical=True))
        parts = {key for event in everything for key in event}
        assert {"provisions", "shift", "stage_quote", "previous_url"} <= parts, parts
        assert {type(event["baseline"]) for event in everything} == {bool}
    finally:
        quick.close()
        store.close()


def test_only_a_current_sqlite_file_is_read_without_the_store(demo_copy, tmp_path):
    reader = current_sqlite_reader(f"sqlite:///{demo_copy}")
    assert reader is not None
    reader.close()
    assert current_sqlite_reader(f"sqlite:///{tmp_path / 'missing.sqlite'}") is None
    assert current_sqlite_reader(f"sqlite:///{demo_copy}?mode=ro") is None
    assert current_sqlite_reader("postgresql+psycopg://policywatch@127.0.0.1:1/none") is None
    older = tmp_path / "older.sqlite"
    shutil.copyfile(demo_copy, older)
    with sqlite3.connect(older) as connection:
        connection.execute("UPDATE alembic_version SET version_num = :older",
                           {"older": f"{int(newest_revision()) - 1:04d}"})
    assert current_sqlite_reader(f"sqlite:///{older}") is None  # it needs migrating: the store does that
    not_ours = tmp_path / "not-ours.sqlite"
    sqlite3.connect(not_ours).close()
    assert current_sqlite_reader(f"sqlite:///{not_ours}") is None
    garbage = tmp_path / "garbage.sqlite"
    garbage.write_bytes(b"not a database\n" * 500)
    assert current_sqlite_reader(f"sqlite:///{garbage}") is None


def test_a_locked_store_is_the_same_one_line_as_through_sqlalchemy(demo_copy):
    holder = sqlite3.connect(demo_copy, isolation_level=None)
    holder.execute("PRAGMA locking_mode=EXCLUSIVE")
    holder.execute("BEGIN EXCLUSIVE")  # no reader gets in, in WAL mode either
    holder.execute("SELECT count(*) FROM instruments").fetchall()
    try:
        answers = [run_cli_process("history", "--limit", "2", db=db, env={BUSY_TIMEOUT_VARIABLE: "1"})
                   for db in (f"sqlite:///{demo_copy}", f"sqlite+pysqlite:///{demo_copy}")]
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    quick, usual = answers
    assert quick.code == usual.code == 1 and "Traceback" not in quick.stderr
    assert quick.stderr.strip().splitlines()[-1] == usual.stderr.strip().splitlines()[-1]
    assert "is busy (database is locked)" in quick.stderr
