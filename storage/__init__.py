"""The store: SQLAlchemy models and migrations; versions and change events (`versions`); runs,
sources and health (`runs`); what the commands read (`queries`); full-text search (`search`)."""
