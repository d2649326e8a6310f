"""The real daemon process against the loopback web and a loopback SMTP server, on short
intervals: changes reach the history and a digest once, a second daemon is refused, a new
source is picked up on reload, SIGTERM stops it cleanly, a hung crawl is killed, a crash loses
nothing."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

from tests.conftest import ROOT, run_cli
from tests.mail import Inbox, free_port, start_server
from tests.web.sites import (
    BULK_DOCUMENTS,
    write_bulk_declaration,
    write_declarations,
    write_fault_declarations,
    write_news_declaration,
)


def wait_for(condition: Callable[[], bool], timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.25)
    raise AssertionError(f"timed out waiting for {what}")


def query(db_file: Path, sql: str) -> list:
    try:
        with sqlite3.connect(db_file, timeout=30) as connection:
            return connection.execute(sql).fetchall()
    except sqlite3.OperationalError:
        return []


def start_daemon(tmp_path: Path, db_file: Path, config: Path, sources: Path, *extra: str,
                 log: str = "daemon.log") -> subprocess.Popen:
    env = {k: v for k, v in os.environ.items() if not k.startswith("POLICYWATCH_")}
    env["PYTHONPATH"] = str(ROOT)
    env["XDG_DATA_HOME"] = str(tmp_path / "data")  # the pid lock lives here
    return subprocess.Popen(
        [sys.executable, "-m", "policywatch", "--config", str(config), "--db", f"sqlite:///{db_file}",
         "run", "--sources", str(sources), "--log-file", str(tmp_path / log), *extra],
        cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def every(folder: Path, interval: str) -> None:
    """Give every declaration in `folder` a short check interval."""
    for declaration in folder.glob("*.yaml"):
        lines = [line for line in declaration.read_text().splitlines() if not line.startswith("every:")]
        declaration.write_text("\n".join(lines + [f"every: {interval}", ""]))


def test_daemon_lifecycle(web, tmp_path):
    web.set(epoch=1, noise=1)
    sources = write_declarations(web, tmp_path / "sources")
    every(sources, "3s")
    inbox, port = Inbox(), free_port()
    smtp = start_server(port, inbox)
    config = tmp_path / "policywatch.toml"
    config.write_text(f"""
[smtp]
host = "127.0.0.1"
port = {port}
security = "none"
sender = "daemon@policywatch.example"

