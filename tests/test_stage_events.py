"""Lifecycle stages wired into the store: a draft adopted on the loopback web makes one `stage`
event (draft -> adopted) that history --stage, show, the digest and the web's JSON carry; the
stage as of today is one rule in Python and in SQL; `reclassify` fills a store read before."""

from __future__ import annotations

import shutil
import sqlite3
from datetime import date, datetime, timedelta

import pytest
from sqlalchemy import select

from alerts.render import render_html, render_text
from alerts.settings import SmtpSettings
from crawlers.extract import extract_document
from paradigms.lifecycle import effective_stage, is_stage_change, stage_as_of
from policywatch.demoweb.server import regulator_page
from policywatch.demoweb.sites import write_demo_authority_declaration
from policywatch.demoweb.texts import to_html
from policywatch.digests import ALL, build_digest
from storage.database import Store
from storage.models import ChangeEvent, KeyDate, Version, utcnow
from storage.queries import HistoryFilter, effective_stage_sql, history
from storage.versions import Fetch, SourceInfo, record_document
from tests.conftest import run_cli

ENTRY_INTO_FORCE = date(2027, 7, 1)  # of the demo authority's adopted regulation
TODAY = datetime.now().date()
ADOPTED_NOW = effective_stage("adopted", ENTRY_INTO_FORCE, TODAY)  # in_force from 1 July 2027
REGULATION = "xd-authority/reglamento-transferencias-630612"
SOURCE = SourceInfo("eu-test", "EU", "supranational", "en")


@pytest.fixture(scope="module")
def adopted(web, tmp_path_factory) -> dict:
    """The demo authority crawled as a draft (epoch 1), then once its regulation is adopted
    (epoch 3)."""
    folder = tmp_path_factory.mktemp("stages")
    sources = write_demo_authority_declaration(web, folder / "sources")
    db_file = folder / "store.sqlite"
    db = f"sqlite:///{db_file}"
    started = utcnow()
    for epoch, noise in ((1, 1), (3, 2)):
        web.set(epoch=epoch, noise=noise)
        result = run_cli("crawl", "--sources", str(sources), db=db)
        assert result.code == 0, result.stderr
    return {"db": db, "file": db_file, "started": started}


def test_a_draft_adopted_makes_one_stage_event_beside_the_amendment(adopted):
    events = run_cli("history", "--format", "json", db=adopted["db"]).json()
    stage_events = [e for e in events if e["change"] == "stage"]
    assert len(stage_events) == 1
    event = stage_events[0]
    assert event["instrument"] == REGULATION and event["version"] == 2
    assert (event["previous_stage"], event["stage"]) == ("draft", ADOPTED_NOW)
    assert "entrará en vigor el 1 de julio de 2027" in event["stage_quote"]
    assert event["stage_provision"] == "Artículo 5" and event["stage_since"] == "2027-07-01"
    amended = next(e for e in events if e["change"] == "amended")
    assert amended["version"] == 2 and amended["stage"] == ADOPTED_NOW
    assert next(e for e in events if e["change"] == "new")["stage"] == "draft"
    # Stored as read on the day: the raw stage, which queries reckon against today.
    with sqlite3.connect(adopted["file"]) as connection:
        stored = connection.execute("select previous_stage, stage from change_events "
                                    "where kind = 'stage'").fetchall()
    assert stored == [("draft", effective_stage("adopted", ENTRY_INTO_FORCE, adopted["started"].date()))]


def test_history_filters_by_stage_and_shows_the_change(adopted):
    draft = run_cli("history", "--stage", "draft", "--format", "json", db=adopted["db"]).json()
    assert [(e["change"], e["version"]) for e in draft] == [("new", 1)]
    now = run_cli("history", "--stage", ADOPTED_NOW, "--format", "json", db=adopted["db"]).json()
    assert sorted(e["change"] for e in now) == ["amended", "stage"]
    assert run_cli("history", "--stage", "repealed", "--format", "json", db=adopted["db"]).json() == []
    table = run_cli("history", "--change", "stage", db=adopted["db"])
    assert table.code == 0
    assert f"draft → {ADOPTED_NOW}" in table.stdout
    assert "Artículo 5: Artículo 5. Entrada en vigor El presente Reglamento entrará" in table.stdout
    csv = run_cli("history", "--format", "csv", db=adopted["db"]).stdout.splitlines()
    assert "stage" in csv[0].split(",") and "previous_stage" in csv[0].split(",")
    refused = run_cli("history", "--stage", "enacted", db=adopted["db"])
    assert refused.code == 2 and "enacted" in refused.stderr


