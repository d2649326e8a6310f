"""Versions and change events: turn one fetch of one instrument into snapshots, versions and events.

Each function does the work of one instrument inside the caller's transaction, so that a crash at
any moment leaves either all of it (snapshot, version, event, validators) or none of it.
"""

from __future__ import annotations

import hashlib
import itertools
import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime
from urllib.parse import urlsplit

from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session, object_session

from paradigms.classifier import Classification, classify_text
from paradigms.lifecycle import (
    calendar_dates,
    effective_stage,
    is_stage_change,
    lifecycle_stage,
    stage_as_of,
    stored_lifecycle,
)
from paradigms.shifts import version_shift
from storage.blocks import BlockLike, remember_block
from storage.compression import Base, MissingReference, pack_against, references, unpack
from storage.links import record_links
from storage.models import (
    ChangeEvent,
    DroppedDocument,
    EntryPage,
    Instrument,
    KeyDate,
    Snapshot,
    Source,
    Version,
    utcnow,
)
from storage.runs import record_problem
from texts.document import Extracted
from texts.normalise import text_hash
from texts.provision_diffs import diff_provisions
from texts.vocabulary import STAGE, WITHDRAW_AFTER

KEPT_HEADERS = ("content-type", "etag", "last-modified", "date", "content-language",
                "content-disposition", "location")


@dataclass(frozen=True)
class Fetch:
    """One HTTP answer for one instrument URL."""

    source_id: str
    requested_url: str
    url: str  # after redirects
    status: int
    headers: dict[str, str]
    body: bytes
    instrument_id: int | None = None  # set when this was a re-check of a known instrument


@dataclass(frozen=True)
class SourceInfo:
    id: str
    jurisdiction: str
    level: str
    language: str | None


def _uid(source_id: str, url: str, hashed: str) -> str:
    path = urlsplit(url).path.rstrip("/")
    slug = re.sub(r"[^a-z0-9]+", "-", path.rsplit("/", 1)[-1].lower()).strip("-")[:40]
    slug = re.sub(r"-(html?|pdf|aspx?|php)$", "", slug)
    digest = hashlib.sha1(hashed.encode()).hexdigest()[:6]
    return f"{source_id}/{slug}-{digest}" if slug else f"{source_id}/{digest}"


def page_key(url: str) -> str:
    """What names a page wherever it is served: the lower-cased host without its port, the path
    and the query (no scheme, port or fragment), so that a loopback web on a random port and the
    same site on another machine give the same key."""
    parts = urlsplit(url)
    query = f"?{parts.query}" if parts.query else ""
    return f"{parts.hostname or ''}{parts.path or '/'}{query}"


def instrument_uid(source_id: str, url: str) -> str:
    """A stable, readable id: source, last path segment, and a short hash of the page's key."""
    return _uid(source_id, url, page_key(url))


def uid_candidates(source_id: str, url: str) -> Iterator[str]:
    """The ids an instrument first seen at `url` may take, in order: `instrument_uid`; when
    another page of the source holds it (the same page over http and https, or on two ports of
    one host), the hash of the whole URL; then that id numbered -2, -3, …"""
    yield instrument_uid(source_id, url)
    whole = _uid(source_id, url, url)
    yield whole
    yield from (f"{whole}-{n}" for n in itertools.count(2))


def unused_uid(session: Session, source_id: str, url: str) -> str:
    """The first of `uid_candidates` that no stored instrument holds; ids once given never
    change, so the instruments stored before ids were computed this way keep theirs."""
    return next(uid for uid in uid_candidates(source_id, url)
                if session.scalar(select(Instrument.id).where(Instrument.uid == uid)) is None)


BASE_MAX_BYTES = 1_000_000  # a larger page (a PDF, say) would cost more to load than it saves


def store_snapshot(session: Session, fetch: Fetch, now: datetime, text: str = "") -> Snapshot:
    """The raw evidence of a version, stored once per distinct body, compressed against `text`,
    the version's text, and the source's base page (storage/compression.py)."""
    digest = hashlib.sha256(fetch.body).hexdigest()
    existing = session.scalar(select(Snapshot).where(Snapshot.sha256 == digest))
    if existing is not None:
        return existing
    headers = {k.lower(): v for k, v in fetch.headers.items() if k.lower() in KEPT_HEADERS}
    content = pack_against(fetch.body, text.encode("utf-8"), source_base(session, fetch.source_id))
    snapshot = Snapshot(sha256=digest, url=fetch.url, status=fetch.status, headers=headers,
                        content=content, size=len(fetch.body), fetched_at=now)
    session.add(snapshot)
    session.flush()
    return snapshot


