"""where each instrument's main text was found on its page, for the cheap re-check

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-01 10:40:00

"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa


revision: str = '0009'
down_revision: Union[str, Sequence[str], None] = '0008'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    op.create_table(
        'main_text_blocks',
        sa.Column('instrument_id', sa.Integer(), nullable=False),
        sa.Column('path', sa.Text(), nullable=False),
        sa.Column('markup_digest', sa.String(length=64), nullable=False),
        sa.Column('digest', sa.String(length=64), nullable=False),
        sa.ForeignKeyConstraint(['instrument_id'], ['instruments.id'],
                                name=op.f('fk_main_text_blocks_instrument_id_instruments')),
        sa.PrimaryKeyConstraint('instrument_id', name=op.f('pk_main_text_blocks')),
    )


def downgrade() -> None:
    op.drop_table('main_text_blocks')
