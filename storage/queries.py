"""Read-only queries of the store: what the spider needs, what users ask for (history, instruments,
trends, dropped documents), and what `status` and the daemon report (health, jobs, outbox)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import String, func, inspect, select, text
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.orm import Session
from sqlalchemy.sql.elements import ColumnElement
from sqlalchemy.sql.functions import FunctionElement

from storage import history_sql
from storage.history_sql import (  # noqa: F401 (HistoryFilter and utc_today: this module's names since before)
    HistoryFilter,
    read_history,
    utc_today,
)
from storage.models import (
    ChangeEvent,
    CrawlRun,
    DaemonState,
    DroppedDocument,
    EntryPage,
    Instrument,
    JobRun,
    OutboxDigest,
    Problem,
    Source,
    Version,
)
from storage.readers import SessionReader
from texts.vocabulary import EXTRACTION


@dataclass(frozen=True)
class KnownInstrument:
    id: int
    source_id: str
    url: str
    etag: str | None
    last_modified: str | None
    status: str
    current_hash: str | None = None
    gone_checks: int = 0

    @property
    def settled(self) -> bool:
        """Active and answering: a check that finds it unchanged changes nothing but the time."""
        return self.status == "active" and not self.gone_checks


def known_instruments(session: Session, source_ids: list[str]) -> list[KnownInstrument]:
    rows = session.execute(select(
        Instrument.id, Instrument.source_id, Instrument.url, Instrument.etag,
        Instrument.last_modified, Instrument.status, Instrument.current_hash, Instrument.gone_checks,
    ).where(Instrument.source_id.in_(source_ids)).order_by(Instrument.id))
    return [KnownInstrument(*row) for row in rows]


def is_known(session: Session, source_id: str, url: str) -> bool:
    return session.scalar(select(Instrument.id).where(Instrument.source_id == source_id,
                                                      Instrument.url == url)) is not None


def dropped_validators(session: Session, source_ids: list[str]) -> dict[tuple[str, str], tuple]:
    """(source, url) → (etag, last_modified) of documents the relevance filter dropped."""
    rows = session.execute(select(DroppedDocument.source_id, DroppedDocument.url, DroppedDocument.etag,
                                  DroppedDocument.last_modified)
                           .where(DroppedDocument.source_id.in_(source_ids)))
    return {(source, url): (etag, modified) for source, url, etag, modified in rows}


def entry_page_cache(session: Session, source_ids: list[str]) -> dict[str, EntryPage]:
    pages = session.scalars(select(EntryPage).where(EntryPage.source_id.in_(source_ids)))
    return {page.url: page for page in pages}


class EffectiveStage(FunctionElement[str]):
    """storage.history_sql.effective_stage as an expression of a SQLAlchemy query (the calendar's):
    the one rule, written out for the dialect it is compiled for."""

    inherit_cache = False  # `today` is written into the SQL
    type = String()

    def __init__(self, stage: Any, lifecycle: Any, today: date) -> None:
        super().__init__(stage, lifecycle)
        self.today = today


@compiles(EffectiveStage)
def _effective_stage(element: EffectiveStage, compiler: Any, **kw: Any) -> str:
    stage, lifecycle = (compiler.process(clause, **kw) for clause in element.clauses)
    return history_sql.effective_stage(compiler.dialect.name, stage, lifecycle,
                                       f"'{element.today.isoformat()}'")


def effective_stage_sql(stage: Any, lifecycle: Any, today: date) -> ColumnElement[str]:
    """paradigms.lifecycle.effective_stage in SQL, for filters on both databases (the history
    query's own, storage.history_sql.effective_stage)."""
    return EffectiveStage(stage, lifecycle, today)


def history(session: Session, where: HistoryFilter) -> list[dict]:
    """Change events, newest first, as the JSON objects of DESIGN.md §3: the one history query
    (storage/history_sql.py), run in the session."""
    return read_history(SessionReader(session), where)


def find_instrument(session: Session, key: str) -> Instrument | None:
    """An instrument by its id (eu-edpb/guidelines-1a2b3c), the start of one id that no other
    id starts with (eu-edpb/guidelines), its number, or its URL."""
    instrument = session.scalar(select(Instrument).where(Instrument.uid == key))
    if instrument is None and key.isdigit():
        instrument = session.get(Instrument, int(key))
    if instrument is None:
        instrument = session.scalar(select(Instrument).where(Instrument.url == key).limit(1))
    if instrument is None and "/" in key:
        starting = session.scalars(select(Instrument).where(
            Instrument.uid.startswith(key, autoescape=True)).limit(2)).all()
        instrument = starting[0] if len(starting) == 1 else None
    return instrument


def instrument_events(session: Session, instrument_id: int) -> list[ChangeEvent]:
    """The change events of one instrument, newest first (as `history` lists them)."""
    return list(session.scalars(select(ChangeEvent).where(ChangeEvent.instrument_id == instrument_id)
                                .order_by(ChangeEvent.detected_at.desc(), ChangeEvent.id.desc())))


def known_jurisdictions(session: Session) -> list[str]:
    """The jurisdictions the store holds instruments of, sorted."""
    return history_sql.known_jurisdictions(SessionReader(session))


def known_source_ids(session: Session) -> list[str]:
    """The ids of the sources the store knows, sorted."""
    return history_sql.known_source_ids(SessionReader(session))


def last_digest_end(session: Session, subscription: str) -> datetime | None:
    """Where the latest digest of a subscription ended (its next digest starts there)."""
    return session.scalar(select(func.max(OutboxDigest.window_end))
                          .where(OutboxDigest.subscription == subscription))


def version(session: Session, instrument_id: int, number: int) -> Version | None:
    return session.scalar(select(Version).where(Version.instrument_id == instrument_id,
                                                Version.number == number))


def latest_version(session: Session, instrument_id: int) -> Version | None:
    return session.scalar(select(Version).where(Version.instrument_id == instrument_id)
                          .order_by(Version.number.desc()).limit(1))


def instrument_ids(session: Session, source_id: str) -> list[int]:
    """The instruments of one source, oldest first."""
    return list(session.scalars(select(Instrument.id).where(Instrument.source_id == source_id)
                                .order_by(Instrument.id)))


def dropped_documents(session: Session, source_ids: tuple[str, ...] = ()) -> list[DroppedDocument]:
    """Documents the relevance filter kept out, most recently seen first; all sources if none given."""
    query = select(DroppedDocument).order_by(DroppedDocument.last_seen_at.desc())
    if source_ids:
        query = query.where(DroppedDocument.source_id.in_(source_ids))
    return list(session.scalars(query))


@dataclass(frozen=True)
class SourceWarning:
    """A warning of a source's last run: a thin extraction, a soft 404, a dead link."""

    kind: str
    url: str | None
    message: str


@dataclass(frozen=True)
class SourceHealth:
    """One source as `status` shows it: its record, how many instruments it holds, and the
    warnings its last run recorded (in the order it met them)."""

    source: Source
    instruments: int
    warnings: tuple[SourceWarning, ...] = ()


def source_health(session: Session) -> list[SourceHealth]:
    """Every known source with its instrument count and its warnings, by id."""
    counts = {source_id: count for source_id, count in session.execute(
        select(Instrument.source_id, func.count(Instrument.id)).group_by(Instrument.source_id))}
    warnings = source_warnings(session)
    return [SourceHealth(source, counts.get(source.id, 0), warnings.get(source.id, ()))
            for source in session.scalars(select(Source).order_by(Source.id))]


Warned = tuple[str, int, str, str | None, str]  # source id, problem id, kind, url, message


def source_warnings(session: Session) -> dict[str, tuple[SourceWarning, ...]]:
    """Source id → the warnings of the last ended run that checked it, then the thin extractions
    of earlier runs that still stand: a crawl warns of one when it records the version, and an
    unchanged page is not read again, so the warning holds until the instrument's next version."""
    by_source: dict[str, dict[int, SourceWarning]] = {}
    for source_id, problem_id, kind, url, message in [*_last_run_warnings(session),
                                                      *_standing_extraction_warnings(session)]:
        by_source.setdefault(source_id, {})[problem_id] = SourceWarning(kind, url, message)
    return {source_id: tuple(found.values()) for source_id, found in by_source.items()}


def _last_run_warnings(session: Session) -> list[Warned]:
    """The warnings of each source's last ended run (a run still going is not a source's last
    run yet: `status` shows what ended), in the order they were met."""
    ended = CrawlRun.status != "running"
    latest_warned = {source_id: run_id for source_id, run_id in session.execute(
        select(Problem.source_id, func.max(Problem.run_id))
        .join(CrawlRun, CrawlRun.id == Problem.run_id)
        .where(Problem.severity == "warning", ended).group_by(Problem.source_id))
        if run_id is not None}
    if not latest_warned:
        return []
    last_run: dict[str, int] = {}  # only the runs since the oldest of those warnings are read
    for run_id, source_ids in session.execute(
            select(CrawlRun.id, CrawlRun.sources)
            .where(ended, CrawlRun.id >= min(latest_warned.values()))
            .order_by(CrawlRun.id.desc())):
        for source_id in source_ids or ():
            if source_id in latest_warned:
                last_run.setdefault(source_id, run_id)
        if len(last_run) == len(latest_warned):
            break
    current = {source_id: run_id for source_id, run_id in last_run.items()
               if run_id == latest_warned[source_id]}
    rows = session.execute(
        select(Problem.source_id, Problem.run_id, Problem.id, Problem.kind, Problem.url,
               Problem.message)
        .where(Problem.severity == "warning", Problem.source_id.in_(current),
               Problem.run_id.in_(set(current.values()))).order_by(Problem.id))
    return [(source_id, problem_id, kind, url, message)
            for source_id, run_id, problem_id, kind, url, message in rows
            if current[source_id] == run_id]


def _standing_extraction_warnings(session: Session) -> list[Warned]:
    """Each active instrument's latest extraction warning, when no version came after it."""
    newest_version = (select(func.max(Version.recorded_at))
                      .where(Version.instrument_id == Instrument.id).scalar_subquery())
    rows = session.execute(
        select(Problem.source_id, Problem.id, Problem.kind, Problem.url, Problem.message)
        .join(Instrument, (Instrument.source_id == Problem.source_id)
              & (Instrument.url == Problem.url))
        .where(Problem.kind == EXTRACTION, Problem.severity == "warning",
               Instrument.status == "active", newest_version <= Problem.at)
        .order_by(Problem.id))
    latest = {(row[0], row[3]): row for row in rows}  # one per instrument: its newest warning
    return list(latest.values())


def same_text_warning(session: Session, source_id: str, url: str, digest: str) -> str | None:
    """One line naming another active instrument of the source whose current text hashes as
    `digest` (the text just recorded for the instrument at `url`), or None: two pages watching
    one text are a thin extraction too (a shared consent wall, a template's boilerplate, a
    selector that matches the same block everywhere)."""
    other = session.execute(
        select(Instrument.title, Instrument.url)
        .where(Instrument.source_id == source_id, Instrument.current_hash == digest,
               Instrument.status == "active", Instrument.url != url)
        .order_by(Instrument.id).limit(1)).first()
    if other is None:
        return None
    return f"watching the same text as “{(other.title or other.url)[:80]}” ({other.url})"


def failing_sources(session: Session) -> list[Source]:
    """Sources whose latest checks failed, by id (the coverage a digest reports)."""
    return list(session.scalars(select(Source).where(Source.consecutive_failures > 0)
                                .order_by(Source.id)))


def scheduled_jobs(session: Session) -> dict[str, datetime]:
    """Job id → next run (naive UTC, to the second) from the daemon's `apscheduler_jobs` table;
    empty before the daemon first ran. Paused jobs (no next run) are left out."""
    if not inspect(session.connection()).has_table("apscheduler_jobs"):
        return {}
    rows = session.execute(text("select id, next_run_time from apscheduler_jobs"))
    return {job_id: datetime.fromtimestamp(int(stamp), UTC).replace(tzinfo=None)
            for job_id, stamp in rows if stamp is not None}


def daemon_state(session: Session) -> DaemonState | None:
    """The daemon's last recorded pid, start, heartbeat and stop."""
    return session.get(DaemonState, 1)


def last_job_outcomes(session: Session) -> dict[str, tuple[str, str | None]]:
    """Job id → (outcome, detail) of the latest run of each job."""
    latest = select(func.max(JobRun.id)).group_by(JobRun.job_id)
    rows = session.execute(select(JobRun.job_id, JobRun.outcome, JobRun.detail)
                           .where(JobRun.id.in_(latest)))
    return {job_id: (outcome, detail) for job_id, outcome, detail in rows}


def outbox_digests(session: Session) -> list[OutboxDigest]:
    """Every digest of the outbox, newest first."""
    return list(session.scalars(select(OutboxDigest).order_by(OutboxDigest.id.desc())))


def outbox_counts(session: Session) -> dict[str, int]:
    """Digest status → how many digests of the outbox are in it."""
    return {status: count for status, count in session.execute(
        select(OutboxDigest.status, func.count(OutboxDigest.id)).group_by(OutboxDigest.status))}


def trend_histories(session: Session) -> list:
    """What trends need of every instrument: in force since, its paradigm each time it changed
    (storage.trend_spans: one row per change of label, not per version), withdrawals."""
    from storage.trend_spans import instrument_histories

    return instrument_histories(session)


def iso_stamp(moment: datetime | None) -> str | None:
    """A stored (naive UTC) moment as the JSON of every command and the API write it."""
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ") if moment else None


def status_report(session: Session) -> dict[str, Any]:
    """What `policywatch status --format json` and `/api/status` give: sources (with their
    warnings), the daemon, digests (next run, last outcome), outbox and notification counts."""
    from storage.deliveries import delivery_counts
    from storage.runs import pid_alive

    next_runs = {job: iso_stamp(moment) for job, moment in scheduled_jobs(session).items()}
    sources = [{"source": h.source.id, "jurisdiction": h.source.jurisdiction,
                "instruments": h.instruments, "last_check": iso_stamp(h.source.last_attempt_at),
                "last_success": iso_stamp(h.source.last_success_at),
                "failures": h.source.consecutive_failures, "error_kind": h.source.last_error_kind,
                "last_error": h.source.last_error, "next_run": next_runs.get(f"check:{h.source.id}"),
                "warnings": [{"kind": w.kind, "url": w.url, "message": w.message}
                             for w in h.warnings]}
               for h in source_health(session)]
    daemon = daemon_state(session)
    last_jobs = last_job_outcomes(session)
    running = bool(daemon and daemon.pid and daemon.started_at and pid_alive(daemon.pid))
    digests = [{"job": job, "next_run": next_runs[job],
                "last_outcome": last_jobs[job][0] if job in last_jobs else None,
                "last_detail": last_jobs[job][1] if job in last_jobs else None}
               for job in sorted(job for job in next_runs if job.startswith("digest:"))]
    return {"sources": sources,
            "daemon": {"running": running, "pid": daemon.pid if daemon else None,
                       "started_at": iso_stamp(daemon.started_at) if daemon else None,
                       "heartbeat_at": iso_stamp(daemon.heartbeat_at) if daemon else None,
                       "stopped_at": iso_stamp(daemon.stopped_at) if daemon else None},
            "digests": digests, "outbox": outbox_counts(session),
            "notifications": delivery_counts(session)}
