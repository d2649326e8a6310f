"""The yearly trends from per-year counts: the same periods, flags and chart as computing them
from every instrument's history, on random histories, in a store folded between recordings, with
versions and withdrawals not yet folded, after a reclassification and in a week's digest."""

from __future__ import annotations

import random
from collections import Counter
from dataclasses import asdict, replace
from datetime import date, datetime, timedelta

import pytest
from sqlalchemy import select

from alerts.compose import compose_digest
from alerts.render import render_html, render_text
from alerts.settings import SmtpSettings, Subscription
from paradigms.chart import draw_trend_chart
from paradigms.trends import (
    Flag,
    InstrumentHistory,
    Period,
    compute_trends,
    entered_within,
    trends_from_counts,
    yearly_counts,
)
from policywatch.digests import build_digest
from storage import trend_spans
from storage.models import ChangeEvent, Instrument, Source, TrendCount, TrendMember, Version
from storage.queries import HistoryFilter, trend_histories
from storage.queries import history as read_history
from texts.vocabulary import RESTRICTIVE

LABELS = ("facilitation", "prudent", "restrictive", "unknown")
JURISDICTIONS = ("EU", "CN", "US", "SG")
LEVELS = ("national", "supranational", "bilateral", "multilateral", "unheard-of")


def summed(histories: list[InstrumentHistory]) -> Counter:
    """The histories' yearly counts added up (negative ones kept: `+` on Counters drops them)."""
    counts: Counter = Counter()
    for history in histories:
        counts.update(yearly_counts(history))
    return counts


def nonzero(counts: Counter) -> dict:
    return {key: n for key, n in counts.items() if n}


class HistoriesNamed:
    """paradigms.trends.Named over a list of histories, as the store answers it."""

    def __init__(self, histories: list[InstrumentHistory]) -> None:
        self.histories = histories

    def new_restrictive(self, year: str, first: int | None) -> list[str]:
        return [h.uid for h in self.histories if str(h.in_force_from.year) == year
                and h.paradigm_at(date(h.in_force_from.year, 12, 31)) == RESTRICTIVE][:first]

    def entered(self, start: date, end: date, paradigm: str) -> list[str]:
        return entered_within(self.histories, start, end, paradigm)

    def in_force(self, jurisdiction: str, day: date, first: int | None) -> list[str]:
        return [h.uid for h in self.histories if h.jurisdiction == jurisdiction
                and h.paradigm_at(day) is not None][:first]


def named_at_most(trends: tuple[list[Period], list[Flag]], names: int | None, periods: int | None
                  ) -> tuple[list[Period], list[Flag]]:
    """Trends as trends_from_counts names them: the last `periods` periods and their flags at
    most `names` instruments each (the first), the others none."""
    shown = {p.period for p in trends[0][0 if periods is None else max(len(trends[0]) - periods, 0):]}
    return ([replace(p, new_restrictive=p.new_restrictive[:names] if p.period in shown else [])
             for p in trends[0]],
            [replace(f, instruments=f.instruments[:names] if f.period in shown else [])
             for f in trends[1]])


def random_history(rng: random.Random, n: int) -> InstrumentHistory:
    in_force = date(2015, 1, 1) + timedelta(days=rng.randrange(3000))
    first = in_force + timedelta(days=rng.choice((0, 0, rng.randrange(-200, 400))))
    labels = [(min(first, in_force), rng.choice(LABELS))]
    for _ in range(rng.choice((0, 0, 1, 2, 4))):
        labels.append((labels[-1][0] + timedelta(days=rng.randrange(1, 900)), rng.choice(LABELS)))
    withdrawn: list[tuple[date, date | None]] = []
    day = in_force + timedelta(days=rng.randrange(-100, 1500))
    for _ in range(rng.choice((0, 0, 0, 1, 2))):
        restored = day + timedelta(days=rng.randrange(1, 700)) if rng.random() < 0.7 else None
        withdrawn.append((day, restored))
        if restored is None:
            break
        day = restored + timedelta(days=rng.randrange(1, 500))
    return InstrumentHistory(f"i-{n}", f"Instrument {n}", rng.choice(JURISDICTIONS), rng.choice(LEVELS),
                             in_force, tuple(labels), tuple(withdrawn),
                             last_recorded=labels[-1][0] + timedelta(days=rng.randrange(0, 400)))


@pytest.mark.parametrize("seed", range(40))
def test_counts_give_the_trends_of_the_histories(seed):
    rng = random.Random(seed)
    histories = [random_history(rng, n) for n in range(rng.choice((1, 3, 12, 60, 200)))]
    counts = summed(histories)
    named = HistoriesNamed(histories)
    assert trends_from_counts(counts, named) == compute_trends(histories, "year")
    until = date(2016 + rng.randrange(12), 6, 30)
    assert trends_from_counts(counts, named, until) == compute_trends(histories, "year", until)


