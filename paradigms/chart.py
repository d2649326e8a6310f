"""Draw paradigm shares over time, with flagged shifts marked, as PNG bytes."""

from __future__ import annotations

import io

from paradigms.trends import Flag, Period
from texts.vocabulary import PARADIGM_COLOURS, PARADIGM_NAMES, PARADIGMS


def draw_trend_chart(periods: list[Period], flags: list[Flag], title: str | None = None) -> bytes:
    """A line per paradigm share of instruments in force; a dashed line at each flagged period."""
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib import pyplot

    labels = [p.period for p in periods]
    figure, axes = pyplot.subplots(figsize=(8, 4.6), dpi=110)
    try:
        for paradigm in PARADIGMS:
            colour = PARADIGM_COLOURS[paradigm]
            axes.plot(labels, [100 * p.shares[paradigm] for p in periods], marker="o",
                      linewidth=2.2, color=colour, label=PARADIGM_NAMES[paradigm])
        flagged = {f.period for f in flags}
        for index, label in enumerate(labels):
            if label in flagged:
                axes.axvline(index, color="#6c757d", linestyle="--", linewidth=1)
                kinds = sorted({f.kind for f in flags if f.period == label})
                axes.annotate(", ".join(k.replace("-", " ") for k in kinds), (index, 97),
                              rotation=90, fontsize=7, color="#495057", ha="right", va="top")
        axes.set_ylim(0, 100)
        axes.set_ylabel("share of instruments in force (%)")
        axes.set_title(title or "Cross-border data-flow policy paradigms")
        axes.grid(axis="y", alpha=0.3)
        axes.legend(loc="upper center", bbox_to_anchor=(0.5, -0.14), ncol=3, fontsize=8,
                    frameon=False)
        if len(labels) > 12:
            axes.set_xticks(range(0, len(labels), max(1, len(labels) // 12)))
        figure.autofmt_xdate()
        figure.tight_layout()
        buffer = io.BytesIO()
        figure.savefig(buffer, format="png")
        return buffer.getvalue()
    finally:
        pyplot.close(figure)
