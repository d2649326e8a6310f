"""each digest's notifications (Apprise channels), delivered once with their own state

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-01 10:45:00

"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa


revision: str = '0010'
down_revision: Union[str, Sequence[str], None] = '0009'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    op.create_table(
        'outbox_deliveries',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('digest_id', sa.Integer(), nullable=False),
        sa.Column('channel', sa.Text(), nullable=False),
        sa.Column('status', sa.String(length=20), nullable=False),
        sa.Column('attempts', sa.Integer(), nullable=False),
        sa.Column('last_error', sa.Text(), nullable=True),
        sa.Column('sending_pid', sa.Integer(), nullable=True),
        sa.Column('sent_at', sa.DateTime(), nullable=True),
        sa.ForeignKeyConstraint(['digest_id'], ['outbox.id'],
                                name=op.f('fk_outbox_deliveries_digest_id_outbox')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_outbox_deliveries')),
        sa.UniqueConstraint('digest_id', 'channel', name='uq_outbox_deliveries_digest_channel'),
    )
    with op.batch_alter_table('outbox_deliveries', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_outbox_deliveries_digest_id'), ['digest_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_outbox_deliveries_status'), ['status'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('outbox_deliveries', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_outbox_deliveries_status'))
        batch_op.drop_index(batch_op.f('ix_outbox_deliveries_digest_id'))
    op.drop_table('outbox_deliveries')
