"""Rendering rows for the terminal: table, JSON, NDJSON or CSV (every listing command offers all).

Tables are plain aligned columns, not boxes: they stay greppable and cut-able, CJK characters
count two columns, and a long title is cut with '…' while the columns named `whole` never are.
JSON, NDJSON and CSV carry numbers as numbers.
"""

from __future__ import annotations

import csv
import io
import json
import unicodedata
from collections.abc import Collection, Sequence

import click

from texts.header_safe import header_safe

FORMATS = ("table", "json", "ndjson", "csv")

format_option = click.option(
    "--format", "fmt", type=click.Choice(FORMATS), default="table", show_default=True,
    help="Output format (ndjson: one JSON object per line).")


def _cell(value: object) -> str:
    """A value as one table cell, on one line: a CR, LF or escape from a crawled page could
    otherwise forge a row or rewrite the terminal."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float):
        return f"{value:.4g}"
    if isinstance(value, list | dict):
        return json.dumps(value, ensure_ascii=False)
    return header_safe(str(value))


def display_width(text: str) -> int:
    """Terminal columns a text takes: CJK and other wide characters take two."""
    return sum(2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in text)


def _fit(text: str, width: int) -> str:
    if display_width(text) <= width:
        return text
    out, used = "", 0
    for char in text:
        used += display_width(char)
        if used > width - 1:
            break
        out += char
    return out + "…"


def _pad(text: str, width: int) -> str:
    return text + " " * (width - display_width(text))


def render_table(rows: Sequence[dict], columns: Sequence[str], max_width: int = 60,
                 whole: Collection[str] = ()) -> str:
    """Aligned columns; cells longer than `max_width` are cut, except in the `whole` columns."""
    if not rows:
        return "(nothing)"
    cells = [[(text if c in whole else _fit(text, max_width))
              for c in columns for text in [_cell(row.get(c))]] for row in rows]
    widths = [max(len(col), *(display_width(line[i]) for line in cells))
              for i, col in enumerate(columns)]
    head = "  ".join(_pad(col.upper(), w) for col, w in zip(columns, widths, strict=True)).rstrip()
    lines = ["  ".join(_pad(c, w) for c, w in zip(line, widths, strict=True)).rstrip()
             for line in cells]
    return "\n".join([head, "  ".join("-" * w for w in widths), *lines])


def render(rows: Sequence[dict], columns: Sequence[str], fmt: str, whole: Collection[str] = ()) -> str:
    """`rows` in `fmt`: JSON and NDJSON keep every key of a row, CSV and the table `columns`."""
    if fmt == "json":
        return json.dumps(list(rows), ensure_ascii=False, indent=2)
    if fmt == "ndjson":
        return "\n".join(json.dumps(row, ensure_ascii=False) for row in rows)
    if fmt == "csv":
        buffer = io.StringIO()
        writer = csv.DictWriter(buffer, fieldnames=list(columns), extrasaction="ignore")
        writer.writeheader()
        for row in rows:
            writer.writerow({c: _cell(row.get(c)) for c in columns})
        return buffer.getvalue().rstrip("\n")
    return render_table(rows, columns, whole=whole)


def render_object(value: dict, fmt: str) -> str:
    """One JSON object (a command's whole answer) as JSON, or as one NDJSON line."""
    return json.dumps(value, ensure_ascii=False, indent=None if fmt == "ndjson" else 2)
