"""Trends over a generated history reproduce the planted pattern and flag the planted shifts."""

from __future__ import annotations

import io
import random
from datetime import date, datetime

from paradigms.trends import InstrumentHistory, compute_trends, period_bounds, trends_json


def planted_history() -> list[InstrumentHistory]:
    """40 national instruments, 2016–2025: mostly prudent; from 2021 restrictive ones multiply.
    Jurisdiction ZZ's three instruments are all amended to restrictive in 2023. Ten trade
    agreements stay facilitation."""
    rng = random.Random(7)
    histories = []
    for n in range(40):
        year = 2016 + n % 10
        late = year >= 2021
        label = "restrictive" if late and n % 3 != 0 else rng.choice(["prudent", "prudent", "facilitation"])
        histories.append(InstrumentHistory(f"nat-{n}", f"Law {n}", f"J{n % 12}", "national",
                                           date(year, 3, 1), ((date(year, 3, 1), label),)))
    for n in range(3):
        histories.append(InstrumentHistory(
            f"zz-{n}", f"ZZ law {n}", "ZZ", "national", date(2017, 1, 1),
            ((date(2017, 1, 1), "prudent"), (date(2023, 5, 1), "restrictive"))))
    for n in range(10):
        histories.append(InstrumentHistory(f"fta-{n}", f"Agreement {n}", "CPTPP", "plurilateral",
                                           date(2016 + n, 6, 1), ((date(2016 + n, 6, 1), "facilitation"),)))
    return histories


def test_restrictive_share_rises_after_2020():
    periods, _ = compute_trends(planted_history(), "year")
    share = {p.period: p.shares["restrictive"] for p in periods}
    assert share["2019"] < 0.1
    assert share["2025"] > share["2022"] > share["2020"]
    assert periods[-1].by_level["multilateral/bilateral"]["facilitation"] == 1.0


def test_planted_jurisdiction_shift_and_bursts_are_flagged():
    _, flags = compute_trends(planted_history(), "year")
    shifts = [f for f in flags if f.kind == "jurisdiction-shift" and f.jurisdiction == "ZZ"]
    assert [(f.period, f.message) for f in shifts] == [("2023", "ZZ moved from prudent to restrictive")]
    assert set(shifts[0].instruments) == {"zz-0", "zz-1", "zz-2"}
    bursts = [f for f in flags if f.kind == "restrictive-burst"]
    assert bursts and all(int(f.period) >= 2021 for f in bursts)
    moves = [f for f in flags if f.kind == "share-move" and f.paradigm == "restrictive"]
    assert moves and all(int(f.period) >= 2021 for f in moves)
    assert not any(f.kind == "jurisdiction-shift" and f.jurisdiction == "CPTPP" for f in flags)


def test_withdrawn_instruments_leave_the_count():
    law = InstrumentHistory("a", "A", "XX", "national", date(2020, 1, 1),
                            ((date(2020, 1, 1), "restrictive"),),
                            ((date(2022, 6, 1), date(2024, 2, 1)),))
    periods, _ = compute_trends([law], "year", until=date(2024, 12, 31))
    assert [p.in_force for p in periods] == [1, 1, 0, 0, 1]


def test_quarters():
    assert [b[0] for b in period_bounds(date(2024, 11, 5), date(2025, 4, 1), "quarter")] == [
        "2024-Q4", "2025-Q1", "2025-Q2"]
    assert period_bounds(date(2024, 1, 1), date(2024, 1, 1), "quarter")[0][2] == date(2024, 3, 31)


def test_json_shape():
    data = trends_json(*compute_trends(planted_history(), "year"))
    assert set(data["periods"][0]) >= {"period", "in_force", "counts", "shares", "by_level"}
    assert set(data["flags"][0]) >= {"kind", "period", "message", "instruments"}


def test_trends_command_with_chart(tmp_path, db_url):
    from crawlers.extract import extract_document
    from storage.database import Store
    from storage.runs import upsert_source
    from storage.versions import Fetch, SourceInfo, record_document
    from tests.conftest import run_cli

    store = Store(db_url)
    texts = {
        "prudent": "Article 1\nTransfers to a third country ensuring an adequate level of protection "
                   "are allowed; otherwise standard contractual clauses apply.",
        "restrictive": "Article 1\nPersonal data shall be stored in the territory and may be transferred "
                       "abroad only after passing a government security assessment organised by the authority.",
    }
    with store.transaction() as session:
        upsert_source(session, id="gen", name="Generated", jurisdiction="XX", level="national",
                      declaration_file=None)
    for n, (year, label) in enumerate([(2021, "prudent"), (2022, "prudent"), (2023, "restrictive"),
                                       (2024, "restrictive"), (2024, "restrictive"), (2024, "restrictive")]):
        body = f"<html><body><h1>Law {n}</h1><p>{texts[label]}</p></body></html>".encode()
        with store.transaction() as session:
            record_document(session, None, SourceInfo("gen", "XX", "national", "en"),
                            Fetch("gen", f"https://gen.example/{n}", f"https://gen.example/{n}", 200, {}, body),
                            extract_document(body, "text/html"), now=datetime(year, 6, 1))
    store.close()
    chart = tmp_path / "trends.png"
    result = run_cli("trends", "--chart", str(chart), db=db_url)
    assert result.code == 0, result.stderr
    assert chart.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    lines = result.stdout.splitlines()
    assert lines[2].startswith("2021") and lines[-1].strip().startswith("2024")
    data = run_cli("trends", "--format", "json", db=db_url).json()
    assert [p["shares"]["restrictive"] for p in data["periods"]] == [0.0, 0.0, 0.333, 0.667]
    assert any(f["kind"] == "jurisdiction-shift" and f["period"] == "2024" for f in data["flags"])


def test_the_first_period_has_no_predecessor_to_flag_a_burst_against():
    """Five restrictive laws in the first year are where the record starts, not a burst; the
    same five after a quiet year are one."""
    def laws(year: int) -> list[InstrumentHistory]:
        return [InstrumentHistory(f"r{year}-{n}", f"Law {n}", "XX", "national", date(year, 3, 1),
                                  ((date(year, 3, 1), "restrictive"),)) for n in range(5)]
    quiet = [InstrumentHistory("p", "Old law", "XX", "national", date(2020, 1, 1),
                               ((date(2020, 1, 1), "prudent"),))]
    _, flags = compute_trends(laws(2021), "year")
    assert flags == []
    _, flags = compute_trends(quiet + laws(2021), "year")
    assert [(f.kind, f.period) for f in flags if f.kind == "restrictive-burst"] == [
        ("restrictive-burst", "2021")]


def test_the_chart_is_drawn_for_the_mail_width_with_counts_and_few_labels():
    """Twice the 584 px the digest shows it at; each labelled period says how many instruments
    its shares are of; a long history keeps to a few labels, the latest among them."""
    from PIL import Image

    from paradigms.chart import (
        MAX_TICK_LABELS,
        SHOWN_WIDTH_PX,
        draw_trend_chart,
        period_label,
        tick_positions,
    )

    periods, flags = compute_trends(planted_history(), "quarter")
    image = Image.open(io.BytesIO(draw_trend_chart(periods, flags)))
    assert image.format == "PNG" and image.size[0] == 2 * SHOWN_WIDTH_PX
    shown = tick_positions(len(periods))
    assert len(periods) > MAX_TICK_LABELS >= len(shown) and shown[-1] == len(periods) - 1
    assert period_label(periods[-1]) == f"{periods[-1].period}\nn={periods[-1].in_force}"
    assert tick_positions(3) == [0, 1, 2]
