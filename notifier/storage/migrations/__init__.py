"""Alembic migrations of the notices database, applied by `notices db upgrade`."""
