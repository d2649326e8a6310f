"""Configuration: a TOML file (--config or POLICYWATCH_CONFIG), all keys optional.

    db = "/var/lib/policywatch/store.sqlite"   # a SQLAlchemy URL or a SQLite file path; or --db
    sources = ["/etc/policywatch/sources"]               # declaration files or folders

    [crawl]
    contact = "analyst@example.org"   # named in the user agent
    timeout = 30                      # seconds per request
    max_download_mb = 25
    per_host = 4                      # concurrent requests per host
    withdraw_after = 3                # consecutive 404/410 before "withdrawn"
    retry_after_max = 120             # longest Retry-After we wait for, in seconds

    [smtp]
    host = "smtp.example.org"
    port = 587
    security = "starttls"             # starttls | tls | none
    username = "policywatch"
    password_env = "POLICYWATCH_SMTP_PASSWORD"   # the password itself never goes in a file
    sender = "policywatch@example.org"
    list_unsubscribe = "mailto:unsubscribe@example.org"

    [scrapyd]                         # crawl on Scrapyd nodes instead of local child processes
    nodes = ["http://crawler1:6800/", "http://crawler2:6800/"]
    project = "policywatch"           # as deployed with `scrapyd-deploy` (scrapy.cfg)
    username = "policywatch"          # HTTP basic auth, if the nodes ask for it
    password_env = "POLICYWATCH_SCRAPYD_PASSWORD"
    db = "postgresql+psycopg://policywatch@db.internal/policywatch"  # the store as nodes reach it
    poll = 5                          # seconds between job status checks

    [web]
    base_url = "https://policywatch.example.org"   # where `policywatch serve` is reached

    [[subscriptions]]
    name = "china-weekly"
    recipients = ["analyst@example.org"]          # and/or notify, Apprise URLs:
    notify = ["ntfy://ntfy.example.org/policy", "slack://${POLICYWATCH_SLACK_TOKENS}"]
    schedule = "0 7 * * 1"            # cron
    window = "7d"
    send_empty = false
    jurisdictions = ["CN"]            # filters, all optional: levels, paradigms, changes,
                                      # sources, search
"""

from __future__ import annotations

import difflib
import os
import tomllib
from collections.abc import Iterable
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

from alerts.settings import DigestFilter, SmtpSettings, Subscription, check_subscription
from texts.vocabulary import CONTACT, MAX_DOCUMENT_BYTES, WITHDRAW_AFTER


class ConfigError(ValueError):
    """A configuration problem, said in one line naming the file and key."""


SECTIONS = ("db", "sources", "crawl", "smtp", "subscriptions", "scrapyd", "web")


def store_url(text: str, relative_to: Path | None = None) -> str:
    """A store given as a SQLAlchemy URL, or as a SQLite file path (as sqlite-utils and Datasette
    take it: `/tmp/demo/demo.sqlite`, `store.sqlite`), as a URL; a relative path is read from
    `relative_to` (the configuration file's folder), else from the current folder."""
    if "://" in text:
        return text
    path = Path(text).expanduser()
    if not path.is_absolute():
        path = (relative_to or Path.cwd()) / path
    return f"sqlite:///{path.resolve()}"


@dataclass(frozen=True)
class CrawlSettings:
    contact: str = CONTACT
    timeout: float = 30.0
    max_download_mb: float = MAX_DOCUMENT_BYTES / (1024 * 1024)
    per_host: int = 4
    withdraw_after: int = WITHDRAW_AFTER
    retry_after_max: float = 120.0


@dataclass(frozen=True)
class ScrapydSettings:
    nodes: tuple[str, ...] = ()
    project: str = "policywatch"
    username: str | None = None
    password_env: str | None = None
    db: str | None = None
    poll: float = 5.0

    @property
    def password(self) -> str:
        return os.environ.get(self.password_env, "") if self.password_env else ""


@dataclass(frozen=True)
class WebSettings:
    base_url: str | None = None  # the web view's address, linked from digests and notifications


@dataclass(frozen=True)
class Config:
    file: Path | None = None
    db: str | None = None
    sources: tuple[Path, ...] = ()
    crawl: CrawlSettings = field(default_factory=CrawlSettings)
    smtp: SmtpSettings = field(default_factory=SmtpSettings)
    subscriptions: tuple[Subscription, ...] = ()
    scrapyd: ScrapydSettings = field(default_factory=ScrapydSettings)
    web: WebSettings = field(default_factory=WebSettings)
    smtp_configured: bool = False  # the file has an [smtp] section

    def subscription(self, name: str) -> Subscription | None:
        return next((s for s in self.subscriptions if s.name == name), None)


