"""Subscriptions and mail settings, as read from the configuration's [smtp] and [[subscriptions]]."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import timedelta

from texts.durations import parse_interval

CRON = re.compile(r"^\s*(\S+\s+){4,5}\S+\s*$")  # five fields, or six with seconds first
NOTIFY_URL = re.compile(r"[a-z][a-z0-9+.-]*://\S+")  # an Apprise URL: slack://…, json://…


@dataclass(frozen=True)
class SmtpSettings:
    host: str = "localhost"
    port: int = 25
    security: str = "starttls"        # starttls | tls | none
    username: str | None = None
    password_env: str | None = None   # name of the environment variable holding the password
    sender: str = "policywatch@localhost"
    cafile: str | None = None         # extra CA bundle (a private relay's certificate)
    timeout: float = 30.0
    list_unsubscribe: str | None = None  # mailto: address or https: URL
    helo: str | None = None


@dataclass(frozen=True)
class DigestFilter:
    jurisdictions: tuple[str, ...] = ()
    levels: tuple[str, ...] = ()
    paradigms: tuple[str, ...] = ()
    changes: tuple[str, ...] = ()
    sources: tuple[str, ...] = ()
    search: str | None = None

    def accepts(self, event: dict) -> bool:
        """Does one history event (DESIGN.md §3 JSON) belong in this subscription's digest?"""
        if self.jurisdictions and event["jurisdiction"] not in self.jurisdictions:
            return False
        if self.levels and event.get("level") not in self.levels:
            return False
        if self.paradigms and event["paradigm"] not in self.paradigms and \
                event.get("previous_paradigm") not in self.paradigms:
            return False
        if self.changes and event["change"] not in self.changes:
            return False
        if self.sources and event["source"] not in self.sources:
            return False
        if self.search:
            haystack = " ".join([event["title"], event["url"], str(event.get("provisions", ""))])
            if self.search.lower() not in haystack.lower():
                return False
        return True


@dataclass(frozen=True)
class Subscription:
    name: str
    recipients: tuple[str, ...] = ()
    schedule: str = "0 7 * * *"       # cron: minute hour day month weekday
    window: str = "1d"
    send_empty: bool = False
    filter: DigestFilter = field(default_factory=DigestFilter)
    notify: tuple[str, ...] = ()      # Apprise URLs the digest's text also goes to

    @property
    def window_span(self) -> timedelta:
        return parse_interval(self.window)


def check_subscription(subscription: Subscription) -> list[str]:
    """Problems with one subscription, each 'field: reason'."""
    problems = []
    if not re.fullmatch(r"[a-z0-9][a-z0-9_-]*", subscription.name):
        problems.append(f"name: {subscription.name!r} should be lowercase letters, digits, '-' or '_'")
    if not subscription.recipients and not subscription.notify:
        problems.append("recipients: at least one address (or a notification URL in notify) "
                        "is needed")
    for address in subscription.recipients:
        if not re.fullmatch(r"[^@\s]+@[^@\s]+", address):
            problems.append(f"recipients: {address!r} is not an email address")
    for url in subscription.notify:
        if not NOTIFY_URL.fullmatch(url):
            problems.append(f"notify: {url!r} is not a notification URL (scheme://…, as Apprise "
                            "takes them)")
    if not CRON.match(subscription.schedule):
        problems.append(f"schedule: {subscription.schedule!r} is not a cron expression "
                        "(minute hour day month weekday)")
    try:
        parse_interval(subscription.window)
    except ValueError as exc:
        problems.append(f"window: {exc}")
    return problems
