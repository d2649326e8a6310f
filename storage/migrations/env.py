"""Alembic environment: the engine comes from storage.database (config.attributes['engine'])."""

from alembic import context
from sqlalchemy import create_engine

from storage.models import Base, include_in_migrations

config = context.config
target_metadata = Base.metadata


def run_migrations() -> None:
    engine = config.attributes.get("engine") or create_engine(config.get_main_option("sqlalchemy.url"))
    with engine.connect() as connection:
        context.configure(
            connection=connection,
            target_metadata=target_metadata,
            render_as_batch=True,
            include_object=include_in_migrations,
        )
        with context.begin_transaction():
            context.run_migrations()
        connection.commit()


run_migrations()