def source_base(session: Session, source_id: str) -> Base | None:
    """The source's base page: the snapshot of its first instrument's first version (two index
    lookups), when that one needs no base itself and is not too large."""
    first = session.scalar(select(Instrument.id).where(Instrument.source_id == source_id)
                           .order_by(Instrument.id).limit(1))
    base = None if first is None else session.scalar(
        select(Snapshot).join(Version, Version.snapshot_id == Snapshot.id)
        .where(Version.instrument_id == first, Version.number == 1))
    if first is None or base is None or base.size > BASE_MAX_BYTES or _based(base):
        return None
    body = _BASE_BODIES.get(base.sha256)
    if body is None:  # read once, not once per new page of the source
        body = snapshot_body(base, first)
        if len(_BASE_BODIES) >= BASES_KEPT:
            del _BASE_BODIES[next(iter(_BASE_BODIES))]
        _BASE_BODIES[base.sha256] = body
    return Base(base.id, first, body)


BASES_KEPT = 64  # sources whose base page a process keeps read
# Base pages read, by the SHA-256 of their bytes (`Snapshot.sha256`): a snapshot is never
# rewritten, and a key names its bytes, whatever the store.
_BASE_BODIES: dict[str, bytes] = {}


def _based(snapshot: Snapshot) -> bool:
    needs = references(snapshot.content)
    return needs is not None and needs.base_snapshot_id is not None


def snapshot_body(snapshot: Snapshot, instrument_id: int | None = None) -> bytes:
    """The raw bytes of a snapshot. One compressed against its version's text reads that text from
    the snapshot's session: among `instrument_id`'s versions first (where it nearly always is),
    then among all; and the base page it names, if any."""
    needs = references(snapshot.content)
    if needs is None:
        return unpack(snapshot.content)
    session = object_session(snapshot)
    if session is None:
        raise MissingReference(f"snapshot {snapshot.id} needs its version's text and is outside a session")
    found = select(Version.text).where(Version.text_hash == needs.text_digest).limit(1)
    text = None if instrument_id is None else \
        session.scalar(found.where(Version.instrument_id == instrument_id))
    if text is None:
        text = session.scalar(found)
    if text is None:
        raise MissingReference(f"snapshot {snapshot.id}: no stored version holds the text it was "
                               "compressed against")
    if needs.base_snapshot_id is None:
        return unpack(snapshot.content, text.encode("utf-8"))
    base = session.get(Snapshot, needs.base_snapshot_id)
    if base is None or _based(base):
        raise MissingReference(f"snapshot {snapshot.id}: its base page, snapshot {needs.base_snapshot_id}, "
                               "is not stored as a base")
    return unpack(snapshot.content, text.encode("utf-8"), snapshot_body(base, needs.base_instrument_id))


def _latest_version(session: Session, instrument: Instrument) -> Version | None:
    return session.scalar(select(Version).where(Version.instrument_id == instrument.id)
                          .order_by(Version.number.desc()).limit(1))


def classified_version(instrument: Instrument, text: str, title: str, digest: str,
                       snapshot_id: int | None, now: datetime, technical: bool = False,
                       classification: Classification | None = None,
                       normalised: bool = False) -> Version:
    """The next version of an instrument, classified into its paradigm (`classification`, when
    the caller already classified `text`; `normalised`: `text` is already normalised)."""
    verdict = (classification if classification is not None
               else classify_text(text, normalised=normalised)).to_json()
    instrument.version_count += 1
    return Version(instrument_id=instrument.id, number=instrument.version_count, title=title,
                   text=text, text_hash=digest, snapshot_id=snapshot_id, recorded_at=now,
                   technical=technical, paradigm=verdict["paradigm"], classification=verdict)


