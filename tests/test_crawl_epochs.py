"""A real Scrapy crawl of the loopback regulator web over three epochs and rotating noise.

The sequence runs once (module fixture); each test checks one thing a user relies on.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.conftest import CliResult, run_cli
from tests.web.sites import write_declarations


@dataclass
class Step:
    crawl: CliResult
    events: list[dict]          # events this crawl added, newest first
    requests: int
    not_modified: int
    bytes_received: int
    snapshots: int              # raw snapshots in the store after this crawl
    blocks: set[tuple]          # (instrument, block path, text digest) remembered after it
    paths: set[str]             # the paths this crawl asked for


def _count(db_file: Path, table: str) -> int:
    with sqlite3.connect(db_file) as connection:
        return connection.execute(f"select count(*) from {table}").fetchone()[0]


def _blocks(db_file: Path) -> set[tuple]:
    with sqlite3.connect(db_file) as connection:
        return set(connection.execute("select instrument_id, path, digest from main_text_blocks"))


@pytest.fixture(scope="module")
def epochs(web, tmp_path_factory) -> dict[str, Step]:
    folder = tmp_path_factory.mktemp("epochs")
    sources = write_declarations(web, folder / "sources")
    db_file = folder / "store.sqlite"
    db = f"sqlite:///{db_file}"
    seen = 0
    steps: dict[str, Step] = {}

    def crawl(name: str, epoch: int, noise: int) -> None:
        nonlocal seen
        web.set(epoch=epoch, noise=noise)
        result = run_cli("crawl", "--sources", str(sources), db=db)
        assert result.code == 0, result.stderr
        history = run_cli("history", "--format", "json", db=db).json()
        steps[name] = Step(result, history[: len(history) - seen], len(web.hits),
                           sum(1 for h in web.hits if h.status == 304),
                           sum(h.size for h in web.hits), _count(db_file, "snapshots"),
                           _blocks(db_file), {h.path for h in web.hits})
        seen = len(history)

    crawl("first", 1, 1)
    crawl("unchanged", 1, 1)
    crawl("noise", 1, 2)
    crawl("epoch2", 2, 3)
    crawl("epoch2-second", 2, 4)
    crawl("epoch2-third", 2, 5)
    crawl("epoch3", 3, 6)
    steps["db"] = db  # type: ignore[assignment]
    return steps


def _kinds(step: Step) -> list[tuple[str, str]]:
    return sorted((e["source"], e["change"]) for e in step.events)


def test_first_crawl_finds_every_instrument_as_baseline(epochs):
    first = epochs["first"]
    assert _kinds(first) == sorted(
        [("cn-cac", "new")] * 2 + [("eu-edpb", "new")] * 3 + [("us-fedreg", "new")] * 2
        + [("wto-ecom", "new")] * 2)
    assert all(e["baseline"] for e in first.events)
    assert all(e["version"] == 1 for e in first.events)


def test_unchanged_web_is_answered_mostly_with_304_and_stores_nothing(epochs):
    first, again = epochs["first"], epochs["unchanged"]
    assert again.events == []
    assert again.snapshots == first.snapshots
    assert again.not_modified > again.requests / 2
    assert again.bytes_received < first.bytes_received / 3


def test_noise_only_epoch_gives_zero_events(epochs):
    noise = epochs["noise"]
    assert noise.events == []
    assert noise.not_modified == 0  # every page's bytes changed: the server had to send them all
    assert noise.snapshots == epochs["first"].snapshots


def test_the_block_of_each_html_instrument_is_remembered_and_holds_through_noise(epochs):
    first = epochs["first"]
    # every instrument read by automatic detection: EDPB's three, the HTML one of the Federal
    # Register, WTO's two (CAC declares a content selector; the PDF has no blocks)
    assert len(first.blocks) == 6
    assert epochs["unchanged"].blocks == epochs["noise"].blocks == first.blocks
    assert epochs["epoch2"].blocks != first.blocks  # the amended pages' blocks hold new text


def test_one_word_amendment_of_one_article_is_found(epochs):
    amended = {e["instrument"]: e for e in epochs["epoch2"].events if e["change"] == "amended"}
    edpb = next(e for e in amended.values() if e["source"] == "eu-edpb")
    assert edpb["version"] == 2 and not edpb["baseline"]
    modified = edpb["provisions"]["modified"]
    assert [m["ref"] for m in modified] == ["Article 45"]
    assert "four years" in modified[0]["before"] and "three years" in modified[0]["after"]
    assert edpb["provisions"]["added"] == [] and edpb["provisions"]["removed"] == []


def test_one_character_amendment_in_a_gbk_chinese_page_is_found(epochs):
    cac = [e for e in epochs["epoch2"].events if e["source"] == "cn-cac"]
    assert [e["change"] for e in cac] == ["amended"]
    modified = cac[0]["provisions"]["modified"]
    assert [m["ref"] for m in modified] == ["第三十八条"]
    assert "确需" in modified[0]["before"] and "确须" in modified[0]["after"]


def test_new_document_is_announced_and_one_pushed_off_the_listing_is_kept(epochs):
    events = epochs["epoch2"].events
    new = [e for e in events if e["change"] == "new"]
    assert [(e["source"], e["baseline"]) for e in new] == [("eu-edpb", False)]
    assert "international-cooperation" in new[0]["url"]
    # Binding corporate rules fell off the listing's last page: still watched, not withdrawn.
    assert not any("binding-corporate-rules" in e["url"] for e in events + epochs["epoch3"].events)
    assert any("binding-corporate-rules" in path for path in epochs["epoch2"].paths)  # re-checked


def test_withdrawal_needs_three_consecutive_404s(epochs):
    assert not any(e["change"] == "withdrawn" for e in epochs["epoch2"].events)
    assert not any(e["change"] == "withdrawn" for e in epochs["epoch2-second"].events)
    withdrawn = [e for e in epochs["epoch2-third"].events if e["change"] == "withdrawn"]
    assert [(e["source"], e["instrument"].startswith("us-fedreg/eo-14117")) for e in withdrawn] == [
        ("us-fedreg", True)]
    assert len(epochs["epoch2-third"].events) == 1


def test_epoch3_restores_moves_and_amends(epochs):
    events = epochs["epoch3"].events
    assert _kinds(epochs["epoch3"]) == [("cn-cac", "amended"), ("us-fedreg", "restored"),
                                        ("wto-ecom", "moved")]
    moved = next(e for e in events if e["change"] == "moved")
    assert moved["previous_url"].endswith("/jsi_scope_e.htm")
    assert moved["url"].endswith("/jsi/scope_e.htm")
    csl = next(e for e in events if e["change"] == "amended")
    assert csl["provisions"]["added"] == ["第三十八条"]
    assert csl["provisions"]["modified"] == [] and csl["provisions"]["removed"] == []


def test_pdf_instrument_regenerated_with_new_bytes_is_not_a_change(epochs):
    pdf_events = [e for name in ("noise", "epoch2", "epoch3") for e in epochs[name].events
                  if e["url"].endswith(".pdf")]
    assert pdf_events == []


def test_show_and_diff_tell_the_story_of_one_instrument(epochs):
    db = epochs["db"]
    amended = next(e for e in epochs["epoch2"].events if e["source"] == "eu-edpb"
                   and e["change"] == "amended")
    shown = run_cli("show", amended["instrument"], "--format", "json", db=db).json()
    assert sorted(v["version"] for v in shown["versions"]) == [1, 2]
    assert [e["change"] for e in sorted(shown["events"], key=lambda e: e["version"])] == ["new", "amended"]
    diff = run_cli("diff", amended["instrument"], db=db)
    assert diff.code == 0
    assert "modified  Article 45" in diff.stdout
    assert "[-four-]{+three+} years" in diff.stdout  # the words changed, marked without colour


def test_crawl_summary_counts_per_source(epochs):
    summary = epochs["epoch2"].crawl.stdout
    edpb_row = next(line for line in summary.splitlines() if line.startswith("eu-edpb"))
    # new, amended, withdrawn, restored, moved, unchanged, dropped, errors
    assert edpb_row.split()[1:] == ["1", "1", "0", "0", "0", "2", "0", "0"]
