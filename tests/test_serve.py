"""`policywatch serve` as a reader meets it: the server started as a real process on a loopback
port over a recorded history, driven by a real browser (Debian's chromium through Playwright),
its feed read by feedparser and its API by `json`, and its refusals (400s, 401s, binding
beyond loopback) as a client sees them."""

from __future__ import annotations

import base64
import json
import os
import socket
import sqlite3
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import feedparser
import pytest
from openapi_spec_validator import validate
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from policywatch.demoweb.texts import pipl
from policywatch.web.store import ReadOnlyStore
from storage.database import Store, StoreError
from storage.queries import find_instrument
from tests.conftest import BACKENDS, ROOT, fresh_database, invoke_cli
from tests.mail import free_port
from tests.web.history import CN, HOSTILE_TITLE, _record, record_sample_history

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                  "--disable-component-update", "--disable-sync", "--no-first-run"]
STARTUP_SECONDS = 60
TOKEN = "test-token-3f9a"
CHINESE_TITLE = "个人信息保护法（第三章）"


def record_chinese_amendment(url: str) -> None:
    """Article 38 of the Chinese instrument amended by one character: 确需 → 确须."""
    store = Store(url)
    with store.sessions() as session:
        known = find_instrument(session, "https://cn.example/pipl")
    text = pipl("第三十八条", "## 第四章").replace("确需", "确须")
    _record(store, CN, "https://cn.example/pipl", CHINESE_TITLE, text, datetime(2026, 11, 25),
            instrument_id=known.id)
    store.close()


@dataclass
class Answer:
    status: int
    headers: dict[str, str]
    body: bytes

    @property
    def text(self) -> str:
        return self.body.decode()

    def json(self):
        return json.loads(self.body)


@dataclass
class Server:
    base: str
    db: str
    process: subprocess.Popen

    def get(self, path: str, headers: dict[str, str] | None = None) -> Answer:
        request = urllib.request.Request(self.base + path, headers=headers or {})
        try:
            with urllib.request.urlopen(request, timeout=30) as answer:
                return Answer(answer.status, {k.lower(): v for k, v in answer.headers.items()},
                              answer.read())
        except urllib.error.HTTPError as error:
            return Answer(error.code, {k.lower(): v for k, v in error.headers.items()}, error.read())


