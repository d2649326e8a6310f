"""The digest's trend chart is kept by what it shows: the same periods and flags give the same
chart without drawing it again; any change the chart shows draws a new one."""

from __future__ import annotations

import dataclasses

from paradigms.chart import _chart, draw_trend_chart
from paradigms.trends import Flag, compute_trends
from tests.test_trends import planted_history


def test_the_same_trends_are_drawn_once_and_any_shown_change_draws_again():
    periods, flags = compute_trends(planted_history(), "year")
    _chart.cache_clear()
    first = draw_trend_chart(periods, flags)
    copied = [dataclasses.replace(p, shares=dict(p.shares)) for p in periods]
    assert draw_trend_chart(copied, list(flags)) is first  # equal trends, other objects: kept
    assert _chart.cache_info().misses == 1
    counted = [*periods[:-1], dataclasses.replace(periods[-1], in_force=periods[-1].in_force + 1)]
    moved = [*periods[:-1], dataclasses.replace(
        periods[-1], shares={**periods[-1].shares, "restrictive": periods[-1].shares["restrictive"] + 0.01})]
    flagged = [*flags, Flag("share-move", periods[0].period, "moved")]
    titled = draw_trend_chart(periods, flags, title="Another title")
    charts = [draw_trend_chart(counted, flags), draw_trend_chart(moved, flags),
              draw_trend_chart(periods, flagged), titled]
    assert len({first, *charts}) == 5
    _chart.cache_clear()
    assert draw_trend_chart(periods, flags) == first  # drawn again, the same bytes
