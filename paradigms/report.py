"""The comparative report: the paradigm of the instruments in force per level and jurisdiction,
the shares, their trend by year, the instruments behind each cell, and the dimension that drives
each call — the study's table, computed from what the store holds.

Pure functions over one record per instrument (its latest version). What counts as in force: an
active instrument (not withdrawn) whose latest version is not a draft, a consultation text or
repealed, and that no instrument in the store repeals (`repealed_by`). A version whose stage the
text does not state (`unknown`) counts as in force: regulators' pages publish the texts they
apply, and most texts never say their own stage. Shares are of the instruments with a paradigm;
those the classifier could not place (`unknown`) are counted beside them, not in the shares.
The year of an instrument is read by `storage.report.instrument_year` (the adoption its text
states, its publication, the year its title gives, its entry into force, the page's date, the day
it was first seen); the trend of a year is the shares among the instruments in force today dated
that year or earlier.
"""

from __future__ import annotations

import io
import math
from collections import Counter
from dataclasses import asdict, dataclass, field

from paradigms.trends import LEVEL_GROUPS, dominant_paradigm, paradigm_shares
from texts.vocabulary import PARADIGM_COLOURS, PARADIGM_NAMES, PARADIGMS, UNKNOWN

NATIONAL, MULTILATERAL = "national/regional", "multilateral/bilateral"
GROUPS = (NATIONAL, MULTILATERAL)
NOT_IN_FORCE = ("draft", "consultation", "repealed")
ALL = "(all)"
MAX_YEAR_TICKS = 8  # more year labels than this collide


@dataclass(frozen=True)
class ReportInstrument:
    """What the report needs of one instrument and its latest version."""

    uid: str
    title: str
    jurisdiction: str
    level: str
    year: int
    paradigm: str                 # of the latest version; "unknown" when none
    stage: str = UNKNOWN          # of the latest version (paradigms.lifecycle.STAGES)
    dimension: str | None = None  # the dimension of the evidence behind the paradigm
    status: str = "active"        # active | withdrawn
    repealed_by: tuple[str, ...] = ()

    @property
    def group(self) -> str:
        return LEVEL_GROUPS.get(self.level, NATIONAL)

    @property
    def in_force(self) -> bool:
        return self.status != "withdrawn" and self.stage not in NOT_IN_FORCE and not self.repealed_by


def driving_dimension(classification: dict | None) -> str | None:
    """The dimension (possession, exchange, reception) most of the evidence for the decided
    paradigm stands in; between equals, that of the strongest piece (evidence comes strongest
    first). None when no evidence backs the paradigm."""
    if not classification:
        return None
    paradigm = classification.get("paradigm")
    backing = [e.get("dimension") for e in classification.get("evidence", [])
               if e.get("paradigm") == paradigm and e.get("dimension")]
    if not backing:
        return None
    counts = Counter(backing)
    best = max(counts.values())
    return next(d for d in backing if counts[d] == best)


@dataclass
class Cell:
    """One row of the table: a level group, and one jurisdiction of it or all of them."""

    group: str
    jurisdiction: str
    in_force: int
    counts: dict[str, int]                 # paradigm (and unknown) → instruments
    shares: dict[str, float]               # paradigm → share of those with a paradigm
    leading: str | None                    # the paradigm with most instruments; "mixed" on a tie
    driven_by: dict[str, str | None]       # paradigm → the dimension driving most of its calls
    instruments: dict[str, list[str]]      # paradigm (and unknown) → ids, for `show ID`


@dataclass
class TrendYear:
    year: int
    shares: dict[str, dict[str, float]]    # group (and "(all)") → paradigm → share
    counts: dict[str, int]                 # group (and "(all)") → instruments with a paradigm


@dataclass
class Report:
    since: int | None
    cells: list[Cell]
    trend: list[TrendYear]
    left_out: dict[str, list[str]] = field(default_factory=dict)  # why → ids not in force
    # Each call behind the cells: id, level group, jurisdiction, year, paradigm, driving dimension.
    calls: list[dict] = field(default_factory=list)

    def to_json(self) -> dict:
        return asdict(self)


def _cell(group: str, jurisdiction: str, members: list[ReportInstrument]) -> Cell:
    counts = Counter(m.paradigm if m.paradigm in PARADIGMS else UNKNOWN for m in members)
    driven_by = {}
    for paradigm in PARADIGMS:
        dimensions = Counter(m.dimension for m in members if m.paradigm == paradigm and m.dimension)
        driven_by[paradigm] = dimensions.most_common(1)[0][0] if dimensions else None
    placed = [(m.paradigm if m.paradigm in PARADIGMS else UNKNOWN, m.uid) for m in members]
    instruments = {p: sorted(uid for label, uid in placed if label == p) for p in (*PARADIGMS, UNKNOWN)}
    return Cell(group, jurisdiction, len(members), {p: counts[p] for p in (*PARADIGMS, UNKNOWN)},
                paradigm_shares(counts), dominant_paradigm(counts), driven_by, instruments)


