"""Links between instruments in the store: read from each new version, resolved to the
instruments the store knows, and read back for `show`, the web view and the report.

An instrument's links are those of its latest version read for them: recording a version's links
replaces the ones of its earlier versions. A link is resolved by the key of the reference
(`paradigms.instrument_links`): an EU number against the titles and the EUR-Lex CELEX number in
the URLs, an executive order or numbered law against titles (a numbered law within the citing
instrument's jurisdiction), a title against titles. A link nothing resolves waits: when an
instrument appears or is renamed, the waiting links that may cite it are found with a LIKE on
their reference (a number or a name), checked, and resolved.

"Repealed by": a resolved `repeals` link from an instrument whose latest version is not a draft
or a consultation text marks its target repealed in every read here, whatever the target's own
text says of its stage.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy import delete, func, or_, select
from sqlalchemy.orm import Session, aliased

from paradigms.instrument_links import celex_number, find_links, find_references, identity_keys, title_key
from storage.database import Store
from storage.models import Instrument, InstrumentLink, Version
from texts.vocabulary import LINK_KIND_INCOMING, REPEALS

NOT_YET_LAW = ("draft", "consultation")  # stages whose repeal clauses repeal nothing yet


def _candidates(session: Session, key: str, citing: Instrument) -> list[Instrument]:
    """Instruments that may be the one `key` names (to be checked against their own keys)."""
    kind, _, value = key.partition(":")
    if kind == "eu":
        number = value.split("/")[1]
        celex = celex_number(key)
        where = or_(Instrument.title.contains(f"/{number}"), Instrument.title.contains(f"{number}/"),
                    Instrument.url.contains(celex))
    elif kind == "title":
        where = func.lower(Instrument.title).contains(value, autoescape=True)
    elif kind in ("law", "decree"):  # "Ley 1581" means the citing country's
        where = (Instrument.jurisdiction == citing.jurisdiction) & Instrument.title.contains(_fragment(key))
    else:
        where = Instrument.title.contains(value, autoescape=True)
    return list(session.scalars(select(Instrument).where(where, Instrument.id != citing.id)
                                .order_by(Instrument.id).limit(200)))


def resolve(session: Session, key: str, citing: Instrument) -> int | None:
    """The id of the known instrument `key` names (one of the citing instrument's jurisdiction
    first), or None."""
    found = [c for c in _candidates(session, key, citing) if key in identity_keys(c.title, c.url)]
    found.sort(key=lambda c: (c.jurisdiction != citing.jurisdiction, c.id))
    return found[0].id if found else None


def record_links(session: Session, version: Version) -> int:
    """Read the links of a new version, resolve them, and make them the instrument's links; then
    resolve the waiting links of other instruments that cite this one. Returns how many."""
    session.flush()  # the version's id, and the instrument's
    instrument = session.get(Instrument, version.instrument_id)
    assert instrument is not None
    session.execute(delete(InstrumentLink).where(InstrumentLink.instrument_id == instrument.id))
    links = find_links(version.text, version.title or instrument.title)
    for link in links:
        session.add(InstrumentLink(instrument_id=instrument.id, version_id=version.id, kind=link.kind,
                                   cited=link.cited, quote=link.quote, provision=link.provision,
                                   target_instrument_id=resolve(session, link.key, instrument)))
    resolve_waiting(session, instrument)
    return len(links)


def _reference_key(cited: str) -> str:
    found = find_references(cited)
    return found[0].key if found else title_key(cited)


def _fragment(key: str) -> str:
    """A piece of text every written form of `key` contains ('679' of 'eu:R2016/679')."""
    kind, _, value = key.partition(":")
    if kind == "eu":
        return value.split("/")[1]
    if kind in ("law", "decree"):
        return value.split("/")[1] if "/" in value else value[-3:]
    return value


def resolve_waiting(session: Session, instrument: Instrument) -> int:
    """Resolve to `instrument` the unresolved links of other instruments that name it; returns
    how many were resolved."""
    keys = identity_keys(instrument.title, instrument.url)
    resolved = 0
    for key in keys:
        waiting = session.scalars(select(InstrumentLink).where(
            InstrumentLink.target_instrument_id.is_(None), InstrumentLink.instrument_id != instrument.id,
            func.lower(InstrumentLink.cited).contains(_fragment(key), autoescape=True))).all()
        for link in waiting:
            if _reference_key(link.cited) != key:
                continue
            citing = session.get(Instrument, link.instrument_id)
            national = key.startswith(("law:", "decree:"))
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
