"""Configuration: a TOML file (--config or POLICYWATCH_CONFIG), all keys optional.

    db = "sqlite:////var/lib/policywatch/store.sqlite"   # or --db / POLICYWATCH_DB
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

    [[subscriptions]]
    name = "china-weekly"
    recipients = ["analyst@example.org"]
    schedule = "0 7 * * 1"            # cron
    window = "7d"
    send_empty = false
    jurisdictions = ["CN"]            # filters, all optional: levels, paradigms, changes,
                                      # sources, search
"""

from __future__ import annotations

import os
import tomllib
from dataclasses import dataclass, field, fields
from pathlib import Path

from alerts.settings import DigestFilter, SmtpSettings, Subscription, check_subscription


class ConfigError(ValueError):
    """A configuration problem, said in one line naming the file and key."""


@dataclass(frozen=True)
class CrawlSettings:
    contact: str = "policywatch@example.org"
    timeout: float = 30.0
    max_download_mb: float = 25.0
    per_host: int = 4
    withdraw_after: int = 3
    retry_after_max: float = 120.0


@dataclass(frozen=True)
class Config:
    file: Path | None = None
    db: str | None = None
    sources: tuple[Path, ...] = ()
    crawl: CrawlSettings = field(default_factory=CrawlSettings)
    smtp: SmtpSettings = field(default_factory=SmtpSettings)
    subscriptions: tuple[Subscription, ...] = ()

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
    crawl_data = data.get("crawl", {})
    known = set(CrawlSettings.__dataclass_fields__)
    for key in crawl_data:
        if key not in known:
            raise ConfigError(f"{file}: crawl.{key}: unknown key (known: {', '.join(sorted(known))})")
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
    return Config(file=file, db=data.get("db"),
                  sources=tuple((file.parent / Path(s).expanduser()) for s in sources),
                  crawl=crawl, smtp=smtp, subscriptions=subscriptions)


def _smtp(file: Path, data: dict) -> SmtpSettings:
    if "password" in data:
        raise ConfigError(f"{file}: smtp.password: put the password in an environment variable "
                          "and name it with password_env")
    known = {f.name for f in fields(SmtpSettings)}
    for key in data:
        if key not in known:
            raise ConfigError(f"{file}: smtp.{key}: unknown key (known: {', '.join(sorted(known))})")
    settings = SmtpSettings(**data)
    if settings.security not in ("starttls", "tls", "none"):
        raise ConfigError(f"{file}: smtp.security: {settings.security!r} is not starttls, tls or none")
    return settings


def _subscription(file: Path, index: int, data: dict) -> Subscription:
    where = f"{file}: subscriptions[{index}]"
    filter_keys = {f.name for f in fields(DigestFilter)}
    own_keys = {f.name for f in fields(Subscription)} - {"filter"}
    for key in data:
        if key not in filter_keys | own_keys:
            raise ConfigError(f"{where}.{key}: unknown key")
    if "name" not in data or "recipients" not in data:
        raise ConfigError(f"{where}: name and recipients are required")

    def as_tuple(value) -> tuple:
        return tuple(value) if isinstance(value, list) else (value,)

    subscription = Subscription(
        name=str(data["name"]), recipients=as_tuple(data["recipients"]),
        schedule=data.get("schedule", "0 7 * * *"), window=str(data.get("window", "1d")),
        send_empty=bool(data.get("send_empty", False)),
        filter=DigestFilter(**{k: (as_tuple(v) if k != "search" else v)
                               for k, v in data.items() if k in filter_keys}))
    for problem in check_subscription(subscription):
        raise ConfigError(f"{where}.{problem}")
    return subscription
