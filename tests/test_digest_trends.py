"""The digest's trends, told on the ISO dates trend_members keeps: a withdrawal read from its text
says what `withdrawn_on` says of the parsed spans."""

from __future__ import annotations

import random
from datetime import date, timedelta

from paradigms.trends import withdrawn_on
from storage.trend_spans import _withdrawn_on_iso, _withdrawn_text


def test_a_withdrawal_is_told_on_its_text_as_on_its_days():
    rng = random.Random(6)
    origins = [date(2020, 1, 1), date(999, 12, 1), date(1, 1, 3)]
    for _ in range(5000):
        origin = rng.choice(origins)
        days = sorted(origin + timedelta(days=rng.randrange(0, 60)) for _ in range(rng.randrange(1, 7)))
        spans = [(days[i], days[i + 1] if i + 1 < len(days) else None) for i in range(0, len(days), 2)]
        if rng.random() < 0.5 and spans[-1][1] is None:
            spans[-1] = (spans[-1][0], spans[-1][0] + timedelta(days=1))
        text = _withdrawn_text(spans)
        assert text is not None
        for day in (origin + timedelta(days=rng.randrange(-2, 62)) for _ in range(8)):
            assert _withdrawn_on_iso(text, day.isoformat()) == withdrawn_on(spans, day), (text, day)
