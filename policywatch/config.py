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
"""

from __future__ import annotations

import os
import tomllib
from dataclasses import dataclass, field
from pathlib import Path


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
    return Config(file=file, db=data.get("db"),
                  sources=tuple((file.parent / Path(s).expanduser()) for s in sources),
                  crawl=crawl)
