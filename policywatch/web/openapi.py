"""The OpenAPI 3.1 description of the JSON API, served at /api/openapi.json. The shapes are
those of the command line's `--format json`; history pages carry a cursor to the next page."""

from __future__ import annotations

from typing import Any

from paradigms.lifecycle import STAGES
from policywatch.web.params import MAX_PAGE_SIZE, PAGE_SIZE
from texts.vocabulary import CHANGE_KINDS, LINK_KIND_INCOMING, LINK_KINDS, PARADIGM_CHOICES, VERSION

NULLABLE_STRING = {"type": ["string", "null"]}
PROVISIONS = {"type": ["object", "null"], "properties": {
    "added": {"type": "array", "items": {"type": "string"}},
    "removed": {"type": "array", "items": {"type": "string"}},
    "modified": {"type": "array", "items": {"$ref": "#/components/schemas/ProvisionChange"}}}}


def _many(name: str, description: str, enum: tuple[str, ...] | None = None) -> dict[str, Any]:
    items: dict[str, Any] = {"type": "string", **({"enum": list(enum)} if enum else {})}
    return {"name": name, "in": "query", "description": description, "style": "form",
            "explode": True, "schema": {"type": "array", "items": items}}


def _one(name: str, description: str, schema: dict[str, Any] | None = None) -> dict[str, Any]:
    return {"name": name, "in": "query", "description": description,
            "schema": schema or {"type": "string"}}


INSTRUMENT_PATH = {"name": "instrument", "in": "path", "required": True,
                   "description": "The instrument's id (cn-cac/provisions-1a2b3c), number or URL.",
                   "schema": {"type": "string"}}
HISTORY_PARAMETERS = [
    _many("jurisdiction", "EU, CN, … (repeatable or comma-separated; any case)."),
    _many("source", "A source id (repeatable)."),
    _many("change", "A change kind (repeatable).", CHANGE_KINDS),
    _many("paradigm", "The paradigm after the change (repeatable).", PARADIGM_CHOICES),
    _many("stage", "The lifecycle stage of the event's version, as of today (repeatable).", STAGES),
    _one("since", "From this date (2024-03-15), date/time (2024-03-15T10:00) or span back (7d)."),
    _one("until", "Up to this date (inclusive) or date/time."),
    _one("search", "A phrase in the title or text of any version, its last word a prefix."),
    _one("baseline", "Include instruments found by a source's first crawl.",
         {"type": "string", "enum": ["yes", "no"], "default": "yes"}),
    _one("limit", "Events per page.",
         {"type": "integer", "minimum": 1, "maximum": MAX_PAGE_SIZE, "default": PAGE_SIZE}),
    _one("cursor", "The next_cursor of the previous page."),
]
BAD_REQUEST = {"description": "A malformed parameter; the reason in one line.",
               "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}}
NOT_FOUND = {"description": "No such instrument or version.",
             "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}}


def _answer(description: str, schema: dict[str, Any]) -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"schema": schema}}}


