"""lifecycle stage of each version and of stage events; key dates; links between instruments

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-01 12:45:00

"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa


revision: str = '0011'
down_revision: Union[str, Sequence[str], None] = '0010'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    with op.batch_alter_table('versions', schema=None) as batch_op:
        batch_op.add_column(sa.Column('stage', sa.String(length=20), nullable=True))
        batch_op.add_column(sa.Column('lifecycle', sa.JSON(), nullable=True))
    with op.batch_alter_table('change_events', schema=None) as batch_op:
        batch_op.add_column(sa.Column('stage', sa.String(length=20), nullable=True))
        batch_op.add_column(sa.Column('previous_stage', sa.String(length=20), nullable=True))
    op.create_table(
        'key_dates',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('instrument_id', sa.Integer(), nullable=False),
        sa.Column('version_id', sa.Integer(), nullable=False),
        sa.Column('kind', sa.String(length=30), nullable=False),
        sa.Column('on', sa.String(length=10), nullable=False),
        sa.Column('quote', sa.Text(), nullable=False),
        sa.Column('provision', sa.Text(), nullable=False),
        sa.Column('basis', sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(['instrument_id'], ['instruments.id'],
                                name=op.f('fk_key_dates_instrument_id_instruments')),
        sa.ForeignKeyConstraint(['version_id'], ['versions.id'],
                                name=op.f('fk_key_dates_version_id_versions')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_key_dates')),
    )
    with op.batch_alter_table('key_dates', schema=None) as batch_op:
        batch_op.create_index('ix_key_dates_on', ['on', 'kind'], unique=False)
        batch_op.create_index(batch_op.f('ix_key_dates_instrument_id'), ['instrument_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_key_dates_version_id'), ['version_id'], unique=False)
    op.create_table(
        'instrument_links',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('instrument_id', sa.Integer(), nullable=False),
        sa.Column('version_id', sa.Integer(), nullable=False),
        sa.Column('kind', sa.String(length=20), nullable=False),
        sa.Column('cited', sa.Text(), nullable=False),
        sa.Column('target_instrument_id', sa.Integer(), nullable=True),
        sa.Column('quote', sa.Text(), nullable=False),
        sa.Column('provision', sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(['instrument_id'], ['instruments.id'],
                                name=op.f('fk_instrument_links_instrument_id_instruments')),
        sa.ForeignKeyConstraint(['target_instrument_id'], ['instruments.id'],
                                name=op.f('fk_instrument_links_target_instrument_id_instruments')),
        sa.ForeignKeyConstraint(['version_id'], ['versions.id'],
                                name=op.f('fk_instrument_links_version_id_versions')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_instrument_links')),
    )
    with op.batch_alter_table('instrument_links', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_instrument_links_instrument_id'), ['instrument_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_instrument_links_target_instrument_id'),
                              ['target_instrument_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_instrument_links_version_id'), ['version_id'], unique=False)


def downgrade() -> None:
    op.drop_table('instrument_links')
    op.drop_table('key_dates')
    with op.batch_alter_table('change_events', schema=None) as batch_op:
        batch_op.drop_column('previous_stage')
        batch_op.drop_column('stage')
    with op.batch_alter_table('versions', schema=None) as batch_op:
        batch_op.drop_column('lifecycle')
        batch_op.drop_column('stage')
