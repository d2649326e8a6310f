"""The command line as a user runs it: history filters and formats, show, diff, and clear errors."""

from __future__ import annotations

import csv
import io
import json
import logging
import os
import re
import shutil
import subprocess
import sys
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from crawlers.extract import extract_document
from policywatch import __version__
from policywatch.demoweb.server import regulator_page
from policywatch.demoweb.texts import gdpr, to_html
from storage.database import Store
from storage.runs import upsert_source
from storage.versions import Fetch, SourceInfo, record_document, record_gone
from tests.conftest import BACKENDS, ROOT, fresh_database, invoke_cli, run_cli

EU = SourceInfo("eu-test", "EU", "supranational", "en")
CN = SourceInfo("cn-test", "CN", "national", "zh")


def _record(store, source, url, text, when, instrument_id=None):
    body = regulator_page("Site", url.rsplit("/", 1)[-1], to_html(text), 1).encode()
    with store.transaction() as session:
        record_document(session, None, source, Fetch(source.id, url, url, 200, {}, body, instrument_id),
                        extract_document(body, "text/html"), now=when)


@pytest.fixture(scope="module", params=BACKENDS)
def history_db(request, tmp_path_factory) -> Iterator[str]:
    with fresh_database(request.param, tmp_path_factory.mktemp("history")) as url:
        _record_history(url)
        yield url


def _record_history(url: str) -> None:
    store = Store(url)
    with store.transaction() as session:
        for source in (EU, CN):
            upsert_source(session, id=source.id, name=source.id, jurisdiction=source.jurisdiction,
                          level=source.level, declaration_file=None)
    _record(store, EU, "https://eu.example/adequacy", gdpr("45", "46"), datetime(2024, 1, 10))
    _record(store, CN, "https://cn.example/pipl", "第三十八条 个人信息出境\n第三十九条 告知", datetime(2024, 2, 1))
    _record(store, EU, "https://eu.example/adequacy",
            gdpr("45", "46").replace("four years", "two years"), datetime(2024, 3, 5), instrument_id=1)
    for day in (6, 7, 8):
        with store.transaction() as session:
            record_gone(session, None, 2, 404, now=datetime(2024, 3, day))
    store.close()


def test_history_is_newest_first_with_the_json_contract(history_db):
    events = run_cli("history", "--format", "json", db=history_db).json()
    assert [(e["change"], e["jurisdiction"]) for e in events] == [
        ("withdrawn", "CN"), ("amended", "EU"), ("new", "CN"), ("new", "EU")]
    amended = events[1]
    for key in ("instrument", "source", "jurisdiction", "title", "url", "change", "detected_at",
                "version", "baseline", "paradigm", "previous_paradigm", "provisions"):
        assert key in amended
    assert amended["detected_at"] == "2024-03-05T00:00:00Z"
    assert amended["version"] == 2
    assert (amended["paradigm"], amended["previous_paradigm"]) == ("prudent", "prudent")
    assert events[0]["paradigm"] == "unknown"  # two article titles say nothing about transfers
    assert amended["provisions"]["modified"][0]["ref"] == "Article 45"
    assert re.fullmatch(r"eu-test/adequacy-[0-9a-f]{6}", amended["instrument"])


@pytest.mark.parametrize(("args", "expected"), [
    (["--jurisdiction", "CN"], [("withdrawn", "CN"), ("new", "CN")]),
    (["--source", "eu-test"], [("amended", "EU"), ("new", "EU")]),
    (["--change", "amended"], [("amended", "EU")]),
    (["--change", "new", "--change", "withdrawn"], [("withdrawn", "CN"), ("new", "CN"), ("new", "EU")]),
    (["--since", "2024-02-01", "--until", "2024-03-05"], [("amended", "EU"), ("new", "CN")]),
    (["--until", "2024-01-31"], [("new", "EU")]),
    (["--search", "four years"], [("amended", "EU"), ("new", "EU")]),
    (["--search", "个人信息出境"], [("withdrawn", "CN"), ("new", "CN")]),
    (["--paradigm", "unknown", "--limit", "1"], [("withdrawn", "CN")]),
    (["--paradigm", "prudent"], [("amended", "EU"), ("new", "EU")]),
    (["--paradigm", "restrictive"], []),
])
def test_history_filters(history_db, args, expected):
    events = run_cli("history", *args, "--format", "json", db=history_db).json()
    assert [(e["change"], e["jurisdiction"]) for e in events] == expected


