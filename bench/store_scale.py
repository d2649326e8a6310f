"""The store at scale: history queries and a weekly digest over 1,000,000 change events.

    python3 bench/store_scale.py [--instruments 100000] [--events 1000000]
                                 [--postgres postgresql+psycopg://user@host:port/db] [--write]
                                 [--keep PATH] [--only TEXT]

Generates, through the real schema (Alembic migrations) and the real search index, a history
of INSTRUMENTS instruments from 40 jurisdictions with EVENTS change events over four years
(new, then amendments, withdrawals, restorations, moves: about 5,000 a week), each new or
amended event with its version (a short text, 10 % of them Chinese). Then times, with the
functions the CLI and the daemon use, the queries users run — 40 runs each, different
arguments every run, first page of 100 events as `policywatch history --limit 100` shows:

- by jurisdiction and a three-month date range; by paradigm; by change kind;
- full-text search (a common phrase, a rarer phrase, a word in a few instruments, Chinese, one
  common word);
- one instrument's versions and events (`policywatch show`);
- building the digest of one week (about 5,000 events), message and trend chart included.

On SQLite (a temporary file) and, with --postgres, on that server (a database made for the
run and dropped after). Also the store's size on disk per version stored. `--keep PATH` keeps
the SQLite store in PATH, and a later run with the same PATH measures that store again instead
of generating one (to compare two versions of the code on one store); `--only TEXT` runs only
the queries whose name contains TEXT.
"""

from __future__ import annotations

import argparse
import os
import platform
import random
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Callable
from datetime import datetime, timedelta
from functools import partial
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from sqlalchemy import create_engine, func, insert, select, text  # noqa: E402
from sqlalchemy.engine import make_url  # noqa: E402

from alerts.settings import SmtpSettings, Subscription  # noqa: E402
from policywatch.digests import build_digest  # noqa: E402
from storage.database import Store  # noqa: E402
from storage.models import ChangeEvent, Instrument, Source, Version  # noqa: E402
from storage.queries import HistoryFilter, history, instrument_events  # noqa: E402
from storage.search import index_versions  # noqa: E402

JURISDICTIONS = ("EU", "CN", "US", "GB", "JP", "KR", "SG", "IN", "ID", "VN", "SA", "AE", "BR", "AR", "NG",
                 "KE", "ZA", "RU", "AU", "CA", "TR", "CH", "MX", "CL", "CO", "PE", "EG", "MA", "TH", "MY",
                 "PH", "NZ", "NO", "IL", "PK", "BD", "LK", "OECD", "WTO", "APEC")
PARADIGMS = ("facilitation", "prudent", "restrictive", "unknown")
START = datetime(2023, 1, 1)
SPAN = timedelta(days=4 * 365)
WORDS = ("personal data transfer cross-border outside territory security assessment adequacy decision "
         "standard contractual clauses binding corporate rules certification consent controller "
         "processor localisation storage critical information infrastructure important data export "
         "authority approval safeguards public interest national security exemption purpose "
         "retention audit notification regulator ministry guideline measures provisions article "
         "chapter annex schedule obligations rights data subject recipient third country").split()
CHINESE = "数据出境安全评估个人信息保护认证标准合同关键信息基础设施境内存储重要数据国家网信部门"


def version_text(rng: random.Random, instrument: int, number: int) -> str:
    if instrument % 10 == 0:
        base = "".join(rng.choice(CHINESE) for _ in range(120))
        return f"第{number}条 {base} 规定{instrument}"
    words = [rng.choice(WORDS) for _ in range(40)]
    words[number % 40] = f"amendment{number}"
    return f"Article {number}. " + " ".join(words) + f" ref{instrument}."


