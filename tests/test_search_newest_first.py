"""A search for a phrase found in many instruments walks the events newest first and
gives exactly the rows of a plain reference: every matching version found, the events of their
instruments sorted, filtered and cut. On a generated store where the walk passes over many
events of instruments without the phrase before a page is full, for every filter, limit and page
of the command line and the web view."""

from __future__ import annotations

import random
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import replace
from datetime import date, datetime, timedelta
from typing import TypeVar

import pytest
from sqlalchemy import event, select, text

from policywatch.web.reads import history_page
from storage import history_sql
from storage.database import Store
from storage.models import ChangeEvent, Instrument, Source, Version
from storage.queries import HistoryFilter, history
from storage.search import found_often, matching_versions, search_terms
from tests.conftest import BACKENDS, fresh_database, run_cli
from tests.test_search import add_instrument

WORDS = ("transfer data outside territory security assessment adequacy decision consent processor "
         "controller localisation storage export authority approval safeguards article annex").split()
CHINESE = "数据出境安全评估个人信息保护认证标准合同"
COMMON = "standard contractual clauses"   # in one English version of 12
OLD_ONLY = "binding corporate rules"      # only in the first version of a few instruments
JURISDICTIONS = ("EU", "CN", "US", "GB")
START = datetime(2025, 1, 1)
TODAY = date(2025, 6, 1)
NEEDLES = (COMMON, "standard contractual clause", OLD_ONLY, "个人信息", "出境", "data transfer",
           "ref1", "adequacy")


def version_text(rng: random.Random, instrument: int, number: int) -> str:
    if instrument % 5 == 0:
        characters = [rng.choice(CHINESE) for _ in range(30)]
        if rng.random() < 0.5:
            characters.insert(rng.randrange(len(characters)), "个人信息")
        return "".join(characters) + f" ref{instrument}"
    words = [rng.choice(WORDS) for _ in range(25)]
    if rng.random() < 0.08:
        words.insert(rng.randrange(len(words)), COMMON)
    if number == 1 and instrument % 20 == 1:
        words.insert(rng.randrange(len(words)), OLD_ONLY)
    return " ".join(words) + f" ref{instrument}."


def generate(store: Store, instruments: int = 150, seed: int = 3) -> None:
    """Instruments with one to eight versions each, their events (with withdrawals, technical
    changes, moves and baselines) spread over a few weeks, many of them in the same minute."""
    rng = random.Random(seed)
    with store.transaction() as session:
        for jurisdiction in JURISDICTIONS:
            session.add(Source(id=f"src-{jurisdiction.lower()}", name=f"Regulator {jurisdiction}",
                               jurisdiction=jurisdiction, level="national"))
    for index in range(1, instruments + 1):
        jurisdiction = JURISDICTIONS[index % len(JURISDICTIONS)]
        with store.transaction() as session:
            instrument = Instrument(uid=f"src-{jurisdiction.lower()}/i-{index}",
                                    source_id=f"src-{jurisdiction.lower()}",
                                    url=f"https://regulator.example/{index}", title=f"Instrument {index}",
                                    jurisdiction=jurisdiction, level="national", version_count=0)
            session.add(instrument)
            session.flush()
            times = sorted(START + timedelta(minutes=rng.randrange(0, 60 * 24 * 30, 30))
                           for _ in range(rng.randint(1, 12)))
            number = 0
            for position, at in enumerate(times):
                kind = "new" if position == 0 else rng.choice(
                    ("amended", "amended", "amended", "withdrawn", "restored", "technical", "moved"))
                if kind in ("new", "amended") and number < 8:
                    number += 1
                    session.add(Version(
                        instrument_id=instrument.id, number=number, title=instrument.title,
                        text=version_text(rng, index, number), text_hash=f"{index}-{number}",
                        recorded_at=at, paradigm=rng.choice(("facilitation", "prudent", None)),
                        stage="adopted",
                        lifecycle={"since": rng.choice(("2025-03-01", "2025-09-01")), "until": None}))
                    session.flush()
                elif kind in ("new", "amended"):
                    kind = "technical"
                session.add(ChangeEvent(
                    instrument_id=instrument.id, jurisdiction=jurisdiction, kind=kind,
                    version_number=max(number, 1), detected_at=at, url=instrument.url,
                    baseline=position == 0 and index % 3 == 0,
                    paradigm=rng.choice(("facilitation", "prudent", "restrictive", "unknown", None)),
                    stage=rng.choice(("draft", "adopted", None))))
            instrument.version_count = number


