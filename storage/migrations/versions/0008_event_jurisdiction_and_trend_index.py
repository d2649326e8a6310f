"""change events carry their instrument's jurisdiction (indexed with the date); a covering index
for what trends read of every version

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-29 02:15:00

"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa


revision: str = '0008'
down_revision: Union[str, Sequence[str], None] = '0007'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    with op.batch_alter_table('change_events', schema=None) as batch_op:
        batch_op.add_column(sa.Column('jurisdiction', sa.String(length=20), nullable=True))
    op.execute("UPDATE change_events SET jurisdiction = (SELECT jurisdiction FROM instruments "
               "WHERE instruments.id = change_events.instrument_id)")
    op.create_index('ix_change_events_jurisdiction_detected', 'change_events', ['jurisdiction', 'detected_at'])
    op.create_index('ix_versions_trend', 'versions', ['instrument_id', 'number', 'recorded_at', 'paradigm'])


def downgrade() -> None:
    op.drop_index('ix_versions_trend', table_name='versions')
    op.drop_index('ix_change_events_jurisdiction_detected', table_name='change_events')
    with op.batch_alter_table('change_events', schema=None) as batch_op:
        batch_op.drop_column('jurisdiction')