def start_server(db: str, env: dict[str, str] | None = None, config: Path | None = None) -> Server:
    """`policywatch --db DB [--config FILE] serve` in its own process, returned once it answers."""
    port = free_port()
    child_env = {k: v for k, v in os.environ.items() if not k.startswith("POLICYWATCH_")}
    child_env.update(PYTHONPATH=str(ROOT), **(env or {}))
    configured = ["--config", str(config)] if config else []
    process = subprocess.Popen([sys.executable, "-m", "policywatch", "--db", db, *configured,
                                "serve", "--port", str(port)], cwd=ROOT, env=child_env,
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + STARTUP_SECONDS
    while True:
        if process.poll() is not None:
            raise AssertionError(f"serve exited {process.returncode}: {process.stderr.read()}")
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return Server(f"http://127.0.0.1:{port}", db, process)
        except OSError:
            if time.monotonic() > deadline:
                process.kill()
                raise AssertionError(f"serve did not listen on port {port}") from None
            time.sleep(0.1)


def stop_server(server: Server) -> None:
    server.process.terminate()
    try:
        server.process.wait(timeout=30)
    finally:
        if server.process.poll() is None:
            server.process.kill()
        server.process.stdout.close()
        server.process.stderr.close()


@pytest.fixture(scope="module", params=BACKENDS)
def server(request, tmp_path_factory) -> Iterator[Server]:
    with fresh_database(request.param, tmp_path_factory.mktemp("serve")) as url:
        record_sample_history(url)
        record_chinese_amendment(url)
        running = start_server(url)
        yield running
        stop_server(running)


@pytest.fixture(scope="module")
def screenshots() -> Path:
    """Where the browser test leaves its screenshots (POLICYWATCH_SCREENSHOTS, else a new
    temporary folder), to be looked at."""
    folder = Path(os.environ.get("POLICYWATCH_SCREENSHOTS") or tempfile.mkdtemp(prefix="serve-shots-"))
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def cli_json(server: Server, *args: str):
    result = invoke_cli(*args, "--format", "json", db=server.db)
    assert result.code == 0, result.stderr
    return result.json()


def uid_of(server: Server, title: str) -> str:
    return next(e["instrument"] for e in cli_json(server, "history") if e["title"] == title)


# the browser

def browser_or_skip():
    if not Path(CHROMIUM).exists():
        pytest.skip(f"no browser at {CHROMIUM} (apt-get install -y chromium)")
    playwright = pytest.importorskip("playwright.sync_api")
    return playwright.sync_playwright()


def test_a_reader_filters_opens_an_instrument_and_sees_the_marked_words(server, screenshots):
    with browser_or_skip() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_FLAGS)
        page = browser.new_page(viewport={"width": 1280, "height": 900}, java_script_enabled=False)
        elsewhere: list[str] = []
        page.on("request", lambda r: None if r.url.startswith(server.base) else elsewhere.append(r.url))
        try:
            page.goto(server.base + "/")
            assert page.locator("table.events tbody tr").count() == len(cli_json(server, "history"))
            page.screenshot(path=screenshots / "changes.png", full_page=True)

            page.select_option("select[name=jurisdiction]", "EU")
            page.click("button[type=submit]")
            page.wait_for_url("**/?jurisdiction=EU**")
            jurisdictions = page.locator("table.events tbody tr td:nth-child(3)").all_inner_texts()
            assert jurisdictions and set(jurisdictions) == {"EU"}
            page.screenshot(path=screenshots / "changes-eu.png", full_page=True)

            page.locator("a.instrument", has_text="Transfer rules").first.click()
            page.wait_for_url("**/instrument/**")
            assert page.locator("h1").inner_text() == "Transfer rules"
            assert page.locator("table.versions tbody tr").count() == 2
            assert "government security assessment" in page.locator("table.versions").inner_text()
            deleted = " ".join(page.locator("table.diff td.before del").all_inner_texts())
            inserted = " ".join(page.locator("table.diff td.after ins").all_inner_texts())
            assert "requires" in deleted and "government" in deleted
            assert "standard contractual" in inserted and "exempt" in inserted
            assert "requires" not in inserted
            page.screenshot(path=screenshots / "instrument-side-by-side.png", full_page=True)

            page.select_option("select[name=layout]", "inline")
            page.locator("form.filters button").click()
            page.wait_for_url("**layout=inline**")
            inline = page.locator("table.diff td.inline")
            assert inline.locator("del").count() and inline.locator("ins").count()
            page.screenshot(path=screenshots / "instrument-inline.png", full_page=True)

            page.goto(server.base + "/instrument/" + uid_of(server, CHINESE_TITLE))
            assert page.locator("h1").inner_text() == CHINESE_TITLE
            refs = page.locator("table.diff tbody th.ref").all_inner_texts()
            assert [ref.split()[0] for ref in refs] == ["第三十八条", "第四十条"]
            assert page.locator("table.diff td.before del").all_inner_texts() == ["需", "需"]
            assert page.locator("table.diff td.after ins").all_inner_texts() == ["须", "须"]
            assert "确须向中华人民共和国境外提供" in page.locator("table.diff td.after").first.inner_text()
            page.screenshot(path=screenshots / "instrument-chinese.png", full_page=True)

            page.goto(server.base + "/trends?by=quarter")
            assert page.locator("svg.chart rect").count() > 0
            assert page.locator("svg.chart circle.flag").count() >= 1
            page.screenshot(path=screenshots / "trends.png", full_page=True)

            page.goto(server.base + "/sources")
            assert "connection refused" in page.locator("table.sources").inner_text()
            page.screenshot(path=screenshots / "sources.png", full_page=True)
        finally:
            browser.close()
    assert not elsewhere, f"the pages fetched from elsewhere: {elsewhere}"


# pages as sent

def test_every_answer_carries_the_content_security_policy(server):
    for path in ("/", "/trends", "/sources", "/feed.atom", "/api/history", "/static/style.css",
                 "/?jurisdiction=XX"):
        policy = server.get(path).headers["content-security-policy"]
        assert "default-src 'none'" in policy and "script-src" not in policy, path