def test_history_table_and_csv(history_db):
    table = run_cli("history", db=history_db).stdout
    assert table.splitlines()[0].split()[:3] == ["DETECTED_AT", "CHANGE", "SOURCE"]
    header, _rule, *lines = table.splitlines()
    assert header.split()[-2:] == ["TITLE", "PROVISIONS"]
    assert lines[1].endswith("~Article 45")
    rows = list(csv.DictReader(io.StringIO(run_cli("history", "--format", "csv", db=history_db).stdout)))
    assert [r["change"] for r in rows] == ["withdrawn", "amended", "new", "new"]


@pytest.mark.parametrize(("args", "message"), [
    (["history", "--since", "last tuesday"], "'last tuesday' is not a date"),
    (["history", "--change", "exploded"], "Invalid value for '--change'"),
    (["show", "nope/does-not-exist"], "no instrument 'nope/does-not-exist'"),
    (["diff", "eu-test/nothing"], "no instrument 'eu-test/nothing'"),
    (["diff", "2"], "has only one version"),
    (["diff", "1", "--to", "9"], "has no version 9 (versions 1 to 2)"),
    (["crawl", "--sources", "/no/such/folder"], "no valid source declarations"),
])
def test_mistakes_get_one_clear_line(history_db, args, message):
    result = run_cli(*args, db=history_db)
    assert result.code != 0
    assert message in result.stderr
    assert "Traceback" not in result.stderr


def test_bad_database_url_and_bad_config_are_one_line(tmp_path):
    result = run_cli("history", db="nonsense://")
    assert result.code == 1 and "Traceback" not in result.stderr
    bad = tmp_path / "bad.toml"
    bad.write_text("[crawl]\nspeed = 3\n")
    result = run_cli("history", config=bad)
    assert result.code == 1 and "crawl.speed: unknown key" in result.stderr


def test_status_shows_health_jobs_the_daemon_and_the_outbox(db_url):
    from apscheduler.jobstores.sqlalchemy import SQLAlchemyJobStore
    from apscheduler.schedulers.background import BackgroundScheduler

    from storage.models import DaemonState, JobRun, Source, utcnow

    store = Store(db_url)
    with store.transaction() as session:
        for source in (EU, CN):
            upsert_source(session, id=source.id, name=source.id, jurisdiction=source.jurisdiction,
                          level=source.level, declaration_file=None)
    _record(store, EU, "https://eu.example/adequacy", gdpr("45", "46"), datetime(2024, 1, 10))
    with store.transaction() as session:
        failing = session.get_one(Source, CN.id)
        failing.consecutive_failures, failing.last_error_kind = 2, "transient"
        failing.last_error = "https://cn.example/: connection refused"
        session.add(DaemonState(id=1, pid=os.getpid(), started_at=utcnow(), heartbeat_at=utcnow()))
        session.add(JobRun(job_id="digest:weekly", outcome="ok", detail="sent digest 3"))
    scheduler = BackgroundScheduler(jobstores={"default": SQLAlchemyJobStore(
        engine=store.engine, tablename="apscheduler_jobs")})
    scheduler.start(paused=True)
    scheduler.add_job(print, "date", run_date=datetime(2099, 1, 5, 7, 0, tzinfo=UTC), id="digest:weekly")
    scheduler.add_job(print, "date", run_date=datetime(2099, 1, 1, 6, 30, tzinfo=UTC), id="check:eu-test")
    scheduler.shutdown(wait=False)
    store.close()

    answer = invoke_cli("status", "--format", "json", db=db_url).json()
    assert answer["daemon"]["running"] and answer["daemon"]["pid"] == os.getpid()
    assert answer["digests"] == [{"job": "digest:weekly", "next_run": "2099-01-05T07:00:00Z",
                                  "last_outcome": "ok", "last_detail": "sent digest 3"}]
    assert answer["outbox"] == {}
    rows = {row["source"]: row for row in answer["sources"]}
    assert rows["eu-test"]["instruments"] == 1 and rows["eu-test"]["next_run"] == "2099-01-01T06:30:00Z"
    assert (rows["cn-test"]["failures"], rows["cn-test"]["error_kind"], rows["cn-test"]["next_run"]) == (
        2, "transient", None)
    table = invoke_cli("status", db=db_url).stdout
    assert f"daemon: running, pid {os.getpid()}, up 0:00:" in table
    assert "digest:weekly: next 2099-01-05T07:00:00Z, last: ok (sent digest 3)" in table
    assert table.rstrip().endswith("outbox: empty")


