"""What `policywatch crawl` tells its user: progress per source, the offline notice, every problem,
a clean Ctrl-C and the exit codes cron reads. Real crawls run in their own process on a loopback
web (tests/web/hostile.py)."""

from __future__ import annotations

import os
import pty
import re
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

from crawlers.progress import CrawlTally, source_line
from policywatch.cli.crawl import PROBLEMS_SHOWN, report_problems
from policywatch.crawling import unresolved_notice
from tests.conftest import ROOT, run_cli
from tests.web.hostile import Answer, Host, declaration, law_page, start, stop

LAW = Answer(200, law_page("Derogations for specific situations"))
PROBLEM = ("gb-ico", "transient", "https://ico.example/a", "HTTP 503")


@pytest.fixture(scope="module")
def hosts() -> Iterator[list[Host]]:
    started = start("127.0.0.41", "127.0.0.42")
    yield started
    stop(started)


def write_sources(folder: Path, **entries: tuple[str, str]) -> Path:
    """A declaration per source id: (entry URL, entry type)."""
    folder.mkdir()
    for source_id, (url, entry_type) in entries.items():
        (folder / f"{source_id}.yaml").write_text(declaration(source_id, url, entry_type))
    return folder


# --- the pure parts ------------------------------------------------------------------------

def test_a_source_is_done_once_it_had_requests_and_has_none_left():
    tally = CrawlTally({"gb-ico": "GB", "eu-edpb": "EU"})
    assert tally.settle(busy=set()) == []  # nothing asked yet: nothing done
    tally.scheduled("gb-ico")
    tally.scheduled("eu-edpb")
    tally.recorded("gb-ico", "new")
    tally.recorded("gb-ico", "entry-page")  # not a document outcome: not counted
    assert tally.settle(busy={"eu-edpb"}) == ["gb-ico"]
    assert tally.settle(busy=set()) == ["eu-edpb"]
    assert tally.settle(busy=set()) == []  # said once
    assert tally.sources["gb-ico"].documents == 1
    assert tally.groups() == {"GB": ["gb-ico"], "EU": ["eu-edpb"]}


def test_the_end_of_a_crawl_settles_every_source_and_a_shutdown_stops_them():
    tally = CrawlTally({"gb-ico": "GB", "eu-edpb": "EU"})
    tally.scheduled("gb-ico")
    tally.settle(busy=set())
    assert tally.settle_all(stopped=True) == ["eu-edpb"]
    assert tally.done_count() == 1  # a stopped source is not counted as checked
    assert source_line(tally, "eu-edpb", 2, 7) == "[2/2] eu-edpb  0 document(s) (stopped before the end)"


def test_a_finished_source_is_one_plain_line():
    tally = CrawlTally({"gb-ico": "GB", "eu-edpb": "EU"})
    tally.scheduled("gb-ico")
    for outcome in ("new", "new", "error"):
        tally.recorded("gb-ico", outcome)
    tally.settle(busy={"eu-edpb"})
    assert source_line(tally, "gb-ico", 1, 7) == "[1/2] gb-ico   3 document(s): new 2, error 1"


def test_offline_is_said_once_and_a_partial_failure_names_the_sources():
    hosts = {"ico.org.uk", "edpb.europa.eu", "cac.gov.cn"}
    assert unresolved_notice(hosts, set(hosts), ["gb-ico", "eu-edpb", "cn-cac"]) == \
        "no network: none of 3 host(s) could be resolved"
    assert unresolved_notice(hosts, {"cac.gov.cn"}, ["cn-cac"]) == \
        "host names not resolved (DNS), skipped: cn-cac"
    assert unresolved_notice(hosts, set(), []) is None


def test_a_screenful_of_problems_is_listed_whole(tmp_path: Path):
    lines = report_problems([PROBLEM] * PROBLEMS_SHOWN, 7, None)
    assert lines[0] == f"{PROBLEMS_SHOWN} problem(s) (see `policywatch status`):"
    assert len(lines) == PROBLEMS_SHOWN + 1
    assert lines[1] == "  gb-ico: transient: https://ico.example/a: HTTP 503"


