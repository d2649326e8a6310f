"""SQLAlchemy 2 models of the store: sources and their health, instruments, raw snapshots,
versions, change events, crawl runs and the problems they met."""

from __future__ import annotations

import json
from datetime import UTC, datetime

from sqlalchemy import (
    JSON,
    Boolean,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship
from sqlalchemy.types import TypeDecorator

from storage.compression import pack, unpack

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

def utcnow() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)


def include_in_migrations(obj, name, type_, reflected, compare_to) -> bool:
    """Alembic's filter: tables of other components sharing the database (the scheduler's job
    store, the full-text search tables) are not ours to create or drop."""
    return not (type_ == "table" and reflected and compare_to is None)


class CompressedText(TypeDecorator):
    """Text kept compressed (storage/compression.py) in a binary column (a version's text is read whole, never
    searched in SQL: the full-text index of storage/search.py does that)."""

    impl = LargeBinary
    cache_ok = True

    def process_bind_param(self, value: str | None, dialect) -> bytes | None:
        return None if value is None else pack(value.encode("utf-8"))

    def process_result_value(self, value: bytes | None, dialect) -> str | None:
        return None if value is None else unpack(value).decode("utf-8")


class CompressedJSON(TypeDecorator):
    """A JSON document kept compressed in a binary column: a version's classification (its quoted
    evidence is most of its bytes) is read whole with its version, never queried in SQL."""

    impl = LargeBinary
    cache_ok = True

    def process_bind_param(self, value: dict | None, dialect) -> bytes | None:
        if value is None:
            return None
        return pack(json.dumps(value, ensure_ascii=False, separators=(",", ":")).encode("utf-8"))

    def process_result_value(self, value: bytes | None, dialect) -> dict | None:
        return None if value is None else json.loads(unpack(value))


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


class Source(Base):
    """A declared source as last crawled, with its health."""

    __tablename__ = "sources"

    id: Mapped[str] = mapped_column(String(100), primary_key=True)
    name: Mapped[str] = mapped_column(String(300))
    jurisdiction: Mapped[str] = mapped_column(String(20))
    level: Mapped[str] = mapped_column(String(20))
    declaration_file: Mapped[str | None] = mapped_column(Text)
    baseline_complete: Mapped[bool] = mapped_column(Boolean, default=False)
    last_attempt_at: Mapped[datetime | None] = mapped_column(DateTime)
    last_success_at: Mapped[datetime | None] = mapped_column(DateTime)
    consecutive_failures: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str | None] = mapped_column(Text)
    last_error_kind: Mapped[str | None] = mapped_column(String(20))


class CrawlRun(Base):
    __tablename__ = "crawl_runs"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    started_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    finished_at: Mapped[datetime | None] = mapped_column(DateTime)
    status: Mapped[str] = mapped_column(String(20), default="running")  # running|finished|interrupted
    pid: Mapped[int | None] = mapped_column(Integer)
    node: Mapped[str | None] = mapped_column(String(300))  # "<scrapyd url> job <id>"; None: here
    sources: Mapped[list] = mapped_column(JSON, default=list)
    stats: Mapped[dict] = mapped_column(JSON, default=dict)


