"""A real crawl of an instrument that answers 200 with error pages, and of a page whose watched
text is a sliver of what it shows: source-health problems, never versions or events."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest

from policywatch.demoweb.server import LoopbackWeb
from tests.conftest import CliResult, run_cli
from tests.web.sites import error_pages_web, write_error_page_declarations


@pytest.fixture(scope="module")
def loopback() -> Iterator[LoopbackWeb]:
    web = error_pages_web().start()
    yield web
    web.stop()


@pytest.fixture(scope="module")
def crawls(loopback, tmp_path_factory) -> tuple[list[CliResult], Path]:
    folder = tmp_path_factory.mktemp("error-pages")
    sources = write_error_page_declarations(loopback, folder / "sources")
    db_file = folder / "store.sqlite"
    results = []
    for epoch in (1, 2, 3, 4):  # instrument, page not found, maintenance, instrument again
        loopback.set(epoch=epoch, noise=epoch)
        result = run_cli("crawl", "--sources", str(sources), db=f"sqlite:///{db_file}")
        assert result.code == 0, result.stderr
        results.append(result)
    return results, db_file


def _rows(db_file: Path, sql: str) -> list[tuple]:
    with sqlite3.connect(db_file) as connection:
        return connection.execute(sql).fetchall()


def test_error_pages_give_no_version_and_no_event(crawls):
    _, db_file = crawls
    law = "select id from instruments where source_id = 'errors-law'"
    assert _rows(db_file, f"select kind from change_events where instrument_id in ({law})") == [
        ("new",)]
    assert _rows(db_file, f"select count(*) from versions where instrument_id in ({law})") == [(1,)]
    assert _rows(db_file, f"select status, gone_checks from instruments where id in ({law})") == [
        ("active", 0)]


def test_error_pages_are_problems_of_the_source(crawls):
    results, db_file = crawls
    problems = _rows(db_file, "select run_id, kind, severity, message from problems "
                              "where source_id = 'errors-law' order by id")
    assert [(kind, severity) for _, kind, severity, _ in problems] == [
        ("gone", "warning"), ("transient", "error")]
    assert "page not found" in problems[0][3] and "(1 of 3 before withdrawn)" in problems[0][3]
    assert "maintenance page" in problems[1][3] and "Wartungsarbeiten" in problems[1][3]
    assert "maintenance page" in results[2].stdout


def test_a_sliver_of_the_page_is_a_warning_naming_the_instrument(crawls):
    results, db_file = crawls
    warnings = _rows(db_file, "select kind, severity, message from problems "
                              "where source_id = 'errors-sliver'")
    assert len(warnings) == 1
    kind, severity, message = warnings[0]
    assert (kind, severity) == ("extraction", "warning")
    assert message.startswith("“Standard clauses”: watching 8 of ")
    assert "watching 8 of " in results[0].stdout