def test_counts_of_a_replaced_history_are_taken_back_exactly():
    rng = random.Random(3)
    histories = [random_history(rng, n) for n in range(80)]
    counts = summed(histories)
    replaced = random_history(rng, 7)
    counts.subtract(yearly_counts(histories[7]))
    counts.update(yearly_counts(replaced))
    histories[7] = replaced
    assert nonzero(counts) == nonzero(summed(histories))
    assert trends_from_counts(counts, HistoriesNamed(histories)) == compute_trends(histories, "year")


def test_periods_and_flags_outside_the_named_periods_name_no_instruments():
    rng = random.Random(5)
    histories = [random_history(rng, n) for n in range(120)]
    counts = summed(histories)
    periods, flags = compute_trends(histories, "year")
    named_periods, named = trends_from_counts(counts, HistoriesNamed(histories), named_periods=2)
    recent = {p.period for p in periods[-2:]}
    assert [f for f in named if f.period in recent] == [f for f in flags if f.period in recent]
    assert [(f.kind, f.period, f.message) for f in named] == [(f.kind, f.period, f.message) for f in flags]
    assert any(f.instruments for f in flags if f.period not in recent)  # the test can tell
    assert any(p.new_restrictive for p in periods if p.period not in recent)
    assert not any(f.instruments for f in named if f.period not in recent)
    assert not any(p.new_restrictive for p in named_periods if p.period not in recent)
    assert named_periods[-2:] == periods[-2:]


@pytest.mark.parametrize("seed", range(30))
def test_periods_and_flags_name_at_most_so_many_instruments_the_first_and_flag_as_before(seed):
    rng = random.Random(seed)
    histories = [random_history(rng, n) for n in range(rng.choice((3, 40, 200, 400)))]
    counts = summed(histories)
    names, periods = rng.choice((0, 1, 6, 50, None)), rng.choice((0, 1, 2, 3, None))
    until = rng.choice((None, date(2016 + rng.randrange(12), 6, 30)))
    expected = named_at_most(compute_trends(histories, "year", until), names, periods)
    assert trends_from_counts(counts, HistoriesNamed(histories), until, periods, names) == expected