def _add_version(session: Session, instrument: Instrument, fetch: Fetch, extracted: Extracted,
                 digest: str, now: datetime, classification: Classification | None,
                 normalised: bool = False) -> Version:
    snapshot = store_snapshot(session, fetch, now, extracted.text)
    version = classified_version(instrument, extracted.text, extracted.title, digest, snapshot.id,
                                 now, classification=classification, normalised=normalised)
    session.add(version)
    instrument.current_hash = digest
    instrument.title = extracted.title or instrument.title
    instrument.doc_type = extracted.doc_type
    instrument.published = extracted.published or instrument.published
    instrument.last_changed_at = now
    read_lifecycle(session, version, instrument.published, now.date())
    # Its queries read instruments and the other instruments' waiting links, never the links it
    # adds: those are flushed together afterwards instead of one flush per query.
    with session.no_autoflush:
        record_links(session, version)
    return version


def iso_date(value: str | None) -> date | None:
    """A stored ISO date ('2021-08-20'), or None when there is none or it is not one."""
    try:
        return date.fromisoformat(value) if value else None
    except ValueError:
        return None


def read_lifecycle(session: Session, version: Version, published: str | None, today: date) -> None:
    """Read a version's lifecycle stage and key dates, once, when it is recorded (or read
    again): the stage and what decided it go on the version, each dated key date of this
    instrument into its own row (those read before from this version are replaced)."""
    lifecycle = lifecycle_stage(version.text, today=today, title=version.title,
                                published=iso_date(published))
    version.stage, version.lifecycle = lifecycle.stage, stored_lifecycle(lifecycle)
    session.flush()  # the version's id, for its key dates
    session.execute(delete(KeyDate).where(KeyDate.version_id == version.id))
    session.add_all(KeyDate(instrument_id=version.instrument_id, version_id=version.id, kind=d.kind,
                            on=d.date.isoformat(), quote=d.quote, provision=d.provision, basis=d.basis)
                    for d in calendar_dates(lifecycle) if d.date is not None)


def version_stage(version: Version | None, today: date) -> str:
    """The stage of a stored version as of `today` (paradigms.lifecycle.effective_stage)."""
    if version is None:
        return effective_stage(None, None, today)
    return stage_as_of(version.stage, version.lifecycle, today)


def _current_labels(session: Session, instrument: Instrument, today: date) -> tuple[str | None, str]:
    """(paradigm, stage as of `today`) of an instrument's latest version."""
    row = session.execute(select(Version.paradigm, Version.stage, Version.lifecycle)
                          .where(Version.instrument_id == instrument.id)
                          .order_by(Version.number.desc()).limit(1)).first()
    if row is None:
        return None, effective_stage(None, None, today)
    paradigm, stage, lifecycle = row
    return paradigm, stage_as_of(stage, lifecycle, today)


def _event(session: Session, instrument: Instrument, kind: str, run_id: int | None,
           now: datetime, **fields) -> ChangeEvent:
    session.flush()
    if "paradigm" not in fields or "stage" not in fields:
        paradigm, stage = _current_labels(session, instrument, now.date())
        fields.setdefault("paradigm", paradigm)
        fields.setdefault("stage", stage)
    event = ChangeEvent(instrument_id=instrument.id, jurisdiction=instrument.jurisdiction,
                        run_id=run_id, kind=kind,
                        version_number=instrument.version_count, detected_at=now,
                        url=instrument.url, **fields)
    session.add(event)
    return event


def _labels(version: Version, today: date) -> dict:
    """paradigm and stage of an event whose instrument's latest version is `version` (the one
    just added: what `_current_labels` would read back)."""
    return {"paradigm": version.paradigm, "stage": version_stage(version, today)}


def _change_fields(previous: Version | None, current: Version) -> dict:
    """provisions, previous_paradigm and shift of an event that made `current` from `previous`."""
    provisions = diff_provisions(previous.text if previous else "", current.text)
    return {
        "provisions": provisions.to_json(),
        "previous_paradigm": previous.paradigm if previous else None,
        "shift": version_shift(previous.classification if previous else None,
                               current.classification or {}, provisions.refs),
    }


def validators(headers: dict[str, str]) -> tuple[str | None, str | None]:
    """(ETag, Last-Modified) of an answer's headers, whatever their case."""
    lowered = {k.lower(): v for k, v in headers.items()}
    return lowered.get("etag"), lowered.get("last-modified")


def _validators(instrument: Instrument, fetch: Fetch, now: datetime) -> None:
    instrument.etag, instrument.last_modified = validators(fetch.headers)
    instrument.last_checked_at = now
    instrument.gone_checks = 0


