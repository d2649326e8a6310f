"""A week's digest at scale: the trends' folding and the digest, message and chart, timed.

    python3 bench/digest_scale.py (--keep PATH | --url URL) [--instruments 100000]
                                  [--events 1000000] [--runs 5] [--digests-only] [--tree TREE]

Generates a store with `bench/store_scale.py`'s generator (kept in PATH, or in the database of
URL, e.g. PostgreSQL's; a later run with the same PATH or URL measures that store again, to
compare two versions of the code on one store), then
times, in CPU and wall seconds:

- folding every version once (the first digest after an upgrade or a reclassification);
- folding when nothing new was recorded;
- folding a week of new versions (2,500 amendments recorded after the history, 5 % relabelled,
  plus withdrawals and restorations), left in the store;
- a week's digest, message and chart, in this process (median of RUNS, the chart's imports paid
  before; the charts kept by what they show forgotten before each, as when the trends moved
  since the last digest), the same with the chart kept (another subscription's digest of the
  same trends), and in a fresh process (imports included).

With --digests-only, only the digests are timed, on the store as it is (nothing folded or
recorded, so that two trees alternating read the same store), with the median CPU and wall
seconds of each of their parts (on PostgreSQL the wall includes the server's work). --tree
runs the product of another tree (a `git archive` of an older commit) with this script.
"""

from __future__ import annotations

import argparse
import random
import statistics
import subprocess
import sys
import time
from datetime import timedelta
from pathlib import Path
from typing import cast

ROOT = Path(__file__).resolve().parent.parent
TREE = Path(sys.argv[sys.argv.index("--tree") + 1]).resolve() if "--tree" in sys.argv[:-1] else ROOT
sys.path.insert(0, str(TREE))

from sqlalchemy import Table, func, insert, select, update  # noqa: E402

from bench.store_scale import PARADIGMS, SPAN, START, generate  # noqa: E402
from storage.database import Store  # noqa: E402
from storage.models import ChangeEvent, Instrument, Version  # noqa: E402

WEEK_VERSIONS = 2500

FRESH = """
import sys, time
from datetime import datetime, timedelta
started_cpu, started = time.process_time(), time.perf_counter()
sys.path.insert(0, {root!r})
from alerts.settings import SmtpSettings, Subscription
from policywatch.digests import build_digest
from storage.database import Store
store = Store({url!r})
since = datetime.fromisoformat({since!r})
subscription = Subscription(name="weekly", recipients=("analyst@example.org",), window="7d")
built, message, chart = build_digest(store, subscription, since, since + timedelta(days=7),
                                     SmtpSettings(), now=since + timedelta(days=7))
print(time.process_time() - started_cpu, time.perf_counter() - started, "matplotlib" in sys.modules)
"""


def clock(work) -> tuple[float, float, object]:
    """CPU and wall seconds of one call, and its result."""
    cpu, wall = time.process_time(), time.perf_counter()
    result = work()
    return time.process_time() - cpu, time.perf_counter() - wall, result


def record_week(store: Store, rng: random.Random, instruments: int) -> None:
    """A week of crawling after the history: amendments (5 % relabelled), withdrawals, restorations."""
    with store.engine.begin() as connection:
        last = connection.execute(select(func.max(Version.recorded_at))).scalar() or START
        newest = connection.execute(select(func.max(Version.id))).scalar() or 0
        chosen = rng.sample(range(1, instruments + 1), WEEK_VERSIONS)
        known = {key: (count, jurisdiction) for key, count, jurisdiction in connection.execute(
            select(Instrument.id, Instrument.version_count, Instrument.jurisdiction)
            .where(Instrument.id.in_(chosen))).all()}
        labels = dict(connection.execute(
            select(Version.instrument_id, Version.paradigm)
            .where(Version.instrument_id.in_(chosen))
            .order_by(Version.instrument_id, Version.number)).all())
        versions, events = [], []
        for offset, instrument in enumerate(chosen):
            at = last + timedelta(days=7) * (offset + 1) / (WEEK_VERSIONS + 1)
            paradigm = rng.choice(PARADIGMS) if rng.random() < 0.05 else labels.get(instrument, "unknown")
            number = known[instrument][0] + 1
            versions.append({"id": newest + offset + 1, "instrument_id": instrument, "number": number,
                             "title": f"Instrument {instrument}", "text_z": f"Article {number}.",
                             "text_hash": f"{instrument}-{number}", "recorded_at": at,
                             "technical": False, "paradigm": paradigm})
            kind = "withdrawn" if offset % 50 == 0 else "restored" if offset % 50 == 1 else "amended"
            events.append({"instrument_id": instrument, "jurisdiction": known[instrument][1], "kind": kind,
                           "version_number": number, "detected_at": at, "baseline": False,
                           "url": f"https://regulator.example/{instrument}", "paradigm": paradigm})
            connection.execute(update(Instrument).where(Instrument.id == instrument)
                               .values(version_count=number))
        connection.execute(insert(cast(Table, Version.__table__)), versions)
        connection.execute(insert(ChangeEvent), events)


