"""The migrations build exactly the schema the models describe, on both databases."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from storage.database import Store
from storage.models import Base, include_in_migrations


def test_migrations_match_the_models(store_url):
    store = Store(store_url)
    with store.engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"include_object": include_in_migrations})
        assert compare_metadata(context, Base.metadata) == []
    store.close()