def record_document(session: Session, run_id: int | None, source: SourceInfo, fetch: Fetch,
                    extracted: Extracted, now: datetime | None = None,
                    classification: Classification | None = None,
                    block: BlockLike | None = None, normalised: bool = False) -> str:
    """Record a 200 answer; return what happened: new, amended, moved, restored or unchanged.

    `classification`: the caller's classification of `extracted.text`, so that it is not
    classified twice (default: classified here when a version is added). `block`: where the text
    was found on the page, remembered for the next check (None: nowhere to re-read).
    `normalised`: `extracted.text` is `normalise_text`'s output (extraction's always is), so the
    classifier does not normalise it again."""
    now = now or utcnow()
    digest = text_hash(extracted.text)
    instrument = None
    if fetch.instrument_id is not None:
        instrument = session.get(Instrument, fetch.instrument_id)
    if instrument is None:
        instrument = session.scalar(select(Instrument).where(
            Instrument.source_id == source.id, Instrument.url == fetch.url))
    if instrument is not None:
        remember_block(session, instrument.id, block)
        return _record_known(session, run_id, instrument, fetch, extracted, digest, now,
                             classification, normalised)

    moved_from = session.scalar(select(Instrument).where(
        Instrument.source_id == source.id, Instrument.current_hash == digest,
        (Instrument.gone_checks > 0) | (Instrument.status == "withdrawn")).limit(1))
    if moved_from is not None:
        previous_url = moved_from.url
        moved_from.url, moved_from.status = fetch.url, "active"
        _validators(moved_from, fetch, now)
        remember_block(session, moved_from.id, block)
        _event(session, moved_from, "moved", run_id, now, previous_url=previous_url)
        return "moved"

    baseline = not session.scalar(select(Source.baseline_complete).where(Source.id == source.id))
    instrument = Instrument(
        uid=unused_uid(session, source.id, fetch.url), source_id=source.id, url=fetch.url,
        title=extracted.title, jurisdiction=source.jurisdiction, level=source.level,
        language=source.language, first_seen_at=now, version_count=0)
    session.add(instrument)
    session.flush()
    _validators(instrument, fetch, now)
    version = _add_version(session, instrument, fetch, extracted, digest, now, classification,
                           normalised)
    remember_block(session, instrument.id, block)
    _event(session, instrument, "new", run_id, now, baseline=bool(baseline),
           **_labels(version, now.date()))
    return "new"


def _record_known(session: Session, run_id: int | None, instrument: Instrument, fetch: Fetch,
                  extracted: Extracted, digest: str, now: datetime,
                  classification: Classification | None, normalised: bool = False) -> str:
    _validators(instrument, fetch, now)
    changed = digest != instrument.current_hash
    outcome = "unchanged"
    if fetch.url != instrument.url and not session.scalar(select(Instrument.id).where(
            Instrument.source_id == instrument.source_id, Instrument.url == fetch.url)):
        previous_url, instrument.url = instrument.url, fetch.url
        _event(session, instrument, "moved", run_id, now, previous_url=previous_url)
        outcome = "moved"
    change: dict = {}
    stages: tuple[str, str] | None = None  # (before, after) when the new version changed stage
    if changed:
        previous = _latest_version(session, instrument)
        current = _add_version(session, instrument, fetch, extracted, digest, now, classification,
                               normalised)
        change = {**_change_fields(previous, current), **_labels(current, now.date())}
        before, after = version_stage(previous, now.date()), version_stage(current, now.date())
        stages = (before, after) if previous is not None and is_stage_change(before, after) else None
    kind = "restored" if instrument.status == "withdrawn" else "amended" if changed else None
    if kind is None:
        return outcome
    if kind == "restored":
        instrument.status = "active"
    _event(session, instrument, kind, run_id, now, **change)
    if stages:
        _event(session, instrument, STAGE, run_id, now, previous_stage=stages[0], stage=stages[1])
    return kind


