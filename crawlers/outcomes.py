"""What a crawl did per source, read from the crawler's stats (`policywatch/<source>/<outcome>`)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable

from texts.vocabulary import OUTCOMES


def outcome_counts(stats: dict, source_ids: Iterable[str]) -> dict[str, Counter]:
    """source id → Counter of outcomes, zeros included."""
    return {source_id: Counter({outcome: stats.get(f"policywatch/{source_id}/{outcome}", 0)
                                for outcome in OUTCOMES})
            for source_id in source_ids}
