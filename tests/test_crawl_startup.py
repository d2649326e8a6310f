"""What a `policywatch crawl` process does before and after its crawl: Scrapy's TLS module imported
before the rest of the crawl's modules (its deprecated classes look at the whole stack and every
loaded module), no module of a component the crawl leaves off; on a current store with every page
unchanged, none of Alembic, of a new page's reading or of a digest; the cyclic collector paused
while the crawl starts, running during the crawl and after it, and the heap frozen for the
interpreter's exit."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.conftest import ROOT
from tests.web.hostile import Answer, Host, declaration, law_page, start, stop

# `policywatch ARGS` run in this interpreter, as `python -m policywatch` runs it, with the cyclic
# collector's passes counted by whether the crawl's reactor exists yet and its state noted as
# Scrapy's crawl starts; then the exit handlers, and the collector's state after each.
DRIVER = """
import atexit, gc, json, runpy, sys
import scrapy.crawler
passes = {"start-up": 0, "crawl and after": 0}
def count(phase, info):
    if phase == "start" and "policywatch.crawling" in sys.modules:
        passes["crawl and after" if "twisted.internet.reactor" in sys.modules else "start-up"] += 1
gc.callbacks.append(count)
crawl_started = scrapy.crawler.CrawlerProcess.start
during = {}
def start(process, *args, **kwargs):  # the collector as Scrapy's crawl starts
    during.update(enabled=gc.isenabled(), frozen=gc.get_freeze_count() > 100_000)
    return crawl_started(process, *args, **kwargs)
scrapy.crawler.CrawlerProcess.start = start
sys.argv = ["policywatch", *json.loads(sys.argv[1])]
code = 0
try:
    runpy.run_module("policywatch", run_name="__main__")
except SystemExit as end:
    code = end.code
after = {"enabled": gc.isenabled(), "frozen": gc.get_freeze_count(), "during": during}
atexit._run_exitfuncs()
print(json.dumps({"code": code, "passes": passes, "after": after,
                  "frozen at exit": gc.get_freeze_count()}))
"""


@dataclass(frozen=True)
class CrawlProcess:
    code: int
    passes: dict[str, int]
    after: dict[str, object]
    frozen_at_exit: int
    imported: list[str]  # modules, in the order their imports ended
    output: str


def crawl_process(db_url: str, sources: Path, config: Path) -> CrawlProcess:
    """One fresh `python -X importtime` process running `policywatch crawl`."""
    environment = {k: v for k, v in os.environ.items() if not k.startswith("POLICYWATCH_")}
    environment["PYTHONPATH"] = str(ROOT)
    args = ["--db", db_url, "--config", str(config), "crawl", "--quiet", "--sources", str(sources)]
    done = subprocess.run([sys.executable, "-X", "importtime", "-c", DRIVER, json.dumps(args)],
                          capture_output=True, text=True, cwd=ROOT, env=environment, timeout=180)
    lines = done.stdout.strip().splitlines()
    assert done.returncode == 0 and lines, done.stderr[-3000:]
    report = json.loads(lines[-1])
    imported = [line.rsplit("|", 1)[-1].strip() for line in done.stderr.splitlines()
                if line.startswith("import time:") and not line.endswith("| package")]
    return CrawlProcess(report["code"], report["passes"], report["after"],
                        report["frozen at exit"], imported, done.stdout + done.stderr)


@pytest.fixture(scope="module")
def hosts() -> Iterator[list[Host]]:
    started = start("127.0.0.71")
    yield started
    stop(started)


@pytest.fixture
def crawls(hosts: list[Host], tmp_path: Path, db_url: str,
           fast_config: Path) -> tuple[CrawlProcess, CrawlProcess]:
    """A first crawl of two pages and a re-check that finds both unchanged (one answering 304,
    one re-read from its remembered block)."""
    (host,) = hosts
    validated = (("Last-Modified", "Mon, 01 Jan 2024 00:00:00 GMT"),)
    host.reset({"/doc/a": Answer(200, law_page("Cross-border transfers of personal data")),
                "/doc/b": Answer(200, law_page("Security assessment of outbound data"), validated)})
    sources = tmp_path / "sources"
    sources.mkdir()
    for name in ("a", "b"):
        (sources / f"{name}.yaml").write_text(declaration(f"startup-{name}", host.url(f"/doc/{name}")))
    return (crawl_process(db_url, sources, fast_config),
            crawl_process(db_url, sources, fast_config))


def test_the_tls_module_comes_first_and_left_off_components_are_not_imported(crawls):
    for crawl in crawls:
        assert crawl.code == 0, crawl.output[-3000:]
        order = {name: position for position, name in enumerate(crawl.imported)}
        assert order["scrapy.core.downloader.tls"] < min(order["sqlalchemy"], order["pydantic"],
                                                         order["storage.models"])
        assert not any(name.startswith("twisted.conch") for name in crawl.imported)  # telnet
        assert "scrapy.downloadermiddlewares.cookies" not in order
    first, recheck = crawls
    assert "trafilatura" in first.imported  # two new pages read
    assert "trafilatura" not in recheck.imported  # two unchanged pages: nothing read anew
    packages = {name.split(".")[0] for name in recheck.imported}
    # A current store's schema is checked without Alembic; nothing of a digest either.
    assert not {"alembic", "jinja2", "matplotlib", "rich", "lxml_html_clean", "justext"} & packages


def test_the_collector_waits_for_the_crawl_and_the_heap_is_frozen_at_exit(crawls):
    for crawl in crawls:
        assert crawl.passes["start-up"] == 0, crawl.passes
        assert crawl.passes["crawl and after"] > 0, crawl.passes
        assert crawl.after == {"enabled": True, "frozen": 0,
                               "during": {"enabled": True, "frozen": True}}
        assert crawl.frozen_at_exit > 100_000


REALPAGES = Path(__file__).resolve().parents[2] / "shared" / "realpages" / "pages"


@pytest.mark.skipif(not REALPAGES.is_dir(), reason="../shared/realpages is not beside the project")
def test_a_utf8_page_parsed_from_its_bytes_finds_its_block_as_its_text_does():
    """The re-check parses a UTF-8 page from its bytes: on real pages, as they are, with a BOM,
    and with a word of their text changed, it answers as a parse of the decoded text does."""
    from crawlers.decoding import decode_body
    from crawlers.extract import extract_with_block, unchanged_block
    from crawlers.main_content import block_unchanged
    from texts.document import ExtractionError

    checked = 0
    for path in sorted(p for p in REALPAGES.rglob("*") if p.suffix in (".html", ".htm")):
        body = path.read_bytes()
        try:
            _, block = extract_with_block(body, None, None, (), "https://example.org/")
        except ExtractionError:
            continue
        if block is None:
            continue
        text, codec = decode_body(body)
        changed = text.replace(" the ", " a ", 1).encode(codec, "replace")
        for variant in (body, b"\xef\xbb\xbf" + body, changed):
            as_text = block_unchanged(decode_body(variant)[0], block)
            assert unchanged_block(variant, None, block) == as_text, path
        assert unchanged_block(body, None, block)
        checked += codec == "utf-8"
    assert checked > 50