def test_a_hostile_title_is_escaped_everywhere(server):
    for path in ("/", "/instrument/" + uid_of(server, HOSTILE_TITLE)):
        page = server.get(path).text
        assert "<script>alert" not in page and "<img src=x" not in page, path
        assert "&lt;script&gt;alert(" in page, path
    feed = feedparser.parse(server.get("/feed.atom").body)
    assert HOSTILE_TITLE in [entry.title.split(": ", 1)[1] for entry in feed.entries]


def test_the_pages_need_nothing_from_outside(server):
    for path in ("/", "/trends", "/sources", "/instrument/" + uid_of(server, "Transfer rules")):
        page = server.get(path).text
        head = page.split("<main>")[0]
        assert "<script" not in page and "http" not in head, path
    assert "url(" not in server.get("/static/style.css").text


# the feed

def test_the_feed_is_atom_with_one_stable_entry_per_event(server):
    first, again = (feedparser.parse(server.get("/feed.atom").body) for _ in range(2))
    assert not first.bozo and first.version == "atom10"
    ids = [entry.id for entry in first.entries]
    assert len(ids) == len(set(ids)) == len(cli_json(server, "history"))
    assert ids == [entry.id for entry in again.entries]

    amended = feedparser.parse(server.get("/feed.atom?jurisdiction=EU&change=amended").body)
    assert not amended.bozo and len(amended.entries) == 1
    entry = amended.entries[0]
    assert entry.title == "amended: Transfer rules"
    assert entry.id in ids
    assert "modified Article 3" in entry.content[0].value
    assert "shift: restrictive → prudent" in entry.content[0].value
    assert entry.link.startswith(server.base + "/instrument/eu-test/")

    chinese = feedparser.parse(server.get("/feed.atom?jurisdiction=cn").body)
    assert [e.title for e in chinese.entries] == [f"amended: {CHINESE_TITLE}", f"new: {CHINESE_TITLE}"]
    assert "modified 第三十八条" in chinese.entries[0].content[0].value


SUBSCRIPTIONS = """
[[subscriptions]]
name = "eu-amended"
recipients = ["eu@example.org"]
jurisdictions = ["eu"]
changes = ["amended"]

[[subscriptions]]
name = "china"
notify = ["json://127.0.0.1:9/"]
jurisdictions = ["CN"]
"""


@pytest.fixture(scope="module")
def subscribed(server, tmp_path_factory) -> Iterator[Server]:
    """The same store served with a configuration of two subscriptions."""
    config = tmp_path_factory.mktemp("subscribed") / "policywatch.toml"
    config.write_text(SUBSCRIPTIONS, encoding="utf-8")
    running = start_server(server.db, config=config)
    yield running
    stop_server(running)


def test_each_subscription_has_its_feed_with_its_own_filters(subscribed):
    for name, query in (("eu-amended", "jurisdiction=EU&change=amended"), ("china", "jurisdiction=CN")):
        answer = subscribed.get(f"/feed/{name}.atom")
        assert answer.status == 200 and answer.headers["content-type"].startswith("application/atom+xml")
        feed = feedparser.parse(answer.body)
        assert not feed.bozo and feed.version == "atom10"
        filtered = feedparser.parse(subscribed.get(f"/feed.atom?{query}").body)
        assert [e.id for e in feed.entries] == [e.id for e in filtered.entries]
        assert feed.feed.link == f"{subscribed.base}/?{query}"
    titles = [e.title for e in feedparser.parse(subscribed.get("/feed/eu-amended.atom").body).entries]
    assert titles == ["amended: Transfer rules"]


def test_an_unknown_subscription_feed_is_a_404_in_one_line(subscribed, server):
    answer = subscribed.get("/feed/weekly.atom")
    assert answer.status == 404
    assert answer.text == "no subscription 'weekly' (subscriptions: eu-amended, china)\n"
    assert server.get("/feed/china.atom").text == "no subscription 'china' (subscriptions: none configured)\n"


def test_the_changes_page_of_a_subscription_filter_links_to_its_feed(subscribed):
    assert 'href="/feed/eu-amended.atom"' in subscribed.get("/?jurisdiction=EU&change=amended").text
    assert 'href="/feed/china.atom"' in subscribed.get("/?jurisdiction=cn").text
    unfiltered = subscribed.get("/").text
    assert "/feed/eu-amended.atom" not in unfiltered and "/feed/china.atom" not in unfiltered


