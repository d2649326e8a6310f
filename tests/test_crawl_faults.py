"""Faults of real sites are source-health problems, never change events; a killed crawl loses nothing."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import time

import pytest

from tests.conftest import ROOT, run_cli
from tests.web.sites import BULK_DOCUMENTS, write_bulk_declaration, write_fault_declarations


def _status(db: str) -> dict[str, dict]:
    return {row["source"]: row for row in run_cli("status", "--format", "json", db=db).json()["sources"]}


def test_faults_are_reported_as_source_health_not_changes(web, tmp_path, db_url, fast_config):
    web.set(epoch=1, noise=1)
    sources = write_fault_declarations(web, tmp_path / "sources")
    result = run_cli("crawl", "--sources", str(sources), db=db_url, config=fast_config)
    assert result.code == 0, result.stderr
    status = _status(db_url)
    assert status["fault-500"]["error_kind"] == "transient"
    assert "HTTP 500" in status["fault-500"]["last_error"]
    assert status["fault-timeout"]["error_kind"] == "transient"
    assert "timeout" in status["fault-timeout"]["last_error"]
    assert status["fault-reset"]["error_kind"] == "transient"
    assert "reset" in status["fault-reset"]["last_error"]
    assert status["fault-robots"]["error_kind"] == "blocked"
    assert "robots.txt" in status["fault-robots"]["last_error"]
    assert status["fault-huge"]["error_kind"] == "invalid"
    assert "download size cap" in status["fault-huge"]["last_error"]
    for source in ("fault-500", "fault-timeout", "fault-reset", "fault-robots", "fault-huge"):
        assert status[source]["failures"] == 1, source
        assert status[source]["instruments"] == 0, source
    # 429 with Retry-After: 1 — waited for, then fetched.
    assert status["fault-busy"]["failures"] == 0
    assert status["fault-busy"]["instruments"] == 1
    busy_hits = [h.status for h in web.hits if h.path == "/busy/doc"]
    assert busy_hits == [429, 200]
    history = run_cli("history", "--format", "json", db=db_url).json()
    assert sorted(e["source"] for e in history) == ["fault-busy", "fault-selector"]
    assert all(e["change"] == "new" for e in history)

    # The robots.txt disallow was obeyed: the private page was never requested.
    assert not any(h.path == "/private/doc" for h in web.hits)

    # Second check, after a redesign: the declared content selector matches nothing.
    web.set(epoch=2, noise=2)
    result = run_cli("crawl", "--sources", str(sources), db=db_url, config=fast_config)
    assert result.code == 0, result.stderr
    status = _status(db_url)
    assert status["fault-selector"]["error_kind"] == "selector"
    assert "'div.law-text' matched nothing" in status["fault-selector"]["last_error"]
    assert status["fault-500"]["failures"] == 2
    after = run_cli("history", "--format", "json", db=db_url).json()
    assert after == history  # no event: the instrument was not emptied, nor withdrawn
    shown = run_cli("show", "--format", "json", after[0]["instrument"], db=db_url).json()
    assert shown["status"] == "active" and len(shown["versions"]) == 1


def test_unreachable_host_fails_politely(tmp_path, db_url, fast_config):
    folder = tmp_path / "sources"
    folder.mkdir()
    # Nothing listens on this loopback port: a refused connection, reported per source.
    (folder / "gone.yaml").write_text(
        "id: nowhere\nname: Nowhere\njurisdiction: GB\nlevel: national\nbody: regulator\n"
        "entries:\n  - type: listing\n    url: http://127.0.0.9:9/news\n    links: a\n")
    result = run_cli("crawl", "--sources", str(folder), db=db_url, config=fast_config)
    assert result.code == 0
    assert "nowhere: transient:" in result.stdout
    assert "connection refused" in result.stdout
    assert _status(db_url)["nowhere"]["failures"] == 1


def _instrument_count(db_file) -> int:
    try:
        with sqlite3.connect(db_file, timeout=30) as connection:
            return connection.execute("select count(*) from instruments").fetchone()[0]
    except sqlite3.OperationalError:  # schema not created yet
        return 0


@pytest.mark.long
def test_a_crawl_killed_midway_leaves_a_consistent_store(web, tmp_path):
    web.set(epoch=1, noise=1)
    sources = write_bulk_declaration(web, tmp_path / "sources")
    db_file = tmp_path / "store.sqlite"
    db = f"sqlite:///{db_file}"
    env = {k: v for k, v in os.environ.items() if not k.startswith("POLICYWATCH_")}
    env["PYTHONPATH"] = str(ROOT)
    child = subprocess.Popen(
        [sys.executable, "-m", "policywatch", "--db", db, "crawl", "--sources", str(sources)],
        cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 60
    while _instrument_count(db_file) < 10 and time.monotonic() < deadline:
        time.sleep(0.05)
    child.send_signal(signal.SIGKILL)
    child.wait()
    killed_at = _instrument_count(db_file)
    assert 10 <= killed_at < BULK_DOCUMENTS, "the kill should land in the middle of the crawl"

    result = run_cli("crawl", "--sources", str(sources), db=db)
    assert result.code == 0, result.stderr
    with sqlite3.connect(db_file) as connection:
        instruments = connection.execute("select count(*) from instruments").fetchone()[0]
        versions = connection.execute("select instrument_id, count(*) from versions "
                                      "group by instrument_id").fetchall()
        events = connection.execute("select instrument_id, kind, count(*) from change_events "
                                    "group by instrument_id, kind").fetchall()
        runs = dict(connection.execute("select status, count(*) from crawl_runs group by status"))
        orphans = connection.execute("select count(*) from versions where snapshot_id not in "
                                     "(select id from snapshots)").fetchone()[0]
    assert instruments == BULK_DOCUMENTS
    assert all(count == 1 for _, count in versions) and len(versions) == BULK_DOCUMENTS
    assert all(kind == "new" and count == 1 for _, kind, count in events)
    assert len(events) == BULK_DOCUMENTS
    assert orphans == 0
    assert runs == {"interrupted": 1, "finished": 1}
    history = run_cli("history", "--format", "json", db=db).json()
    assert all(e["baseline"] for e in history)  # the first crawl, completed after the kill

    again = run_cli("crawl", "--sources", str(sources), db=db)
    assert again.code == 0
    assert len(run_cli("history", "--format", "json", db=db).json()) == BULK_DOCUMENTS


def test_bundled_catalogue_is_valid_and_fails_politely_without_network(tmp_path, db_url):
    checked = run_cli("sources", "check", "--offline")
    assert checked.code == 0, checked.stderr
    listed = run_cli("sources", "list", "--format", "json").json()
    assert len(listed) >= 50
    assert len({s["jurisdiction"] for s in listed}) >= 35
    assert {"national", "supranational", "bilateral", "plurilateral", "multilateral"} <= \
        {s["level"] for s in listed}
    config = tmp_path / "offline.toml"
    config.write_text("[crawl]\ntimeout = 2\n")
    result = run_cli("crawl", "--quiet", db=db_url, config=config, timeout=300)
    assert result.code == 0, result.stderr
    assert "Traceback" not in result.stderr
    rows = {line.split()[0] for line in result.stdout.splitlines()[2:] if line.strip()}
    assert {s["id"] for s in listed} <= rows
    status = _status(db_url)
    assert set(status) == {s["id"] for s in listed}
