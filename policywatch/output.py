"""Rendering rows for the terminal: table, JSON or CSV (every listing command offers all three)."""

from __future__ import annotations

import csv
import io
import json
import unicodedata
from collections.abc import Sequence

import click

FORMATS = ("table", "json", "csv")

format_option = click.option(
    "--format", "fmt", type=click.Choice(FORMATS), default="table", show_default=True,
    help="Output format.")


def _cell(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, list | dict):
        return json.dumps(value, ensure_ascii=False)
    return str(value)


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


def render_table(rows: Sequence[dict], columns: Sequence[str], max_width: int = 60) -> str:
    if not rows:
        return "(nothing)"
    cells = [[_fit(_cell(row.get(c)).replace("\n", " "), max_width) for c in columns] for row in rows]
    widths = [max(len(col), *(display_width(line[i]) for line in cells))
              for i, col in enumerate(columns)]
    head = "  ".join(_pad(col.upper(), w) for col, w in zip(columns, widths, strict=True))
    lines = ["  ".join(_pad(c, w) for c, w in zip(line, widths, strict=True)).rstrip()
             for line in cells]
    return "\n".join([head, "  ".join("-" * w for w in widths), *lines])


def render(rows: Sequence[dict], columns: Sequence[str], fmt: str) -> str:
    if fmt == "json":
        return json.dumps(list(rows), ensure_ascii=False, indent=2)
    if fmt == "csv":
        buffer = io.StringIO()
        writer = csv.DictWriter(buffer, fieldnames=list(columns), extrasaction="ignore")
        writer.writeheader()
        for row in rows:
            writer.writerow({c: _cell(row.get(c)) for c in columns})
        return buffer.getvalue().rstrip("\n")
    return render_table(rows, columns)
