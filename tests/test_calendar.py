"""`policywatch calendar`: the key dates of each instrument's latest version, filtered in SQL,
as a listing and as an iCalendar file that parses back."""

from __future__ import annotations

from datetime import date, datetime

import icalendar
import pytest

from crawlers.extract import extract_document
from paradigms.lifecycle import effective_stage
from policywatch.demoweb.server import regulator_page
from policywatch.demoweb.sites import write_demo_authority_declaration
from policywatch.demoweb.texts import to_html
from storage.calendar import CalendarFilter, calendar
from storage.database import Store
from storage.versions import Fetch, SourceInfo, record_document
from tests.conftest import run_cli

REGULATION = "xd-authority/reglamento-transferencias-630612"
ADOPTED_NOW = effective_stage("adopted", date(2027, 7, 1), datetime.now().date())
SOURCE = SourceInfo("eu-test", "EU", "supranational", "en")


@pytest.fixture(scope="module")
def db(web, tmp_path_factory) -> str:
    """The demo authority crawled once its regulation is adopted (epoch 3)."""
    folder = tmp_path_factory.mktemp("calendar")
    sources = write_demo_authority_declaration(web, folder / "sources")
    url = f"sqlite:///{folder / 'store.sqlite'}"
    web.set(epoch=3, noise=1)
    result = run_cli("crawl", "--sources", str(sources), db=url)
    assert result.code == 0, result.stderr
    return url


def test_the_calendar_lists_what_comes_into_force_when(db):
    rows = run_cli("calendar", "--format", "json", db=db).json()
    assert [(r["on"], r["kind"], r["instrument"]) for r in rows] == [
        ("2026-11-16", "adoption", REGULATION), ("2027-07-01", "entry_into_force", REGULATION),
        ("2028-01-01", "transition", REGULATION)]
    entry = rows[1]
    assert entry["provision"] == "Artículo 5" and "entrará en vigor el 1 de julio de 2027" in entry["quote"]
    assert entry["stage"] == ADOPTED_NOW and entry["jurisdiction"] == "XD" and entry["version"] == 1
    table = run_cli("calendar", db=db)
    assert table.code == 0 and "2027-07-01  entry_into_force" in table.stdout


@pytest.mark.parametrize(("options", "expected"), [
    (("--kind", "entry_into_force"), ["2027-07-01"]),
    (("--kind", "entry_into_force", "--kind", "transition"), ["2027-07-01", "2028-01-01"]),
    (("--since", "2027-01-01"), ["2027-07-01", "2028-01-01"]),
    (("--since", "2027-01-01", "--until", "2027-07-01"), ["2027-07-01"]),
    (("--until", "2026-12-31"), ["2026-11-16"]),
    (("--jurisdiction", "xd", "--limit", "1"), ["2026-11-16"]),
])
def test_the_calendar_filters(db, options, expected):
    result = run_cli("calendar", *options, "--format", "json", db=db)
    assert result.code == 0, result.stderr
    assert [r["on"] for r in result.json()] == expected


@pytest.mark.parametrize(("options", "message"), [
    (("--since", "soon"), "'soon' is not a date"),
    (("--since", "2028-01-01", "--until", "2027-01-01"), "is before --since"),
    (("--jurisdiction", "ZZ"), "no instrument in jurisdiction 'ZZ'"),
    (("--kind", "birthday"), "birthday"),
])
def test_bad_options_get_one_line(db, options, message):
    result = run_cli("calendar", *options, db=db)
    assert result.code == 2 and message in result.stderr and "Traceback" not in result.stderr


def test_the_ics_export_parses_back_with_one_all_day_event_per_date(db, tmp_path):
    result = run_cli("calendar", "--format", "ics", db=db)
    assert result.code == 0, result.stderr
    parsed = icalendar.Calendar.from_ical(result.stdout)
    events = parsed.walk("VEVENT")
    assert [e.decoded("DTSTART") for e in events] == [date(2026, 11, 16), date(2027, 7, 1), date(2028, 1, 1)]
    entry = events[1]
    assert str(entry["SUMMARY"]) == ("Entry into force: Reglamento sobre transferencias internacionales "
                                     "de datos personales (ficticio, demostración)")
    assert "entrará en vigor el 1 de julio de 2027" in str(entry["DESCRIPTION"])
    assert entry.decoded("DTEND") == date(2027, 7, 2)
    assert str(entry["UID"]) == f"{REGULATION}/entry_into_force/2027-07-01@policywatch"
    assert str(parsed["PRODID"]).startswith("-//policywatch")
    # --ics FILE writes the same calendar beside the listing.
    path = tmp_path / "dates.ics"
    listed = run_cli("calendar", "--kind", "entry_into_force", "--ics", str(path), db=db)
    assert listed.code == 0 and "2027-07-01" in listed.stdout
    written = icalendar.Calendar.from_ical(path.read_bytes())
    assert [e.decoded("DTSTART") for e in written.walk("VEVENT")] == [date(2027, 7, 1)]
    unwritable = run_cli("calendar", "--ics", str(tmp_path / "missing" / "x.ics"), db=db)
    assert unwritable.code == 1 and "--ics: cannot write" in unwritable.stderr


def _record(store: Store, url: str, text: str, day: datetime) -> None:
    body = regulator_page("EU", "Rules on transfers", to_html(text), 1).encode()
    with store.transaction() as session:
        record_document(session, None, SOURCE, Fetch("eu-test", url, url, 200, {"content-type": "text/html"},
                                                     body), extract_document(body, "text/html"), now=day)


BODY = "Article 1\nThis Regulation lays down rules on transfers of personal data to third countries.\n\n"


def test_only_the_latest_versions_dates_are_listed(store):
    url = "https://example.eu/reg"
    _record(store, url, BODY + "Article 2\nThis Regulation shall enter into force on 1 June 2026.\n",
            datetime(2026, 3, 1))
    _record(store, url, BODY + "Article 2\nThis Regulation shall enter into force on 1 September 2026.\n",
            datetime(2026, 4, 1))
    _record(store, "https://example.eu/other", BODY + "Article 2\nThis Regulation shall apply from "
            "1 January 2027.\n", datetime(2026, 4, 1))
    with store.sessions() as session:
        rows = calendar(session, CalendarFilter(today=date(2026, 8, 1)))
        assert [(r["on"], r["kind"], r["version"], r["stage"]) for r in rows] == [
            ("2026-09-01", "entry_into_force", 2, "adopted"), ("2027-01-01", "application", 1, "unknown")]
        later = calendar(session, CalendarFilter(today=date(2026, 9, 1), kinds=("entry_into_force",)))
        assert [r["stage"] for r in later] == ["in_force"]
