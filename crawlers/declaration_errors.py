"""Declaration problems in plain words: one pydantic error (as `ValidationError.errors()` gives
it) said the way a person writing YAML thinks of the field ("id: use lowercase letters, digits
and '-'; got 'EU_EDPB'"), rather than in pydantic's own wording."""

from __future__ import annotations

from collections.abc import Mapping

# The patterns of the declaration fields, in words.
PATTERN_WORDS = {r"^[a-z0-9][a-z0-9-]*$": "lowercase letters, digits and '-'"}


def _got(value: object) -> str:
    return f"got {value!r}"


def plain_reason(problem: Mapping) -> str:
    """The reason of one pydantic error dict (`type`, `msg`, `input`, `ctx`), in plain words."""
    kind, context, value = problem["type"], problem.get("ctx") or {}, problem.get("input")
    if kind == "extra_forbidden":
        return "unknown field"
    if kind == "missing":
        return "required field is missing"
    if kind == "string_pattern_mismatch":
        pattern = str(context.get("pattern", ""))
        return f"use {PATTERN_WORDS.get(pattern, f'text matching {pattern}')}; {_got(value)}"
    if kind == "literal_error":
        return f"use {context.get('expected')}; {_got(value)}"
    if kind == "string_too_short":
        return "must not be empty"
    if kind == "too_short":
        return f"needs at least {context.get('min_length', 1)} item(s)"
    if kind in ("greater_than_equal", "greater_than"):
        return f"must be at least {context.get('ge', context.get('gt'))}; {_got(value)}"
    if kind in ("less_than_equal", "less_than"):
        return f"must be at most {context.get('le', context.get('lt'))}; {_got(value)}"
    if kind in ("int_parsing", "int_type", "int_from_float"):
        return f"must be a whole number; {_got(value)}"
    if kind == "string_type":
        return f"must be text (quote it in YAML); {_got(value)}"
    if kind in ("tuple_type", "list_type"):
        return f"must be a list, like [en, zh]; {_got(value)}"
    if kind in ("dict_type", "model_type", "model_attributes_type"):
        return f"must be a mapping of fields; {_got(value)}"
    return str(problem["msg"]).removeprefix("Value error, ")