def test_show_and_diff_by_number_and_url(history_db):
    shown = run_cli("show", "https://eu.example/adequacy", "--format", "json", db=history_db).json()
    assert shown["status"] == "active" and [v["version"] for v in shown["versions"]] == [2, 1]
    text = run_cli("show", "1", db=history_db).stdout
    assert "versions:" in text and "events:" in text
    diff = run_cli("diff", "1", "--from", "1", "--to", "2", "--format", "json", db=history_db).json()
    assert [{k: row[k] for k in ("change", "provision")} for row in diff] == [
        {"change": "modified", "provision": "Article 45"}]
    assert "four years" in diff[0]["before"] and "two years" in diff[0]["after"]
    full = run_cli("diff", "1", "--full", db=history_db).stdout
    assert "-" in full and "+" in full and "@@" in full


def test_python_m_policywatch_takes_the_db_from_the_environment(history_db, tmp_path):
    env = {**os.environ, "POLICYWATCH_DB": history_db, "PYTHONPATH": str(ROOT)}
    done = subprocess.run([sys.executable, "-m", "policywatch", "history", "--format", "json"],
                          capture_output=True, text=True, env=env, cwd=tmp_path, timeout=120)
    assert done.returncode == 0 and len(json.loads(done.stdout)) == 4


def test_every_command_is_documented_in_the_readme():
    readme = (Path(ROOT) / "README.md").read_text()
    help_text = invoke_cli("--help").stdout
    commands = re.findall(r"^  (\w[\w-]*)\s", help_text.split("Commands:")[1], re.M)
    assert commands
    for command in commands:
        assert re.search(rf"`policywatch (--\S+ \S+ )*{command}\b[^`]*`", readme), command
    for command in commands:
        result = invoke_cli(command, "--help")
        assert "Example:" in result.stdout, command


def test_the_installed_command_runs():
    installed = shutil.which("policywatch")
    assert installed, "`pip install -e .` puts the policywatch command on the PATH"
    done = subprocess.run([installed, "--version"], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0 and done.stdout.strip() == f"policywatch, version {__version__}"


def test_help_imports_no_heavy_module():
    """`policywatch --help` loads neither Scrapy, Alembic, matplotlib nor the classifier (a fresh
    interpreter, so that nothing imported by the tests counts)."""
    heavy = ["scrapy", "twisted", "alembic", "matplotlib", "paradigms.classifier", "jinja2"]
    script = ("import sys\nfrom policywatch.cli import cli\n"
              "cli(['--help'], prog_name='policywatch', standalone_mode=False)\n"
              f"print([m for m in {heavy!r} if m in sys.modules])")
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, cwd=ROOT,
                          env={**os.environ, "PYTHONPATH": str(ROOT)}, timeout=60)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip().splitlines()[-1] == "[]"


