"""Source declarations: load YAML files into validated, typed objects.

One bad file never stops the others: `load_catalogue` returns the good sources and one
`DeclarationError` (file, field, reason) per problem.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Literal
from urllib.parse import urlsplit

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from crawlers.declaration_errors import plain_reason
from crawlers.hosts import Origin, url_origin
from crawlers.links import compile_follow
from texts.durations import parse_interval

BUNDLED_CATALOGUE = Path(__file__).parent / "sources"

LEVELS = ("national", "subnational", "supranational", "bilateral", "plurilateral", "multilateral")
BODIES = ("regulator", "ministry", "legislature", "gazette", "court",
          "international-organisation", "agreement")
ORGANISATION_CODES = frozenset({
    "EU", "OECD", "APEC", "WTO", "G7", "G20", "COE", "ASEAN", "AU", "UN", "UNCTAD", "CPTPP",
    "RCEP", "DEPA", "CBPR", "EEA", "EFTA", "GCC", "MERCOSUR", "USMCA", "DEFA", "IO", "AUC",
})
def _check_http_url(url: str) -> str:
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError(f"{url!r} is not an http(s) URL")
    try:
        parts.port  # noqa: B018  # read for its check: a port that is not a number raises
    except ValueError:
        raise ValueError(f"{url!r} has a port that is not a number from 0 to 65535") from None
    return url


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Entry(Strict):
    """Where instruments are found (listing, feed, sitemap) or watched directly (document)."""

    type: Literal["listing", "feed", "sitemap", "document"]
    url: str
    links: str | None = None
    follow: str | None = None
    next: str | None = None
    max_pages: int = Field(default=5, ge=1, le=500)

    @field_validator("url")
    @classmethod
    def _url(cls, value: str) -> str:
        return _check_http_url(value)

    @field_validator("follow")
    @classmethod
    def _follow(cls, value: str | None) -> str | None:
        if value is not None:
            compile_follow(value)  # a ValueError with the reason, for a pattern RE2 refuses
        return value

    @model_validator(mode="after")
    def _fields_fit_type(self) -> Entry:
        if self.type == "listing" and not self.links:
            raise ValueError("a listing entry needs 'links' (CSS selector of instrument links)")
        if self.type != "listing" and (self.links or self.next):
            raise ValueError(f"'links' and 'next' only apply to listing entries, not {self.type}")
        if self.type == "document" and self.follow:
            raise ValueError("'follow' does not apply to document entries")
        return self


class Extract(Strict):
    """How to read an instrument page; every selector optional."""

    content: str | None = None
    remove: tuple[str, ...] = ()
    title: str | None = None
    date: str | None = None


class Source(Strict):
    """One declared source: a site (or part of one) where instruments are published."""

    id: str = Field(pattern=r"^[a-z0-9][a-z0-9-]*$")
    name: str = Field(min_length=1)
    jurisdiction: str
    level: Literal[LEVELS]  # type: ignore[valid-type]
    body: Literal[BODIES]  # type: ignore[valid-type]
    languages: tuple[str, ...] = ("en",)
    every: str = "1d"
    relevance: Literal["auto", "all"] = "auto"
    # "browser": its pages are loaded in a headless Chromium and read as rendered (pages built by
    # scripts); "served": read as the server sends them.
    render: Literal["served", "browser"] = "served"
    entries: tuple[Entry, ...] = Field(min_length=1)
    extract: Extract = Extract()

    @field_validator("jurisdiction")
    @classmethod
    def _jurisdiction(cls, value: str) -> str:
        if re.fullmatch(r"[A-Z]{2}", value) or value in ORGANISATION_CODES:
            return value
        raise ValueError(
            f"{value!r} is neither an ISO 3166-1 alpha-2 code nor a known organisation code "
            f"({', '.join(sorted(ORGANISATION_CODES))})"
        )

    @field_validator("every")
    @classmethod
    def _every(cls, value: str) -> str:
        parse_interval(value)
        return value

    @field_validator("languages")
    @classmethod
    def _languages(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        for code in value:
            if not re.fullmatch(r"[a-z]{2,3}(-[A-Za-z]{2,4})?", code):
                raise ValueError(f"{code!r} is not a language code like en, zh or pt-BR")
        return value

    @property
    def interval(self) -> timedelta:
        return parse_interval(self.every)

    @property
    def hosts(self) -> frozenset[str]:
        """Hosts this source may fetch from: those of its entries."""
        return frozenset(urlsplit(entry.url).hostname or "" for entry in self.entries)

    @property
    def origins(self) -> frozenset[Origin]:
        """Hosts and ports this source may fetch from: those of its entries."""
        return frozenset(url_origin(entry.url) for entry in self.entries)


@dataclass(frozen=True)
class DeclarationError:
    """One problem in one declaration file, printable as one line."""

    file: str
    field: str
    reason: str

    def __str__(self) -> str:
        return f"{self.file}: {self.field}: {self.reason}" if self.field else \
            f"{self.file}: {self.reason}"


@dataclass
class Catalogue:
    sources: list[Source]
    errors: list[DeclarationError]
    files: dict[str, str]  # source id -> declaration file

    def by_id(self) -> dict[str, Source]:
        return {source.id: source for source in self.sources}


def _field_path(location: tuple[object, ...]) -> str:
    path = ""
    for part in location:
        if isinstance(part, int):
            path += f"[{part}]"
        else:
            path += ("." if path else "") + str(part)
    return path


def parse_declaration(text: str, file: str) -> tuple[Source | None, list[DeclarationError]]:
    """Parse one YAML declaration; return the source or the errors that stop it."""
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"line {mark.line + 1}" if mark else "yaml"
        return None, [DeclarationError(file, where, f"not valid YAML: {getattr(exc, 'problem', exc)}")]
    if not isinstance(data, dict):
        return None, [DeclarationError(file, "", "a declaration must be a YAML mapping")]
    try:
        return Source.model_validate(data), []
    except ValidationError as exc:
        errors: list[DeclarationError] = []
        for problem in exc.errors():
            field = _field_path(tuple(problem["loc"]))
            reason = plain_reason(problem)
            # A failed literal/union lists every alternative at the same field, and a list whose
            # only item failed is also "too short": keep the first line.
            if not any(e.field == field or e.field.startswith(f"{field}[") for e in errors):
                errors.append(DeclarationError(file, field, reason))
        return None, errors


def sources_to_json(sources: list[Source]) -> str:
    """Loaded sources as one string, for a crawl whose arguments must be strings (a Scrapyd node):
    a JSON list of `Source.model_dump(mode="json")`."""
    return json.dumps([source.model_dump(mode="json") for source in sources])


def sources_from_json(text: str) -> list[Source]:
    """The sources of `sources_to_json`, validated again (pydantic's ValidationError, a
    ValueError, names the field of one that is not valid)."""
    return [Source.model_validate(item) for item in json.loads(text)]


def declaration_files(path: Path) -> list[Path]:
    if path.is_dir():
        return sorted(p for p in path.iterdir() if p.suffix in (".yaml", ".yml") and p.is_file())
    return [path]


def load_catalogue(paths: list[Path] | None = None) -> Catalogue:
    """Load every declaration under `paths` (files or folders); default: the bundled catalogue."""
    catalogue = Catalogue([], [], {})
    for root in paths or [BUNDLED_CATALOGUE]:
        if not root.exists():
            catalogue.errors.append(DeclarationError(str(root), "", "no such file or folder"))
            continue
        for file in declaration_files(root):
            try:
                text = file.read_text(encoding="utf-8")
            except (OSError, UnicodeDecodeError) as exc:
                catalogue.errors.append(DeclarationError(str(file), "", f"cannot read: {exc}"))
                continue
            source, errors = parse_declaration(text, str(file))
            catalogue.errors.extend(errors)
            if source is None:
                continue
            if source.id in catalogue.files:
                catalogue.errors.append(DeclarationError(
                    str(file), "id", f"{source.id!r} is already declared in {catalogue.files[source.id]}"))
                continue
            catalogue.sources.append(source)
            catalogue.files[source.id] = str(file)
    return catalogue