def test_show_prints_each_versions_stage_with_its_quote_and_the_key_dates(adopted):
    shown = run_cli("show", REGULATION, db=adopted["db"])
    assert shown.code == 0, shown.stderr
    out = shown.stdout
    assert "version 1: draft · Title: \"Proyecto de Reglamento" in out
    assert f"version 2: {ADOPTED_NOW} (since 2027-07-01) · Artículo 5: \"Artículo 5. Entrada" in out
    assert "key dates:" in out and "2027-07-01  entry_into_force" in out
    info = run_cli("show", REGULATION, "--format", "json", db=adopted["db"]).json()
    assert [v["stage"] for v in info["versions"]] == [ADOPTED_NOW, "draft"]
    assert [(d["on"], d["kind"]) for d in info["key_dates"]] == [
        ("2026-11-16", "adoption"), ("2027-07-01", "entry_into_force"), ("2028-01-01", "transition")]
    assert {e["change"]: e["stage"] for e in info["events"]}["stage"] == ADOPTED_NOW


def test_the_digest_lists_the_stage_change_in_its_own_section(adopted):
    store = Store(adopted["db"])
    try:
        digest, message, _ = build_digest(store, ALL, adopted["started"] - timedelta(minutes=1),
                                          utcnow() + timedelta(minutes=1),
                                          SmtpSettings(sender="digest@example.org"))
    finally:
        store.close()
    assert [e["instrument"] for e in digest.sections["stage"]] == [REGULATION]
    assert "1 stage changed" in digest.subject()
    text = render_text(digest)
    section = text.split("Stage changes (1)")[1].split("Amended (1)")[0]
    names = {"adopted": "adopted", "in_force": "in force"}
    assert f"Stage: draft → {names[ADOPTED_NOW]} (since 2027-07-01)" in section
    assert 'Artículo 5: "Artículo 5. Entrada en vigor El presente Reglamento entrará' in section
    html = render_html(digest)
    assert "Stage changes" in html and "entrará en vigor el 1 de julio de 2027" in html


def test_reclassify_fills_a_store_recorded_before_stages_were_read(adopted, tmp_path):
    db_file = tmp_path / "old.sqlite"
    shutil.copy(adopted["file"], db_file)
    with sqlite3.connect(db_file) as connection:  # as migration 0011 leaves an older store
        connection.execute("update versions set stage = null, lifecycle = null")
        connection.execute("update change_events set stage = null, previous_stage = null "
                           "where kind != 'stage'")
        connection.execute("delete from key_dates")
    db = f"sqlite:///{db_file}"
    assert run_cli("calendar", "--format", "json", db=db).json() == []
    assert run_cli("history", "--stage", "draft", "--format", "json", db=db).json() == []
    done = run_cli("reclassify", db=db)
    assert done.code == 0, done.stderr
    with sqlite3.connect(db_file) as connection:
        assert connection.execute("select count(*) from versions where stage is null").fetchone()[0] == 0
        assert connection.execute("select count(*) from key_dates").fetchone()[0] == 3
    assert [e["change"] for e in run_cli("history", "--stage", "draft", "--format", "json",
                                         db=db).json()] == ["new"]
    assert len(run_cli("calendar", "--format", "json", db=db).json()) == 3


# --- the rules, on a store of each backend -------------------------------------------------

def _page(title: str, text: str) -> bytes:
    return regulator_page("EU", title, to_html(text), 1).encode()


def _record(store: Store, title: str, text: str, day: datetime) -> str:
    body = _page(title, text)
    with store.transaction() as session:
        return record_document(session, None, SOURCE, Fetch(
            "eu-test", "https://example.eu/reg", "https://example.eu/reg", 200,
            {"content-type": "text/html"}, body), extract_document(body, "text/html"), now=day)


BODY = ("Article 1\nThis Regulation lays down rules on transfers of personal data to third countries "
        "and international organisations.\n\n")


def test_a_stage_read_where_none_was_is_no_event_but_a_change_between_two_is(store):
    day = datetime(2026, 3, 1)
    assert _record(store, "Rules on transfers", BODY, day) == "new"  # unknown
    adopted = BODY + "Article 2\nThis Regulation shall enter into force on 1 June 2026.\n"
    assert _record(store, "Rules on transfers", adopted, day + timedelta(days=1)) == "amended"
    repealed = adopted + "\n\nArticle 3\nThis Regulation is repealed.\n"
    assert _record(store, "Rules on transfers", repealed, day + timedelta(days=2)) == "amended"
    with store.sessions() as session:
        stages = session.execute(select(Version.number, Version.stage).order_by(Version.number)).all()
        events = session.execute(select(ChangeEvent.kind, ChangeEvent.previous_stage, ChangeEvent.stage)
                                 .order_by(ChangeEvent.id)).all()
        dates = session.execute(select(KeyDate.kind, KeyDate.on)).all()
    assert [tuple(s) for s in stages] == [(1, "unknown"), (2, "adopted"), (3, "repealed")]
    # unknown -> adopted is no event; adopted -> repealed is one.
    assert [tuple(e) for e in events] == [("new", None, "unknown"), ("amended", None, "adopted"),
                                          ("amended", None, "repealed"), ("stage", "adopted", "repealed")]
    assert ("entry_into_force", "2026-06-01") in [tuple(d) for d in dates]


