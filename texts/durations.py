"""Durations written as '30m', '6h', '1d', '2w' in declarations, subscriptions and options: one
parser for all of them, so that what `every:` accepts `--since` accepts too."""

from __future__ import annotations

import re
from datetime import timedelta

_DURATION = re.compile(r"^\s*(\d+)\s*([smhdw])\s*$", re.IGNORECASE)
_DURATION_UNITS = {"s": "seconds", "m": "minutes", "h": "hours", "d": "days", "w": "weeks"}


def parse_interval(text: str) -> timedelta:
    """'30m', '6h', '1d', '2w' (any case) → timedelta; ValueError with the accepted forms otherwise."""
    match = _DURATION.match(str(text))
    if not match or int(match.group(1)) == 0:
        raise ValueError(f"{text!r} is not an interval like 30m, 6h, 1d or 2w")
    return timedelta(**{_DURATION_UNITS[match.group(2).lower()]: int(match.group(1))})
