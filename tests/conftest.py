"""Shared fixtures: settings for the embedded mode, and the real PostgreSQL and Redis servers
running on this machine (a throw-away database per test session, a dedicated Redis db)."""

from __future__ import annotations

from pathlib import Path

import pytest
import redis

from app.config import Settings
from tests.pg import START_POSTGRES, throwaway_database

REDIS_TEST_URL = "redis://127.0.0.1:6379/13"
SERVICE_HELP = {
    "postgres": START_POSTGRES,
    "redis": "start it with: redis-server --daemonize yes --bind 127.0.0.1 --port 6379 "
    '--save "" --appendonly no',
}


@pytest.fixture(scope="session", autouse=True)
def compiled_engine() -> None:
    """Compile the engine's kernels once (or load them from numba's on-disk cache) before any
    test whose time limit would otherwise include a cold compile (tens of seconds on a fresh
    clone); worker subprocesses then load them from the same cache."""
    from app.runs.worker import warm_up

    warm_up()


@pytest.fixture
def embedded_settings(tmp_path: Path) -> Settings:
    """Embedded default: SQLite in a temporary instance folder, no Redis."""
    return Settings.from_env({"ARENA_INSTANCE_DIR": str(tmp_path / "instance")})


@pytest.fixture(scope="session")
def pg_url() -> str:
    """A fresh PostgreSQL database for this test session, dropped afterwards."""
    with throwaway_database("arena_test") as url:
        yield url


@pytest.fixture(scope="session")
def redis_url() -> str:
    """The real Redis on this machine, database 13, emptied before and after the session."""
    client = redis.Redis.from_url(REDIS_TEST_URL, socket_connect_timeout=2)
    try:
        client.flushdb()
    except redis.RedisError as exc:
        pytest.fail(f"Redis on 127.0.0.1:6379 is not reachable ({exc}); " + SERVICE_HELP["redis"])
    yield REDIS_TEST_URL
    client.flushdb()


@pytest.fixture
def server_settings(tmp_path: Path, pg_url: str, redis_url: str) -> Settings:
    """Server mode: the real PostgreSQL and Redis."""
    return Settings.from_env({
        "ARENA_INSTANCE_DIR": str(tmp_path / "instance"),
        "DATABASE_URL": pg_url,
        "REDIS_URL": redis_url,
    })
