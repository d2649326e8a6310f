"""Shared fixtures: the loopback regulator web, a store per test, and the CLI run for real."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest

from policywatch.demoweb.server import LoopbackWeb
from tests.web.sites import regulator_web

ROOT = Path(__file__).parent.parent
FIXTURES = Path(__file__).parent / "fixtures"
SHARED_CORPUS = ROOT.parent / "shared" / "corpus"


@dataclass
class CliResult:
    code: int
    stdout: str
    stderr: str

    def json(self):
        return json.loads(self.stdout)


def run_cli(*args: str, db: str | None = None, config: Path | None = None,
            timeout: float = 180) -> CliResult:
    """Run `policywatch ARGS` in its own process, as a user would."""
    command = [sys.executable, "-m", "policywatch"]
    if db:
        command += ["--db", db]
    if config:
        command += ["--config", str(config)]
    env = {k: v for k, v in os.environ.items() if not k.startswith("POLICYWATCH_")}
    env["PYTHONPATH"] = str(ROOT)
    done = subprocess.run([*command, *args], capture_output=True, text=True, timeout=timeout,
                          cwd=ROOT, env=env)
    return CliResult(done.returncode, done.stdout, done.stderr)


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
def fresh_database(backend: str, folder: Path) -> Iterator[str]:
    """A new, empty database on `backend`: a SQLite file, or a PostgreSQL database made for it."""
    if backend == "sqlite":
        yield f"sqlite:///{folder / 'store.sqlite'}"
        return
    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url

    name = f"pw_test_{uuid.uuid4().hex[:12]}"
    admin = create_engine(POSTGRES, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield make_url(POSTGRES).set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture(params=BACKENDS)
def store_url(request, tmp_path: Path) -> Iterator[str]:
    """A fresh store on SQLite and, where a server is available, on PostgreSQL."""
    with fresh_database(request.param, tmp_path) as url:
        yield url


@pytest.fixture
def fast_config(tmp_path: Path) -> Path:
    """Short timeouts so that fault tests finish quickly."""
    path = tmp_path / "policywatch.toml"
    path.write_text('[crawl]\ntimeout = 1.5\nretry_after_max = 5\nmax_download_mb = 1\n'
                    'contact = "tests@example.org"\n')
    return path
