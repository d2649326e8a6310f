"""`policywatch status` after real crawls of a loopback web: each source's warnings (a thin
extraction, a soft 404) are shown, whole, in the table and in JSON, not only its last error."""

from __future__ import annotations

from collections.abc import Iterator

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
def statuses(loopback, tmp_path_factory) -> list[tuple[CliResult, CliResult]]:
    """(table, JSON) of `status` after each of three crawls: the instrument, its page answering
    'page not found' with a 200, then a maintenance page (an error, no warning)."""
    folder = tmp_path_factory.mktemp("status")
    sources = write_error_page_declarations(loopback, folder / "sources")
    db = f"sqlite:///{folder / 'store.sqlite'}"
    shown = []
    for epoch in (1, 2, 3):
        loopback.set(epoch=epoch, noise=epoch)
        crawled = run_cli("crawl", "--sources", str(sources), db=db)
        assert crawled.code == 0, crawled.stderr
        table, as_json = run_cli("status", db=db), run_cli("status", "--format", "json", db=db)
        assert table.code == 0 and as_json.code == 0, table.stderr + as_json.stderr
        shown.append((table, as_json))
    return shown


def _warnings(as_json: CliResult, source_id: str) -> list[dict]:
    return next(row["warnings"] for row in as_json.json()["sources"] if row["source"] == source_id)


def _table_line(table: CliResult, source_id: str) -> str:
    return next(line for line in table.stdout.splitlines() if line.startswith(f"{source_id} "))


def test_a_coverage_warning_is_shown_whole_with_its_count(statuses):
    table, as_json = statuses[0]
    assert "WARNINGS" in table.stdout and "FIRST_WARNING" in table.stdout
    line = _table_line(table, "errors-sliver")
    assert "extraction: http://" in line and "/sliver/doc: “Standard clauses”: watching 8 of " in line
    assert line.rstrip().endswith("visible characters")  # never cut
    [warning] = _warnings(as_json, "errors-sliver")
    assert warning["kind"] == "extraction" and warning["url"].endswith("/sliver/doc")
    assert warning["message"].startswith("“Standard clauses”: watching 8 of ")
    assert _warnings(as_json, "errors-law") == []


def test_a_soft_404_of_the_last_run_is_a_warning(statuses):
    _, as_json = statuses[1]
    [warning] = _warnings(as_json, "errors-law")
    assert warning["kind"] == "gone"
    assert "page not found" in warning["message"] and "(1 of 3 before withdrawn)" in warning["message"]


def test_a_thin_extraction_stands_until_the_next_version_and_other_warnings_end_with_their_run(
        statuses):
    for _, as_json in statuses[1:]:  # the sliver page is unchanged, so never read again
        [warning] = _warnings(as_json, "errors-sliver")
        assert "watching 8 of " in warning["message"]
    table, as_json = statuses[2]
    assert _warnings(as_json, "errors-law") == []  # the maintenance page is an error instead
    law = next(row for row in as_json.json()["sources"] if row["source"] == "errors-law")
    assert "maintenance page" in law["last_error"]
    assert "gone:" not in _table_line(table, "errors-law")