def test_in_process_runs_leave_no_state_behind(history_db, tmp_path):
    """Variables given to one run, the store it opened, and its logging are gone after it."""
    handlers = {name: list(logging.getLogger(name).handlers) for name in ("", "policywatch", "apscheduler")}
    folder = Path.cwd()
    variables = {k: v for k, v in os.environ.items() if k.startswith("POLICYWATCH_")}
    listed = invoke_cli("history", "--format", "json", env={"POLICYWATCH_DB": history_db})
    assert listed.code == 0 and len(listed.json()) == 4
    bad = tmp_path / "bad.toml"
    bad.write_text("[crawl]\nspeed = 3\n")
    assert invoke_cli("history", env={"POLICYWATCH_CONFIG": str(bad)}).code == 1
    assert {k: v for k, v in os.environ.items() if k.startswith("POLICYWATCH_")} == variables
    assert {name: list(logging.getLogger(name).handlers) for name in handlers} == handlers
    assert Path.cwd() == folder


def test_db_takes_a_plain_file_path(history_db, tmp_path):
    if not history_db.startswith("sqlite:///"):
        pytest.skip("a file path names a SQLite store")
    path = history_db.removeprefix("sqlite:///")
    assert len(invoke_cli("history", "--format", "json", db=path).json()) == 4
    assert len(invoke_cli("history", "--format", "json", env={"POLICYWATCH_DB": path}).json()) == 4
    config = tmp_path / "policywatch.toml"
    shutil.copy(path, tmp_path / "relative.sqlite")
    config.write_text('db = "relative.sqlite"\n')  # read from the configuration file's folder
    assert len(invoke_cli("history", "--format", "json", config=config).json()) == 4


@pytest.mark.parametrize("command", [["history"], ["show", "1"], ["status"], ["trends"],
                                     ["outbox"], ["dropped"], ["digest", "--since", "7d"]])
def test_reading_a_store_that_does_not_exist_fails_in_one_line(tmp_path, command):
    missing = tmp_path / "typo" / "x.sqlite"
    result = invoke_cli(*command, db=f"sqlite:///{missing}")
    assert result.code == 1
    assert result.stderr.strip() == (
        f"Error: no store at {missing} (`policywatch crawl` or `policywatch demo` makes one; "
        "give another with --db or POLICYWATCH_DB)")
    assert not missing.parent.exists()


@pytest.mark.parametrize(("args", "expected"), [
    (["--jurisdiction", "cn"], [("withdrawn", "CN"), ("new", "CN")]),
    (["--source", "EU-Test"], [("amended", "EU"), ("new", "EU")]),
    (["--since", "30m"], []),
    (["--since", "2W"], []),
])
def test_input_as_people_type_it(history_db, args, expected):
    events = invoke_cli("history", *args, "--format", "json", db=history_db).json()
    assert [(e["change"], e["jurisdiction"]) for e in events] == expected


@pytest.mark.parametrize(("args", "message"), [
    (["--jurisdiction", "CM"], "no instrument in jurisdiction 'CM' (did you mean CN?); known: CN, EU"),
    (["--source", "eu-tset"], "no source 'eu-tset' (did you mean eu-test?)"),
    (["--since", "30 minutes"], "'30 minutes' is not a date (2024-03-15, 2024-03-15T10:00) or a span"),
])
def test_near_misses_get_a_suggestion(history_db, args, message):
    result = invoke_cli("history", *args, db=history_db)
    assert result.code == 2 and message in result.stderr


def test_crawl_source_near_miss_is_suggested(tmp_path):
    result = run_cli("crawl", "--source", "cn-cca", db=f"sqlite:///{tmp_path / 's.sqlite'}")
    assert result.code == 1 and "no declared source 'cn-cca' (did you mean cn-cac?)" in result.stderr


@pytest.mark.parametrize(("content", "message"), [
    ('dbb = "x.sqlite"\n', "dbb: unknown key (did you mean db?)"),
    ("[crawll]\ntimeout = 3\n", "crawll: unknown key (did you mean crawl?)"),
    ("[crawl]\ntimout = 3\n", "crawl.timout: unknown key (did you mean timeout?)"),
    ('[[subscriptions]]\nname = "a"\nrecipients = ["a@b.c"]\njurisdiction = ["CN"]\n',
     "subscriptions[0].jurisdiction: unknown key (did you mean jurisdictions?)"),
])
def test_unknown_configuration_keys_name_the_key_and_the_file(tmp_path, content, message):
    config = tmp_path / "policywatch.toml"
    config.write_text(content)
    result = invoke_cli("history", config=config)
    assert result.code == 1 and f"{config}: {message}" in result.stderr


