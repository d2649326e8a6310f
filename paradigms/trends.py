"""Trends: paradigm shares of the instruments in force, period by period, and flagged shifts.

Pure functions over instrument histories (what the store knows of each instrument: when it came
into force, when its versions took effect with which paradigm, when it was withdrawn).
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass, field
from datetime import date
from functools import partial
from typing import Protocol

from texts.vocabulary import PARADIGMS, RESTRICTIVE, UNKNOWN

LEVEL_GROUPS = {
    "national": "national/regional", "subnational": "national/regional",
    "supranational": "national/regional", "bilateral": "multilateral/bilateral",
    "plurilateral": "multilateral/bilateral", "multilateral": "multilateral/bilateral",
}
SHARE_MOVE = 0.15     # a share moving this much against the previous periods' mean is flagged
BURST_MIN = 3         # at least this many new restrictive instruments ...
BURST_FACTOR = 2.0    # ... and this many times the previous periods' mean
LOOKBACK = 3          # previous periods compared with


def withdrawn_on(withdrawn: Iterable[tuple[date, date | None]], day: date) -> bool:
    """Whether `day` falls in one of the (withdrawn on, restored on or None) spans."""
    return any(start <= day and (end is None or day < end) for start, end in withdrawn)


@dataclass(frozen=True)
class InstrumentHistory:
    uid: str
    title: str
    jurisdiction: str
    level: str
    in_force_from: date
    labels: tuple[tuple[date, str], ...]  # (effective from, paradigm), oldest first
    withdrawn: tuple[tuple[date, date | None], ...] = ()  # (withdrawn on, restored on or None)
    last_recorded: date | None = None  # its newest version (amendments that kept the label too)

    def paradigm_at(self, day: date) -> str | None:
        """The paradigm in force on `day`, or None if the instrument was not in force."""
        if day < self.in_force_from:
            return None
        if withdrawn_on(self.withdrawn, day):
            return None
        current = None
        for since, label in self.labels:
            if since <= day:
                current = label
        return current or (self.labels[0][1] if self.labels else UNKNOWN)


@dataclass
class Period:
    period: str
    end: date
    in_force: int
    counts: dict[str, int]
    shares: dict[str, float]
    by_level: dict[str, dict[str, float]]
    # Came into force in the period, restrictive at its end (from the counts: those named only).
    new_restrictive: list[str] = field(default_factory=list)


@dataclass
class Flag:
    kind: str            # jurisdiction-shift | share-move | restrictive-burst
    period: str
    message: str
    paradigm: str | None = None
    jurisdiction: str | None = None
    instruments: list[str] = field(default_factory=list)  # from the counts: those named only


def period_bounds(first: date, last: date, by: str) -> list[tuple[str, date, date]]:
    """(label, start, end inclusive) of every year or quarter from `first` to `last`."""
    bounds = []
    if by == "year":
        for year in range(first.year, last.year + 1):
            bounds.append((str(year), date(year, 1, 1), date(year, 12, 31)))
        return bounds
    year, quarter = first.year, (first.month - 1) // 3
    while (year, quarter) <= (last.year, (last.month - 1) // 3):
        start = date(year, 3 * quarter + 1, 1)
        end = date(year + (quarter == 3), (3 * quarter + 3) % 12 + 1, 1).toordinal() - 1
        bounds.append((f"{year}-Q{quarter + 1}", start, date.fromordinal(end)))
        year, quarter = (year + 1, 0) if quarter == 3 else (year, quarter + 1)
    return bounds


def paradigm_shares(counts: Counter) -> dict[str, float]:
    """Each paradigm's share of the instruments with a paradigm (unknown ones left out)."""
    known = sum(counts[p] for p in PARADIGMS)
    return {p: round(counts[p] / known, 3) if known else 0.0 for p in PARADIGMS}


def dominant_paradigm(counts: Counter) -> str | None:
    """The paradigm most instruments take, "mixed" on a tie, None when none has one."""
    known = {p: counts[p] for p in PARADIGMS if counts[p]}
    if not known:
        return None
    best = max(known.values())
    leaders = [p for p, n in known.items() if n == best]
    return leaders[0] if len(leaders) == 1 else "mixed"


def compute_trends(histories: list[InstrumentHistory], by: str = "year",
                   until: date | None = None) -> tuple[list[Period], list[Flag]]:
    """Shares per period (overall and by level group) and the shifts worth flagging."""
    if not histories:
        return [], []
    first = min(h.in_force_from for h in histories)
    last = until or max(latest_day(h) for h in histories)
    tallies = []
    for label, start, end in period_bounds(first, last, by):
        tally = Tally(label, start, end)
        members: dict[str, list[str]] = defaultdict(list)
        for history in histories:
            paradigm = history.paradigm_at(end)
            if paradigm is None:
                continue
            tally.add(history.jurisdiction, LEVEL_GROUPS.get(history.level, "national/regional"),
                      paradigm)
            members[history.jurisdiction].append(history.uid)
            if paradigm == RESTRICTIVE and start <= history.in_force_from <= end:
                tally.new_restrictive.append(history.uid)
        tallies.append(tally)
        tally.members = members.__getitem__
        tally.entered = partial(entered_within, histories, start, end)
    return trends_of(tallies)


