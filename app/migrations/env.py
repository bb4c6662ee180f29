"""Alembic environment: the engine comes from ``app.migrate`` (or from the Settings when Alembic
is run by hand), the target metadata is every model module (``app.migrate.load_metadata``).

``render_as_batch`` makes ALTERs work on SQLite (copy-and-move) and is harmless on PostgreSQL.
"""

from __future__ import annotations

from alembic import context
from sqlalchemy import Engine

from app.migrate import load_metadata

config = context.config
target_metadata = load_metadata()


def _engine() -> Engine:
    engine = config.attributes.get("engine")
    if engine is not None:
        return engine
    from app.config import Settings
    from app.db import make_engine

    return make_engine(Settings.from_env().database_url)


def run_migrations_offline() -> None:
    """``--sql`` mode: print the SQL instead of running it."""
    context.configure(url=_engine().url, target_metadata=target_metadata, literal_binds=True,
                      render_as_batch=True, dialect_opts={"paramstyle": "named"})
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    with _engine().connect() as connection:
        context.configure(connection=connection, target_metadata=target_metadata,
                          render_as_batch=True, compare_type=True)
        with context.begin_transaction():
            context.run_migrations()
        connection.commit()


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
