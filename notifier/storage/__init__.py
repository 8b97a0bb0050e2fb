"""The database: the SQLAlchemy engine, the tables, and their Alembic migrations.
"""