# the JSON API

def test_history_pages_through_a_cursor_give_every_event_once_as_the_cli_does(server):
    events, cursor, pages = [], None, 0
    while True:
        page = server.get("/api/history?limit=2" + (f"&cursor={cursor}" if cursor else "")).json()
        events += page["events"]
        pages += 1
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert pages == 4
    assert [{k: v for k, v in e.items() if k != "id"} for e in events] == cli_json(server, "history")
    assert len({e["id"] for e in events}) == len(events)


@pytest.mark.parametrize("query, args", [
    ("jurisdiction=EU&change=amended", ["--jurisdiction", "EU", "--change", "amended"]),
    ("jurisdiction=cn", ["--jurisdiction", "cn"]),
    ("paradigm=restrictive", ["--paradigm", "restrictive"]),
    ("since=2026-11-12&until=2026-11-20", ["--since", "2026-11-12", "--until", "2026-11-20"]),
    ("search=%E4%B8%AA%E4%BA%BA%E4%BF%A1%E6%81%AF", ["--search", "个人信息"]),
    ("search=security+assessment", ["--search", "security assessment"]),
    ("baseline=no&source=eu-test", ["--no-baseline", "--source", "eu-test"]),
])
def test_history_filters_match_the_cli(server, query, args):
    events = server.get(f"/api/history?{query}").json()["events"]
    assert [{k: v for k, v in e.items() if k != "id"} for e in events] == cli_json(server, "history", *args)


def test_instrument_diff_trends_and_status_have_the_cli_shapes(server):
    uid = uid_of(server, "Transfer rules")
    assert server.get(f"/api/instrument/{uid}").json() == cli_json(server, "show", uid)
    diff = server.get(f"/api/diff/{uid}?from=1&to=2").json()
    assert diff == cli_json(server, "diff", uid, "--from", "1", "--to", "2")
    assert [row["provision"] for row in diff] == ["Article 3"]
    chinese = uid_of(server, CHINESE_TITLE)
    assert server.get(f"/api/diff/{chinese}").json() == cli_json(server, "diff", chinese)
    assert server.get("/api/trends?by=quarter").json() == cli_json(server, "trends", "--by", "quarter")
    assert server.get("/api/status").json() == cli_json(server, "status")


def test_the_api_is_described_by_an_openapi_schema(server):
    schema = server.get("/api/openapi.json").json()
    validate(schema)
    assert schema["openapi"].startswith("3.")
    assert set(schema["paths"]) == {"/api/history", "/api/instrument/{instrument}",
                                    "/api/diff/{instrument}", "/api/trends", "/api/status"}
    history = schema["paths"]["/api/history"]["get"]
    assert {p["name"] for p in history["parameters"]} >= {"jurisdiction", "change", "cursor", "limit"}
    assert "next_cursor" in schema["components"]["schemas"]["HistoryPage"]["properties"]


@pytest.mark.parametrize("path, reason", [
    ("/?jurisdiction=XX", "jurisdiction: no instrument in jurisdiction 'XX'"),
    ("/api/history?change=bogus", "change: 'bogus' is not one of new, amended"),
    ("/api/history?since=yesterday", "since: 'yesterday' is not a date"),
    ("/api/history?since=99999999999d", "since: '99999999999d' is out of range"),
    ("/api/history?limit=0", "limit: '0' is not a whole number from 1 to 200"),
    ("/api/history?limit=1e3", "limit: '1e3' is not a whole number"),
    ("/api/history?cursor=1%27%20OR%201=1", "cursor: \"1' OR 1=1\" is not a cursor"),
    ("/feed.atom?jurisdiction=EU&jurisdication=CN", "unknown parameter 'jurisdication'"),
    ("/api/history?search=" + "x" * 400, "search: longer than 300 characters"),
    ("/trends?by=week", "by: 'week' is not one of year, quarter"),
    ("/instrument/{uid}?from=abc", "from: 'abc' is not a whole number from 1 to 2"),
    ("/instrument/{uid}?layout=diagonal", "layout: 'diagonal' is not one of side, inline"),
    ("/api/diff/{uid}?to=7", "to: '7' is not a whole number from 1 to 2"),
    ("/api/history?search=a%00b", "search: contains a NUL character"),
    ("/instrument/a%00b", "instrument: contains a NUL character"),
])
def test_a_malformed_parameter_is_a_400_with_a_one_line_reason(server, path, reason):
    answer = server.get(path.format(uid=uid_of(server, "Transfer rules")))
    assert answer.status == 400
    message = answer.json()["error"] if path.startswith("/api/") else answer.text.rstrip("\n")
    assert "\n" not in message and message.startswith(reason), message