def timed_parts(spent: dict[str, list[tuple[float, float]]]) -> None:
    """Time each part of `build_digest` (CPU and wall seconds per call, into `spent`) by
    wrapping the names policywatch.digests calls."""
    import policywatch.digests as digests

    def timed(name: str, work):
        def run(*args, **options):
            cpu, wall = time.process_time(), time.perf_counter()
            try:
                return work(*args, **options)
            finally:
                spent.setdefault(name, []).append((time.process_time() - cpu, time.perf_counter() - wall))
        return run

    parts = {"history": "the window's events (history)", "compose_digest": "composition (compose_digest)",
             "draw_trend_chart": "chart drawn",
             "build_message": "message: text and HTML parts (build_message)"}
    for name, label in parts.items():
        setattr(digests, name, timed(label, getattr(digests, name)))
    digests.trend_spans.yearly_trends = timed("trends: periods and flags", digests.trend_spans.yearly_trends)
    digests.trend_spans.advance = timed("folding what is new (advance; nothing here)",
                                        digests.trend_spans.advance)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--instruments", type=int, default=100_000)
    parser.add_argument("--events", type=int, default=1_000_000)
    where = parser.add_mutually_exclusive_group(required=True)
    where.add_argument("--keep", type=Path, metavar="PATH", help="an SQLite file (generated if missing)")
    where.add_argument("--url", help="a store's URL, e.g. a PostgreSQL database (generated if empty)")
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--digests-only", action="store_true",
                        help="time only the digests, on the store as it is, with their parts")
    parser.add_argument("--tree", type=Path, help="the product of this tree instead (an older commit's)")
    args = parser.parse_args()
    url = args.url or f"sqlite:///{args.keep.resolve()}"
    fresh_store = not args.url and not args.keep.resolve().exists()
    store = Store(url)
    if args.url:
        with store.sessions() as session:
            fresh_store = not session.scalar(select(func.count(Instrument.id)))
    if fresh_store:
        cpu, wall, versions = clock(lambda: generate(store, args.instruments, args.events))
        print(f"generated {versions:,} versions in {wall:.0f} s")
    with store.sessions() as session:
        versions = session.scalar(select(func.count(Version.id)))
        events = session.scalar(select(func.count(ChangeEvent.id)))
        instruments = session.scalar(select(func.count(Instrument.id)))
    print(f"{instruments:,} instruments, {events:,} events, {versions:,} versions")

    from alerts.settings import SmtpSettings, Subscription
    from policywatch.digests import build_digest
    from storage import trend_spans

    rows = []
    if not args.digests_only:
        with store.transaction() as session:
            trend_spans.reset(session)
        cpu, wall, folded = clock(lambda: trend_spans.advance(store))
        rows.append((f"folding every version once ({folded:,} versions)", cpu, wall))
        cpu, wall, folded = clock(lambda: trend_spans.advance(store))
        rows.append(("folding when nothing new was recorded", cpu, wall))
        record_week(store, random.Random(5), instruments or 0)
        cpu, wall, folded = clock(lambda: trend_spans.advance(store))
        rows.append((f"folding a week of new versions ({folded:,})", cpu, wall))

    subscription = Subscription(name="weekly", recipients=("analyst@example.org",), window="7d")
    rng = random.Random(11)
    starts = [START + timedelta(days=rng.randrange(30, SPAN.days - 7)) for _ in range(args.runs)]

    import paradigms.chart as chart
    kept_charts = getattr(chart, "_chart", None)  # the charts kept by what they show, if the tree has them

    def digest(since, chart_kept: bool = False):
        def build():
            if kept_charts is not None and not chart_kept:
                kept_charts.cache_clear()  # as a week later, when the trends have moved
            return build_digest(store, subscription, since, since + timedelta(days=7), SmtpSettings(),
                                now=since + timedelta(days=7))
        return build

    clock(digest(starts[0]))  # warm-up: imports, caches
    spent: dict[str, list[tuple[float, float]]] = {}
    if args.digests_only:
        timed_parts(spent)
    timings = [clock(digest(since))[:2] for since in starts]
    rows.append((f"a week's digest, message and chart, warm process (median of {args.runs})",
                 statistics.median(t[0] for t in timings), statistics.median(t[1] for t in timings)))
    rows += [(f"— {name}", statistics.median(t[0] for t in times), statistics.median(t[1] for t in times))
             for name, times in spent.items()]
    if spent:
        rest = [(cpu - sum(times[run][0] for times in spent.values()),
                 wall - sum(times[run][1] for times in spent.values()))
                for run, (cpu, wall) in enumerate(timings)]
        rows.append(("— the rest (coverage, trend records, the collector)",
                     statistics.median(t[0] for t in rest), statistics.median(t[1] for t in rest)))
    if kept_charts is not None:
        again = [clock(digest(since, chart_kept=True))[:2] for since in starts]
        rows.append(("the same, the chart kept from a digest of the same trends (another subscription)",
                     statistics.median(t[0] for t in again), statistics.median(t[1] for t in again)))
    store.close()
    fresh = subprocess.run([sys.executable, "-c", FRESH.format(root=str(TREE), url=url,
                                                               since=starts[0].isoformat())],
                           capture_output=True, text=True, check=True).stdout.split()
    rows.append(("a week's digest in a fresh process, imports included", float(fresh[0]), float(fresh[1])))
    print("\n| step | CPU s | wall s |\n|---|---|---|")
    for name, cpu, wall in rows:
        print(f"| {name} | {cpu:.2f} | {wall:.2f} |")


if __name__ == "__main__":
    main()