def latest_day(history: InstrumentHistory) -> date:
    """The newest day the history knows of: in force, a label, a withdrawal or its last version."""
    return max([history.in_force_from, *(d for d, _ in history.labels),
                *(d for d, _ in history.withdrawn),
                *([history.last_recorded] if history.last_recorded else [])])


@dataclass
class Tally:
    """What one period's shares and flags are computed from: the instruments in force at its end
    counted by jurisdiction, level group and paradigm, the new restrictive ones, and the
    instruments flags name (looked up only for a flag raised)."""

    period: str
    start: date
    end: date
    counts: Counter = field(default_factory=Counter)       # (jurisdiction, group, paradigm) -> n
    new_restrictive: list[str] = field(default_factory=list)  # (the first of) those named
    new_restrictive_count: int | None = None               # how many there are; None: all named
    members: Callable[[str], list[str]] = lambda jurisdiction: []     # in force in a jurisdiction
    entered: Callable[[str], list[str]] = lambda paradigm: []         # took a paradigm (entered_within)

    @property
    def new_restrictive_total(self) -> int:
        """How many instruments came into force in the period, restrictive at its end."""
        count = self.new_restrictive_count
        return len(self.new_restrictive) if count is None else count

    def add(self, jurisdiction: str, group: str, paradigm: str, count: int = 1) -> None:
        self.counts[(jurisdiction, group, paradigm)] += count


def trends_of(tallies: list[Tally]) -> tuple[list[Period], list[Flag]]:
    """Periods and flags from each period's tally, oldest first."""
    periods: list[Period] = []
    flags: list[Flag] = []
    previous_dominant: dict[str, str | None] = {}
    new_counts: list[int] = []  # each period's number of new restrictive instruments
    for tally in tallies:
        label = tally.period
        counts: Counter = Counter()
        levels: dict[str, Counter] = defaultdict(Counter)
        by_jurisdiction: dict[str, Counter] = defaultdict(Counter)
        for (jurisdiction, group, paradigm), count in tally.counts.items():
            if count:
                counts[paradigm] += count
                levels[group][paradigm] += count
                by_jurisdiction[jurisdiction][paradigm] += count
        new_restrictive = tally.new_restrictive
        period = Period(label, tally.end, sum(counts.values()),
                        {p: counts[p] for p in (*PARADIGMS, UNKNOWN)}, paradigm_shares(counts),
                        {group: paradigm_shares(c) for group, c in sorted(levels.items())},
                        new_restrictive)
        earlier = periods[-LOOKBACK:]
        for paradigm in PARADIGMS:
            if not earlier:
                break
            mean = sum(p.shares[paradigm] for p in earlier) / len(earlier)
            move = period.shares[paradigm] - mean
            if abs(move) >= SHARE_MOVE:
                direction = "rose" if move > 0 else "fell"
                flags.append(Flag("share-move", label, f"{paradigm} share {direction} to "
                                  f"{period.shares[paradigm]:.0%} (previous mean {mean:.0%})",
                                  paradigm, instruments=tally.entered(paradigm)))
        new_count = tally.new_restrictive_total
        if earlier and new_count >= BURST_MIN:  # a first period has no mean to beat
            mean = sum(new_counts[-LOOKBACK:]) / len(earlier)
            if new_count >= BURST_FACTOR * mean:
                flags.append(Flag("restrictive-burst", label,
                                  f"{new_count} new restrictive instruments "
                                  f"(previous mean {mean:.1f})", RESTRICTIVE,
                                  instruments=new_restrictive))
        for jurisdiction, jurisdiction_counts in sorted(by_jurisdiction.items()):
            dominant = dominant_paradigm(jurisdiction_counts)
            before = previous_dominant.get(jurisdiction)
            definite = before in PARADIGMS and dominant in PARADIGMS  # not from or to a tie
            if definite and before != dominant:
                flags.append(Flag("jurisdiction-shift", label,
                                  f"{jurisdiction} moved from {before} to {dominant}", dominant,
                                  jurisdiction, tally.members(jurisdiction)))
            if dominant != "mixed":
                previous_dominant[jurisdiction] = dominant
        periods.append(period)
        new_counts.append(new_count)
    return periods, flags


# The yearly shares kept as counts (storage/trend_spans.py stores their sum over the instruments):
# per (measure, year, jurisdiction, level group, paradigm or NOT_IN_FORCE),
#   IN_FORCE  +1 / -1 from the year an instrument's paradigm at the year's end starts / stops being it,
#   ENTERED   1 in the year it came into force, under its paradigm at that year's end,
#   LATEST    1 in the year of its newest day (the last period of the trends).
IN_FORCE, ENTERED, LATEST = "in_force", "entered", "latest"
NOT_IN_FORCE = ""
CountKey = tuple[str, str, str, str, str]