def test_an_adopted_text_is_in_force_once_its_date_has_passed_in_every_query(store):
    adopted = BODY + "Article 2\nThis Regulation shall enter into force on 1 June 2026.\n"
    _record(store, "Draft regulation on transfers", BODY, datetime(2026, 3, 1))
    _record(store, "Regulation on transfers", adopted, datetime(2026, 3, 2))
    with store.sessions() as session:
        def stages(today: date, *wanted: str) -> list[tuple[str, str]]:
            where = HistoryFilter(today=today, stages=wanted)
            return [(e["change"], e["stage"]) for e in history(session, where)]

        before, after = date(2026, 5, 31), date(2026, 6, 1)
        assert stages(before) == [("stage", "adopted"), ("amended", "adopted"), ("new", "draft")]
        assert stages(after) == [("stage", "in_force"), ("amended", "in_force"), ("new", "draft")]
        assert stages(before, "in_force") == [] and len(stages(after, "in_force")) == 2
        assert len(stages(after, "adopted")) == 0 and stages(after, "draft") == [("new", "draft")]


def test_a_repeal_still_to_come_repeals_the_text_on_its_day_in_python_and_in_sql(store):
    sunset = BODY + ("Article 2\nThis Regulation shall enter into force on 1 June 2026.\n\n"
                     "Article 3\nThis Regulation is repealed with effect from 1 January 2030.\n")
    _record(store, "Regulation on transfers", sunset, datetime(2026, 3, 1))
    _record(store, "Regulation on transfers", sunset + "\nArticle 4\nThis Regulation is binding.\n",
            datetime(2026, 3, 2))
    days = (date(2026, 5, 31), date(2026, 6, 1), date(2029, 12, 31), date(2030, 1, 1))
    with store.sessions() as session:
        stored = session.execute(select(Version.stage, Version.lifecycle).order_by(Version.number)).all()
        assert {(stage, lifecycle["since"], lifecycle["until"]) for stage, lifecycle in stored} == {
            ("adopted", "2026-06-01", "2030-01-01")}
        in_python = [[stage_as_of(stage, lifecycle, day) for stage, lifecycle in stored] for day in days]
        in_sql = [list(session.scalars(select(effective_stage_sql(Version.stage, Version.lifecycle, day))
                                       .order_by(Version.number))) for day in days]
        events = [{e["change"]: e["stage"] for e in history(session, HistoryFilter(today=day))}
                  for day in days]
        repealed = [len(history(session, HistoryFilter(today=day, stages=("repealed",)))) for day in days]
    assert in_python == in_sql == [["adopted"] * 2, ["in_force"] * 2, ["in_force"] * 2, ["repealed"] * 2]
    assert [e["amended"] for e in events] == ["adopted", "in_force", "in_force", "repealed"]
    assert repealed == [0, 0, 0, 2]  # the new version and the amendment, once 1 January 2030 has come


@pytest.mark.parametrize(("stage", "since", "today", "expected"), [
    ("adopted", "2026-06-01", date(2026, 5, 31), "adopted"),
    ("adopted", "2026-06-01", date(2026, 6, 1), "in_force"),
    ("adopted", None, date(2030, 1, 1), "adopted"),
    ("draft", "2026-06-01", date(2030, 1, 1), "draft"),
    (None, None, date(2030, 1, 1), "unknown"),
])
def test_effective_stage(stage, since, today, expected):
    assert effective_stage(stage, since, today) == expected


@pytest.mark.parametrize(("before", "after", "event"), [
    ("draft", "adopted", True), ("consultation", "draft", True), ("in_force", "repealed", True),
    ("unknown", "adopted", False), ("adopted", "unknown", False), (None, "draft", False),
    ("adopted", "adopted", False),
])
def test_which_stage_changes_are_events(before, after, event):
    assert is_stage_change(before, after) is event


def test_the_web_view_shows_stages_and_key_dates_and_filters_by_stage(adopted):
    from tests.test_serve import start_server, stop_server

    server = start_server(adopted["db"])
    try:
        page = server.get("/api/history?stage=draft")
        assert page.status == 200, page.text
        assert [e["change"] for e in page.json()["events"]] == ["new"]
        assert server.get("/api/history?stage=enacted").status == 400
        shown = server.get(f"/instrument/{REGULATION}")
        assert shown.status == 200
        assert "Key dates" in shown.text and "2027-07-01" in shown.text
        assert "Proyecto de Reglamento" in shown.text and "stage-draft" in shown.text
        api = server.get(f"/api/instrument/{REGULATION}").json()
        assert [d["kind"] for d in api["key_dates"]] == ["adoption", "entry_into_force", "transition"]
        changes = server.get("/?change=stage")
        assert "entrará en vigor" in changes.text and "stage-draft" in changes.text
        feed = server.get("/feed.atom?change=stage")
        assert feed.status == 200 and f"stage: draft → {ADOPTED_NOW} (since 2027-07-01)" in feed.text
    finally:
        stop_server(server)