class Problem(Base):
    """Something that went wrong while checking a source: never a change event."""

    __tablename__ = "problems"
    __table_args__ = (Index("ix_problems_run_source", "run_id", "source_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    run_id: Mapped[int | None] = mapped_column(ForeignKey("crawl_runs.id"))
    source_id: Mapped[str] = mapped_column(String(100))
    url: Mapped[str | None] = mapped_column(Text)
    kind: Mapped[str] = mapped_column(String(20))
    severity: Mapped[str] = mapped_column(String(10), default="error")
    message: Mapped[str] = mapped_column(Text)
    at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)


class Instrument(Base):
    __tablename__ = "instruments"
    __table_args__ = (UniqueConstraint("source_id", "url", name="uq_instruments_source_url"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    uid: Mapped[str] = mapped_column(String(200), unique=True)
    source_id: Mapped[str] = mapped_column(ForeignKey("sources.id"), index=True)
    url: Mapped[str] = mapped_column(Text)
    title: Mapped[str] = mapped_column(Text, default="")
    jurisdiction: Mapped[str] = mapped_column(String(20), index=True)
    level: Mapped[str] = mapped_column(String(20))
    doc_type: Mapped[str] = mapped_column(String(10), default="html")
    language: Mapped[str | None] = mapped_column(String(10))
    published: Mapped[str | None] = mapped_column(String(10))
    status: Mapped[str] = mapped_column(String(20), default="active")  # active | withdrawn
    etag: Mapped[str | None] = mapped_column(Text)
    last_modified: Mapped[str | None] = mapped_column(Text)
    gone_checks: Mapped[int] = mapped_column(Integer, default=0)
    version_count: Mapped[int] = mapped_column(Integer, default=0)
    current_hash: Mapped[str | None] = mapped_column(String(64), index=True)
    first_seen_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    last_checked_at: Mapped[datetime | None] = mapped_column(DateTime)
    last_changed_at: Mapped[datetime | None] = mapped_column(DateTime)

    versions: Mapped[list[Version]] = relationship(
        back_populates="instrument", order_by="Version.number")


class MainTextBlock(Base):
    """Where an instrument's current text was found on its page (`crawlers.main_content.Block`):
    a re-check that finds the same element with the same text skips full extraction."""

    __tablename__ = "main_text_blocks"

    instrument_id: Mapped[int] = mapped_column(ForeignKey("instruments.id"), primary_key=True)
    path: Mapped[str] = mapped_column(Text)
    markup_digest: Mapped[str] = mapped_column(String(64))
    digest: Mapped[str] = mapped_column(String(64))


class Snapshot(Base):
    """The raw bytes and headers that produced a version, compressed, stored once per content."""

    __tablename__ = "snapshots"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    sha256: Mapped[str] = mapped_column(String(64), unique=True)
    url: Mapped[str] = mapped_column(Text)
    status: Mapped[int] = mapped_column(Integer)
    headers: Mapped[dict] = mapped_column(JSON, default=dict)
    content: Mapped[bytes] = mapped_column(LargeBinary)
    size: Mapped[int] = mapped_column(Integer)
    fetched_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)


class Version(Base):
    __tablename__ = "versions"
    __table_args__ = (
        UniqueConstraint("instrument_id", "number", name="uq_versions_instrument_number"),
        # What trends read of every version, without touching the rows (which hold the texts).
        Index("ix_versions_trend", "instrument_id", "number", "recorded_at", "paradigm"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    instrument_id: Mapped[int] = mapped_column(ForeignKey("instruments.id"))
    number: Mapped[int] = mapped_column(Integer)
    title: Mapped[str] = mapped_column(Text, default="")
    text: Mapped[str] = mapped_column("text_z", CompressedText)
    text_hash: Mapped[str] = mapped_column(String(64))
    snapshot_id: Mapped[int | None] = mapped_column(ForeignKey("snapshots.id"))
    technical: Mapped[bool] = mapped_column(Boolean, default=False)
    recorded_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    paradigm: Mapped[str | None] = mapped_column(String(20))
    # scores, relevance, evidence (Classification.to_json), compressed
    classification: Mapped[dict | None] = mapped_column("classification_z", CompressedJSON)
    # Lifecycle stage as read from this version (paradigms.lifecycle): draft, consultation,
    # adopted, in_force, repealed or unknown, and what decided it (Lifecycle.to_json without dates).
    stage: Mapped[str | None] = mapped_column(String(20))
    lifecycle: Mapped[dict | None] = mapped_column(JSON)

    instrument: Mapped[Instrument] = relationship(back_populates="versions")
    snapshot: Mapped[Snapshot | None] = relationship()


class ChangeEvent(Base):
    __tablename__ = "change_events"
    __table_args__ = (
        Index("ix_change_events_detected", "detected_at"),
        Index("ix_change_events_jurisdiction_detected", "jurisdiction", "detected_at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    instrument_id: Mapped[int] = mapped_column(ForeignKey("instruments.id"), index=True)
    jurisdiction: Mapped[str | None] = mapped_column(String(20))  # the instrument's, for the index
    run_id: Mapped[int | None] = mapped_column(ForeignKey("crawl_runs.id"))
    kind: Mapped[str] = mapped_column(String(20), index=True)
    version_number: Mapped[int] = mapped_column(Integer)
    detected_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    baseline: Mapped[bool] = mapped_column(Boolean, default=False)
    url: Mapped[str] = mapped_column(Text)
    previous_url: Mapped[str | None] = mapped_column(Text)
    provisions: Mapped[dict | None] = mapped_column(JSON)
    paradigm: Mapped[str | None] = mapped_column(String(20))
    previous_paradigm: Mapped[str | None] = mapped_column(String(20))
    shift: Mapped[dict | None] = mapped_column(JSON)  # paradigms.shifts.version_shift
    # A `stage` event's change of lifecycle stage (draft -> adopted); the stage of other events.
    stage: Mapped[str | None] = mapped_column(String(20))
    previous_stage: Mapped[str | None] = mapped_column(String(20))

    instrument: Mapped[Instrument] = relationship()


class TrendSpan(Base):
    """Where an instrument's paradigm changed, from one version to the next: the trends' input,
    one row per label an instrument took rather than per version (storage/trend_spans.py keeps it
    up to date from the versions recorded after `TrendState.through_version_id`)."""

    __tablename__ = "trend_spans"

    instrument_id: Mapped[int] = mapped_column(ForeignKey("instruments.id"), primary_key=True)
    version_number: Mapped[int] = mapped_column(Integer, primary_key=True)
    since: Mapped[str] = mapped_column(String(10))       # ISO day the version was recorded
    paradigm: Mapped[str] = mapped_column(String(20))
    through: Mapped[str] = mapped_column(String(10))     # ISO day of its last version with this label


class TrendState(Base):
    """The newest version and the newest withdrawal or restoration already folded into
    trend_spans, trend_counts and trend_members (one row)."""

    __tablename__ = "trend_state"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    through_version_id: Mapped[int] = mapped_column(Integer, default=0)
    through_event_id: Mapped[int] = mapped_column(Integer, default=0, server_default="0")


class TrendCount(Base):
    """The yearly trends summed over the instruments (paradigms.trends.yearly_counts): a digest
    reads this small table instead of every instrument."""

    __tablename__ = "trend_counts"

    measure: Mapped[str] = mapped_column(String(10), primary_key=True)
    year: Mapped[str] = mapped_column(String(4), primary_key=True)
    jurisdiction: Mapped[str] = mapped_column(String(20), primary_key=True)
    level_group: Mapped[str] = mapped_column(String(30), primary_key=True)
    paradigm: Mapped[str] = mapped_column(String(20), primary_key=True)  # "" when not in force
    count: Mapped[int] = mapped_column(Integer)


class TrendMember(Base):
    """When an instrument was in force, as its share of trend_counts was computed (its own row
    may no longer say: its publication date can change with a new version), and the paradigm it
    had at the end of the year it came into force (the new restrictive instruments of that year)."""

    __tablename__ = "trend_members"

    instrument_id: Mapped[int] = mapped_column(ForeignKey("instruments.id"), primary_key=True)
    uid: Mapped[str] = mapped_column(String(200))                  # the instrument's, read here
    jurisdiction: Mapped[str] = mapped_column(String(20), index=True)  # without its wide row
    in_force: Mapped[str] = mapped_column(String(10), index=True)  # ISO day
    entered_paradigm: Mapped[str | None] = mapped_column(String(20), index=True)
    # Its withdrawals, "withdrawn/restored" ISO days (restored empty while withdrawn), ";" between.
    withdrawn: Mapped[str | None] = mapped_column(Text)


class KeyDate(Base):
    """A dated moment an instrument's version names (adoption, publication, entry into force,
    application, a transition deadline), with its quote: what `calendar` lists. Rows belong to
    the version they were read from; the calendar reads those of each instrument's latest."""

    __tablename__ = "key_dates"
    __table_args__ = (Index("ix_key_dates_on", "on", "kind"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    instrument_id: Mapped[int] = mapped_column(ForeignKey("instruments.id"), index=True)
    version_id: Mapped[int] = mapped_column(ForeignKey("versions.id"), index=True)
    kind: Mapped[str] = mapped_column(String(30))       # paradigms.key_dates.DATE_KINDS
    on: Mapped[str] = mapped_column(String(10))         # ISO date, YYYY-MM-DD
    quote: Mapped[str] = mapped_column(Text, default="")
    provision: Mapped[str] = mapped_column(Text, default="")
    basis: Mapped[str] = mapped_column(Text, default="")  # how a relative date was reckoned


class InstrumentLink(Base):
    """A typed reference from one instrument's version to another instrument (amends, repeals,
    replaces, implements, cites), as written, resolved to a known instrument where possible."""

    __tablename__ = "instrument_links"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    instrument_id: Mapped[int] = mapped_column(ForeignKey("instruments.id"), index=True)
    version_id: Mapped[int] = mapped_column(ForeignKey("versions.id"), index=True)
    kind: Mapped[str] = mapped_column(String(20))
    cited: Mapped[str] = mapped_column(Text)            # "Directive 95/46/EC", "《个人信息保护法》"
    target_instrument_id: Mapped[int | None] = mapped_column(ForeignKey("instruments.id"), index=True)
    quote: Mapped[str] = mapped_column(Text, default="")
    provision: Mapped[str] = mapped_column(Text, default="")
    key: Mapped[str | None] = mapped_column(Text, index=True)  # the reference's key, as cited


class InstrumentKey(Base):
    """One key under which other texts may cite an instrument (`paradigms.instrument_links.
    identity_keys` of its title and URL), kept with its title and URL, so that a reference is
    resolved through an index instead of a scan of every title."""

    __tablename__ = "instrument_keys"

    instrument_id: Mapped[int] = mapped_column(ForeignKey("instruments.id"), primary_key=True)
    key: Mapped[str] = mapped_column(Text, primary_key=True, index=True)


class EntryPage(Base):
    """A listing, feed or sitemap page as last fetched: validators and the links it held,
    so that a 304 still yields the page's links."""

    __tablename__ = "entry_pages"

    url: Mapped[str] = mapped_column(Text, primary_key=True)
    source_id: Mapped[str] = mapped_column(String(100))
    etag: Mapped[str | None] = mapped_column(Text)
    last_modified: Mapped[str | None] = mapped_column(Text)
    links: Mapped[list] = mapped_column(JSON, default=list)
    next_url: Mapped[str | None] = mapped_column(Text)
    fetched_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)


class DroppedDocument(Base):
    """A discovered document that the relevance filter kept out of the instruments, and why."""

    __tablename__ = "dropped_documents"
    __table_args__ = (UniqueConstraint("source_id", "url", name="uq_dropped_documents_source_url"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    source_id: Mapped[str] = mapped_column(String(100), index=True)
    url: Mapped[str] = mapped_column(Text)
    title: Mapped[str] = mapped_column(Text, default="")
    reason: Mapped[str] = mapped_column(Text)
    scores: Mapped[dict] = mapped_column(JSON, default=dict)
    etag: Mapped[str | None] = mapped_column(Text)
    last_modified: Mapped[str | None] = mapped_column(Text)
    first_seen_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    last_seen_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)


class OutboxDigest(Base):
    """A digest built for one subscription and window: built once, sent once.

    status: pending (built, or a send that failed: retried) → sending (committed just before
    the SMTP conversation) → sent. A digest found 'sending' after a crash may or may not have
    reached the server: it becomes 'uncertain' and is never resent automatically.
    'empty' records a window with nothing to say for a subscription that does not want
    empty digests.
    """

    __tablename__ = "outbox"
    __table_args__ = (UniqueConstraint("subscription", "window_start", "window_end",
                                       name="uq_outbox_subscription_window"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    subscription: Mapped[str] = mapped_column(String(100), index=True)
    window_start: Mapped[datetime] = mapped_column(DateTime)
    window_end: Mapped[datetime] = mapped_column(DateTime)
    built_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    subject: Mapped[str] = mapped_column(Text)
    recipients: Mapped[list] = mapped_column(JSON, default=list)
    message: Mapped[bytes] = mapped_column(LargeBinary)
    message_id: Mapped[str] = mapped_column(String(300))
    events: Mapped[int] = mapped_column(Integer, default=0)
    status: Mapped[str] = mapped_column(String(20), default="pending", index=True)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str | None] = mapped_column(Text)
    sending_pid: Mapped[int | None] = mapped_column(Integer)
    sent_at: Mapped[datetime | None] = mapped_column(DateTime)


class Delivery(Base):
    """One digest of the outbox for one notification channel (an Apprise URL); see
    `storage.deliveries`."""

    __tablename__ = "outbox_deliveries"
    __table_args__ = (UniqueConstraint("digest_id", "channel", name="uq_outbox_deliveries_digest_channel"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    digest_id: Mapped[int] = mapped_column(ForeignKey("outbox.id"), index=True)
    channel: Mapped[str] = mapped_column(Text)  # the URL as configured (secrets as ${VARIABLE})
    status: Mapped[str] = mapped_column(String(20), default="pending", index=True)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str | None] = mapped_column(Text)
    sending_pid: Mapped[int | None] = mapped_column(Integer)
    sent_at: Mapped[datetime | None] = mapped_column(DateTime)


class DaemonState(Base):
    """The running daemon, for `policywatch status` (one row per store)."""

    __tablename__ = "daemon_state"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    pid: Mapped[int | None] = mapped_column(Integer)
    started_at: Mapped[datetime | None] = mapped_column(DateTime)
    heartbeat_at: Mapped[datetime | None] = mapped_column(DateTime)
    stopped_at: Mapped[datetime | None] = mapped_column(DateTime)


class JobRun(Base):
    """One run of a daemon job (a source check in a child process, a digest, a retry)."""

    __tablename__ = "job_runs"
    __table_args__ = (Index("ix_job_runs_job_started", "job_id", "started_at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    job_id: Mapped[str] = mapped_column(String(200))
    started_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    finished_at: Mapped[datetime | None] = mapped_column(DateTime)
    outcome: Mapped[str] = mapped_column(String(20), default="running")  # ok|failed|killed|running
    detail: Mapped[str | None] = mapped_column(Text)
    child_pid: Mapped[int | None] = mapped_column(Integer)
