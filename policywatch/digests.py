"""Digests end to end: read the store, compose, render, queue in the outbox, send."""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import fields
from datetime import datetime
from email.message import EmailMessage
from typing import Any

from alerts.compose import Digest, compose_digest
from alerts.render import build_message
from alerts.settings import SmtpSettings, Subscription
from paradigms.chart import draw_trend_chart
from storage import trend_spans
from storage.database import Store
from storage.models import utcnow
from storage.queries import (
    HistoryFilter,
    failing_sources,
    history,
    last_digest_end,
    source_warnings,
)
from texts.vocabulary import EXTRACTION

ALL = Subscription(name="all", recipients=(), window="1d")
RECENT_PERIODS = 2  # the digest tells the flags of the current and the previous period
# A flag's instruments the digest reads: it shows the first five and "…" when there are more
# (alerts/templates/digest.*.j2), which a sixth tells.
SHOWN_NAMES = 6


def default_window(subscription: Subscription, now: datetime | None = None,
                   store: Store | None = None) -> tuple[datetime, datetime]:
    """The subscription's next window, ending now (to the microsecond). With the store, it starts
    where the subscription's previous digest ended, so that its digests are contiguous: windows are
    half-open ([start, end), as `history` reads them), and an event is in exactly one of them.
    The first digest of a subscription covers its `window` span."""
    until = now or utcnow()
    previous = None
    if store is not None:
        with store.sessions() as session:
            previous = last_digest_end(session, subscription.name)
    if previous is not None and previous < until:
        return previous, until
    return until - subscription.window_span, until


@contextmanager
def collection_paused() -> Iterator[None]:
    """Python's cyclic garbage collector paused while a digest is built, and resumed after (if it
    ran before). The build allocates a few hundred thousand short-lived containers (rows, events,
    template output), which set off about three full collections, each walking the whole heap:
    half a second of a week's digest at a million events. What it leaves in cycles is collected
    by the next collection after. Process-wide, like the collector: another thread's garbage
    waits too, for the second or so the digest takes."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def build_digest(store: Store, subscription: Subscription, since: datetime, until: datetime,
                 smtp: SmtpSettings, now: datetime | None = None, base_url: str | None = None
                 ) -> tuple[Digest, EmailMessage, bytes | None]:
    """The digest of one window for one subscription, its message and its chart; with the web
    view's `base_url`, a link to the same changes there."""
    trend_spans.advance(store)  # the trends read a week of new versions, not the whole history
    with collection_paused():  # not while folding: after an upgrade that reads every version
        return _built_digest(store, subscription, since, until, smtp, now, base_url)


def _built_digest(store: Store, subscription: Subscription, since: datetime, until: datetime,
                  smtp: SmtpSettings, now: datetime | None, base_url: str | None
                  ) -> tuple[Digest, EmailMessage, bytes | None]:
    with store.sessions() as session:
        events = history(session, HistoryFilter(since=since, until=until))
        # From the yearly counts; the flags shown (the last two periods') name the instruments
        # the digest shows of them.
        periods, flags = trend_spans.yearly_trends(session, named_periods=RECENT_PERIODS,
                                                   names=SHOWN_NAMES)
        coverage = [{"source": s.id, "failures": s.consecutive_failures, "error": s.last_error,
                     "last_success": s.last_success_at.strftime("%Y-%m-%dT%H:%M:%SZ")
                     if s.last_success_at else None}
                    for s in failing_sources(session)]
        thin = [{"source": source_id, "url": warning.url, "message": warning.message}
                for source_id, warnings in sorted(source_warnings(session).items())
                for warning in warnings if warning.kind == EXTRACTION]
    recent = {p.period for p in periods[-RECENT_PERIODS:]}
    digest = compose_digest(subscription, events, since, until,
                            [as_dict(f) for f in flags if f.period in recent], coverage,
                            [as_dict(p) for p in periods], base_url, thin)
    chart = draw_trend_chart(periods, flags) if len(periods) >= 1 else None
    return digest, build_message(digest, subscription.recipients, smtp, chart, now), chart


def as_dict(record: Any) -> dict:
    """`dataclasses.asdict` of a trend period or flag (fresh dicts and lists), without a deep copy
    of each of the tens of thousands of instrument ids its lists may hold."""
    return {field.name: _copied(getattr(record, field.name)) for field in fields(record)}


def _copied(value: Any) -> Any:
    if isinstance(value, dict):
        return {key: _copied(item) for key, item in value.items()}
    if isinstance(value, list):
        return list(value) if {*map(type, value)} <= {str} else [_copied(item) for item in value]
    return value  # str, int, float, date, None: what deepcopy gives back as it is


def queue_digest(store: Store, subscription: Subscription, since: datetime, until: datetime,
                 built: Digest, message: EmailMessage) -> tuple[int | None, bool]:
    """Put a built digest in the outbox (once per window); an empty one only if the subscription
    wants empty digests (otherwise the window is recorded as empty). Returns (id to send or None,
    whether it was newly queued). Its text also goes to each of the subscription's notification
    channels."""
    from alerts.outbox import enqueue

    wanted = message if (not built.empty or subscription.send_empty) else None
    digest_id, fresh = enqueue(store, subscription.name, since, until, subscription.recipients,
                               wanted, built.count, subscription.notify)
    return (digest_id if wanted else None), fresh


def window_of(since: datetime | None, until: datetime | None, subscription: Subscription,
              store: Store | None = None) -> tuple[datetime, datetime]:
    """The window a command asked for: the subscription's next one unless --since or --until
    says otherwise; an open end is now."""
    if since is None and until is None:
        return default_window(subscription, store=store)
    until = until or utcnow()
    return since or until - subscription.window_span, until