def test_mail_without_smtp_section_says_so(tmp_path):
    config = tmp_path / "policywatch.toml"
    config.write_text("[crawl]\ntimeout = 3\n")
    result = invoke_cli("mail", "test", "--to", "me@example.org", config=config)
    assert result.code == 1 and result.stderr.strip() == f"Error: no [smtp] section in {config}"


def test_show_lists_versions_with_paradigm_and_events_newest_first(history_db):
    shown = invoke_cli("show", "1", "--format", "json", db=history_db).json()
    assert [v["version"] for v in shown["versions"]] == [2, 1]
    assert {v["paradigm"] for v in shown["versions"]} == {"prudent"}
    assert [e["change"] for e in shown["events"]] == ["amended", "new"]
    table = invoke_cli("show", "1", db=history_db).stdout
    assert "PARADIGM" in table and table.index("amended") < table.index("new")
    assert "~Article 45" in table


def test_show_text_prints_a_version(history_db):
    latest = invoke_cli("show", "1", "--text", db=history_db).stdout
    first = invoke_cli("show", "1", "--text", "1", db=history_db).stdout
    assert "two years" in latest and "four years" in first
    missing = invoke_cli("show", "1", "--text", "7", db=history_db)
    assert missing.code == 2 and "has no version '7' (versions 1 to 2)" in missing.stderr


def test_history_never_cuts_the_changed_provisions(tmp_path):
    store_url = f"sqlite:///{tmp_path / 'long.sqlite'}"
    store = Store(store_url)
    with store.transaction() as session:
        upsert_source(session, id=EU.id, name=EU.id, jurisdiction="EU", level="supranational",
                      declaration_file=None)
    url = "https://eu.example/" + "guidelines-on-international-transfers-" * 3  # the title
    text = gdpr("45", "47")
    _record(store, EU, url, text, datetime(2024, 1, 1))
    _record(store, EU, url, text.replace("four years", "two years"), datetime(2024, 2, 1), 1)
    store.close()
    lines = invoke_cli("history", "--no-baseline", db=store_url).stdout.splitlines()
    assert lines[2].endswith("~Article 45") and "…" in lines[2]


@pytest.mark.parametrize("command", [["history"], ["status"], ["outbox"], ["dropped"],
                                     ["sources", "list"], ["trends"]])
def test_every_listing_speaks_ndjson(history_db, command):
    result = invoke_cli(*command, "--format", "ndjson", db=history_db)
    assert result.code == 0, result.stderr
    for line in filter(None, result.stdout.splitlines()):
        assert isinstance(json.loads(line), dict)
    if command == ["history"]:
        assert len(result.stdout.splitlines()) == 4


def test_trends_csv_gives_numbers(history_db):
    rows = list(csv.DictReader(io.StringIO(invoke_cli("trends", "--format", "csv", db=history_db).stdout)))
    assert rows and all(0 <= float(row["prudent"]) <= 1 for row in rows)
    assert not any("%" in value for row in rows for value in row.values())


def test_sending_without_smtp_section_says_so(history_db, tmp_path):
    config = tmp_path / "policywatch.toml"
    config.write_text('[[subscriptions]]\nname = "weekly"\nrecipients = ["a@example.org"]\n')
    sent = invoke_cli("digest", "--subscription", "weekly", "--send", db=history_db, config=config)
    assert sent.code == 1 and sent.stderr.strip() == f"Error: no [smtp] section in {config}"
    retried = invoke_cli("outbox", "--send-pending", db=history_db)
    assert retried.code == 1 and "no [smtp] section in the configuration" in retried.stderr