def load_config(path: str | None) -> Config:
    path = path or os.environ.get("POLICYWATCH_CONFIG")
    if not path:
        return Config()
    file = Path(path).expanduser()
    try:
        data = tomllib.loads(file.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError(f"{file}: no such configuration file") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{file}: cannot read: {exc}") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{file}: not valid TOML: {exc}") from None
    for key in data:
        if key not in SECTIONS:
            raise ConfigError(f"{file}: {key}: unknown key{_suggestion(key, SECTIONS)} "
                              f"(known: {', '.join(SECTIONS)})")
    crawl_data = data.get("crawl", {})
    known = set(CrawlSettings.__dataclass_fields__)
    for key in crawl_data:
        if key not in known:
            raise ConfigError(f"{file}: crawl.{key}: unknown key{_suggestion(key, known)} "
                              f"(known: {', '.join(sorted(known))})")
    try:
        crawl = CrawlSettings(**{k: type(getattr(CrawlSettings, k))(v) for k, v in crawl_data.items()})
    except (TypeError, ValueError) as exc:
        raise ConfigError(f"{file}: crawl: {exc}") from None
    sources = data.get("sources", [])
    if isinstance(sources, str):
        sources = [sources]
    smtp = _smtp(file, data.get("smtp", {}))
    subscriptions = tuple(_subscription(file, i, entry)
                          for i, entry in enumerate(data.get("subscriptions", [])))
    names = [s.name for s in subscriptions]
    for name in names:
        if names.count(name) > 1:
            raise ConfigError(f"{file}: subscriptions: {name!r} is declared twice")
    db = data.get("db")
    return Config(file=file, db=store_url(str(db), file.parent) if db else None,
                  sources=tuple((file.parent / Path(s).expanduser()) for s in sources),
                  crawl=crawl, smtp=smtp, subscriptions=subscriptions,
                  scrapyd=_scrapyd(file, data.get("scrapyd", {})), web=_web(file, data.get("web", {})),
                  smtp_configured="smtp" in data)


def _suggestion(key: str, known: Iterable[str]) -> str:
    close = difflib.get_close_matches(key, list(known), n=1)
    return f" (did you mean {close[0]}?)" if close else ""


def _check_keys(file: Path, section: str, data: dict, settings_class: type) -> None:
    """Unknown keys and a password written into the file are refused, naming file and key."""
    if "password" in data:
        raise ConfigError(f"{file}: {section}.password: put the password in an environment variable "
                          "and name it with password_env")
    known = {f.name for f in fields(settings_class)}
    for key in data:
        if key not in known:
            raise ConfigError(f"{file}: {section}.{key}: unknown key{_suggestion(key, known)} "
                              f"(known: {', '.join(sorted(known))})")


def _scrapyd(file: Path, data: dict) -> ScrapydSettings:
    _check_keys(file, "scrapyd", data, ScrapydSettings)
    nodes = data.get("nodes", [])
    nodes = (nodes,) if isinstance(nodes, str) else tuple(nodes)
    for node in nodes:
        if not isinstance(node, str) or not node.startswith(("http://", "https://")):
            raise ConfigError(f"{file}: scrapyd.nodes: {node!r} is not an http:// or https:// URL")
    try:
        poll = float(data.get("poll", 5.0))
    except (TypeError, ValueError):
        raise ConfigError(f"{file}: scrapyd.poll: {data['poll']!r} is not a number of seconds") from None
    return ScrapydSettings(nodes=tuple(n if n.endswith("/") else n + "/" for n in nodes),
                           project=str(data.get("project", "policywatch")),
                           username=data.get("username"), password_env=data.get("password_env"),
                           db=data.get("db"), poll=poll)


def _smtp(file: Path, data: dict) -> SmtpSettings:
    _check_keys(file, "smtp", data, SmtpSettings)
    settings = SmtpSettings(**data)
    if settings.security not in ("starttls", "tls", "none"):
        raise ConfigError(f"{file}: smtp.security: {settings.security!r} is not starttls, tls or none")
    return settings


def _web(file: Path, data: dict) -> WebSettings:
    _check_keys(file, "web", data, WebSettings)
    base_url = data.get("base_url")
    if base_url is not None and not str(base_url).startswith(("http://", "https://")):
        raise ConfigError(f"{file}: web.base_url: {base_url!r} is not an http:// or https:// URL")
    return WebSettings(base_url=str(base_url).rstrip("/") if base_url else None)


def _subscription(file: Path, index: int, data: dict) -> Subscription:
    where = f"{file}: subscriptions[{index}]"
    filter_keys = {f.name for f in fields(DigestFilter)}
    own_keys = {f.name for f in fields(Subscription)} - {"filter"}
    for key in data:
        if key not in filter_keys | own_keys:
            raise ConfigError(f"{where}.{key}: unknown key"
                              f"{_suggestion(key, filter_keys | own_keys)}")
    if "name" not in data:
        raise ConfigError(f"{where}: name is required")

    def as_tuple(value: object) -> tuple:
        return tuple(value) if isinstance(value, list) else (value,)

    filters: dict[str, Any] = {k: (as_tuple(v) if k != "search" else v)
                               for k, v in data.items() if k in filter_keys}
    # As people type them: jurisdictions are stored upper-case (CN), source ids lower-case.
    filters["jurisdictions"] = tuple(str(j).upper() for j in filters.get("jurisdictions", ()))
    filters["sources"] = tuple(str(s).lower() for s in filters.get("sources", ()))

    subscription = Subscription(
        name=str(data["name"]), recipients=as_tuple(data.get("recipients", [])),
        notify=as_tuple(data.get("notify", [])),
        schedule=data.get("schedule", "0 7 * * *"), window=str(data.get("window", "1d")),
        send_empty=bool(data.get("send_empty", False)),
        filter=DigestFilter(**filters))
    for problem in check_subscription(subscription):
        raise ConfigError(f"{where}.{problem} (subscription {subscription.name!r})")
    return subscription
