"""PostgreSQL's search index holds each pair of neighbouring terms as one lexeme

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-02 02:00:00

Every row of `version_search` is written again from the stored texts (storage/search.py,
`index_versions`), its GIN index built once the rows are in (913,057 short versions: 9 min 49 s,
3 min 26 s of it the client's CPU); the downgrade deletes the pairs' lexemes (each starts with
`_`, which no term holds). SQLite's index has held pairs since 0016.
"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa

from storage.search import PAIR, index_versions, stored_versions


revision: str = '0017'
down_revision: Union[str, Sequence[str], None] = '0016'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    bind = op.get_bind()
    if bind.dialect.name != "postgresql":
        return
    bind.execute(sa.text("DROP INDEX ix_version_search_terms"))
    bind.execute(sa.text("TRUNCATE version_search"))
    for versions in stored_versions(bind, batch=2000):
        index_versions(bind, versions, instruments=False)  # instrument_search is 0018's
    bind.execute(sa.text("SET LOCAL maintenance_work_mem = '256MB'"))  # the GIN index built in fewer passes
    bind.execute(sa.text("CREATE INDEX ix_version_search_terms ON version_search USING GIN (terms)"))


def downgrade() -> None:
    bind = op.get_bind()
    if bind.dialect.name != "postgresql":
        return
    bind.execute(sa.text("UPDATE version_search SET terms = ts_delete(terms, ARRAY("
                         "SELECT lexeme FROM unnest(terms) WHERE starts_with(lexeme, :pair)))"), {"pair": PAIR})
