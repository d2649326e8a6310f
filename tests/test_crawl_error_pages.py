"""A real crawl of an instrument that answers 200 with error pages, and of a page whose watched
text is a sliver of what it shows: source-health problems, never versions or events."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest

from crawlers.error_pages import error_page
from policywatch.demoweb.server import LoopbackWeb
from tests.conftest import CliResult, run_cli
from tests.web.hostile import Answer, Host, declaration, law_page, start, stop
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


# --- a soft 404 told by its likeness to the site's own 404 ---------------------------------

def finnish_not_found(path: str) -> bytes:
    """A site's error template in a language without cue words, echoing the path asked for."""
    return (f'<!DOCTYPE html><html lang="fi"><head><title>Tietosuojavaltuutetun toimisto</title>'
            f'</head><body><header><a href="/">Etusivu</a> <a href="/ajankohtaista">Ajankohtaista'
            f'</a></header><main><h1>Hups!</h1><p>Valitettavasti etsimääsi sivua {path} ei '
            f'löytynyt. Se on ehkä siirretty toiseen osoitteeseen tai poistettu palvelusta.</p>'
            f'<p>Palaa etusivulle tai käytä sivuston hakua.</p></main><footer>Tietosuojavaltuutetun '
            f'toimisto</footer></body></html>').encode()


@pytest.fixture(scope="module")
def template_site() -> Iterator[Host]:
    (host,) = start("127.0.0.55")
    yield host
    stop([host])


@pytest.fixture(scope="module")
def likeness_crawls(template_site, tmp_path_factory) -> tuple[list[CliResult], Path, Host]:
    """Three crawls of an instrument of a site whose 404 is a bare template (robots.txt answers
    it too, before any page of the host): the instrument, then that template with a 200, then the
    instrument again."""
    host = template_site
    folder = tmp_path_factory.mktemp("likeness")
    sources = folder / "sources"
    sources.mkdir()
    (sources / "fi-likeness.yaml").write_text(declaration("fi-likeness", host.url("/law")))
    db_file = folder / "store.sqlite"
    robots = Answer(404, finnish_not_found("/robots.txt"))
    results = []
    for law in (law_page("Siirrot kolmansiin maihin"), finnish_not_found("/law"),
                law_page("Siirrot kolmansiin maihin")):
        host.reset({"/robots.txt": robots, "/law": Answer(200, law)})
        result = run_cli("crawl", "--sources", str(sources), db=f"sqlite:///{db_file}")
        assert result.code == 0, result.stderr
        results.append(result)
    return results, db_file, host


def test_the_template_says_nothing_a_phrase_could_catch():
    assert error_page(finnish_not_found("/law").decode()) is None


def test_a_200_page_like_the_sites_own_404_is_a_soft_404_never_a_version(likeness_crawls):
    results, db_file, host = likeness_crawls
    law = "select id from instruments where source_id = 'fi-likeness'"
    assert _rows(db_file, f"select kind from change_events where instrument_id in ({law})") == [
        ("new",)]
    assert _rows(db_file, f"select count(*) from versions where instrument_id in ({law})") == [(1,)]
    assert _rows(db_file, f"select status, gone_checks from instruments where id in ({law})") == [
        ("active", 0)]
    problems = _rows(db_file, "select kind, severity, message from problems "
                              "where source_id = 'fi-likeness' order by id")
    assert problems == [("gone", "warning", "HTTP 200 with a page not found (the same page as the "
                         f"HTTP 404 answer of {host.url('/robots.txt')}) (1 of 3 before withdrawn)")]
    assert "the same page as the HTTP 404 answer" in results[1].stdout
