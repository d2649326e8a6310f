"""Draw paradigm shares over time, with flagged shifts marked, as PNG bytes.

The chart is drawn for the digest, where it is shown 584 px wide on a desktop and about 310 px
on a phone: the figure is 584 hundredths of an inch wide and rendered at twice the density, so a
point reads as about 1.4 px on a desktop and 0.74 px on a phone. The type is sized for the phone
(12 pt ticks read as about 9 px there, 17 px on a desktop), and the legend takes two columns so
that its names fit at that size.
"""

from __future__ import annotations

import io
from functools import lru_cache

from paradigms.trends import Flag, Period
from texts.vocabulary import PARADIGM_COLOURS, PARADIGM_NAMES, PARADIGMS

SHOWN_WIDTH_PX = 584           # the width the digest shows the chart at
FIGURE_SIZE = (SHOWN_WIDTH_PX / 100, 4.4)  # inches: 100 px of the shown chart per inch
DPI = 200                      # twice the shown density
MAX_TICK_LABELS = 8            # more period labels than this collide at mail size
MARGIN = 4                     # percentage points around 0-100, so a line at 0 % stays in view
# A flagged period is a vertical line styled by the kind of shift, named in the legend (labels
# written over the plot would cross the lines and each other at mail size).
FLAG_STYLES = {"share-move": "--", "restrictive-burst": "-.", "jurisdiction-shift": ":"}
FLAG_COLOUR = "#495057"
TICK_POINTS, TITLE_POINTS, LEGEND_POINTS = 12, 13, 11.5
LEGEND_COLUMNS = 2             # three paradigm names in one row do not fit at LEGEND_POINTS
LEGEND_ROW = 0.07              # height of a legend row, as a fraction of the figure's
FLAG_OFFSET = 0.12             # periods between the lines of two kinds flagged in one period
PNG_COMPRESSION = 1            # zlib's fastest: half the encoding time of its default, 15 % more bytes


def tick_positions(count: int) -> list[int]:
    """The periods labelled on the axis: at most MAX_TICK_LABELS, evenly spaced, the last
    (most recent) always among them."""
    step = max(1, -(-count // MAX_TICK_LABELS))
    return sorted({*range(count - 1, -1, -step)})


def period_label(period: Period) -> str:
    """A period's axis label with the number of instruments its shares are taken of."""
    return _label(period.period, period.in_force)


def _label(period: str, in_force: int) -> str:
    return f"{period}\nn={in_force}"


Drawn = tuple[tuple[str, int, tuple[float, ...]], ...]  # what the chart shows of the periods


def draw_trend_chart(periods: list[Period], flags: list[Flag], title: str | None = None) -> bytes:
    """A line per paradigm share of instruments in force, drawn over the axes so none hides on
    them; a vertical line per kind of shift flagged in a period; the count behind each period
    under its label. The last few charts are kept by what they show: the digests of several
    subscriptions built from the same trends draw it once."""
    shown: Drawn = tuple((p.period, p.in_force, tuple(p.shares[paradigm] for paradigm in PARADIGMS))
                         for p in periods)
    return _chart(shown, frozenset((f.period, f.kind) for f in flags), title)


@lru_cache(maxsize=4)
def _chart(periods: Drawn, flagged: frozenset[tuple[str, str]], title: str | None) -> bytes:
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure
    from matplotlib.layout_engine import TightLayoutEngine

    positions = list(range(len(periods)))
    # No pyplot (no figure manager to open and close), and no layout engine left on the figure:
    # saving it would first draw it once more for the engine.
    figure = Figure(figsize=FIGURE_SIZE, dpi=DPI)
    figure.set_layout_engine("none")  # whatever matplotlibrc says
    FigureCanvasAgg(figure)
    axes = figure.add_subplot()
    for order, paradigm in enumerate(PARADIGMS):
        axes.plot(positions, [100 * shares[order] for _, _, shares in periods], marker="o",
                  markersize=5, linewidth=2.2, color=PARADIGM_COLOURS[paradigm],
                  label=PARADIGM_NAMES[paradigm], clip_on=False, zorder=3)
    named: set[str] = set()
    for index, (period, _, _) in enumerate(periods):
        kinds = [kind for kind in FLAG_STYLES if (period, kind) in flagged]
        for order, kind in enumerate(kinds):  # several kinds side by side, centred on the period
            axes.axvline(index + (order - (len(kinds) - 1) / 2) * FLAG_OFFSET, color=FLAG_COLOUR,
                         linestyle=FLAG_STYLES[kind], linewidth=1.2, zorder=1,
                         label=None if kind in named else kind.replace("-", " "))
            named.add(kind)
    axes.set_ylim(-MARGIN, 100 + MARGIN)
    axes.set_yticks([0, 25, 50, 75, 100], ["0 %", "25 %", "50 %", "75 %", "100 %"],
                   fontsize=TICK_POINTS)
    shown = tick_positions(len(periods))
    axes.set_xticks(shown, [_label(*periods[i][:2]) for i in shown], fontsize=TICK_POINTS)
    axes.set_xlim(-0.3, max(len(periods) - 0.7, 0.3))
    # The title at the axes' top and the (empty) axis labels anywhere, where matplotlib would
    # otherwise place them from the tick labels' boxes at each layout and drawing: with no ticks
    # on top and no axis labels, the same pixels, and a third of the text laid out.
    axes.set_title(title or "Paradigm shares of instruments in force", fontsize=TITLE_POINTS, y=1)
    for axis in (axes.xaxis, axes.yaxis):
        axis.set_label_coords(0.5, 0.5)
    axes.grid(axis="y", alpha=0.3)
    for side in ("top", "right"):
        axes.spines[side].set_visible(False)
    lines, names = axes.get_legend_handles_labels()
    rows = -(-len(lines) // LEGEND_COLUMNS)
    figure.legend(lines, names, loc="lower center", bbox_to_anchor=(0.5, 0), ncol=LEGEND_COLUMNS,
                  fontsize=LEGEND_POINTS, frameon=False, handlelength=2.2, columnspacing=1.2)
    TightLayoutEngine(rect=(0, LEGEND_ROW * rows, 1, 1)).execute(figure)  # figure.tight_layout, once
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", pil_kwargs={"compress_level": PNG_COMPRESSION})
    return buffer.getvalue()