def generate(store: Store, instruments: int, events: int, seed: int = 7) -> int:
    """Fill the store; return the number of versions."""
    rng = random.Random(seed)
    dialect = store.engine.dialect.name
    per_instrument = events / instruments
    with store.engine.begin() as connection:
        connection.execute(insert(Source), [
            {"id": f"src-{j.lower()}", "name": f"Regulator {j}", "jurisdiction": j, "level": "national",
             "baseline_complete": True, "consecutive_failures": 0} for j in JURISDICTIONS])
    version_count = event_count = 0
    batch = 2000
    for first in range(1, instruments + 1, batch):
        rows_i, rows_v, rows_e = [], [], []
        for instrument in range(first, min(first + batch, instruments + 1)):
            jurisdiction = JURISDICTIONS[instrument % len(JURISDICTIONS)]
            n_events = max(1, round(rng.expovariate(1 / per_instrument)))
            times = sorted(START + SPAN * rng.random() for _ in range(n_events))
            url = f"https://regulator.example/{jurisdiction.lower()}/{instrument}"
            number, status, paradigm = 0, "active", rng.choice(PARADIGMS)
            for index, at in enumerate(times):
                kind = "new" if index == 0 else rng.choices(
                    ("amended", "withdrawn", "restored", "moved"), (90, 4, 4, 2))[0]
                previous = paradigm
                if kind in ("new", "amended"):
                    number += 1
                    if rng.random() < 0.1:
                        paradigm = rng.choice(PARADIGMS)
                    body = version_text(rng, instrument, number)
                    version_id = version_count + len(rows_v) + 1
                    rows_v.append({"id": version_id, "instrument_id": instrument, "number": number,
                                   "title": f"Instrument {instrument}", "text_z": body,
                                   "text_hash": f"{instrument}-{number}", "recorded_at": at,
                                   "technical": False, "paradigm": paradigm})
                status = "withdrawn" if kind == "withdrawn" else "active"
                rows_e.append({"instrument_id": instrument, "jurisdiction": jurisdiction, "kind": kind,
                               "version_number": number,
                               "detected_at": at, "baseline": index == 0 and at < START + timedelta(days=7),
                               "url": url, "paradigm": paradigm,
                               "previous_paradigm": previous if kind == "amended" else None,
                               "provisions": {"added": [], "removed": [], "modified": [
                                   {"ref": f"Article {number}", "before": "…", "after": "…"}]}
                               if kind == "amended" else None})
            rows_i.append({"id": instrument, "uid": f"src-{jurisdiction.lower()}/i-{instrument}",
                           "source_id": f"src-{jurisdiction.lower()}", "url": url,
                           "title": f"Instrument {instrument}", "jurisdiction": jurisdiction,
                           "level": "national", "doc_type": "html", "status": status,
                           "version_count": number, "current_hash": f"{instrument}-{number}",
                           "first_seen_at": times[0], "gone_checks": 0})
            event_count += n_events
        with store.engine.begin() as connection:
            connection.execute(insert(Instrument), rows_i)
            connection.execute(insert(Version.__table__), rows_v)
            connection.execute(insert(ChangeEvent), rows_e)
            index_versions(connection, [(v["id"], v["title"], v["text_z"]) for v in rows_v])
        version_count += len(rows_v)
        print(f"\r  {instrument:,} instruments, {event_count:,} events, {version_count:,} versions",
              end="", flush=True)
    print()
    if dialect == "postgresql":
        with store.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
            connection.execute(text("VACUUM ANALYZE"))
    else:
        with store.engine.begin() as connection:
            connection.execute(text("ANALYZE"))
    return version_count


def timed(runs: list[Callable[[], object]]) -> tuple[float, float, int]:
    """p50 and p95 in ms over the runs (after one warm-up), and the last result's size."""
    runs[0]()
    times, size = [], 0
    for run in runs:
        started = time.perf_counter()
        result = run()
        times.append((time.perf_counter() - started) * 1000)
        size = len(result) if hasattr(result, "__len__") else 0
    times.sort()
    return statistics.median(times), times[min(len(times) - 1, int(len(times) * 0.95))], size


