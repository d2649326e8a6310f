"""A real crawl of a page whose text only appears when its script runs: read as served it is an
application shell, reported as such; declared `render: browser` it is rendered in Debian's
Chromium, its text watched and an amendment of the script's text found."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest

from crawlers.browser import CHROMIUM, chromium_available
from crawlers.visible_text import SHELL_WARNING
from policywatch.demoweb.server import LoopbackWeb
from tests.conftest import CliResult, run_cli
from tests.web.scripted import SCRIPTED, scripted_web, write_scripted_declarations

needs_chromium = pytest.mark.skipif(not chromium_available(),
                                    reason=f"render: browser needs chromium at {CHROMIUM}")


@pytest.fixture(scope="module")
def loopback() -> Iterator[LoopbackWeb]:
    web = scripted_web().start()
    yield web
    web.stop()


@pytest.fixture(scope="module")
def crawls(loopback, tmp_path_factory) -> tuple[list[CliResult], list[list[dict]], Path]:
    """Two crawls: the script's text as first served, then with one word amended."""
    folder = tmp_path_factory.mktemp("scripted")
    sources = write_scripted_declarations(loopback, folder / "sources")
    db_file = folder / "store.sqlite"
    results, added, seen = [], [], 0
    for epoch in (1, 2):
        loopback.set(epoch=epoch, noise=epoch)
        result = run_cli("crawl", "--sources", str(sources), db=f"sqlite:///{db_file}")
        assert result.code == 0, result.stderr
        events = run_cli("history", "--format", "json", db=f"sqlite:///{db_file}").json()
        results.append(result)
        added.append(events[: len(events) - seen])
        seen = len(events)
    return results, added, db_file


def _problems(db_file: Path, source_id: str) -> list[tuple]:
    with sqlite3.connect(db_file) as connection:
        return connection.execute("select kind, message from problems where source_id = ?",
                                  (source_id,)).fetchall()


def test_an_application_shell_read_as_served_is_reported_in_the_crawl_summary(crawls):
    results, added, db_file = crawls
    assert all(SHELL_WARNING in result.stdout for result in results)
    assert [message for _, message in _problems(db_file, "scripted-served")] == [SHELL_WARNING] * 2
    assert not any(e["source"] == "scripted-served" for step in added for e in step)


@needs_chromium
def test_rendered_in_the_browser_the_text_written_by_the_script_is_watched(crawls):
    results, added, db_file = crawls
    assert [e["change"] for e in added[0] if e["source"] == "scripted-browser"] == ["new"]
    assert _problems(db_file, "scripted-browser") == []


@needs_chromium
def test_a_change_of_the_scripts_text_is_an_amendment(crawls):
    _, added, _ = crawls
    amended = [e for e in added[1] if e["source"] == "scripted-browser"]
    assert [e["change"] for e in amended] == ["amended"]


@needs_chromium
def test_the_browser_fetches_nothing_from_undeclared_hosts(crawls, loopback):
    assert {hit.host for hit in loopback.hits} == {SCRIPTED}


@pytest.mark.skipif(chromium_available(), reason=f"chromium is installed at {CHROMIUM}")
def test_without_chromium_a_browser_source_gets_one_line(crawls):
    results, _, db_file = crawls
    assert _problems(db_file, "scripted-browser") == [
        ("invalid", f"render: browser needs chromium at {CHROMIUM}")] * 2
    assert "Traceback" not in results[0].stdout + results[0].stderr
