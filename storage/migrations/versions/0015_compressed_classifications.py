"""version classifications kept compressed (versions.classification -> versions.classification_z)

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-01 21:40:00

"""
import json
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa

from storage.compression import pack, unpack


revision: str = '0015'
down_revision: Union[str, Sequence[str], None] = '0014'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None

BATCH = 500


def _as_json_text(value) -> str:
    """A JSON column's value as the database hands it over: text (SQLite) or decoded (PostgreSQL)."""
    return value if isinstance(value, str) else json.dumps(value, ensure_ascii=False, separators=(",", ":"))


def _stored(column: str):
    """(id, value) of every version with a value in `column`, in batches by id."""
    bind = op.get_bind()
    last = 0
    while True:
        rows = bind.execute(sa.text(f"SELECT id, {column} FROM versions WHERE id > :last "
                                    f"AND {column} IS NOT NULL ORDER BY id LIMIT {BATCH}"),
                            {"last": last}).fetchall()
        if not rows:
            return
        yield rows
        last = rows[-1][0]


def _drop(column: str) -> None:
    """Drop a column in place: a batch copy of `versions` would drop the table that key dates,
    links and events refer to (SQLite 3.35 and later drop a plain column themselves)."""
    if op.get_bind().dialect.name == "sqlite":
        op.execute(f"ALTER TABLE versions DROP COLUMN {column}")
    else:
        op.drop_column('versions', column)


def upgrade() -> None:
    op.add_column('versions', sa.Column('classification_z', sa.LargeBinary(), nullable=True))
    for rows in _stored("classification"):
        op.get_bind().execute(sa.text("UPDATE versions SET classification_z = :value WHERE id = :id"),
                              [{"id": id_, "value": pack(_as_json_text(value).encode("utf-8"))}
                               for id_, value in rows])
    _drop('classification')


def downgrade() -> None:
    op.add_column('versions', sa.Column('classification', sa.JSON(), nullable=True))
    versions = sa.table("versions", sa.column("id"), sa.column("classification", sa.JSON()))
    for rows in _stored("classification_z"):
        for id_, data in rows:
            op.get_bind().execute(versions.update().where(versions.c.id == id_)
                                  .values(classification=json.loads(unpack(data))))
    _drop('classification_z')
