"""Query parameters read as the command line reads its options: the same names, the same checks,
and a malformed one refused with a one-line reason (a 400, never a 500)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

import click
from sqlalchemy.orm import Session
from starlette.datastructures import QueryParams

from paradigms.lifecycle import STAGES
from policywatch.cli.app import checked_values, parse_when
from policywatch.web.reads import Cursor
from storage.queries import HistoryFilter, known_jurisdictions, known_source_ids
from texts.vocabulary import CHANGE_KINDS, PARADIGM_CHOICES

PAGE_SIZE = 50
MAX_PAGE_SIZE = 200
MAX_VALUE_LENGTH = 300
HISTORY_PARAMETERS = frozenset({"jurisdiction", "source", "change", "paradigm", "stage", "since",
                                "until", "search", "baseline", "limit", "cursor"})
BOOLEANS = {"true": True, "yes": True, "1": True, "false": False, "no": False, "0": False}


class BadRequest(ValueError):
    """A parameter that cannot be read; the message is the one-line reason."""


def only_known(params: QueryParams, known: Iterable[str]) -> None:
    """Refuse a parameter the page does not take (a misspelt filter would silently match all)."""
    allowed = set(known)
    for name in params:
        if name not in allowed:
            raise BadRequest(f"unknown parameter {name!r}; known: {', '.join(sorted(allowed))}")
    for name, value in params.multi_items():
        if len(value) > MAX_VALUE_LENGTH:
            raise BadRequest(f"{name}: longer than {MAX_VALUE_LENGTH} characters")
        refuse_nul(name, value)


def refuse_nul(name: str, value: str) -> None:
    """Refuse a NUL character, which no stored text holds and PostgreSQL cannot compare."""
    if "\x00" in value:
        raise BadRequest(f"{name}: contains a NUL character")


def values(params: QueryParams, name: str) -> tuple[str, ...]:
    """Every non-empty value of a repeatable parameter, repeated or comma-separated."""
    return tuple(part.strip() for value in params.getlist(name) for part in value.split(",")
                 if part.strip())


def single(params: QueryParams, name: str) -> str | None:
    """The one value of a parameter (None when absent or empty); refused when repeated."""
    given = [v for v in params.getlist(name) if v.strip()]
    if len(given) > 1:
        raise BadRequest(f"{name}: given {len(given)} times, takes one value")
    return given[0].strip() if given else None


def choices(params: QueryParams, name: str, allowed: Iterable[str]) -> tuple[str, ...]:
    allowed = tuple(allowed)
    chosen = tuple(v.lower() for v in values(params, name))
    for value in chosen:
        if value not in allowed:
            raise BadRequest(f"{name}: {value!r} is not one of {', '.join(allowed)}")
    return chosen


def integer(params: QueryParams, name: str, default: int, low: int, high: int) -> int:
    text = single(params, name)
    if text is None:
        return default
    if not text.isdigit() or not low <= int(text) <= high:
        raise BadRequest(f"{name}: {text!r} is not a whole number from {low} to {high}")
    return int(text)


def boolean(params: QueryParams, name: str, default: bool) -> bool:
    text = single(params, name)
    if text is None:
        return default
    if text.lower() not in BOOLEANS:
        raise BadRequest(f"{name}: {text!r} is not yes or no")
    return BOOLEANS[text.lower()]


def moment(params: QueryParams, name: str, end_of_day: bool = False) -> datetime | None:
    """A date, date/time or span back from now, as `--since`/`--until` take it."""
    try:
        return parse_when(single(params, name), name, end_of_day=end_of_day)
    except OverflowError:
        raise BadRequest(f"{name}: {single(params, name)!r} is out of range") from None


@dataclass(frozen=True)
class HistoryRequest:
    """A page of the history asked for: the filter, where the page starts and how long it is."""

    where: HistoryFilter
    cursor: Cursor | None
    size: int


def history_request(session: Session, params: QueryParams) -> HistoryRequest:
    """The filter of `policywatch history`'s options, from the query string of the changes page,
    its feed or its API."""
    only_known(params, HISTORY_PARAMETERS)
    try:
        where = HistoryFilter(
            since=moment(params, "since"), until=moment(params, "until", end_of_day=True),
            jurisdictions=checked_values("jurisdiction", values(params, "jurisdiction"),
                                         known_jurisdictions(session), "instrument in jurisdiction",
                                         upper=True),
            sources=checked_values("source", values(params, "source"), known_source_ids(session),
                                   "source"),
            changes=choices(params, "change", CHANGE_KINDS),
            paradigms=choices(params, "paradigm", PARADIGM_CHOICES),
            stages=choices(params, "stage", STAGES),
            search=single(params, "search"),
            include_baseline=boolean(params, "baseline", True))
    except click.BadParameter as exc:
        raise BadRequest(f"{exc.param_hint}: {exc.message}") from None
    cursor_text = single(params, "cursor")
    try:
        cursor = Cursor.decode(cursor_text) if cursor_text else None
    except ValueError as exc:
        raise BadRequest(f"cursor: {exc}") from None
    return HistoryRequest(where, cursor, integer(params, "limit", PAGE_SIZE, 1, MAX_PAGE_SIZE))
