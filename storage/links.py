"""Links between instruments in the store: read from each new version, resolved to the
instruments the store knows, and read back for `show`, the web view and the report.

An instrument's links are those of its latest version read for them: recording a version's links
replaces the ones of its earlier versions. A link is resolved by the key of the reference
(`paradigms.instrument_links`) against the keys each instrument may be cited by (`instrument_keys`:
those of its title, the numbers its title carries and the EUR-Lex CELEX number in its URL, kept
up to date whenever an instrument is added, renamed or moved), a numbered law within the citing
instrument's jurisdiction. A link nothing resolves waits with its key: when an instrument appears
or is renamed, the waiting links with one of its keys are resolved. Both go through an index,
never a scan of titles.

"Repealed by": a resolved `repeals` link from an instrument whose latest version is not a draft
or a consultation text marks its target repealed in every read here, whatever the target's own
text says of its stage.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy import Connection, delete, event, func, insert, inspect, select
from sqlalchemy.orm import Session, aliased

from paradigms.instrument_links import KEY_CHARS, find_links, identity_keys, reference_key
from storage.database import Store
from storage.models import Instrument, InstrumentKey, InstrumentLink, Version
from texts.vocabulary import LINK_KIND_INCOMING, REPEALS

NOT_YET_LAW = ("draft", "consultation")  # stages whose repeal clauses repeal nothing yet
NATIONAL = ("law:", "decree:")  # keys of numbered laws, which name one of the citing country's


def _refresh_keys(connection: Connection, instrument: Instrument) -> None:
    connection.execute(delete(InstrumentKey).where(InstrumentKey.instrument_id == instrument.id))
    keys = sorted(identity_keys(instrument.title or "", instrument.url or ""))
    if keys:
        connection.execute(insert(InstrumentKey), [{"instrument_id": instrument.id, "key": key}
                                                   for key in keys])


@event.listens_for(Instrument, "after_insert")
def _keys_of_a_new_instrument(_mapper, connection: Connection, instrument: Instrument) -> None:
    _refresh_keys(connection, instrument)


@event.listens_for(Instrument, "after_update")
def _keys_of_a_renamed_instrument(_mapper, connection: Connection, instrument: Instrument) -> None:
    state = inspect(instrument)
    if state.attrs.title.history.has_changes() or state.attrs.url.history.has_changes():
        _refresh_keys(connection, instrument)


def resolve(session: Session, key: str, citing: Instrument) -> int | None:
    """The id of the known instrument `key` names (one of the citing instrument's jurisdiction
    first; a numbered law only within it), or None."""
    query = (select(Instrument.id, Instrument.jurisdiction)
             .join(InstrumentKey, InstrumentKey.instrument_id == Instrument.id)
             .where(InstrumentKey.key == key[:KEY_CHARS], Instrument.id != citing.id))
    if key.startswith(NATIONAL):  # "Ley 1581" means the citing country's
        query = query.where(Instrument.jurisdiction == citing.jurisdiction)
    found = sorted(session.execute(query), key=lambda c: (c.jurisdiction != citing.jurisdiction, c.id))
    return found[0].id if found else None


def record_links(session: Session, version: Version) -> int:
    """Read the links of a new version, resolve them, and make them the instrument's links; then
    resolve the waiting links of other instruments that cite this one. Returns how many."""
    session.flush()  # the version's id, and the instrument's (and its keys)
    instrument = session.get(Instrument, version.instrument_id)
    assert instrument is not None
    session.execute(delete(InstrumentLink).where(InstrumentLink.instrument_id == instrument.id))
    links = find_links(version.text, version.title or instrument.title)
    for link in links:
        session.add(InstrumentLink(instrument_id=instrument.id, version_id=version.id, kind=link.kind,
                                   cited=link.cited, quote=link.quote, provision=link.provision,
                                   key=reference_key(link.cited),
                                   target_instrument_id=resolve(session, link.key, instrument)))
    resolve_waiting(session, instrument)
    return len(links)


def resolve_waiting(session: Session, instrument: Instrument) -> int:
    """Resolve to `instrument` the unresolved links of other instruments that name it; returns
    how many were resolved."""
    keys = identity_keys(instrument.title, instrument.url)
    waiting = session.scalars(select(InstrumentLink).where(
        InstrumentLink.target_instrument_id.is_(None), InstrumentLink.instrument_id != instrument.id,
        InstrumentLink.key.in_(sorted(keys)))).all()
    resolved = 0
    for link in waiting:
        citing = session.get(Instrument, link.instrument_id)
        national = (link.key or "").startswith(NATIONAL)
        if national and citing and citing.jurisdiction != instrument.jurisdiction:
            continue
        link.target_instrument_id = instrument.id
        resolved += 1
    return resolved


def relink_store(store: Store) -> dict[str, int]:
    """Read the links of every instrument's latest version again (after the reader improved, or
    for a store made before links were read), then resolve what waits. One transaction per
    instrument."""
    counts = {"instruments": 0, "links": 0, "resolved": 0}
    with store.sessions() as session:
        ids = session.scalars(select(Instrument.id).order_by(Instrument.id)).all()
    for instrument_id in ids:
        with store.transaction() as session:
            latest = session.scalar(select(Version).where(Version.instrument_id == instrument_id)
                                    .order_by(Version.number.desc()).limit(1))
            if latest is None:
                continue
            counts["instruments"] += 1
            counts["links"] += record_links(session, latest)
    with store.transaction() as session:
        for instrument in session.scalars(select(Instrument).order_by(Instrument.id)):
            resolve_waiting(session, instrument)
        counts["resolved"] = session.scalar(select(func.count(InstrumentLink.id)).where(
            InstrumentLink.target_instrument_id.is_not(None))) or 0
    return counts


# ------------------------------------------------------------------------------------ reads

@dataclass(frozen=True)
class LinkRow:
    """One link as `show` and the web view give it, seen from one of its two ends."""

    direction: str          # "outgoing" (this instrument's text names the other) or "incoming"
    kind: str               # repeals, replaces, amends, implements, cites
    reads: str              # "repeals" outgoing, "repealed by" incoming
    cited: str
    other: str | None       # the other end's id (uid), when known
    other_title: str
    quote: str
    provision: str
    version: int            # the citing version's number

    def to_json(self) -> dict:
        return {"direction": self.direction, "kind": self.kind, "reads": self.reads, "cited": self.cited,
                "instrument": self.other, "title": self.other_title, "quote": self.quote,
                "provision": self.provision, "version": self.version}


def instrument_links(session: Session, instrument_id: int) -> list[LinkRow]:
    """The links of one instrument: what its text names (outgoing, in text order), then the
    instruments whose text names it (incoming, strongest kind first)."""
    target = aliased(Instrument)
    rows: list[LinkRow] = []
    for link, number, uid, title in session.execute(
            select(InstrumentLink, Version.number, target.uid, target.title)
            .join(Version, Version.id == InstrumentLink.version_id)
            .outerjoin(target, target.id == InstrumentLink.target_instrument_id)
            .where(InstrumentLink.instrument_id == instrument_id).order_by(InstrumentLink.id)):
        rows.append(LinkRow("outgoing", link.kind, link.kind, link.cited, uid, title or "", link.quote,
                            link.provision, number))
    citing = aliased(Instrument)
    incoming = session.execute(
        select(InstrumentLink, Version.number, citing.uid, citing.title)
        .join(Version, Version.id == InstrumentLink.version_id)
        .join(citing, citing.id == InstrumentLink.instrument_id)
        .where(InstrumentLink.target_instrument_id == instrument_id).order_by(InstrumentLink.id)).all()
    order = {"repeals": 0, "replaces": 1, "amends": 2, "implements": 3, "cites": 4}
    for link, number, uid, title in sorted(incoming, key=lambda row: order.get(row[0].kind, 9)):
        rows.append(LinkRow("incoming", link.kind, LINK_KIND_INCOMING.get(link.kind, link.kind), link.cited,
                            uid, title or "", link.quote, link.provision, number))
    return rows


def repealed_by(session: Session, instrument_ids: Iterable[int] | None = None) -> dict[int, list[str]]:
    """Instrument id → the ids (uids) of the instruments in the store that repeal it, read from
    resolved `repeals` links whose citing instrument's latest version is no draft or
    consultation text."""
    citing = aliased(Instrument)
    query = (select(InstrumentLink.target_instrument_id, citing.uid, Version.stage)
             .join(citing, citing.id == InstrumentLink.instrument_id)
             .join(Version, (Version.instrument_id == citing.id) & (Version.number == citing.version_count))
             .where(InstrumentLink.kind == REPEALS, InstrumentLink.target_instrument_id.is_not(None)))
    if instrument_ids is not None:
        query = query.where(InstrumentLink.target_instrument_id.in_(list(instrument_ids)))
    found: dict[int, list[str]] = defaultdict(list)
    for target_id, uid, stage in session.execute(query.order_by(InstrumentLink.id)):
        if target_id is not None and stage not in NOT_YET_LAW and uid not in found[target_id]:
            found[target_id].append(uid)
    return dict(found)