def measure(store: Store, instruments: int, runs: int = 40,
            only: str | None = None) -> list[tuple[str, float, float, int]]:
    rng = random.Random(11)

    def history_runs(make_filter: Callable[[], HistoryFilter]) -> list[Callable[[], object]]:
        def run(where: HistoryFilter) -> list:
            with store.sessions() as session:
                return history(session, where)
        return [partial(run, make_filter()) for _ in range(runs)]

    def quarter() -> tuple[datetime, datetime]:
        since = START + (SPAN - timedelta(days=92)) * rng.random()
        return since, since + timedelta(days=91)

    def show(instrument_id: int) -> list:
        with store.sessions() as session:
            found = session.get(Instrument, instrument_id)
            versions = [(v.number, v.recorded_at, len(v.text)) for v in found.versions]
            return versions + instrument_events(session, found.id)

    subscription = Subscription(name="weekly", recipients=("analyst@example.org",), schedule="0 7 * * 1",
                                window="7d")

    def digest(since: datetime) -> list:
        built, _message, _chart = build_digest(store, subscription, since, since + timedelta(days=7),
                                               SmtpSettings(), now=since + timedelta(days=7))
        return [event for section in built.sections.values() for event in section]

    cases = [
        ("history: jurisdiction + 3-month range", history_runs(lambda: HistoryFilter(
            jurisdictions=(rng.choice(JURISDICTIONS),), since=quarter()[0],
            until=quarter()[0] + timedelta(days=91), limit=100))),
        ("history: by paradigm", history_runs(lambda: HistoryFilter(
            paradigms=(rng.choice(PARADIGMS),), limit=100))),
        ("history: by change kind (withdrawn)", history_runs(lambda: HistoryFilter(
            changes=(rng.choice(("withdrawn", "restored", "moved")),), limit=100))),
        ("search: common phrase", history_runs(lambda: HistoryFilter(
            search=" ".join(rng.sample(WORDS, 1) + rng.sample(WORDS, 1)), limit=100))),
        ("search: word in few instruments", history_runs(lambda: HistoryFilter(
            search=f"ref{rng.randrange(1, instruments)}", limit=100))),
        ("search: Chinese", history_runs(lambda: HistoryFilter(
            search="".join(rng.sample(CHINESE, 2)), limit=100))),
        ("search: one common word", history_runs(lambda: HistoryFilter(
            search=rng.choice(WORDS), limit=100))),
        ("show: one instrument", [partial(show, rng.randrange(1, instruments)) for _ in range(runs)]),
        ("digest of one week", [partial(digest, START + timedelta(days=rng.randrange(30, 1400)))
                                for _ in range(max(5, runs // 8))]),
    ]
    results = []
    for name, case_runs in cases:
        if only and only not in name:
            continue
        p50, p95, size = timed(case_runs)
        results.append((name, p50, p95, size))
        print(f"  {name:<40} p50 {p50:8.1f} ms   p95 {p95:8.1f} ms   ({size} rows in the last)", flush=True)
    return results


def store_bytes(store: Store, sqlite_file: Path | None) -> int:
    if sqlite_file is not None:
        return sum(p.stat().st_size for p in sqlite_file.parent.glob(sqlite_file.name + "*"))
    with store.engine.connect() as connection:
        return connection.execute(text("select pg_database_size(current_database())")).scalar()


def run_backend(name: str, url: str, sqlite_file: Path | None, args, reuse: bool = False) -> dict:
    store = Store(url)
    started = time.perf_counter()
    if reuse:
        print(f"{name}: measuring the store kept in {sqlite_file}", flush=True)
        with store.sessions() as session:
            versions = session.scalar(select(func.count(Version.id))) or 0
    else:
        print(f"{name}: generating …", flush=True)
        versions = generate(store, args.instruments, args.events)
    generated = time.perf_counter() - started
    size = store_bytes(store, sqlite_file)
    with store.sessions() as session:
        events = session.scalar(select(ChangeEvent.id).order_by(ChangeEvent.id.desc()).limit(1))
    print(f"{name}: {events:,} events, {versions:,} versions, {size / 1e6:,.0f} MB on disk "
          f"({size / versions:,.0f} bytes per version), "
          + ("kept from an earlier run" if reuse else f"generated in {generated:.0f} s"), flush=True)
    results = measure(store, args.instruments, only=args.only)
    store.close()
    return {"name": name, "events": events, "versions": versions, "size": size, "results": results}


def report(backends: list[dict], args) -> str:
    lines = [f"{time.strftime('%Y-%m-%d')}, {platform.machine()}, {os.cpu_count()} cores, Python "
             f"{platform.python_version()}: {args.instruments:,} instruments, "
             + ", ".join(f"{b['name']} {b['events']:,} events / {b['versions']:,} versions, "
                         f"{b['size'] / 1e6:,.0f} MB on disk = {b['size'] / b['versions']:,.0f} bytes "
                         "per version"
                         for b in backends), "",
             "| query | " + " | ".join(f"{b['name']} p50 ms | {b['name']} p95 ms" for b in backends) + " |",
             "|---|" + "---|---|" * len(backends)]
    for index, (name, *_rest) in enumerate(backends[0]["results"]):
        cells = " | ".join(f"{b['results'][index][1]:.1f} | {b['results'][index][2]:.1f}" for b in backends)
        lines.append(f"| {name} | {cells} |")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--instruments", type=int, default=100_000)
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--postgres", help="a PostgreSQL server URL (a database is made for the run)")
    parser.add_argument("--write", action="store_true", help="write the result into bench/README.md")
    parser.add_argument("--keep", type=Path, metavar="PATH",
                        help="keep the SQLite store in PATH; measure it again if PATH exists")
    parser.add_argument("--only", metavar="TEXT", help="run only the queries whose name contains TEXT")
    args = parser.parse_args()
    backends = []
    if args.keep:
        kept = args.keep.resolve()
        backends.append(run_backend("SQLite", f"sqlite:///{kept}", kept, args, reuse=kept.exists()))
    else:
        with tempfile.TemporaryDirectory(prefix="policywatch-scale-") as folder:
            sqlite_file = Path(folder) / "scale.sqlite"
            backends.append(run_backend("SQLite", f"sqlite:///{sqlite_file}", sqlite_file, args))
    if args.postgres:
        name = f"pw_scale_{uuid.uuid4().hex[:8]}"
        admin = create_engine(args.postgres, isolation_level="AUTOCOMMIT")
        with admin.connect() as connection:
            connection.execute(text(f'CREATE DATABASE "{name}"'))
        try:
            url = make_url(args.postgres).set(database=name).render_as_string(hide_password=False)
            backends.append(run_backend("PostgreSQL", url, None, args))
        finally:
            with admin.connect() as connection:
                connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            admin.dispose()
    result = report(backends, args)
    print("\n" + result)
    if args.write:
        from bench.compare import write_section

        write_section("## The store at scale — `python3 bench/store_scale.py`", __doc__, result)


if __name__ == "__main__":
    main()
