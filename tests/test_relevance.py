"""relevance: auto keeps regulator news that is not about cross-border data flows out of the store."""

from __future__ import annotations

from tests.conftest import run_cli
from tests.web.sites import write_news_declaration


def test_irrelevant_news_is_dropped_counted_and_explained(web, tmp_path, db_url):
    web.set(epoch=1, noise=1)
    sources = write_news_declaration(web, tmp_path / "sources")
    crawl = run_cli("crawl", "--sources", str(sources), db=db_url)
    assert crawl.code == 0, crawl.stderr
    row = next(line for line in crawl.stdout.splitlines() if line.startswith("eu-edpb-news"))
    assert row.split()[1:] == ["1", "0", "0", "0", "0", "0", "2", "0"]  # 1 new, 2 dropped

    history = run_cli("history", "--format", "json", db=db_url).json()
    assert [e["title"] for e in history] == ["Statement on transfers to third countries"]
    assert history[0]["paradigm"] == "prudent"

    dropped = run_cli("dropped", "--format", "json", db=db_url).json()
    assert sorted(d["title"] for d in dropped) == ["Annual report 2025",
                                                   "EDPB welcomes fine against retailer"]
    assert all("says nothing about cross-border data transfers" in d["reason"] for d in dropped)

    web.set(noise=1)
    again = run_cli("crawl", "--sources", str(sources), db=db_url)
    dropped_hits = [h for h in web.hits if "/news/2026/" in h.path and "transfers" not in h.path]
    assert [h.status for h in dropped_hits] == [304, 304]  # re-checked cheaply, still dropped
    assert run_cli("history", "--format", "json", db=db_url).json() == history
    assert "eu-edpb-news" in again.stdout
