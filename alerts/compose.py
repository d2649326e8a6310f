"""Digest composition: a pure function of the history, a window and a subscription."""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, time, timedelta
from typing import TypeVar, cast
from urllib.parse import urlencode

from alerts.settings import Subscription
from texts.header_safe import header_safe
from texts.normalise import spaced_once
from texts.vocabulary import ANNOUNCED_CHANGES as SECTIONS
from texts.vocabulary import STAGE


@dataclass
class Digest:
    subscription: str
    since: datetime
    until: datetime
    sections: dict[str, list[dict]] = field(default_factory=dict)  # change kind -> events
    flags: list[dict] = field(default_factory=list)     # flagged trend shifts
    coverage: list[dict] = field(default_factory=list)  # sources that could not be checked
    thin: list[dict] = field(default_factory=list)      # pages watched only in part: source, url, message
    trend_periods: list[dict] = field(default_factory=list)
    cancelling: set[str] = field(default_factory=set)  # instruments withdrawn, then restored
    web_link: str | None = None  # the same changes in the web view, when its address is known

    def window_range(self) -> str:
        """The exact window, as the header shows it: '24 Nov 2026 07:00 to 1 Dec 2026 07:00 UTC'."""
        return (f"{self.since.strftime('%-d %b %Y %H:%M')} to "
                f"{self.until.strftime('%-d %b %Y %H:%M')} UTC")

    @property
    def count(self) -> int:
        return sum(len(events) for events in self.sections.values())

    @property
    def empty(self) -> bool:
        return self.count == 0

    def window_label(self) -> str:
        """'1 Nov to 30 Nov 2026' (a window ending at midnight ends the day before)."""
        start = self.since
        end = self.until - timedelta(microseconds=1) if self.until.time() == time(0) else self.until
        if start.date() == end.date():
            return start.strftime("%-d %b %Y")
        return f"{start.strftime('%-d %b')} to {end.strftime('%-d %b %Y')}"

    def subject(self) -> str:
        if self.empty:
            return f"policywatch {self.subscription}: nothing changed ({self.window_label()})"
        parts = [f"{len(self.sections[k])} {'stage changed' if k == STAGE else k}" for k in SECTIONS
                 if self.sections.get(k)]
        return f"policywatch {self.subscription}: {', '.join(parts)} ({self.window_label()})"


def compose_digest(subscription: Subscription, events: list[dict], since: datetime,
                   until: datetime, flags: Sequence[dict] = (), coverage: Sequence[dict] = (),
                   trend_periods: Sequence[dict] = (), base_url: str | None = None,
                   thin: Sequence[dict] = ()) -> Digest:
    """What one subscription should read about [since, until): announced changes only (no
    baseline, no technical), filtered by the subscription, grouped by kind, oldest first.
    `events` are those the store recorded in the window, read to the microsecond (their JSON
    times are cut to the second, too coarse to place an event at a window's edge). `thin`:
    the standing warnings of pages watched only in part (a thin extraction, the same text as
    another page), said in the coverage section."""
    digest = Digest(subscription.name, since, until, {k: [] for k in SECTIONS})
    for event in sorted(events, key=lambda e: (e["detected_at"], e["instrument"])):
        if event["baseline"] or event["change"] not in SECTIONS:
            continue
        if subscription.filter.accepts(event):
            digest.sections[event["change"]].append(one_line(event))
    wanted = set(subscription.filter.jurisdictions)
    digest.flags = [one_line(f) for f in flags
                    if not wanted or f.get("jurisdiction") in (None, *wanted)]
    digest.coverage = [one_line(c) for c in coverage if not subscription.filter.sources
                       or c["source"] in subscription.filter.sources]
    digest.thin = [one_line(t) for t in thin if not subscription.filter.sources
                   or t["source"] in subscription.filter.sources]
    digest.trend_periods = list(trend_periods)
    digest.cancelling = cancelled_withdrawals(digest.sections)
    digest.web_link = web_view_link(base_url, subscription, since, until) if base_url else None
    return digest


T = TypeVar("T")
_UNSAFE = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029]")  # what header_safe spaces (Cc, Zl, Zp)


def one_line(value: T) -> T:
    """`value` with every text in it (titles, sources, URLs, provisions, quotes, excerpts,
    problem messages, at any depth) on one line: text from the web reaches the digest's lines
    and headers, where a CR or LF would forge the next one."""
    if isinstance(value, str):
        return cast(T, _one_line_text(value))
    if isinstance(value, dict):
        return cast(T, dict(zip(value, _one_line_items(value.values()), strict=True)))
    if isinstance(value, list | tuple):
        if _all_one_line_texts(value):
            return cast(T, type(value)(value))
        return cast(T, type(value)(_one_line_items(value)))
    return value


def _all_one_line_texts(items: list | tuple) -> bool:
    """Whether every item is a text spaced once (`texts.normalise.spaced_once`), told for all at
    once: a flag's list of thousands of instrument ids, joined by a printable separator that
    neither starts nor ends any of them and is not a space."""
    if not all(type(item) is str for item in items):
        return False
    joined = "|".join(items)
    return (joined.isprintable() and "  " not in joined and "| " not in joined and " |" not in joined
            and not joined.startswith(" ") and not joined.endswith(" "))


def _one_line_text(text: str) -> str:
    if _is_one_line(text):
        return text  # what header_safe would give, without its per-character pass
    return header_safe(text)


def _is_one_line(text: str) -> bool:
    """Would header_safe leave `text` as it is? A printable text is, when spaced once
    (`texts.normalise.spaced_once`), and is seen at once."""
    return spaced_once(text) or (not text.isprintable() and not _UNSAFE.search(text)
                                 and " ".join(text.split()) == text)


def _one_line_items(items: Iterable) -> list:
    """Each item on one line, the texts and plain values of an event without a call each."""
    done: list = []
    for item in items:
        kind = type(item)
        if kind is str:
            done.append(_one_line_text(item))
        elif item is None or kind is int or kind is bool:
            done.append(item)
        elif not item and (kind is list or kind is dict):
            done.append(kind())  # an event's empty list of added or removed provisions
        else:
            done.append(one_line(item))
    return done


def web_view_link(base_url: str, subscription: Subscription, since: datetime,
                  until: datetime) -> str:
    """The changes page of the web view (`policywatch serve`) with the digest's window and the
    subscription's filters."""
    wanted = subscription.filter
    query: list[tuple[str, str]] = [("since", f"{since:%Y-%m-%dT%H:%M:%S}"),
                                    ("until", f"{until:%Y-%m-%dT%H:%M:%S}")]
    for name, chosen in (("jurisdiction", wanted.jurisdictions), ("source", wanted.sources),
                         ("change", wanted.changes), ("paradigm", wanted.paradigms)):
        query += [(name, value) for value in chosen]
    if wanted.search:
        query.append(("search", wanted.search))
    return f"{base_url.rstrip('/')}/?{urlencode(query)}"


def cancelled_withdrawals(sections: dict[str, list[dict]]) -> set[str]:
    """Instruments withdrawn and then restored within the window: the two events cancel out."""
    withdrawn = {e["instrument"]: e["detected_at"] for e in sections.get("withdrawn", [])}
    return {e["instrument"] for e in sections.get("restored", [])
            if e["instrument"] in withdrawn and withdrawn[e["instrument"]] <= e["detected_at"]}