def test_past_a_screenful_every_problem_goes_to_the_file_it_names(tmp_path: Path):
    target = tmp_path / "out" / "problems.txt"
    problems = [(*PROBLEM[:3], f"HTTP 503 ({n})") for n in range(PROBLEMS_SHOWN + 55)]
    lines = report_problems(problems, 7, target)
    assert lines[-1] == f"  … and 55 more in {target}"
    written = target.read_text().splitlines()
    assert len(written) == PROBLEMS_SHOWN + 55
    assert written[-1] == f"gb-ico: transient: https://ico.example/a: HTTP 503 ({PROBLEMS_SHOWN + 54})"


def test_problems_file_asked_for_is_written_even_for_a_few(tmp_path: Path):
    target = tmp_path / "problems.txt"
    lines = report_problems([PROBLEM], 7, target)
    assert lines[-1] == f"  (all of them also in {target})"
    assert target.read_text() == "gb-ico: transient: https://ico.example/a: HTTP 503\n"


# --- real crawls -----------------------------------------------------------------------------

def test_help_documents_the_exit_codes():
    result = run_cli("crawl", "--help")
    assert result.code == 0
    for line in ("--fail-on-error", "0    the cycle ran", "1    with --fail-on-error",
                 "2    usage error", "130  interrupted"):
        assert line in result.stdout


def test_fail_on_error_exits_1_when_a_source_failed(hosts: list[Host], tmp_path: Path,
                                                    db_url: str, fast_config: Path):
    good, _ = hosts
    good.reset({"/law": LAW, "/broken": Answer(500, b"<html>down</html>")})
    sources = write_sources(tmp_path / "sources", **{"gb-good": (good.url("/law"), "document"),
                                                     "gb-broken": (good.url("/broken"), "document")})
    plain = run_cli("crawl", "--sources", str(sources), db=db_url, config=fast_config)
    assert plain.code == 0, plain.stderr
    lines = plain.stderr.splitlines()  # not a terminal: one line per finished source
    assert sorted(line.split("]")[1].split()[0] for line in lines if line.startswith("[")) == \
        ["gb-broken", "gb-good"]
    assert any("gb-good" in line and "1 document(s): new 1" in line for line in lines)
    strict = run_cli("crawl", "--sources", str(sources), "--fail-on-error", db=db_url,
                     config=fast_config)
    assert strict.code == 1, strict.stderr
    assert "1 source(s) failed" in strict.stderr
    assert "gb-broken: transient" in strict.stdout


def test_fail_on_error_exits_0_when_every_source_is_healthy(hosts: list[Host], tmp_path: Path,
                                                           db_url: str, fast_config: Path):
    good, _ = hosts
    good.reset({"/law": LAW})
    sources = write_sources(tmp_path / "sources", **{"gb-good": (good.url("/law"), "document")})
    result = run_cli("crawl", "--sources", str(sources), "--fail-on-error", db=db_url,
                     config=fast_config)
    assert result.code == 0, result.stderr


def test_a_terminal_gets_a_live_bar_per_jurisdiction(hosts: list[Host], tmp_path: Path,
                                                     db_url: str, fast_config: Path):
    good, _ = hosts
    good.reset({"/law": LAW, "/other": LAW})
    sources = write_sources(tmp_path / "sources", **{"gb-good": (good.url("/law"), "document"),
                                                     "gb-other": (good.url("/other"), "document")})
    leader, follower = pty.openpty()
    env = {k: v for k, v in os.environ.items() if not k.startswith("POLICYWATCH_")}
    child = subprocess.Popen(
        [sys.executable, "-m", "policywatch", "--db", db_url, "--config", str(fast_config),
         "crawl", "--sources", str(sources)],
        cwd=ROOT, env={**env, "PYTHONPATH": str(ROOT), "TERM": "xterm", "COLUMNS": "120"},
        stdout=subprocess.PIPE, stderr=follower, text=True)
    os.close(follower)
    screen = b""
    while True:  # until the child closes the terminal
        try:
            chunk = os.read(leader, 65536)
        except OSError:  # EIO: the other side is closed
            break
        if not chunk:
            break
        screen += chunk
    os.close(leader)
    stdout, _ = child.communicate(timeout=120)
    shown = re.sub(r"\x1b\[[0-9;?]*[a-zA-Z]", "", screen.decode())  # without colours
    assert child.returncode == 0, shown
    final = [line for line in shown.splitlines() if line.startswith("GB")][-1]
    assert "2/2 sources · 2 document(s)" in final and "elapsed · ETA" in final
    assert "[1/2]" not in shown  # no plain lines on a terminal
    assert "gb-good" in stdout  # the summary table follows


