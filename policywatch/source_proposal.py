"""`sources add`: a declaration proposed from one page's analysis, validated by the catalogue's
own validation, and its YAML as it is written into the user's sources folder."""

from __future__ import annotations

import re
from dataclasses import dataclass
from urllib.parse import urlsplit

import yaml

from crawlers.catalogue import ORGANISATION_CODES, DeclarationError, Source, parse_declaration
from crawlers.page_analysis import PageAnalysis

# Country-code top-level domains that are not the ISO 3166-1 code of their country.
TLD_COUNTRIES = {"uk": "GB"}


@dataclass(frozen=True)
class Proposal:
    """A proposed declaration: its YAML text, and the validated source or its problems."""

    text: str
    source: Source | None
    errors: list[DeclarationError]


def source_id_for(url: str) -> str:
    """'https://www.edpb.europa.eu/…' → 'edpb-europa-eu': the host without 'www', as an id."""
    host = (urlsplit(url).hostname or "source").lower().removeprefix("www.")
    return re.sub(r"[^a-z0-9]+", "-", host).strip("-") or "source"


def jurisdiction_for(url: str) -> str | None:
    """The jurisdiction a host's top-level domain names (.cn → CN, .eu → EU, .uk → GB), if any."""
    host = urlsplit(url).hostname or ""
    label = host.rsplit(".", 1)[-1].lower()
    if label == "eu":
        return "EU"
    if re.fullmatch(r"[a-z]{2}", label):
        return TLD_COUNTRIES.get(label, label.upper())
    return None


def level_for(jurisdiction: str) -> str:
    if jurisdiction == "EU":
        return "supranational"
    return "multilateral" if jurisdiction in ORGANISATION_CODES else "national"


def propose(page: PageAnalysis, source_id: str, jurisdiction: str, name: str | None = None,
            level: str | None = None, body: str = "regulator", every: str = "1d") -> Proposal:
    """The declaration of one analysed page, validated as `sources check` validates it."""
    entry: dict[str, object] = {"type": page.kind, "url": page.url}
    if page.kind == "listing":
        entry |= {"links": page.links, **({"follow": page.follow} if page.follow else {}),
                  **({"next": page.next, "max_pages": 5} if page.next else {})}
    declaration: dict[str, object] = {
        "id": source_id, "name": name or page.title or source_id,
        "jurisdiction": jurisdiction.upper(), "level": level or level_for(jurisdiction.upper()),
        "body": body, "languages": [page.language or "en"], "every": every, "relevance": "auto",
        "entries": [entry]}
    extract = {key: value for key, value in (("content", page.content),
                                             ("title", page.title_selector)) if value}
    if extract:
        declaration["extract"] = extract
    text = (f"# Proposed by `policywatch sources add` from {page.url} ({page.kind}); check the "
            "selectors after the first crawl.\n"
            + yaml.safe_dump(declaration, sort_keys=False, allow_unicode=True, width=100))
    source, errors = parse_declaration(text, f"{source_id}.yaml")
    return Proposal(text, source, errors)