@pytest.mark.parametrize("search", ['"', "*", "a' OR 1=1 --", "NEAR(", "-", "个"])
def test_any_search_text_is_answered(server, search):
    answer = server.get("/api/history?search=" + urllib.request.quote(search))
    assert answer.status == 200 and isinstance(answer.json()["events"], list)


def test_a_request_naming_another_host_is_refused(server):
    """A page elsewhere cannot read the loopback server by pointing its own name at 127.0.0.1."""
    assert server.get("/api/status", {"Host": "attacker.example"}).status == 400
    assert server.get("/api/status", {"Host": "localhost"}).status == 200


def test_unknown_instruments_and_versions_are_404(server):
    assert server.get("/instrument/no-such/thing").status == 404
    assert server.get("/api/instrument/no-such").json() == {"error": "no instrument 'no-such'"}


# security

def test_binding_beyond_loopback_without_credentials_is_refused_in_one_line(server):
    result = invoke_cli("serve", "--host", "0.0.0.0", db=server.db)
    assert result.code == 1
    assert result.stderr.strip().splitlines() == [
        "Error: --host 0.0.0.0: binding beyond loopback needs credentials: set "
        "POLICYWATCH_SERVE_TOKEN, or POLICYWATCH_SERVE_USER and POLICYWATCH_SERVE_PASSWORD"]
    half = invoke_cli("serve", "--host", "0.0.0.0", db=server.db, env={"POLICYWATCH_SERVE_USER": "a"})
    assert half.code == 1 and "go together" in half.stderr


def test_serving_a_store_that_is_not_there_fails_in_one_line(tmp_path):
    result = invoke_cli("serve", db=f"sqlite:///{tmp_path / 'none.sqlite'}")
    assert result.code == 1 and result.stderr.strip() == f"Error: no store at {tmp_path / 'none.sqlite'}"
    assert not (tmp_path / "none.sqlite").exists()


def test_serving_a_database_without_a_store_fails_in_one_line(tmp_path):
    empty = tmp_path / "empty.sqlite"
    sqlite3.connect(empty).close()
    result = invoke_cli("serve", db=f"sqlite:///{empty}")
    assert result.code == 1
    assert result.stderr.strip() == (f"Error: no policywatch store at sqlite:///{empty} "
                                     "(`policywatch crawl` or `policywatch demo` makes one)")


def test_with_credentials_every_request_must_present_them(server):
    guarded = start_server(server.db, {"POLICYWATCH_SERVE_TOKEN": TOKEN,
                                       "POLICYWATCH_SERVE_USER": "analyst",
                                       "POLICYWATCH_SERVE_PASSWORD": "pa:ss"})
    try:
        refused = guarded.get("/api/status")
        assert refused.status == 401 and "content-security-policy" in refused.headers
        assert refused.headers["www-authenticate"].startswith("Basic")
        assert guarded.get("/", {"Authorization": "Bearer wrong"}).status == 401
        assert guarded.get("/api/status", {"Authorization": f"Bearer {TOKEN}"}).status == 200
        basic = base64.b64encode(b"analyst:pa:ss").decode()
        assert guarded.get("/feed.atom", {"Authorization": f"Basic {basic}"}).status == 200
        wrong = base64.b64encode(b"analyst:nope").decode()
        assert guarded.get("/", {"Authorization": f"Basic {wrong}"}).status == 401
    finally:
        stop_server(guarded)


def test_the_store_is_opened_read_only(server):
    store = ReadOnlyStore(server.db)
    try:
        with store.sessions() as session:
            count = session.execute(text("select count(*) from change_events")).scalar()
            with pytest.raises((DBAPIError, StoreError), match="(?i)read-?only"):  # SQLite: one line
                session.execute(text("delete from change_events"))
        with store.sessions() as session:
            assert session.execute(text("select count(*) from change_events")).scalar() == count > 0
    finally:
        store.close()