def test_an_unknown_option_is_a_usage_error_exit_2(db_url: str):
    assert run_cli("crawl", "--fail-on-errors", db=db_url).code == 2


def slow_listing(host: Host, pages: int) -> dict[str, Answer]:
    """A listing of `pages` pages, one instrument each, every page slow to answer: the crawl
    reads them one after the other."""
    routes: dict[str, Answer] = {}
    for n in range(1, pages + 1):
        more = f'<a rel="next" href="/list/{n + 1}">next</a>' if n < pages else ""
        routes[f"/list/{n}"] = Answer(200, f'<html><body><a href="/doc/{n}">Instrument {n}</a>'
                                           f"{more}</body></html>".encode(), hold=0.5)
        routes[f"/doc/{n}"] = Answer(200, law_page(f"Instrument {n}"))
    return routes


def test_ctrl_c_stops_the_crawl_cleanly(hosts: list[Host], tmp_path: Path, db_url: str,
                                        fast_config: Path):
    """SIGINT once the quick source is recorded, while the slow one is still being read."""
    quick, slow = hosts
    quick.reset({"/law": LAW})
    pages = 30
    slow.reset(slow_listing(slow, pages))
    sources = write_sources(tmp_path / "sources", **{"gb-quick": (quick.url("/law"), "document")})
    (sources / "gb-slow.yaml").write_text(declaration(
        "gb-slow", slow.url("/list/1"), "listing",
        f'    follow: "/doc/"\n    next: "a[rel=next]"\n    max_pages: {pages}\n'))
    env = {k: v for k, v in os.environ.items() if not k.startswith("POLICYWATCH_")}
    child = subprocess.Popen(
        [sys.executable, "-m", "policywatch", "--db", db_url, "--config", str(fast_config),
         "crawl", "--sources", str(sources)],
        cwd=ROOT, env={**env, "PYTHONPATH": str(ROOT)}, text=True,
        stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        assert child.stderr is not None
        seen = []
        for line in child.stderr:  # the quick source's line says its page is recorded
            seen.append(line)
            if "gb-quick" in line and line.startswith("["):
                break
        assert any("gb-quick" in line for line in seen), "".join(seen)
        child.send_signal(signal.SIGINT)
        stdout, rest = child.communicate(timeout=120)
    finally:
        if child.poll() is None:
            child.kill()
            child.wait()
    stderr = "".join(seen) + rest
    assert child.returncode == 130, stderr
    assert "interrupted: run" in stderr and "Aborted!" not in stderr
    assert "gb-slow" in stderr.split("(stopped before the end)")[0].splitlines()[-1]
    assert "gb-quick" in stdout and "gb-slow" in stdout  # the partial summary
    engine = create_engine(db_url)
    with engine.connect() as connection:
        [status] = connection.execute(text("SELECT status FROM crawl_runs")).scalars()
        recorded = connection.execute(text("SELECT count(*) FROM instruments")).scalar_one()
    engine.dispose()
    assert status == "interrupted"
    assert 1 <= recorded < 1 + pages  # the quick law and the slow pages read before Ctrl-C
    assert slow.requests[f"/list/{pages}"] == 0
