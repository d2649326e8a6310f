"""SQLite's search index without positions: one row per version, its terms and pairs of terms

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-02 00:00:00

The index is made again from the stored texts (storage/search.py, `rebuild_sqlite_index`); the
downgrade makes the index of positions again (chunks, row id = version id × 1000 + chunk).
PostgreSQL's index is left as it is.
"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa

from storage.search import chunks, drop_index, rebuild_sqlite_index, search_terms, stored_versions


revision: str = '0016'
down_revision: Union[str, Sequence[str], None] = '0015'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None

POSITIONS_INDEX = ("CREATE VIRTUAL TABLE version_search USING fts5("
                   "terms, content='', tokenize='unicode61 remove_diacritics 2')")


def upgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        rebuild_sqlite_index(op.get_bind())


def downgrade() -> None:
    bind = op.get_bind()
    if bind.dialect.name != "sqlite":
        return
    drop_index(bind)
    bind.execute(sa.text(POSITIONS_INDEX))
    for versions in stored_versions(bind):
        parts = [{"rowid": version_id * 1000 + n, "terms": part} for version_id, title, body in versions
                 for n, part in enumerate(chunks(search_terms(f"{title}\n{body}")))]
        if parts:
            bind.execute(sa.text("INSERT INTO version_search (rowid, terms) VALUES (:rowid, :terms)"), parts)
