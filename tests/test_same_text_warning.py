"""Two instruments of one source watching the same text is a thin extraction: on a loopback web
whose two notice pages show one text, `crawl` and `status` say so in one line naming both; the
line stands while the page is unchanged and goes when it gets a text of its own."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from policywatch.demoweb.server import LoopbackWeb, Page, html_page, regulator_page
from policywatch.demoweb.texts import gdpr, to_html
from tests.conftest import CliResult, run_cli

SAME_TEXT = "same-text"
NOTICE = ("<p>This site keeps records of the regulator's decisions. By continuing you accept that "
          "the registry of decisions is published in full, with the names of the parties removed, "
          "and that each decision stays available for ten years after it was taken.</p>")


def same_text_routes(web: LoopbackWeb) -> dict[str, Page]:
    """Two notices that show one text (the second gets its own in epoch 2) and a law."""
    second = NOTICE if web.epoch == 1 else to_html(gdpr("46", "47"))
    return {
        "/notice/a": html_page(regulator_page("Registry", "Notice on the registry", NOTICE, web.noise)),
        "/notice/b": html_page(regulator_page("Registry", "Notice on the registry", second, web.noise)),
        "/law/doc": html_page(regulator_page("Registry", "Derogations", to_html(gdpr("49", "50")),
                                             web.noise)),
    }


def write_declaration(web: LoopbackWeb, folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    entries = "".join(f"  - type: document\n    url: {web.url(SAME_TEXT, path)}\n"
                      for path in ("/notice/a", "/notice/b", "/law/doc"))
    (folder / "registry.yaml").write_text(
        "id: registry\nname: Registry of decisions (loopback)\njurisdiction: DE\nlevel: national\n"
        f"body: regulator\nrelevance: all\nentries:\n{entries}")
    return folder


@pytest.fixture(scope="module")
def loopback() -> Iterator[LoopbackWeb]:
    web = LoopbackWeb({SAME_TEXT: ("127.0.0.14", same_text_routes)}).start()
    yield web
    web.stop()


@pytest.fixture(scope="module")
def cycles(loopback, tmp_path_factory) -> list[tuple[CliResult, CliResult, CliResult]]:
    """(crawl, status as JSON, the plain-text digest) of three crawls: first, noise only, the
    second notice's own text."""
    folder = tmp_path_factory.mktemp("same-text")
    sources = write_declaration(loopback, folder / "sources")
    db = f"sqlite:///{folder / 'store.sqlite'}"
    shown = []
    for epoch, noise in ((1, 1), (1, 2), (2, 3)):
        loopback.set(epoch=epoch, noise=noise)
        crawled = run_cli("crawl", "--sources", str(sources), db=db)
        assert crawled.code == 0, crawled.stderr
        status = run_cli("status", "--format", "json", db=db)
        assert status.code == 0, status.stderr
        digest = run_cli("digest", "--since", "1d", db=db)
        assert digest.code == 0, digest.stderr
        shown.append((crawled, status, digest))
    return shown


def _warnings(status: CliResult) -> list[dict]:
    return next(row["warnings"] for row in status.json()["sources"] if row["source"] == "registry")


def _same_text_lines(output: str) -> list[str]:
    return [line for line in output.splitlines() if "watching the same text as" in line]


def test_the_crawl_says_in_one_line_which_two_pages_watch_the_same_text(cycles, loopback):
    crawled, _, _ = cycles[0]
    [line] = _same_text_lines(crawled.stdout)
    first, second = loopback.url(SAME_TEXT, "/notice/a"), loopback.url(SAME_TEXT, "/notice/b")
    assert line.startswith("  registry: extraction: ")
    assert (f"{second}: “Notice on the registry”: watching the same text as “Notice on the "
            f"registry” ({first})") in line or \
        (f"{first}: “Notice on the registry”: watching the same text as “Notice on the "
         f"registry” ({second})") in line
    assert "/law/doc" not in line


def test_status_shows_it_while_the_page_is_unchanged(cycles):
    for _, status, _ in cycles[:2]:
        [warning] = [w for w in _warnings(status) if "the same text" in w["message"]]
        assert warning["kind"] == "extraction" and "/notice/" in warning["url"]
    assert _same_text_lines(cycles[1][0].stdout) == []  # nothing re-read, nothing new to say


def test_the_warning_goes_when_the_page_gets_a_text_of_its_own(cycles):
    crawled, status, digest = cycles[2]
    row = next(line.split() for line in crawled.stdout.splitlines() if line.startswith("registry "))
    assert row[1:3] == ["0", "1"]  # no new instrument, one amended
    assert _same_text_lines(crawled.stdout) == []
    assert [w for w in _warnings(status) if "the same text" in w["message"]] == []
    assert "watched only in part" not in digest.stdout


def test_the_digest_says_it_in_its_coverage_section(cycles, loopback):
    for _, _, digest in cycles[:2]:
        coverage = digest.stdout.split("\nCoverage\n", 1)[1]
        assert "These pages are watched only in part" in coverage
        [line] = _same_text_lines(coverage)
        assert line.startswith("* registry: ") and loopback.url(SAME_TEXT, "/notice/") in line
