"""The trend chart as shapes for an inline SVG: one bar per period, stacked by paradigm share,
flagged periods marked. Pure geometry; the template draws it, so the page needs no script."""

from __future__ import annotations

from dataclasses import dataclass, field

from paradigms.trends import Flag, Period
from texts.vocabulary import PARADIGM_COLOURS, PARADIGM_NAMES, PARADIGMS

WIDTH, HEIGHT = 760, 300
LEFT, RIGHT, TOP, BOTTOM = 48, 12, 24, 40
GAP = 0.25  # of each slot left between bars


@dataclass(frozen=True)
class Segment:
    paradigm: str
    label: str
    colour: str
    share: float
    y: float
    height: float


@dataclass
class Bar:
    period: str
    x: float
    width: float
    centre: float
    in_force: int
    segments: list[Segment]
    flags: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class Tick:
    label: str
    y: float


@dataclass
class Chart:
    width: int
    height: int
    left: int
    right: float
    top: int
    bottom: float
    bars: list[Bar]
    ticks: list[Tick]


def trend_chart(periods: list[Period], flags: list[Flag]) -> Chart:
    """Bars of the paradigm shares of `periods` (the known paradigms add up to the full height),
    each with the messages of the flags raised in its period."""
    plot_height = HEIGHT - TOP - BOTTOM
    slot = (WIDTH - LEFT - RIGHT) / max(1, len(periods))
    bar_width = slot * (1 - GAP)
    flagged: dict[str, list[str]] = {}
    for flag in flags:
        flagged.setdefault(flag.period, []).append(f"{flag.kind}: {flag.message}")
    bars = []
    for index, period in enumerate(periods):
        x = LEFT + index * slot + (slot - bar_width) / 2
        y = float(HEIGHT - BOTTOM)
        segments = []
        for paradigm in PARADIGMS:
            share = period.shares.get(paradigm, 0.0)
            height = share * plot_height
            y -= height
            segments.append(Segment(paradigm, PARADIGM_NAMES[paradigm], PARADIGM_COLOURS[paradigm],
                                    share, round(y, 1), round(height, 1)))
        bars.append(Bar(period.period, round(x, 1), round(bar_width, 1), round(x + bar_width / 2, 1),
                        period.in_force, segments, flagged.get(period.period, [])))
    ticks = [Tick(f"{share}%", round(HEIGHT - BOTTOM - share / 100 * plot_height, 1))
             for share in (0, 25, 50, 75, 100)]
    return Chart(WIDTH, HEIGHT, LEFT, WIDTH - RIGHT, TOP, HEIGHT - BOTTOM, bars, ticks)