def has_phrase(body: str, needle: str) -> bool:
    """The phrase of the needle's terms in the text, its last term a prefix: what the index finds,
    worked out here from the texts themselves."""
    terms, words = search_terms(needle), search_terms(body)
    return any(words[i:i + len(terms) - 1] == terms[:-1] and words[i + len(terms) - 1].startswith(terms[-1])
               for i in range(len(words) - len(terms) + 1))


def matching_instruments(store: Store, needle: str) -> set[str]:
    """The instruments of every version the index finds, all of them."""
    with store.sessions() as session:
        found = matching_versions(session.get_bind().dialect.name, needle)
        versions = set(session.scalars(found)) if found is not None else set()
        return set(session.scalars(select(Instrument.uid).join(Version).where(Version.id.in_(versions))))


T = TypeVar("T")
WORKED_OUT: dict[tuple[str, ...], object] = {}  # per store: reference rows and the parts they share


def _once(key: tuple[str, ...], work: Callable[[], T]) -> T:
    """`work()`, worked out once per key (the stores are only read)."""
    if key not in WORKED_OUT:
        WORKED_OUT[key] = work()
    return WORKED_OUT[key]  # type: ignore[return-value]


def reference(store: Store, where: HistoryFilter) -> list[dict]:
    """Every matching version found, the events sorted and filtered without the search, then
    those of matching instruments kept and the limit applied (worked out once per store and
    filter; each needle's instruments and each unsearched history once too)."""
    return _once(("reference", store.url, repr(where)), lambda: _reference(store, where))


def _reference(store: Store, where: HistoryFilter) -> list[dict]:
    instruments = _once(("matching", store.url, where.search or ""),
                        lambda: matching_instruments(store, where.search or ""))
    unsearched = replace(where, search=None, limit=None)

    def everything() -> list[dict]:
        with store.sessions() as session:
            return history(session, unsearched)

    rows = [row for row in _once(("history", store.url, repr(unsearched)), everything)
            if row["instrument"] in instruments]
    return rows[:where.limit] if where.limit else rows


def searched(store: Store, where: HistoryFilter) -> list[dict]:
    with store.sessions() as session:
        return history(session, where)


@pytest.fixture(scope="module", params=BACKENDS)
def generated(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Store]:
    """The generated store of each backend, made once for the module: the tests only read it."""
    with fresh_database(request.param, tmp_path_factory.mktemp("generated")) as url:
        store = Store(url)
        generate(store)
        if store.engine.dialect.name == "postgresql":  # the statistics its search plans are chosen by
            with store.engine.begin() as connection:
                connection.execute(text("ANALYZE"))
        yield store
        store.close()


@pytest.fixture
def walking(monkeypatch: pytest.MonkeyPatch) -> None:
    """A threshold small enough for this store's common phrases to take the walk, the same for
    phrases of any length."""
    monkeypatch.setattr(history_sql, "FOUND_OFTEN", 10)
    monkeypatch.setattr(history_sql, "CONFIRMING", 1)
    monkeypatch.setattr(history_sql, "DENSE", 0)  # the walk of matching versions, not the dense one
    monkeypatch.setattr(history_sql, "POSTGRES_DENSE", 0)  # on PostgreSQL, of the hashed instruments


