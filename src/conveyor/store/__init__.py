"""The only place that issues SQL: typed SQLAlchemy models, migrations and repositories."""
