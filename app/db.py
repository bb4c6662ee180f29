"""Database engine and session factory (SQLAlchemy 2), one per application."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import Engine, create_engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, sessionmaker


def make_engine(database_url: str) -> Engine:
    """An engine for ``database_url``; creates the folder of a SQLite file if needed.

    PostgreSQL connections are pre-pinged so a restarted server does not surface as an error;
    SQLite gets a busy timeout so the in-process job runner and the web threads can share it.
    """
    url = make_url(database_url)
    if url.get_backend_name() == "sqlite":
        if url.database and url.database != ":memory:":
            Path(url.database).parent.mkdir(parents=True, exist_ok=True)
        return create_engine(url, connect_args={"timeout": 30, "check_same_thread": False})
    return create_engine(url, pool_pre_ping=True, connect_args={"connect_timeout": 3})


def make_session_factory(engine: Engine) -> sessionmaker[Session]:
    return sessionmaker(bind=engine, expire_on_commit=False)


def database_reachable(engine: Engine) -> tuple[bool, str | None]:
    """``(True, None)`` when ``SELECT 1`` succeeds, else ``(False, reason)``."""
    try:
        with engine.connect() as connection:
            connection.execute(text("SELECT 1"))
        return True, None
    except Exception as exc:  # any driver error means "unreachable"; the reason is reported
        return False, f"{type(exc).__name__}: {str(exc).splitlines()[0]}"