def test_the_generated_store_makes_the_walk_pass_over_many_events(generated, walking):
    with generated.sessions() as session:
        texts = {uid: [body for (body,) in session.execute(
                    select(Version.text).join(Instrument).where(Instrument.uid == uid))]
                 for uid in session.scalars(select(Instrument.uid))}
        dialect = session.get_bind().dialect.name
        often = {needle: found_often(session.connection(), needle) for needle in NEEDLES}
    for needle in NEEDLES:
        expected = {uid for uid, bodies in texts.items() if any(has_phrase(b, needle) for b in bodies)}
        assert matching_instruments(generated, needle) == expected, needle
        assert 3 <= len(expected) < len(texts), needle
    if dialect == "sqlite":
        assert often[COMMON] and often["个人信息"] and not often[OLD_ONLY] and not often["ref1"]
    # The first page of 10 of the common phrase sits among many newer events without it: the
    # walk tests and passes over them before the page is full.
    everything = searched(generated, HistoryFilter(today=TODAY, include_technical=True))
    page = searched(generated, HistoryFilter(search=COMMON, limit=10, today=TODAY, include_technical=True))
    last = next(i for i, row in enumerate(everything)
                if (row["instrument"], row["detected_at"], row["change"], row["version"]) ==
                (page[-1]["instrument"], page[-1]["detected_at"], page[-1]["change"], page[-1]["version"]))
    assert last + 1 - len(page) >= 30, last
    # An instrument whose phrase is only in its first version still finds its newest events.
    old_only = searched(generated, HistoryFilter(search=OLD_ONLY, today=TODAY, include_technical=True))
    assert any(row["version"] > 1 for row in old_only)


def filters(rng: random.Random) -> Iterator[HistoryFilter]:
    """Every needle with no filter, and with random combinations of all the filters."""
    for needle in NEEDLES:
        for limit in (None, 1, 3, 10, 50, 1000):
            yield HistoryFilter(search=needle, limit=limit, today=TODAY)
    for _ in range(100):
        since = START + timedelta(days=rng.randrange(0, 30))
        yield HistoryFilter(
            search=rng.choice(NEEDLES),
            since=since if rng.random() < 0.3 else None,
            until=since + timedelta(days=rng.randrange(1, 20)) if rng.random() < 0.3 else None,
            jurisdictions=tuple(rng.sample(JURISDICTIONS, rng.randint(1, 2))) if rng.random() < 0.3 else (),
            sources=("src-eu", "src-gb") if rng.random() < 0.15 else (),
            changes=tuple(rng.sample(("new", "amended", "withdrawn", "technical"), 2))
            if rng.random() < 0.3 else (),
            paradigms=tuple(rng.sample(("facilitation", "prudent", "restrictive", "unknown"), 2))
            if rng.random() < 0.3 else (),
            stages=tuple(rng.sample(("draft", "adopted", "in_force", "unknown"), 2))
            if rng.random() < 0.3 else (),
            include_technical=rng.random() < 0.5,
            include_baseline=rng.random() < 0.7,
            limit=rng.choice((None, 1, 5, 20, 100)),
            today=TODAY)


@pytest.fixture
def statements(generated: Store) -> Iterator[list[str]]:
    """The statements the generated store's engine runs during the test, as they run."""
    ran: list[str] = []

    def note(_connection, _cursor, statement, *_) -> None:
        ran.append(statement)

    event.listen(generated.engine, "before_cursor_execute", note)
    yield ran
    event.remove(generated.engine, "before_cursor_execute", note)


def plan_of(statement: str) -> str | None:
    """Whether a statement of the history query walks the events or sorts those of the matching
    instruments (None: neither, such as a count of the index)."""
    if "EXISTS" in statement or ") AS change_events" in statement:  # PostgreSQL's newest events
        return "walk"
    if any(f" IN (SELECT {matched}" in statement
           for matched in ("versions.instrument_id", "instrument_id FROM", "unnest(CAST(")):  # the last: ids read
        return "sort"
    return None


