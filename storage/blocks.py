"""The block each instrument's current text was found in, remembered for the cheap re-check.

A block is where main-content detection found the text (`crawlers.main_content.Block`): its CSS
path and two hashes. Remembered whenever a check confirms or records the instrument's text, and
forgotten when that text no longer comes from it (a declared selector, a PDF, a re-extraction).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Protocol

from sqlalchemy import select
from sqlalchemy.orm import Session

from storage.models import MainTextBlock


class BlockLike(Protocol):
    """What is remembered of a block (`crawlers.main_content.Block` is one)."""

    @property
    def path(self) -> str: ...
    @property
    def markup_digest(self) -> str: ...
    @property
    def digest(self) -> str: ...


def remembered_blocks(session: Session, instrument_ids: Iterable[int]) -> dict[int, MainTextBlock]:
    """instrument id → its remembered block, for the instruments that have one."""
    ids = list(instrument_ids)
    found: dict[int, MainTextBlock] = {}
    for start in range(0, len(ids), 500):
        rows = session.scalars(select(MainTextBlock).where(
            MainTextBlock.instrument_id.in_(ids[start:start + 500])))
        found.update((row.instrument_id, row) for row in rows)
    return found


def remember_block(session: Session, instrument_id: int, block: BlockLike | None) -> None:
    """Remember where the instrument's current text was found (None: nowhere to re-read)."""
    stored = session.get(MainTextBlock, instrument_id)
    if block is None:
        if stored is not None:
            session.delete(stored)
        return
    if stored is None:
        stored = MainTextBlock(instrument_id=instrument_id)
        session.add(stored)
    stored.path, stored.markup_digest, stored.digest = block.path, block.markup_digest, block.digest