def _why_left_out(instrument: ReportInstrument) -> str:
    if instrument.status == "withdrawn":
        return "withdrawn"
    if instrument.repealed_by:
        return "repealed by another instrument"
    return instrument.stage


def comparative_report(instruments: list[ReportInstrument], since: int | None = None) -> Report:
    """The table (per level group, then per jurisdiction within it) and the trend by year of the
    instruments in force, dated `since` or later when given."""
    dated = [i for i in instruments if since is None or i.year >= since]
    kept = [i for i in dated if i.in_force]
    left_out: dict[str, list[str]] = {}
    for instrument in dated:
        if not instrument.in_force:
            left_out.setdefault(_why_left_out(instrument), []).append(instrument.uid)
    cells = []
    for group in GROUPS:
        members = [i for i in kept if i.group == group]
        if not members:
            continue
        cells.append(_cell(group, ALL, members))
        for jurisdiction in sorted({m.jurisdiction for m in members}):
            cells.append(_cell(group, jurisdiction, [m for m in members if m.jurisdiction == jurisdiction]))
    trend = []
    if kept:
        for year in range(min(i.year for i in kept), max(i.year for i in kept) + 1):
            upto = [i for i in kept if i.year <= year]
            shares, counts = {}, {}
            for group, members in ((ALL, upto), *((g, [i for i in upto if i.group == g]) for g in GROUPS)):
                tally = Counter(m.paradigm for m in members)
                shares[group] = paradigm_shares(tally)
                counts[group] = sum(tally[p] for p in PARADIGMS)
            trend.append(TrendYear(year, shares, counts))
    calls = [{"instrument": i.uid, "group": i.group, "jurisdiction": i.jurisdiction, "year": i.year,
              "paradigm": i.paradigm, "dimension": i.dimension, "stage": i.stage} for i in kept]
    return Report(since, cells, trend, {why: sorted(ids) for why, ids in sorted(left_out.items())}, calls)


def draw_report_chart(report: Report, image_format: str = "svg") -> bytes:
    """The trend of each share by year, one panel per level group, in the paradigms' colours;
    as SVG or PNG."""
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib import pyplot

    years = [t.year for t in report.trend]
    figure, panels = pyplot.subplots(1, len(GROUPS), figsize=(9, 3.6), sharey=True)
    try:
        step = max(1, -(-len(years) // MAX_YEAR_TICKS))
        for axes, group in zip(panels, GROUPS, strict=True):
            for paradigm in PARADIGMS:  # a year without an instrument of the group has no point
                axes.plot(years, [100 * t.shares[group][paradigm] if t.counts[group] else math.nan
                                  for t in report.trend], marker="o", markersize=4, linewidth=2,
                          color=PARADIGM_COLOURS[paradigm], label=PARADIGM_NAMES[paradigm], clip_on=False)
            last = report.trend[-1].counts[group] if report.trend else 0
            axes.set_title(f"{group} (n={last} with a paradigm)", fontsize=10)
            if not last:
                axes.text(0.5, 0.5, "no instrument in force with a paradigm", transform=axes.transAxes,
                          ha="center", fontsize=9, color=PARADIGM_COLOURS[UNKNOWN])
            shown = years[::-1][::step][::-1]  # the latest year always labelled
            axes.set_xticks(shown, [str(y) for y in shown])
            axes.set_xlim(years[0] - 0.4, years[-1] + 0.4)
            axes.set_ylim(-4, 104)
            axes.set_yticks([0, 25, 50, 75, 100], ["0 %", "25 %", "50 %", "75 %", "100 %"], fontsize=8)
            axes.grid(axis="y", alpha=0.3)
            axes.tick_params(axis="x", labelsize=8)
            for side in ("top", "right"):
                axes.spines[side].set_visible(False)
        lines, names = panels[0].get_legend_handles_labels()
        figure.legend(lines, names, loc="lower center", ncol=len(PARADIGMS), fontsize=8.5, frameon=False)
        figure.suptitle("Paradigm shares of the instruments in force, by year of adoption", fontsize=11)
        figure.tight_layout(rect=(0, 0.08, 1, 1))
        buffer = io.BytesIO()
        figure.savefig(buffer, format=image_format)
        return buffer.getvalue()
    finally:
        pyplot.close(figure)
