"""full-text search: FTS5 on SQLite, tsvector on PostgreSQL (storage/search.py)

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-29 01:30:00

"""
from typing import Sequence, Union

from alembic import op

from storage.search import create_index, drop_index


revision: str = '0006'
down_revision: Union[str, Sequence[str], None] = '0005'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    create_index(op.get_bind())


def downgrade() -> None:
    drop_index(op.get_bind())