def test_a_burst_is_told_from_the_counts_when_no_period_names_its_instruments():
    restrictive = [InstrumentHistory(f"r-{n}", "", "EU", "national", date(2020 + n // 10, 3, 1),
                                     ((date(2020 + n // 10, 3, 1), RESTRICTIVE),)) for n in range(15)]
    other = [InstrumentHistory(f"f-{n}", "", "EU", "national", date(2019, 1, 1),
                               ((date(2019, 1, 1), "facilitation"),)) for n in range(4)]
    histories = other + restrictive  # 2020: 10 new restrictive, 2021: 5, 2022: none
    periods, flags = compute_trends(histories, "year", date(2022, 12, 31))
    assert [f.message for f in flags if f.kind == "restrictive-burst"] == [
        "10 new restrictive instruments (previous mean 0.0)"]
    assert trends_from_counts(summed(histories), HistoriesNamed(histories), date(2022, 12, 31), 0, 0) == \
        named_at_most((periods, flags), 0, 0)


class RandomStore:
    """Instruments recorded into a real store at random: versions (some relabelling, some with a
    publication date), withdrawals and restorations, over 2019-2026."""

    def __init__(self, store, seed: int) -> None:
        self.store, self.rng, self.day = store, random.Random(seed), datetime(2019, 1, 1)
        with store.transaction() as session:
            for jurisdiction in JURISDICTIONS:
                if session.get(Source, f"s-{jurisdiction.lower()}") is None:
                    session.add(Source(id=f"s-{jurisdiction.lower()}", name=jurisdiction,
                                       jurisdiction=jurisdiction, level="national"))

    def record(self, steps: int) -> None:
        rng = self.rng
        with self.store.transaction() as session:
            instruments = list(session.scalars(select(Instrument)))
            for _ in range(steps):
                self.day += timedelta(days=rng.randrange(0, 9), hours=rng.randrange(24))
                if not instruments or rng.random() < 0.3:
                    n = len(instruments) + 1
                    jurisdiction = rng.choice(JURISDICTIONS)
                    instrument = Instrument(uid=f"i-{n}", source_id=f"s-{jurisdiction.lower()}",
                                            url=f"https://example.org/{n}", title=f"Instrument {n}",
                                            jurisdiction=jurisdiction, level=rng.choice(LEVELS),
                                            first_seen_at=self.day, version_count=0)
                    session.add(instrument)
                    session.flush()
                    instruments.append(instrument)
                    self.version(session, instrument, rng.choice(LABELS))
                    continue
                instrument = rng.choice(instruments)
                action = rng.random()
                if action < 0.6 and instrument.version_count:
                    latest = session.scalar(select(Version.paradigm).where(
                        Version.instrument_id == instrument.id, Version.number == instrument.version_count))
                    self.version(session, instrument, rng.choice(LABELS) if rng.random() < 0.3 else latest)
                elif action < 0.8:
                    self.event(session, instrument, "withdrawn")
                else:
                    self.event(session, instrument, "restored")

    def version(self, session, instrument: Instrument, paradigm: str | None) -> None:
        instrument.version_count += 1
        if self.rng.random() < 0.2:  # a publication date read from the text, before or after
            instrument.published = (self.day + timedelta(days=self.rng.randrange(-900, 300))).date().isoformat()
        session.add(Version(instrument_id=instrument.id, number=instrument.version_count,
                            text=f"{instrument.uid} {self.day}", text_hash=f"{instrument.uid}{self.day}",
                            recorded_at=self.day, paradigm=None if paradigm == "unknown" and
                            self.rng.random() < 0.5 else paradigm))
        session.flush()

    def event(self, session, instrument: Instrument, kind: str) -> None:
        session.add(ChangeEvent(instrument_id=instrument.id, jurisdiction=instrument.jurisdiction, kind=kind,
                                version_number=instrument.version_count, detected_at=self.day,
                                url=instrument.url))
        session.flush()

    def relabel(self, share: float) -> None:
        """What a reclassification does: old versions take other labels, and the trends start over."""
        with self.store.transaction() as session:
            for version in session.scalars(select(Version)):
                if self.rng.random() < share:
                    version.paradigm = self.rng.choice(LABELS)
            trend_spans.reset(session)


def from_scratch(store, until: date | None = None):
    with store.sessions() as session:
        histories = trend_histories(session)
    counts = summed(histories)
    return compute_trends(histories, "year", until), nonzero(counts)


def stored_counts(store) -> Counter:
    with store.sessions() as session:
        return nonzero(Counter({(r.measure, r.year, r.jurisdiction, r.level_group, r.paradigm): r.count
                                for r in session.scalars(select(TrendCount))}))


def from_counts(store, until: date | None = None, named_periods: int | None = None,
                names: int | None = None):
    with store.sessions() as session:
        return trend_spans.yearly_trends(session, until, named_periods, names)


@pytest.mark.parametrize("seed", range(4))
def test_the_store_folded_between_recordings_gives_the_trends_computed_from_scratch(store, seed):
    generated = RandomStore(store, seed)
    for round_ in range(6):
        generated.record(generated.rng.choice((5, 40, 120)))
        expected, counts = from_scratch(store)
        assert from_counts(store) == expected       # not yet folded: added in memory
        names = generated.rng.choice((0, 1, 3, 8))
        assert from_counts(store, None, 2, names) == named_at_most(expected, names, 2)
        if round_ % 3 != 2:                          # some rounds record twice before a fold
            trend_spans.advance(store)
            assert stored_counts(store) == counts
            assert from_counts(store) == expected
            assert from_counts(store, None, 3, names) == named_at_most(expected, names, 3)
        until = date(2019 + generated.rng.randrange(6), 12, 31)
        assert from_counts(store, until) == from_scratch(store, until)[0]
    periods, flags = from_scratch(store)[0]
    assert len(periods) >= 3 and flags  # the comparison saw shares and flags


def test_a_reclassification_rebuilds_the_counts(store):
    generated = RandomStore(store, 11)
    generated.record(150)
    trend_spans.advance(store)
    generated.relabel(0.4)
    expected, counts = from_scratch(store)
    assert from_counts(store) == expected   # nothing folded after the reset: all in memory
    assert trend_spans.advance(store) > 0
    assert stored_counts(store) == counts
    generated.record(30)
    trend_spans.advance(store)
    assert from_counts(store) == from_scratch(store)[0]
    assert stored_counts(store) == from_scratch(store)[1]


def test_a_withdrawal_alone_moves_the_counts(store):
    generated = RandomStore(store, 2)
    generated.record(60)
    trend_spans.advance(store)
    before = stored_counts(store)
    with store.transaction() as session:
        instrument = session.scalar(select(Instrument).where(Instrument.version_count > 0).limit(1))
        generated.day += timedelta(days=400)
        generated.event(session, instrument, "withdrawn")
    assert trend_spans.advance(store) == 0   # no version read, the withdrawal folded in
    assert stored_counts(store) != before
    assert stored_counts(store) == from_scratch(store)[1]
    assert from_counts(store) == from_scratch(store)[0]


def test_members_keep_the_publication_date_the_counts_were_taken_with(store):
    generated = RandomStore(store, 4)
    generated.record(40)
    trend_spans.advance(store)
    with store.transaction() as session:
        instrument = session.scalar(select(Instrument).order_by(Instrument.id).limit(1))
        instrument.published = "2010-05-01"      # a new version says it is much older
        generated.version(session, instrument, "restrictive")
        key = instrument.id
    trend_spans.advance(store)
    with store.sessions() as session:
        assert session.get(TrendMember, key).in_force == "2010-05-01"
    assert stored_counts(store) == from_scratch(store)[1]
    assert from_counts(store)[0][0].period == "2010"


def test_a_weeks_digest_has_the_trends_flags_and_chart_computed_from_every_instrument(store):
    generated = RandomStore(store, 9)
    generated.record(400)
    trend_spans.advance(store)
    generated.record(20)                                 # a week recorded since the last digest
    (periods, flags), _ = from_scratch(store)
    until = generated.day + timedelta(days=1)
    subscription = Subscription(name="weekly", recipients=("analyst@example.org",), window="7d")
    digest, message, chart = build_digest(store, subscription, until - timedelta(days=7), until,
                                          SmtpSettings(), now=until)
    recent = {p.period for p in periods[-2:]}
    shown_periods, shown_flags = named_at_most((periods, flags), 6, 2)
    assert digest.trend_periods == [asdict(p) for p in shown_periods]
    assert digest.flags == [asdict(f) for f in shown_flags if f.period in recent]
    assert chart == draw_trend_chart(periods, flags)
    assert len(periods) >= 3 and flags
    # The parts of the message are those of the trends naming every instrument.
    every_name = compose_digest(subscription, digest_events(store, until), until - timedelta(days=7),
                                until, [asdict(f) for f in flags if f.period in recent],
                                trend_periods=[asdict(p) for p in periods])
    assert any(len(f["instruments"]) > 6 for f in every_name.flags)  # the test can tell
    assert render_text(digest) == render_text(every_name)
    assert render_html(digest, "chart") == render_html(every_name, "chart")


def digest_events(store, until: datetime) -> list[dict]:
    with store.sessions() as session:
        return read_history(session, HistoryFilter(since=until - timedelta(days=7), until=until))


def test_the_first_instruments_in_force_are_found_past_the_withdrawn_ones(store):
    generated = RandomStore(store, 1)
    with store.transaction() as session:
        for n in range(12):
            instrument = Instrument(uid=f"w-{n}", source_id="s-eu", url=f"https://example.org/w{n}",
                                    title="", jurisdiction="EU", level="national",
                                    first_seen_at=generated.day, version_count=0)
            session.add(instrument)
            session.flush()
            generated.version(session, instrument, "prudent")
    generated.day += timedelta(days=30)
    with store.transaction() as session:
        for instrument in session.scalars(select(Instrument).order_by(Instrument.id).limit(9)):
            generated.event(session, instrument, "withdrawn")  # the first nine of twelve
    trend_spans.advance(store)
    day = generated.day.date() + timedelta(days=1)
    with store.sessions() as session:
        names = trend_spans.StoredNames(session, trend_spans._pending(session))
        assert names.in_force("EU", day, 2) == ["w-9", "w-10"]
        assert names.in_force("EU", day, 5) == ["w-9", "w-10", "w-11"]
        assert names.in_force("EU", day, None) == ["w-9", "w-10", "w-11"]
        assert names.in_force("EU", day - timedelta(days=31), 2) == ["w-0", "w-1"]


def test_the_digests_texts_on_one_line_are_header_safes_whatever_their_characters():
    from alerts.compose import one_line
    from texts.header_safe import header_safe

    rng = random.Random(1)
    alphabet = "ab 数据 \t\r\n\x00\x1b\x85\xa0\u2028\u2029\u3000\u200b\u202f-"
    texts = ["", " ", "plain", "Article 5 – transfers", "two  spaces", " lead", "trail "]
    texts += ["".join(rng.choice(alphabet) for _ in range(rng.randrange(1, 12))) for _ in range(3000)]
    assert [one_line(text) for text in texts] == [header_safe(text) for text in texts]
    assert one_line({"title": ["a\nb"]}) == {"title": ["a b"]}