SCHEMAS: dict[str, Any] = {
    "Error": {"type": "object", "required": ["error"], "properties": {"error": {"type": "string"}}},
    "ProvisionChange": {"type": "object", "properties": {
        "ref": {"type": "string"}, "before": {"type": "string"}, "after": {"type": "string"}}},
    "Event": {"type": "object", "required": ["instrument", "change", "detected_at", "version"],
              "properties": {
                  "id": {"type": "string", "description": "The event's stable id (as in the feed)"},
                  "instrument": {"type": "string"}, "source": {"type": "string"},
                  "jurisdiction": {"type": "string"}, "level": {"type": "string"},
                  "title": {"type": "string"}, "url": {"type": "string"},
                  "previous_url": {"type": "string"},
                  "change": {"type": "string", "enum": list(CHANGE_KINDS)},
                  "detected_at": {"type": "string", "format": "date-time"},
                  "version": {"type": "integer"}, "baseline": {"type": "boolean"},
                  "paradigm": {"type": "string", "enum": list(PARADIGM_CHOICES)},
                  "previous_paradigm": NULLABLE_STRING, "provisions": PROVISIONS,
                  "stage": {"type": "string", "enum": list(STAGES)},
                  "previous_stage": NULLABLE_STRING, "stage_quote": {"type": "string"},
                  "stage_provision": {"type": "string"}, "stage_since": NULLABLE_STRING,
                  "shift": {"type": "object", "description": "from, to, towards, away_from, "
                            "share_moves, provisions and evidence of a paradigm shift"}}},
    "HistoryPage": {"type": "object", "required": ["events", "next_cursor"], "properties": {
        "events": {"type": "array", "items": {"$ref": "#/components/schemas/Event"}},
        "next_cursor": NULLABLE_STRING}},
    "Instrument": {"type": "object", "properties": {
        **{key: NULLABLE_STRING for key in ("instrument", "title", "source", "jurisdiction", "level",
                                            "url", "doc_type", "language", "published", "status",
                                            "first_seen_at")},
        "versions": {"type": "array", "items": {"type": "object", "properties": {
            "version": {"type": "integer"}, "recorded_at": {"type": "string"},
            "paradigm": {"type": "string"}, "characters": {"type": "integer"},
            "hash": {"type": "string"}, "title": {"type": "string"},
            "technical": {"type": "boolean"}, "stage": {"type": "string"},
            "stage_quote": {"type": "string"}, "stage_provision": {"type": "string"},
            "stage_rule": {"type": "string"}, "stage_since": NULLABLE_STRING}}},
        "key_dates": {"type": "array", "items": {"type": "object", "properties": {
            "on": {"type": "string", "format": "date"}, "kind": {"type": "string"},
            "quote": {"type": "string"}, "provision": {"type": "string"},
            "basis": {"type": "string"}}}},
        "links": {"type": "array", "description": "What this instrument's latest text does to the "
                  "instruments it names (outgoing, in text order), then the instruments whose text "
                  "names it (incoming, strongest kind first)",
                  "items": {"$ref": "#/components/schemas/Link"}},
        "repealed_by": {"type": "array", "items": {"type": "string"},
                        "description": "The ids of the instruments in the store whose adopted text "
                        "repeals this one; the instrument counts as repealed in every view"},
        "events": {"type": "array", "items": {"type": "object", "properties": {
            "detected_at": {"type": "string"}, "change": {"type": "string"},
            "version": {"type": "integer"}, "baseline": {"type": "boolean"},
            "url": {"type": "string"}, "previous_url": NULLABLE_STRING,
            "paradigm": {"type": "string"}, "previous_paradigm": NULLABLE_STRING,
            "provisions": PROVISIONS, "stage": {"type": "string"},
            "previous_stage": NULLABLE_STRING}}}}},
    "Link": {"type": "object", "required": ["direction", "kind", "reads", "cited", "instrument"],
             "properties": {
                 "direction": {"type": "string", "enum": ["outgoing", "incoming"]},
                 "kind": {"type": "string", "enum": list(LINK_KINDS)},
                 "reads": {"type": "string", "enum": [*LINK_KINDS, *LINK_KIND_INCOMING.values()],
                           "description": "The kind as read from this end: repeals, repealed by, …"},
                 "cited": {"type": "string", "description": "The reference as the citing text writes it"},
                 "instrument": {**NULLABLE_STRING, "description": "The other end's id; null while "
                                "no instrument in the store is the one cited"},
                 "title": {"type": "string"},
                 "quote": {"type": "string", "description": "The citing text's words that make the link"},
                 "provision": {"type": "string"},
                 "version": {"type": "integer", "description": "The citing instrument's version"}}},
    "DiffRow": {"type": "object", "properties": {
        "change": {"type": "string", "enum": ["added", "removed", "modified"]},
        "provision": {"type": "string"}, "before": {"type": "string"}, "after": {"type": "string"}}},
    "Trends": {"type": "object", "properties": {
        "periods": {"type": "array", "items": {"type": "object"}},
        "flags": {"type": "array", "items": {"type": "object"}}}},
    "Status": {"type": "object", "properties": {
        "sources": {"type": "array", "items": {"type": "object"}},
        "daemon": {"type": "object"}, "digests": {"type": "array", "items": {"type": "object"}},
        "outbox": {"type": "object", "additionalProperties": {"type": "integer"}}}},
}


def schema(name: str) -> dict[str, Any]:
    """A reference to one of the component schemas."""
    return {"$ref": f"#/components/schemas/{name}"}


def openapi_document() -> dict[str, Any]:
    """The API's description (OpenAPI 3.1)."""
    def get(summary: str, answer: dict[str, Any], parameters: list[dict[str, Any]],
            missing: bool = False) -> dict[str, Any]:
        responses = {"200": answer, "400": BAD_REQUEST, **({"404": NOT_FOUND} if missing else {})}
        return {"get": {"summary": summary, "parameters": parameters, "responses": responses}}

    return {
        "openapi": "3.1.0",
        "info": {"title": "policywatch", "version": VERSION,
                 "description": "Read-only access to the change history of data-flow instruments."},
        "paths": {
            "/api/history": get("Change events, newest first (`policywatch history`)",
                                _answer("A page of events", schema("HistoryPage")), HISTORY_PARAMETERS),
            "/api/instrument/{instrument}": get(
                "One instrument, its versions and events (`policywatch show`)",
                _answer("The instrument", schema("Instrument")), [INSTRUMENT_PATH], missing=True),
            "/api/diff/{instrument}": get(
                "Provision-level differences between two versions (`policywatch diff`)",
                _answer("The changed provisions", {"type": "array", "items": schema("DiffRow")}),
                [INSTRUMENT_PATH,
                 _one("from", "Older version (default: the one before `to`).", {"type": "integer"}),
                 _one("to", "Newer version (default: the latest).", {"type": "integer"})], missing=True),
            "/api/trends": get("Paradigm shares per period and flagged shifts (`policywatch trends`)",
                               _answer("Periods and flags", schema("Trends")),
                               [_one("by", "Period length.", {"type": "string", "enum": ["year", "quarter"],
                                                              "default": "year"})]),
            "/api/status": get("Source health, the daemon, digests and outbox (`policywatch status`)",
                               _answer("The status", schema("Status")), []),
        },
        "components": {"schemas": SCHEMAS},
    }
