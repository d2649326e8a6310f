"""version texts kept zlib-compressed (versions.text -> versions.text_z)

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-29 01:45:00

"""
import zlib

from storage.compression import unpack
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa


revision: str = '0007'
down_revision: Union[str, Sequence[str], None] = '0006'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None

BATCH = 500


def _convert(source: str, target: str, convert) -> None:
    bind = op.get_bind()
    last = 0
    while True:
        rows = bind.execute(sa.text(f"SELECT id, {source} FROM versions WHERE id > :last ORDER BY id LIMIT {BATCH}"),
                            {"last": last}).fetchall()
        if not rows:
            return
        bind.execute(sa.text(f"UPDATE versions SET {target} = :value WHERE id = :id"),
                     [{"id": row[0], "value": convert(row[1])} for row in rows])
        last = rows[-1][0]


def upgrade() -> None:
    with op.batch_alter_table('versions', schema=None) as batch_op:
        batch_op.add_column(sa.Column('text_z', sa.LargeBinary(), nullable=True))
    _convert("text", "text_z", lambda text: zlib.compress((text or "").encode("utf-8"), 6))
    with op.batch_alter_table('versions', schema=None) as batch_op:
        batch_op.drop_column('text')
        batch_op.alter_column('text_z', existing_type=sa.LargeBinary(), nullable=False)


def downgrade() -> None:
    with op.batch_alter_table('versions', schema=None) as batch_op:
        batch_op.add_column(sa.Column('text', sa.Text(), nullable=True))
    _convert("text_z", "text", lambda data: unpack(data).decode("utf-8"))  # zlib or zstandard
    with op.batch_alter_table('versions', schema=None) as batch_op:
        batch_op.drop_column('text_z')
