"""Trends: paradigm shares of the instruments in force, period by period, and flagged shifts.

Pure functions over instrument histories (what the store knows of each instrument: when it came
into force, when its versions took effect with which paradigm, when it was withdrawn).
"""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import asdict, dataclass, field
from datetime import date

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
        if any(start <= day and (end is None or day < end) for start, end in self.withdrawn):
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
    new_restrictive: list[str] = field(default_factory=list)


@dataclass
class Flag:
    kind: str            # jurisdiction-shift | share-move | restrictive-burst
    period: str
    message: str
    paradigm: str | None = None
    jurisdiction: str | None = None
    instruments: list[str] = field(default_factory=list)


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
    last = until or max([h.in_force_from for h in histories]
                        + [d for h in histories for d, _ in h.labels]
                        + [d for h in histories for d, _ in h.withdrawn]
                        + [h.last_recorded for h in histories if h.last_recorded])
    periods: list[Period] = []
    flags: list[Flag] = []
    previous_dominant: dict[str, str | None] = {}
    for label, start, end in period_bounds(first, last, by):
        counts: Counter = Counter()
        levels: dict[str, Counter] = defaultdict(Counter)
        by_jurisdiction: dict[str, Counter] = defaultdict(Counter)
        jurisdiction_members: dict[str, list[str]] = defaultdict(list)
        new_restrictive = []
        for history in histories:
            paradigm = history.paradigm_at(end)
            if paradigm is None:
                continue
            counts[paradigm] += 1
            levels[LEVEL_GROUPS.get(history.level, "national/regional")][paradigm] += 1
            by_jurisdiction[history.jurisdiction][paradigm] += 1
            jurisdiction_members[history.jurisdiction].append(history.uid)
            if paradigm == RESTRICTIVE and start <= history.in_force_from <= end:
                new_restrictive.append(history.uid)
        period = Period(label, end, sum(counts.values()), {p: counts[p] for p in (*PARADIGMS, UNKNOWN)},
                        paradigm_shares(counts),
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
                                  paradigm, instruments=_entered(histories, start, end, paradigm)))
        if earlier and len(new_restrictive) >= BURST_MIN:  # a first period has no mean to beat
            mean = sum(len(p.new_restrictive) for p in earlier) / len(earlier)
            if len(new_restrictive) >= BURST_FACTOR * mean:
                flags.append(Flag("restrictive-burst", label,
                                  f"{len(new_restrictive)} new restrictive instruments "
                                  f"(previous mean {mean:.1f})", RESTRICTIVE,
                                  instruments=new_restrictive))
        for jurisdiction, jurisdiction_counts in sorted(by_jurisdiction.items()):
            dominant = dominant_paradigm(jurisdiction_counts)
            before = previous_dominant.get(jurisdiction)
            definite = before in PARADIGMS and dominant in PARADIGMS  # not from or to a tie
            if definite and before != dominant:
                flags.append(Flag("jurisdiction-shift", label,
                                  f"{jurisdiction} moved from {before} to {dominant}", dominant,
                                  jurisdiction, jurisdiction_members[jurisdiction]))
            if dominant != "mixed":
                previous_dominant[jurisdiction] = dominant
        periods.append(period)
    return periods, flags


def _entered(histories: list[InstrumentHistory], start: date, end: date, paradigm: str) -> list[str]:
    """Instruments that took `paradigm` (came into force or were relabelled) within the period."""
    return [h.uid for h in histories
            if any(start <= since <= end and label == paradigm for since, label in h.labels)
            or (start <= h.in_force_from <= end and h.paradigm_at(end) == paradigm)]


def trends_json(periods: list[Period], flags: list[Flag]) -> dict:
    return {"periods": [asdict(p) | {"end": p.end.isoformat()} for p in periods],
            "flags": [asdict(f) for f in flags]}
