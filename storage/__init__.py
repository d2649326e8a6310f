"""The store: SQLAlchemy models, migrations, the recorder (versions + change detection), diffs, queries."""
