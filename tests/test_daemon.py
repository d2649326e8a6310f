"""The real daemon process against the loopback web and a loopback SMTP server, on short
intervals: changes reach the history and a digest once, a second daemon is refused, a new
source is picked up on reload, SIGTERM stops it cleanly, a hung crawl is killed, a crash loses
nothing. Every wait is for something the daemon leaves behind (a row in the store, a line in its
log, its exit), with a deadline; none is a pause of a guessed length. Also the crawl child on
its own and the runner's housekeeping, in this process."""

from __future__ import annotations

import os
import pickle
import re
import signal
import sqlite3
import subprocess
import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from tests.conftest import ROOT, run_cli, run_cli_process
from tests.mail import Inbox, free_port, start_server
from tests.web.sites import (
    BULK_DOCUMENTS,
    write_bulk_declaration,
    write_declarations,
    write_fault_declarations,
    write_news_declaration,
)

POLL = 0.2  # seconds between two looks at what is awaited


def wait_for(condition: Callable[[], object], timeout: float, what: str) -> None:
    """Return as soon as `condition()` holds; fail naming `what` after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(POLL)


def query(db_file: Path, sql: str, *parameters: object) -> list:
    try:
        with sqlite3.connect(db_file, timeout=30) as connection:
            return connection.execute(sql, parameters).fetchall()
    except sqlite3.OperationalError:  # the daemon has not created the table yet
        return []


def scalar(db_file: Path, sql: str, *parameters: object) -> int:
    rows = query(db_file, sql, *parameters)
    return rows[0][0] if rows and rows[0][0] is not None else 0


def last_job_run(db_file: Path) -> int:
    return scalar(db_file, "select max(id) from job_runs")


def finished_since(db_file: Path, job_run: int) -> dict[str, int]:
    """job id → job runs finished after job run `job_run`."""
    return dict(query(db_file, "select job_id, count(*) from job_runs where id > ? and "
                               "outcome != 'running' group by job_id", job_run))


def source_ids(folder: Path) -> list[str]:
    return [line.split(":", 1)[1].strip() for declaration in sorted(folder.glob("*.yaml"))
            for line in declaration.read_text().splitlines() if line.startswith("id:")]


def clean_env(tmp_path: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("POLICYWATCH_")}
    env["PYTHONPATH"] = str(ROOT)
    env["XDG_DATA_HOME"] = str(tmp_path / "data")  # the pid lock lives here
    return env


def start_daemon(tmp_path: Path, db_file: Path, config: Path, sources: Path, *extra: str,
                 log: str = "daemon.log", env: dict[str, str] | None = None) -> subprocess.Popen:
    """`policywatch run` on `db_file`, with `env` added to a clean environment."""
    return subprocess.Popen(
        [sys.executable, "-m", "policywatch", "--config", str(config), "--db", f"sqlite:///{db_file}",
         "run", "--sources", str(sources), "--log-file", str(tmp_path / log), *extra],
        cwd=ROOT, env={**clean_env(tmp_path), **(env or {})}, stdout=subprocess.PIPE,
        stderr=subprocess.PIPE, text=True)


def stop_daemon(daemon: subprocess.Popen) -> int:
    """SIGTERM, then its exit code (a daemon that does not exit within a minute fails the test)."""
    daemon.send_signal(signal.SIGTERM)
    return daemon.wait(timeout=60)


def every(folder: Path, interval: str, only: str = "*") -> None:
    """Give every declaration in `folder` (or only source `only`'s) a short check interval."""
    for declaration in folder.glob(f"{only}.yaml"):
        lines = [line for line in declaration.read_text().splitlines() if not line.startswith("every:")]
        declaration.write_text("\n".join(lines + [f"every: {interval}", ""]))


def rewind_next_run(db_file: Path, job_id: str, by: timedelta) -> None:
    """Move a stored job's next run back by `by`, as if the daemon had been down that long."""
    with sqlite3.connect(db_file, timeout=30) as connection:
        (blob,) = connection.execute("select job_state from apscheduler_jobs where id = ?",
                                     (job_id,)).fetchone()
        state = pickle.loads(blob)
        state["next_run_time"] -= by
        connection.execute("update apscheduler_jobs set job_state = ?, next_run_time = ? where id = ?",
                           (pickle.dumps(state, pickle.HIGHEST_PROTOCOL),
                            state["next_run_time"].timestamp(), job_id))


def stored_next_run(db_file: Path, job_id: str) -> float:
    return query(db_file, "select next_run_time from apscheduler_jobs where id = ?", job_id)[0][0]


def source_health(db_url: str) -> dict[str, dict]:
    """source id → its health, as `policywatch status --format json` shows it."""
    return {row["source"]: row for row in run_cli("status", "--format", "json", db=db_url).json()["sources"]}


def announced(inbox: Inbox, section: str) -> int:
    """Changes the digests received so far announce in `section` ("Amended (2)"), all together."""
    counts = []
    for message in inbox.messages:
        body = message.get_body(("plain",))
        assert body is not None, "a digest without a plain-text part"
        counts += [int(n) for n in re.findall(rf"^{section} \((\d+)\)$", body.get_content(), re.MULTILINE)]
    return sum(counts)


def stamp(started_at: str) -> float:
    """A job run's `started_at` (UTC, as the store keeps it) as a POSIX timestamp."""
    return datetime.fromisoformat(started_at).replace(tzinfo=UTC).timestamp()


def lifecycle_intervals(folder: Path) -> None:
    """US Federal Register every 3 s, as its withdrawal takes three checks that find EO 14117
    gone; the others, which change once at most, every 5 s: fewer checks that find nothing."""
    every(folder, "5s")
    every(folder, "3s", only="us-fedreg")


@pytest.mark.long
def test_daemon_lifecycle(web, tmp_path):
    web.set(epoch=1, noise=1)
    sources = write_declarations(web, tmp_path / "sources")
    lifecycle_intervals(sources)
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
        wait_for(lambda: scalar(db_file, "select count(*) from change_events") >= 9, 90,
                 "the first crawl of every source")
        refused = run_cli_process("run", "--sources", str(sources), db=f"sqlite:///{db_file}",
                                  config=config, env={"XDG_DATA_HOME": str(tmp_path / "data")})
        assert refused.code == 1 and "another policywatch daemon" in refused.stderr

        web.set(epoch=2, noise=2)  # two one-word amendments, one new document, one gone
        wait_for(lambda: scalar(db_file, "select count(*) from change_events where kind = 'amended'") >= 2,
                 60, "the amendments")
        wait_for(lambda: announced(inbox, "Amended") >= 2, 60, "digests announcing both amendments")
        write_news_declaration(web, sources)  # a source added while the daemon runs
        lifecycle_intervals(sources)
        wait_for(lambda: scalar(db_file, "select count(*) from instruments where source_id = 'eu-edpb-news'") >= 1,
                 60, "the new source's first instrument")
        wait_for(lambda: scalar(db_file, "select count(*) from change_events where kind = 'withdrawn'") >= 1,
                 60, "EO 14117 withdrawn after three 404s")
        # One more finished check of every source and one more digest: nothing may be recorded
        # or sent twice.
        since = last_job_run(db_file)
        jobs = [f"check:{source_id}" for source_id in source_ids(sources)] + ["digest:live"]
        wait_for(lambda: all(finished_since(db_file, since).get(job, 0) >= 1 for job in jobs), 90,
                 "one more run of every job")
        kinds = dict(query(db_file, "select kind, count(*) from change_events where baseline = 0 group by kind"))
        # Two amendments, the new EDPB document, EO 14117 withdrawn; the news source's first
        # crawl is its baseline.
        assert kinds == {"amended": 2, "new": 1, "withdrawn": 1}
        assert announced(inbox, "Amended") == 2  # each change in one digest, sent once
        # The check's outcome is read from the crawl child's report.
        first_check = query(db_file, "select outcome, detail from job_runs where job_id = 'check:eu-edpb' "
                                     "order by id limit 1")
        assert first_check[0][0] == "ok" and first_check[0][1].startswith("new ")
        status = run_cli("status", db=f"sqlite:///{db_file}", config=config)
        assert f"daemon: running, pid {daemon.pid}" in status.stdout
        assert "digest:live: next" in status.stdout
    finally:
        code = stop_daemon(daemon)
        smtp.stop()
    assert code == 0
    log = (tmp_path / "daemon.log").read_text()
    assert "daemon stopped" in log and "Traceback" not in log
    assert "daemon: not running" in run_cli("status", db=f"sqlite:///{db_file}").stdout
    assert scalar(db_file, "select count(*) from crawl_runs where status = 'running'") == 0


@pytest.mark.long
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
        stop_daemon(daemon)
    status = source_health(f"sqlite:///{db_file}")
    assert "crawl killed after 1 s (timeout)" in status["fault-timeout"]["last_error"]
    assert status["fault-timeout"]["failures"] >= 1
    assert scalar(db_file, "select count(*) from change_events") == 0


@pytest.mark.long
def test_crash_mid_crawl_then_restart(web, tmp_path):
    web.set(epoch=1, noise=1)
    sources = write_bulk_declaration(web, tmp_path / "sources")
    every(sources, "5s")
    config = tmp_path / "policywatch.toml"
    config.write_text("")
    db_file = tmp_path / "store.sqlite"
    daemon = start_daemon(tmp_path, db_file, config, sources)
    try:
        wait_for(lambda: scalar(db_file, "select count(*) from instruments") >= 10, 60,
                 "the crawl to be under way")
    except AssertionError:
        stop_daemon(daemon)
        raise
    children = [pid for (pid,) in query(db_file, "select child_pid from job_runs where outcome = 'running'")]
    daemon.send_signal(signal.SIGKILL)  # a crash: the daemon and its crawl die at once
    for pid in children:
        try:
            os.killpg(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
    daemon.wait(timeout=60)
    # Ten intervals pass while nothing runs (the stored schedule says so; no need to wait them).
    rewind_next_run(db_file, "check:bulk-gazette", timedelta(seconds=50))
    before_restart, restarted = last_job_run(db_file), time.time()
    daemon = start_daemon(tmp_path, db_file, config, sources, log="restart.log")
    try:
        wait_for(lambda: scalar(db_file, "select count(*) from instruments") == BULK_DOCUMENTS,
                 90, "the missed crawl after restart")
        # The missed runs happen once, not once each: the next run is scheduled an interval on,
        # and no other check starts before it.
        wait_for(lambda: stored_next_run(db_file, "check:bulk-gazette") > restarted, 30,
                 "the check's next run to be scheduled after the restart")
        next_run = stored_next_run(db_file, "check:bulk-gazette")
        wait_for(lambda: scalar(db_file, "select count(*) from job_runs where id > ?", before_restart) >= 2,
                 60, "the next regular check")
        runs_after = [stamp(started) for (started,) in query(
            db_file, "select started_at from job_runs where id > ? order by id", before_restart)]
    finally:
        code = stop_daemon(daemon)
    assert code == 0
    assert len([started for started in runs_after if started < next_run]) == 1
    events = query(db_file, "select instrument_id, kind, count(*) from change_events group by instrument_id, kind")
    assert len(events) == BULK_DOCUMENTS and all(kind == "new" and n == 1 for _, kind, n in events)
    versions = query(db_file, "select instrument_id, count(*) from versions group by instrument_id")
    assert all(n == 1 for _, n in versions)
    assert scalar(db_file, "select count(*) from crawl_runs where status = 'running'") == 0
    assert "was missed by" not in (tmp_path / "restart.log").read_text()


def test_crawl_child_reports_its_outcome_as_json(web, tmp_path):
    """The child the daemon starts for a check: a request on stdin, one JSON report on stdout."""
    from crawlers.catalogue import load_catalogue
    from policywatch.config import CrawlSettings
    from policywatch.crawl_child import CrawlReport, CrawlRequest
    from storage.database import Store

    web.set(epoch=1, noise=1)
    folder = write_declarations(web, tmp_path / "sources")
    catalogue = load_catalogue([folder])
    source = catalogue.by_id()["eu-edpb"]
    Store(f"sqlite:///{tmp_path / 'store.sqlite'}").close()  # the daemon migrates the store first
    request = CrawlRequest(f"sqlite:///{tmp_path / 'store.sqlite'}", CrawlSettings(timeout=10),
                           source, catalogue.files["eu-edpb"])
    done = subprocess.run([sys.executable, "-m", "policywatch.crawl_child"], input=request.to_json(),
                          capture_output=True, text=True, cwd=ROOT, env=clean_env(tmp_path), timeout=180)
    assert done.returncode == 0, done.stderr[-2000:]
    assert len(done.stdout.splitlines()) == 1
    report = CrawlReport.from_json(done.stdout)
    assert list(report.counts) == ["eu-edpb"] and report.counts["eu-edpb"]["new"] >= 2
    assert report.problems == ()
    db_file = tmp_path / "store.sqlite"
    assert query(db_file, "select id, status from crawl_runs") == [(report.run_id, "finished")]
    assert scalar(db_file, "select count(*) from instruments where source_id = 'eu-edpb'") \
        == report.counts["eu-edpb"]["new"]
    assert query(db_file, "select declaration_file from sources") == [(catalogue.files["eu-edpb"],)]


def test_a_crawl_child_that_fails_says_why_in_one_line(web, tmp_path):
    from crawlers.catalogue import load_catalogue
    from policywatch.config import CrawlSettings
    from policywatch.crawl_child import CrawlRequest
    from policywatch.daemon.children import await_crawl_child, start_crawl_child

    catalogue = load_catalogue([write_declarations(web, tmp_path / "sources")])
    unmigrated = f"sqlite:///{tmp_path / 'empty.sqlite'}"
    request = CrawlRequest(unmigrated, CrawlSettings(), catalogue.by_id()["eu-edpb"],
                           catalogue.files["eu-edpb"])
    outcome = await_crawl_child(start_crawl_child(request), timeout=120)
    assert outcome.report is None and not outcome.timed_out and outcome.returncode != 0
    assert "no such table" in outcome.error and "\n" not in outcome.error


def test_housekeeping_forgets_old_job_runs_and_marks_dead_runs(tmp_path):
    from crawlers.catalogue import Catalogue
    from policywatch.config import Config
    from policywatch.daemon import DaemonOptions, Runner
    from storage.database import Store
    from storage.models import CrawlRun, JobRun, utcnow

    store = Store(f"sqlite:///{tmp_path / 'store.sqlite'}")
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    with store.transaction() as session:
        session.add(JobRun(job_id="check:x", started_at=utcnow() - timedelta(days=100), outcome="ok"))
        session.add(JobRun(job_id="check:x", started_at=utcnow(), outcome="ok"))
        session.add(CrawlRun(status="running", pid=dead.pid, sources=[], started_at=utcnow()))
    runner = Runner(DaemonOptions(None, store.url, pid_file=tmp_path / "daemon.pid"), store,
                    Config(), Catalogue([], [], {}))
    runner.housekeeping()
    runner.close()
    db_file = tmp_path / "store.sqlite"
    assert scalar(db_file, "select count(*) from job_runs") == 1
    assert query(db_file, "select status from crawl_runs") == [("interrupted",)]


def test_a_restart_keeps_every_next_run_and_takes_over_jobs_stored_for_another_store_url(web, tmp_path):
    """Jobs are synchronised with the scheduler paused, as at start: an unchanged job keeps its
    stored next run; one stored with another store key (the same file, spelt differently) is
    retargeted to this runner, still keeping its next run; a changed interval is rescheduled."""
    from crawlers.catalogue import load_catalogue
    from policywatch.config import Config
    from policywatch.daemon import DaemonOptions, Runner
    from storage.database import Store

    folder = write_declarations(web, tmp_path / "sources")
    every(folder, "1h")

    def synchronised(url: str) -> dict[str, tuple]:
        store = Store(url)
        runner = Runner(DaemonOptions(None, url, pid_file=tmp_path / "daemon.pid"), store, Config(),
                        load_catalogue([folder]))
        runner.scheduler.start(paused=True)
        runner.sync_jobs()
        jobs = {job.id: (job.next_run_time, job.args) for job in runner.scheduler.get_jobs()}
        runner.close()
        return jobs

    first = synchronised(f"sqlite:///{tmp_path / 'store.sqlite'}")
    assert first == synchronised(f"sqlite:///{tmp_path / 'store.sqlite'}")
    every(folder, "2h")
    (folder / "cn-cac.yaml").write_text((folder / "cn-cac.yaml").read_text().replace("every: 2h", "every: 1h"))
    again = synchronised(f"sqlite:///{tmp_path}/./store.sqlite")  # another key, the same store
    assert sorted(again) == sorted(first)
    assert {args[0] for _, args in again.values()} != {args[0] for _, args in first.values()}
    assert again["check:cn-cac"][0] == first["check:cn-cac"][0]  # retargeted, same next run
    assert again["outbox:retry"][0] == first["outbox:retry"][0]
    assert again["check:eu-edpb"][0] != first["check:eu-edpb"][0]  # rescheduled: 2h now
