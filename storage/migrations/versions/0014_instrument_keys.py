"""instrument keys: the keys each instrument may be cited by, and each link's reference key, so
that links are resolved through an index

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-01 16:45:00

"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa

from paradigms.instrument_links import identity_keys, reference_key


revision: str = '0014'
down_revision: Union[str, Sequence[str], None] = '0013'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    op.create_table(
        'instrument_keys',
        sa.Column('instrument_id', sa.Integer(), nullable=False),
        sa.Column('key', sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(['instrument_id'], ['instruments.id'],
                                name=op.f('fk_instrument_keys_instrument_id_instruments')),
        sa.PrimaryKeyConstraint('instrument_id', 'key', name=op.f('pk_instrument_keys')),
    )
    op.create_index(op.f('ix_instrument_keys_key'), 'instrument_keys', ['key'])
    with op.batch_alter_table('instrument_links') as batch:
        batch.add_column(sa.Column('key', sa.Text(), nullable=True))
        batch.create_index(batch.f('ix_instrument_links_key'), ['key'])
    connection = op.get_bind()
    keys = [{"instrument_id": instrument_id, "key": key}
            for instrument_id, title, url in connection.execute(sa.text("SELECT id, title, url FROM instruments"))
            for key in sorted(identity_keys(title or "", url or ""))]
    if keys:
        connection.execute(sa.text("INSERT INTO instrument_keys (instrument_id, key) "
                                   "VALUES (:instrument_id, :key)"), keys)
    links = [{"id": link_id, "key": reference_key(cited)}
             for link_id, cited in connection.execute(sa.text("SELECT id, cited FROM instrument_links"))]
    if links:
        connection.execute(sa.text("UPDATE instrument_links SET key = :key WHERE id = :id"), links)


def downgrade() -> None:
    with op.batch_alter_table('instrument_links') as batch:
        batch.drop_index(batch.f('ix_instrument_links_key'))
        batch.drop_column('key')
    op.drop_index(op.f('ix_instrument_keys_key'), table_name='instrument_keys')
    op.drop_table('instrument_keys')
