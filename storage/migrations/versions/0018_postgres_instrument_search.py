"""PostgreSQL: each instrument's search lexemes, of all its versions, in one row (or a few)

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-02 02:30:00

A table `instrument_search` (storage/search.py) with a GIN index, filled from the lexemes of
`version_search` without their positions (100,000 instruments of 913,057 versions: 8 min), then
its statistics gathered. SQLite has no such table: its index is looked up at a version's row id.
"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa

from storage.search import ROW_BYTES


revision: str = '0018'
down_revision: Union[str, Sequence[str], None] = '0017'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    bind = op.get_bind()
    if bind.dialect.name != "postgresql":
        return
    bind.execute(sa.text("CREATE TABLE instrument_search (id BIGSERIAL PRIMARY KEY, "
                         "instrument_id INTEGER NOT NULL REFERENCES instruments (id), terms TSVECTOR NOT NULL, "
                         "lexeme_bytes INTEGER NOT NULL)"))
    # Statistics of the 10,000 commonest lexemes, not 1,000: the search plans are chosen by what
    # the planner expects of a term or pair (storage/history_sql.py, `postgres_plan`).
    bind.execute(sa.text("ALTER TABLE instrument_search ALTER COLUMN terms SET STATISTICS 1000"))
    bind.execute(sa.text("SET LOCAL work_mem = '256MB'"))
    bind.execute(sa.text("SET LOCAL maintenance_work_mem = '256MB'"))
    # An instrument's distinct lexemes, cut into rows of at most ROW_BYTES (and one lexeme).
    bind.execute(sa.text(
        "INSERT INTO instrument_search (instrument_id, terms, lexeme_bytes) "
        "SELECT instrument_id, array_to_tsvector(array_agg(lexeme)), sum(octet_length(lexeme) + 4) FROM ("
        "SELECT instrument_id, lexeme, (sum(octet_length(lexeme) + 4) OVER (PARTITION BY instrument_id "
        "ORDER BY lexeme) - 1) / :row_bytes AS part FROM ("
        "SELECT DISTINCT versions.instrument_id, held.lexeme FROM version_search "
        "JOIN versions ON versions.id = version_search.version_id, unnest(version_search.terms) AS held"
        ") AS distinct_lexemes) AS parts GROUP BY instrument_id, part"), {"row_bytes": ROW_BYTES})
    bind.execute(sa.text("CREATE INDEX ix_instrument_search_instrument ON instrument_search (instrument_id)"))
    bind.execute(sa.text("CREATE INDEX ix_instrument_search_terms ON instrument_search USING GIN (terms)"))
    bind.execute(sa.text("ANALYZE instrument_search"))


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TABLE instrument_search")
