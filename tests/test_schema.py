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


def test_the_newest_revision_read_from_the_file_names_is_alembics_head():
    from alembic.script import ScriptDirectory

    from storage.database import alembic_config, newest_revision

    store = Store("sqlite://")
    head = ScriptDirectory.from_config(alembic_config(store.engine)).get_current_head()
    store.close()
    assert newest_revision() == head


def test_a_store_at_the_newest_revision_opens_without_loading_alembic(tmp_path):
    import subprocess
    import sys

    url = f"sqlite:///{tmp_path / 'store.sqlite'}"
    probe = ("import sys; from storage.database import Store; Store(sys.argv[1]).close(); "
             "print('alembic' in sys.modules)")
    first = subprocess.run([sys.executable, "-c", probe, url], capture_output=True, text=True, check=True)
    again = subprocess.run([sys.executable, "-c", probe, url], capture_output=True, text=True, check=True)
    assert first.stdout.split() == ["True"]   # a new store is migrated by Alembic
    assert again.stdout.split() == ["False"]  # one already at the newest revision is not