@pytest.mark.parametrize("plan", ["sorted", "walked", "short walks", "dense walks"])
def test_every_filter_and_limit_gives_the_reference_rows(generated, plan, request, monkeypatch, statements):
    if plan == "sorted":
        monkeypatch.setattr(history_sql, "DENSE", 0)
        monkeypatch.setattr(history_sql, "FOUND_OFTEN", 10**9)
    elif plan == "dense walks":  # every search of one or two terms found in the store tests as it walks
        monkeypatch.setattr(history_sql, "DENSE", 10**9)
        monkeypatch.setattr(history_sql, "POSTGRES_DENSE", 10**9)
        monkeypatch.setattr(history_sql, "FOUND_OFTEN", 1)
    else:
        request.getfixturevalue("walking")
    if plan == "short walks":  # most walks end before the page is full and the events are sorted
        monkeypatch.setattr(history_sql, "WALKED", 2)
    ran = statements
    compared = nonempty = 0
    answers: Counter[str] = Counter()
    for where in filters(random.Random(17)):
        expected = reference(generated, where)
        ran.clear()
        assert searched(generated, where) == expected, where
        plans = [plan_of(statement) for statement in ran]
        walks, sorts = plans.count("walk"), plans.count("sort")
        answers[f"{walks} walk, {sorts} sort"] += 1
        compared += 1
        nonempty += bool(expected)
    assert compared > 140 and nonempty > 70
    if plan == "sorted":
        assert set(answers) == {"0 walk, 1 sort"}, answers
    elif plan == "walked":  # PostgreSQL walks where its planner expects the needle in 10 instruments
        assert answers["1 walk, 0 sort"] > (50 if generated.engine.dialect.name == "sqlite" else 25), answers
    elif plan == "dense walks":  # the searches of one or two terms with a limit
        assert answers["1 walk, 0 sort"] > 30, answers
    else:
        assert answers["1 walk, 0 sort"] > 10 and answers["1 walk, 1 sort"] > 10, answers


def test_web_pages_of_a_common_phrase_give_the_reference_rows(generated, walking):
    for needle, size in ((COMMON, 7), ("个人信息", 4), (OLD_ONLY, 3)):
        where = HistoryFilter(search=needle, today=TODAY, include_technical=True)
        pages, cursor = [], None
        with generated.sessions() as session:
            while True:
                page, cursor = history_page(session, where, cursor, size)
                pages.append(page)
                if cursor is None:
                    break
        assert len(pages) > 3
        assert [row for page in pages for row in page] == reference(generated, where)


def test_the_command_line_gives_the_reference_rows(generated, walking):
    shown = run_cli("history", "--search", COMMON, "--limit", "15", "--format", "json", db=generated.url)
    assert shown.code == 0, shown.stderr
    expected = reference(generated, HistoryFilter(search=COMMON, limit=15))
    assert [(row["instrument"], row["detected_at"], row["change"]) for row in shown.json()] == [
        (row["instrument"], row["detected_at"], row["change"]) for row in expected]


def test_a_dense_word_reads_texts_only_when_the_index_holds_a_longer_word_it_starts(tmp_path, monkeypatch):
    monkeypatch.setattr(history_sql, "DENSE", 10**9)  # every word found in the store walks densely
    monkeypatch.setattr(history_sql, "WALKED", 1000)
    store = Store(f"sqlite:///{tmp_path / 'store.sqlite'}")
    add_instrument(store, "whole", "One", "National security review.")
    add_instrument(store, "longer", "Two", "Securityholders are told.")
    add_instrument(store, "neither", "Three", "Nothing of it.")
    ran: list[str] = []
    event.listen(store.engine, "before_cursor_execute", lambda _c, _k, statement, *_: ran.append(statement))

    def found(needle: str) -> list[str]:
        ran.clear()
        with store.sessions() as session:
            return sorted(row["instrument"] for row in history(session, HistoryFilter(search=needle, limit=5)))

    assert found("security") == ["longer", "whole"]  # "securityholders" in the index: its texts read
    assert any("policywatch_phrase" in statement for statement in ran)
    assert found("review") == ["whole"]  # no longer word: the index alone
    assert not any("policywatch_phrase" in statement for statement in ran)
    assert any("EXISTS" in statement for statement in ran)  # the dense walk, not the sorted plan
    store.close()
