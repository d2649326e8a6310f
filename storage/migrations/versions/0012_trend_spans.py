"""trend spans: an instrument's paradigm where it changed, kept up to date for the trends

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-01 13:00:00

"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa


revision: str = '0012'
down_revision: Union[str, Sequence[str], None] = '0011'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    op.create_table(
        'trend_spans',
        sa.Column('instrument_id', sa.Integer(), nullable=False),
        sa.Column('version_number', sa.Integer(), nullable=False),
        sa.Column('since', sa.String(length=10), nullable=False),
        sa.Column('paradigm', sa.String(length=20), nullable=False),
        sa.Column('through', sa.String(length=10), nullable=False),
        sa.ForeignKeyConstraint(['instrument_id'], ['instruments.id'],
                                name=op.f('fk_trend_spans_instrument_id_instruments')),
        sa.PrimaryKeyConstraint('instrument_id', 'version_number', name=op.f('pk_trend_spans')),
    )
    op.create_table(
        'trend_state',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('through_version_id', sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_trend_state')),
    )


def downgrade() -> None:
    op.drop_table('trend_state')
    op.drop_table('trend_spans')
