"""version classifications kept compressed (versions.classification -> versions.classification_z)

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-01 21:40:00

"""
import json
import sqlite3
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


def _columns() -> set[str]:
    return {column["name"] for column in sa.inspect(op.get_bind()).get_columns('versions')}


def _add(column: sa.Column) -> None:
    """Add a column unless an upgrade stopped midway added it already: SQLite commits each
    ALTER TABLE at once, so a failed upgrade is run again from a half-changed table."""
    if column.name not in _columns():
        op.add_column('versions', column)


def _drop(column: str) -> None:
    """Drop a column in place: a batch copy of `versions` would drop the table that key dates,
    links and events refer to. SQLite drops a plain column itself from 3.35 on; an older one
    keeps the column, emptied, where nothing reads it any more."""
    if column not in _columns():
        return
    if op.get_bind().dialect.name != "sqlite":
        op.drop_column('versions', column)
    elif sqlite3.sqlite_version_info >= (3, 35):
        op.execute(f"ALTER TABLE versions DROP COLUMN {column}")
    else:
        op.execute(f"UPDATE versions SET {column} = NULL")


def upgrade() -> None:
    _add(sa.Column('classification_z', sa.LargeBinary(), nullable=True))
    if 'classification' in _columns():
        for rows in _stored("classification"):
            op.get_bind().execute(sa.text("UPDATE versions SET classification_z = :value WHERE id = :id"),
                                  [{"id": id_, "value": pack(_as_json_text(value).encode("utf-8"))}
                                   for id_, value in rows])
    _drop('classification')


def downgrade() -> None:
    _add(sa.Column('classification', sa.JSON(), nullable=True))
    versions = sa.table("versions", sa.column("id"), sa.column("classification", sa.JSON()))
    if 'classification_z' in _columns():
        for rows in _stored("classification_z"):
            for id_, data in rows:
                op.get_bind().execute(versions.update().where(versions.c.id == id_)
                                      .values(classification=json.loads(unpack(data))))
    _drop('classification_z')
