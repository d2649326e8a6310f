"""Shifts between two classified versions of one instrument (pure functions)."""

from __future__ import annotations

from texts.vocabulary import PARADIGMS, UNKNOWN

MARKED_MOVE = 0.15  # a paradigm's share of the evidence moving this much is a shift


def shares(scores: dict[str, float]) -> dict[str, float]:
    total = sum(scores.get(p, 0.0) for p in PARADIGMS)
    return {p: (scores.get(p, 0.0) / total if total else 0.0) for p in PARADIGMS}


def version_shift(old: dict | None, new: dict, changed_provisions: list[str]) -> dict | None:
    """How the classification moved from `old` to `new` (both `Classification.to_json()`), or None.

    A shift is a change of label, or a marked move of one paradigm's share of the evidence
    (e.g. exemptions added to a restrictive text: still restrictive, but less so). It names the
    provisions behind it: changed provisions that carry evidence in the new or the old text.
    """
    if old is None:
        return None
    before, after = old.get("paradigm", UNKNOWN), new.get("paradigm", UNKNOWN)
    old_shares, new_shares = shares(old.get("scores", {})), shares(new.get("scores", {}))
    moves = {p: round(new_shares[p] - old_shares[p], 3) for p in PARADIGMS}
    towards = max(moves, key=moves.__getitem__)
    away = min(moves, key=moves.__getitem__)
    marked = moves[towards] >= MARKED_MOVE or moves[away] <= -MARKED_MOVE
    if before == after and not marked:
        return None
    changed = set(changed_provisions)
    evidence, quoted = [], set()
    for item in [e for e in new.get("evidence", []) if e["provision"] in changed] + \
            [e | {"removed": True} for e in old.get("evidence", []) if e["provision"] in changed
             and not any(n["quote"] == e["quote"] for n in new.get("evidence", []))]:
        if (item["provision"], item["quote"]) not in quoted:  # one sentence, several indicators
            quoted.add((item["provision"], item["quote"]))
            evidence.append(item)
    return {
        "from": before, "to": after,
        "towards": towards if moves[towards] >= MARKED_MOVE or before != after else None,
        "away_from": away if moves[away] <= -MARKED_MOVE or before != after else None,
        "share_moves": moves,
        "provisions": sorted({e["provision"] for e in evidence}),
        "evidence": evidence[:8],
    }
