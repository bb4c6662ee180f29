"""A throw-away database on the real PostgreSQL server of this machine, for test fixtures."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager

import psycopg
import pytest

PG_ADMIN_DSN = "postgresql://postgres@127.0.0.1:5432/postgres"
START_POSTGRES = ("start it with: pg_ctlcluster --skip-systemctl-redirect "
                  "$(ls /etc/postgresql) main start")


@contextmanager
def throwaway_database(prefix: str) -> Iterator[str]:
    """Create a fresh database named ``<prefix>_<pid>_<random>``, yield its SQLAlchemy URL and
    drop it afterwards; fail the test with how to start PostgreSQL when it is down."""
    name = f"{prefix}_{os.getpid()}_{uuid.uuid4().hex[:6]}"
    try:
        admin = psycopg.connect(PG_ADMIN_DSN, autocommit=True, connect_timeout=3)
    except psycopg.OperationalError as exc:
        pytest.fail(f"PostgreSQL on 127.0.0.1:5432 is not reachable ({exc}); {START_POSTGRES}")
    with admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    try:
        yield f"postgresql+psycopg://postgres@127.0.0.1:5432/{name}"
    finally:
        with psycopg.connect(PG_ADMIN_DSN, autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
