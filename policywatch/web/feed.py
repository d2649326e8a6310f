"""Atom 1.0 feeds of the history: one entry per change event, with the provisions it changed and
the paradigm shift it carries. Entry ids are tag URIs built from what identifies an event (its
instrument, version, kind and time), so a reader never sees one event twice."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

from feedgen.feed import FeedGenerator

from texts.vocabulary import PROJECT_URL, VERSION

TAG_AUTHORITY = "tag:policywatch,2026:"


def entry_id(event: dict) -> str:
    """The stable id of one change event."""
    return (f"{TAG_AUTHORITY}event/{event['instrument']}/v{event['version']}/{event['change']}/"
            f"{event['detected_at']}")


def event_summary(event: dict) -> str:
    """The text of an entry: the change, the provisions changed (with before/after) and the shift."""
    lines = [f"{event['change']}{' (baseline)' if event['baseline'] else ''} · {event['jurisdiction']} · "
             f"{event['source']} · version {event['version']} · paradigm {event['paradigm']}"
             f" · stage {event.get('stage') or 'unknown'}"]
    if event["change"] == "stage":
        since = f" (since {event['stage_since']})" if event.get("stage_since") else ""
        lines.append(f"stage: {event.get('previous_stage') or 'unknown'} → {event['stage']}{since}"
                     f" · {event.get('stage_provision') or ''}: «{event.get('stage_quote') or ''}»")
    provisions = event.get("provisions") or {}
    if provisions.get("added"):
        lines.append("added: " + ", ".join(provisions["added"]))
    if provisions.get("removed"):
        lines.append("removed: " + ", ".join(provisions["removed"]))
    for modified in provisions.get("modified", []):
        lines.append(f"modified {modified['ref']}: before «{modified['before']}» after «{modified['after']}»")
    shift = event.get("shift")
    if shift:
        where = f" in {', '.join(shift['provisions'])}" if shift.get("provisions") else ""
        lines.append(f"shift: {shift['from']} → {shift['to']}{where}")
    lines.append(f"document: {event['url']}")
    if event.get("previous_url"):
        lines.append(f"moved from {event['previous_url']}")
    return "\n".join(lines)


def parse_stamp(stamp: str) -> datetime:
    return datetime.strptime(stamp, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)


def atom_feed(events: list[dict], feed_url: str, page_url: str,
              instrument_url: Callable[[str], str], subtitle: str) -> bytes:
    """The Atom document of `events` (newest first) as served at `feed_url`."""
    feed = FeedGenerator()
    feed.id(feed_url)
    feed.title("policywatch: changes")
    feed.subtitle(subtitle)
    feed.link(href=feed_url, rel="self", type="application/atom+xml")
    feed.link(href=page_url, rel="alternate", type="text/html")
    feed.generator("policywatch", VERSION, PROJECT_URL)
    feed.updated(parse_stamp(events[0]["detected_at"]) if events else datetime(2000, 1, 1, tzinfo=UTC))
    for event in events:
        entry = feed.add_entry(order="append")
        entry.id(entry_id(event))
        entry.title(f"{event['change']}: {event['title'] or event['instrument']}")
        # One link only: feedgen 1.0 writes an entry's links without their rel, so a second
        # link would be a second alternate; the document's own URL is in the content.
        entry.link(href=instrument_url(event["instrument"]), rel="alternate", type="text/html")
        entry.updated(parse_stamp(event["detected_at"]))
        entry.author(name=event["source"])
        entry.category(term=event["change"])
        entry.category(term=event["paradigm"])
        entry.content(event_summary(event), type="text")
    return feed.atom_str(pretty=True)