def record_reextraction(session: Session, instrument: Instrument, extracted: Extracted,
                        now: datetime | None = None) -> str:
    """The latest snapshot read again with today's extraction: a changed text is a *technical*
    version (the source did not change, our reading of it did) and is never announced. The
    remembered block, found by the earlier reading, is forgotten with it."""
    now = now or utcnow()
    digest = text_hash(extracted.text)
    latest = _latest_version(session, instrument)
    if latest is None or digest == instrument.current_hash:
        return "unchanged"
    version = classified_version(instrument, extracted.text, extracted.title, digest,
                                 latest.snapshot_id, now, technical=True)
    session.add(version)
    instrument.current_hash = digest
    instrument.title = extracted.title or instrument.title
    read_lifecycle(session, version, instrument.published, now.date())
    remember_block(session, instrument.id, None)
    _event(session, instrument, "technical", None, now, **_change_fields(latest, version))
    return "technical"


def record_checked(session: Session, instrument_ids: list[int], now: datetime | None = None) -> None:
    """Instruments found unchanged (304, or the same text and validators): only the time of the
    check is written, for all of them at once."""
    now = now or utcnow()
    for start in range(0, len(instrument_ids), 500):
        session.execute(update(Instrument).where(Instrument.id.in_(instrument_ids[start:start + 500]))
                        .values(last_checked_at=now))


def record_revalidated(session: Session, new_validators: dict[int, tuple[str | None, str | None]],
                       now: datetime | None = None) -> None:
    """Instruments found unchanged whose answers carried new validators (an ETag of a body whose
    furniture changed): the validators and the time of the check, for all of them at once."""
    now = now or utcnow()
    if new_validators:
        session.execute(update(Instrument), [
            {"id": instrument_id, "etag": etag, "last_modified": modified, "last_checked_at": now}
            for instrument_id, (etag, modified) in new_validators.items()])


def record_not_modified(session: Session, run_id: int | None, instrument_id: int,
                        now: datetime | None = None) -> str:
    """A 304: nothing changed (and a withdrawn instrument answering again is restored)."""
    now = now or utcnow()
    instrument = session.get(Instrument, instrument_id)
    if instrument is None:
        return "unchanged"
    instrument.last_checked_at, instrument.gone_checks = now, 0
    if instrument.status == "withdrawn":
        instrument.status = "active"
        _event(session, instrument, "restored", run_id, now)
        return "restored"
    return "unchanged"


def record_gone(session: Session, run_id: int | None, instrument_id: int, status: int,
                withdraw_after: int = WITHDRAW_AFTER, now: datetime | None = None,
                reason: str | None = None) -> str:
    """A 404/410 for a known instrument, or a 200 page saying it is not found (`reason` says
    what the answer was): withdrawn only after `withdraw_after` such checks in a row."""
    now = now or utcnow()
    instrument = session.get(Instrument, instrument_id)
    if instrument is None or instrument.status == "withdrawn":
        return "withdrawn-already"
    instrument.gone_checks += 1
    instrument.last_checked_at = now
    if instrument.gone_checks >= withdraw_after:
        instrument.status = "withdrawn"
        _event(session, instrument, "withdrawn", run_id, now)
        return "withdrawn"
    record_problem(session, run_id, instrument.source_id, instrument.url, "gone",
                   f"{reason or f'HTTP {status}'} ({instrument.gone_checks} of {withdraw_after} "
                   "before withdrawn)",
                   now, severity="warning")
    return "gone"


def record_dropped(session: Session, source_id: str, fetch: Fetch, title: str, scores: dict,
                   now: datetime | None = None) -> None:
    """Keep a discovered document out of the instruments, saying why (relevance: auto)."""
    now = now or utcnow()
    dropped = session.scalar(select(DroppedDocument).where(
        DroppedDocument.source_id == source_id, DroppedDocument.url == fetch.url))
    if dropped is None:
        dropped = DroppedDocument(source_id=source_id, url=fetch.url, first_seen_at=now)
        session.add(dropped)
    dropped.title, dropped.scores, dropped.last_seen_at = title, scores, now
    dropped.etag, dropped.last_modified = validators(fetch.headers)
    dropped.reason = ("says nothing about cross-border data transfers (evidence F/P/R "
                      f"{scores.get('facilitation', 0)}/{scores.get('prudent', 0)}/"
                      f"{scores.get('restrictive', 0)})")


def record_entry_page(session: Session, source_id: str, url: str, headers: dict[str, str],
                      links: list[str], next_url: str | None) -> None:
    page = session.get(EntryPage, url) or EntryPage(url=url, source_id=source_id)
    page.etag, page.last_modified = validators(headers)
    page.links, page.next_url, page.fetched_at = links, next_url, utcnow()
    session.merge(page)