[[subscriptions]]
name = "live"
recipients = ["analyst@example.org"]
schedule = "*/4 * * * * *"
window = "10m"
""")
    db_file = tmp_path / "store.sqlite"
    daemon = start_daemon(tmp_path, db_file, config, sources, "--reload-every", "1")
    try:
        wait_for(lambda: len(query(db_file, "select id from change_events")) >= 9, 90,
                 "the first crawl of every source")
        env = {k: v for k, v in os.environ.items() if not k.startswith("POLICYWATCH_")}
        env.update(PYTHONPATH=str(ROOT), XDG_DATA_HOME=str(tmp_path / "data"))
        refused = subprocess.run([sys.executable, "-m", "policywatch", "--config", str(config), "--db",
                                  f"sqlite:///{db_file}", "run", "--sources", str(sources)],
                                 capture_output=True, text=True, env=env, timeout=60)
        assert refused.returncode == 1 and "another policywatch daemon" in refused.stderr

        web.set(epoch=2, noise=2)  # two one-word amendments and one new document
        wait_for(lambda: len(query(db_file, "select id from change_events where kind = 'amended'")) >= 2,
                 60, "the amendments")
        wait_for(lambda: any("Amended (2)" in m.get_body(("plain",)).get_content() for m in inbox.messages),
                 60, "a digest with both amendments")
        write_news_declaration(web, sources)  # a source added while the daemon runs
        every(sources, "3s")
        wait_for(lambda: query(db_file, "select count(*) from instruments where source_id = 'eu-edpb-news'")[0][0] >= 1,
                 60, "the new source's first instrument")
        time.sleep(8)  # several more cycles: nothing may be recorded twice
        kinds = dict(query(db_file, "select kind, count(*) from change_events where baseline = 0 group by kind"))
        # Two amendments, the new EDPB document, EO 14117 withdrawn after three 404s; the news
        # source's first crawl is its baseline.
        assert kinds == {"amended": 2, "new": 1, "withdrawn": 1}
        announced = [m for m in inbox.messages if "Amended" in m.get_body(("plain",)).get_content()]
        assert len(announced) == 1  # the window's digest: built once, sent once
        status = run_cli("status", db=f"sqlite:///{db_file}", config=config)
        assert f"daemon: running, pid {daemon.pid}" in status.stdout
        assert "digest:live: next" in status.stdout
    finally:
        started = time.monotonic()
        daemon.send_signal(signal.SIGTERM)
        code = daemon.wait(timeout=60)
        smtp.stop()
    assert code == 0 and time.monotonic() - started < 45
    assert "daemon stopped" in (tmp_path / "daemon.log").read_text()
    assert "daemon: not running" in run_cli("status", db=f"sqlite:///{db_file}").stdout
    assert query(db_file, "select count(*) from crawl_runs where status = 'running'")[0][0] == 0


def test_hung_crawl_is_killed_and_reported(web, tmp_path):
    web.set(epoch=1, noise=1)
    folder = write_fault_declarations(web, tmp_path / "all")
    sources = tmp_path / "sources"
    sources.mkdir()
    (sources / "fault-timeout.yaml").write_text((folder / "fault-timeout.yaml").read_text())
    every(sources, "30s")
    config = tmp_path / "policywatch.toml"
    config.write_text("[crawl]\ntimeout = 30\n")  # the page answers after 20 s; the child gets 1
    db_file = tmp_path / "store.sqlite"
    daemon = start_daemon(tmp_path, db_file, config, sources, "--crawl-timeout", "1")
    try:
        wait_for(lambda: query(db_file, "select outcome from job_runs where outcome = 'killed'"), 60,
                 "the hung crawl to be killed")
    finally:
        daemon.send_signal(signal.SIGTERM)
        daemon.wait(timeout=60)
    status = {row["source"]: row for row in run_cli("status", "--format", "json", db=f"sqlite:///{db_file}").json()}
    assert "crawl killed after 1 s (timeout)" in status["fault-timeout"]["last_error"]
    assert status["fault-timeout"]["failures"] >= 1
    assert query(db_file, "select count(*) from change_events")[0][0] == 0


def test_crash_mid_crawl_then_restart(web, tmp_path):
    web.set(epoch=1, noise=1)
    sources = write_bulk_declaration(web, tmp_path / "sources")
    every(sources, "5s")
    config = tmp_path / "policywatch.toml"
    config.write_text("")
    db_file = tmp_path / "store.sqlite"
    daemon = start_daemon(tmp_path, db_file, config, sources)
    wait_for(lambda: (query(db_file, "select count(*) from instruments") or [[0]])[0][0] >= 10, 60,
             "the crawl to be under way")
    children = [pid for (pid,) in query(db_file, "select child_pid from job_runs where outcome = 'running'")]
    daemon.send_signal(signal.SIGKILL)  # a crash: the daemon and its crawl die at once
    for pid in children:
        try:
            os.killpg(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
    daemon.wait()
    time.sleep(12)  # two intervals and more pass while nothing runs
    restart_at = time.time()
    daemon = start_daemon(tmp_path, db_file, config, sources, log="restart.log")
    try:
        wait_for(lambda: (query(db_file, "select count(*) from instruments") or [[0]])[0][0] == BULK_DOCUMENTS,
                 90, "the missed crawl after restart")
        time.sleep(1)
        runs_after = query(db_file, "select started_at from job_runs where job_id = 'check:bulk-gazette'")
    finally:
        daemon.send_signal(signal.SIGTERM)
        daemon.wait(timeout=60)
    events = query(db_file, "select instrument_id, kind, count(*) from change_events group by instrument_id, kind")
    assert len(events) == BULK_DOCUMENTS and all(kind == "new" and n == 1 for _, kind, n in events)
    versions = query(db_file, "select instrument_id, count(*) from versions group by instrument_id")
    assert all(n == 1 for _, n in versions)
    assert query(db_file, "select count(*) from crawl_runs where status = 'running'")[0][0] == 0
    # The runs missed while the daemon was down (two intervals and more) happen once after the
    # restart, not once each: one check in the first four seconds (the interval is 5 s).
    starts = [datetime.fromisoformat(started).replace(tzinfo=UTC).timestamp() for (started,) in runs_after]
    assert len([t for t in starts if restart_at <= t < restart_at + 4]) == 1
    assert "was missed by" not in (tmp_path / "restart.log").read_text()


def test_housekeeping_forgets_old_job_runs_and_marks_dead_runs(tmp_path, monkeypatch):
    from datetime import timedelta

    import policywatch.daemon as daemon
    from storage.database import Store
    from storage.models import CrawlRun, JobRun, utcnow

    store = Store(f"sqlite:///{tmp_path / 'store.sqlite'}")
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    with store.transaction() as session:
        session.add(JobRun(job_id="check:x", started_at=utcnow() - timedelta(days=100), outcome="ok"))
        session.add(JobRun(job_id="check:x", started_at=utcnow(), outcome="ok"))
        session.add(CrawlRun(status="running", pid=dead.pid, sources=[], started_at=utcnow()))
    from policywatch.config import Config

    monkeypatch.setattr(daemon, "CONTEXT", type("Context", (), {"store": store, "config": Config()})())
    daemon.housekeeping()
    db_file = tmp_path / "store.sqlite"
    assert query(db_file, "select count(*) from job_runs")[0][0] == 1
    assert query(db_file, "select status from crawl_runs") == [("interrupted",)]
    store.close()