def year_end(day: date) -> date:
    return date(day.year, 12, 31)


def entered_paradigm(history: InstrumentHistory) -> str | None:
    """Its paradigm at the end of the year it came into force (None: withdrawn by then)."""
    return history.paradigm_at(year_end(history.in_force_from))


def yearly_counts(history: InstrumentHistory) -> Counter:
    """One instrument's share of the yearly counts (CountKey -> n); summed over the instruments
    they give what compute_trends(histories, "year") counts."""
    group = LEVEL_GROUPS.get(history.level, "national/regional")
    where = (history.jurisdiction, group)
    counts: Counter = Counter()
    first = history.in_force_from.year
    years = {first} | {d.year for d, _ in history.labels if d.year > first}
    years |= {d.year for span in history.withdrawn for d in span if d is not None and d.year > first}
    before: str | None = None
    for year in sorted(years):  # the paradigm at a year's end changes only in these years
        now = history.paradigm_at(date(year, 12, 31))
        if now != before:
            if before is not None:
                counts[(IN_FORCE, str(year), *where, before)] -= 1
            if now is not None:
                counts[(IN_FORCE, str(year), *where, now)] += 1
            before = now
    counts[(ENTERED, str(first), *where, entered_paradigm(history) or NOT_IN_FORCE)] += 1
    counts[(LATEST, str(latest_day(history).year), *where, NOT_IN_FORCE)] += 1
    return counts


class Named(Protocol):
    """The instruments the yearly trends name, looked up where the counts are kept; each list in
    order of id, of which `first` None asks for all."""

    def new_restrictive(self, year: str, first: int | None) -> list[str]:
        """The instruments that came into force in `year`, restrictive at its end."""

    def entered(self, start: date, end: date, paradigm: str) -> list[str]:
        """What entered_within gives for these days and this paradigm."""

    def in_force(self, jurisdiction: str, day: date, first: int | None) -> list[str]:
        """The jurisdiction's instruments in force on `day`."""


def trends_from_counts(counts: Counter, named: Named, until: date | None = None,
                       named_periods: int | None = None, names: int | None = None
                       ) -> tuple[list[Period], list[Flag]]:
    """compute_trends(histories, "year", until) from the sum of the histories' yearly_counts.
    With `named_periods`, only that many most recent periods and their flags name their
    instruments (finding them reads those instruments); with `names`, each names at most that
    many, the first in order of id (their number is taken from the counts)."""
    entered = [int(key[1]) for key, n in counts.items() if key[0] == ENTERED and n]
    if not entered:
        return [], []
    latest = until or date(max(int(key[1]) for key, n in counts.items() if key[0] == LATEST and n), 12, 31)
    deltas: dict[str, Counter] = defaultdict(Counter)
    new_restrictive: Counter = Counter()  # year -> how many came into force restrictive
    for (measure, year, jurisdiction, group, paradigm), n in counts.items():
        if measure == IN_FORCE and n:
            deltas[year][(jurisdiction, group, paradigm)] += n
        elif measure == ENTERED and paradigm == RESTRICTIVE:
            new_restrictive[year] += n
    bounds = period_bounds(date(min(entered), 1, 1), latest, "year")
    running: Counter = Counter()  # no instrument is in force before the first year
    tallies = []
    for index, (label, start, end) in enumerate(bounds):
        running.update(deltas.get(label, Counter()))
        tally = Tally(label, start, end, +running, new_restrictive_count=new_restrictive[label])
        if named_periods is None or index >= len(bounds) - named_periods:
            tally.new_restrictive = named.new_restrictive(label, names)
            tally.members = partial(_in_force, named, end, names)
            tally.entered = partial(_entered, named, start, end, names)
        tallies.append(tally)
    return trends_of(tallies)


def _in_force(named: Named, day: date, first: int | None, jurisdiction: str) -> list[str]:
    return named.in_force(jurisdiction, day, first)


def _entered(named: Named, start: date, end: date, first: int | None, paradigm: str) -> list[str]:
    return named.entered(start, end, paradigm)[:first]


def entered_within(histories: list[InstrumentHistory], start: date, end: date,
                   paradigm: str) -> list[str]:
    """Instruments that took `paradigm` (came into force or were relabelled) within the period."""
    return [h.uid for h in histories
            if any(start <= since <= end and label == paradigm for since, label in h.labels)
            or (start <= h.in_force_from <= end and h.paradigm_at(end) == paradigm)]


def trends_json(periods: list[Period], flags: list[Flag]) -> dict:
    return {"periods": [asdict(p) | {"end": p.end.isoformat()} for p in periods],
            "flags": [asdict(f) for f in flags]}
