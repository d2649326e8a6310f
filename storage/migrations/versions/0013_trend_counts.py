"""trend counts: the yearly trends summed over the instruments, kept up to date with the spans

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-01 16:00:00

"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa


revision: str = '0013'
down_revision: Union[str, Sequence[str], None] = '0012'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    op.create_table(
        'trend_counts',
        sa.Column('measure', sa.String(length=10), nullable=False),
        sa.Column('year', sa.String(length=4), nullable=False),
        sa.Column('jurisdiction', sa.String(length=20), nullable=False),
        sa.Column('level_group', sa.String(length=30), nullable=False),
        sa.Column('paradigm', sa.String(length=20), nullable=False),
        sa.Column('count', sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint('measure', 'year', 'jurisdiction', 'level_group', 'paradigm',
                                name=op.f('pk_trend_counts')),
    )
    op.create_table(
        'trend_members',
        sa.Column('instrument_id', sa.Integer(), nullable=False),
        sa.Column('uid', sa.String(length=200), nullable=False),
        sa.Column('jurisdiction', sa.String(length=20), nullable=False),
        sa.Column('in_force', sa.String(length=10), nullable=False),
        sa.Column('entered_paradigm', sa.String(length=20), nullable=True),
        sa.Column('withdrawn', sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(['instrument_id'], ['instruments.id'],
                                name=op.f('fk_trend_members_instrument_id_instruments')),
        sa.PrimaryKeyConstraint('instrument_id', name=op.f('pk_trend_members')),
    )
    op.create_index(op.f('ix_trend_members_in_force'), 'trend_members', ['in_force'])
    op.create_index(op.f('ix_trend_members_jurisdiction'), 'trend_members', ['jurisdiction'])
    op.create_index(op.f('ix_trend_members_entered_paradigm'), 'trend_members', ['entered_paradigm'])
    op.add_column('trend_state', sa.Column('through_event_id', sa.Integer(), server_default='0',
                                           nullable=False))
    # The spans were folded without the counts: the next digest folds everything again.
    op.execute('DELETE FROM trend_spans')
    op.execute('DELETE FROM trend_state')


def downgrade() -> None:
    with op.batch_alter_table('trend_state') as batch:
        batch.drop_column('through_event_id')
    op.drop_index(op.f('ix_trend_members_entered_paradigm'), table_name='trend_members')
    op.drop_index(op.f('ix_trend_members_jurisdiction'), table_name='trend_members')
    op.drop_index(op.f('ix_trend_members_in_force'), table_name='trend_members')
    op.drop_table('trend_members')
    op.drop_table('trend_counts')
