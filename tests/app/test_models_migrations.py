"""The schema: migrations up and down on SQLite and PostgreSQL, models equal to the migrations,
cascades, timestamps, and how the app treats an un-migrated database in each mode."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from click.testing import CliRunner
from sqlalchemy import inspect, select

from app import create_app, startup
from app.cli import main
from app.db import make_engine, make_session_factory
from app.migrate import current_revision, downgrade, head_revision, load_metadata, upgrade
from app.models import BacktestRun, RunResult, Strategy, User, utcnow
from app.services import session_scope
from app.services.demo import DEMO_EMAIL, DEMO_EXAMPLES
from app.services.errors import ConflictError
from app.services.strategies import create_strategy
from app.services.users import register_user
from tests.app.conftest import example_spec, sqlite_settings
from tests.pg import throwaway_database

TABLES = {"users", "strategies", "backtest_runs", "run_results", "revoked_tokens"}


@pytest.fixture
def empty_pg_url() -> Iterator[str]:
    """A second, empty PostgreSQL database (the session database is migrated by other tests)."""
    with throwaway_database("arena_mig") as url:
        yield url


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.pg)])
def empty_database_url(request: pytest.FixtureRequest, tmp_path) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'empty.db'}"
    return request.getfixturevalue("empty_pg_url")


def schema_diff(engine) -> list:
    with engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        return compare_metadata(context, load_metadata())


def test_migrations_upgrade_from_empty_match_the_models_and_downgrade_cleanly(
        empty_database_url):
    engine = make_engine(empty_database_url)
    try:
        assert current_revision(engine) is None
        upgrade(engine)
        assert current_revision(engine) == head_revision()
        assert TABLES <= set(inspect(engine).get_table_names())
        assert schema_diff(engine) == [], "models and migrations differ: write a migration"
        upgrade(engine)  # idempotent
        downgrade(engine, "base")
        assert set(inspect(engine).get_table_names()) <= {"alembic_version"}
        assert current_revision(engine) is None
        upgrade(engine)
        assert schema_diff(engine) == []
    finally:
        engine.dispose()


@pytest.mark.pg
def test_json_columns_are_jsonb_on_postgresql(migrated_pg_url):
    engine = make_engine(migrated_pg_url)
    try:
        columns = {c["name"]: c["type"] for c in inspect(engine).get_columns("backtest_runs")}
        assert type(columns["spec"]).__name__ == "JSONB"
        assert type(columns["metrics"]).__name__ == "JSONB"
        indexes = {i["name"] for i in inspect(engine).get_indexes("backtest_runs")}
        assert {"ix_backtest_runs_user_created", "ix_backtest_runs_strategy_created"} <= indexes
    finally:
        engine.dispose()


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.pg)])
def sessions(request: pytest.FixtureRequest, tmp_path):
    url = (f"sqlite:///{tmp_path / 'models.db'}" if request.param == "sqlite"
           else request.getfixturevalue("migrated_pg_url"))
    engine = make_engine(url)
    upgrade(engine)
    yield make_session_factory(engine)
    engine.dispose()


def test_email_is_unique_case_insensitively(sessions):
    local = f"Ann.{uuid.uuid4().hex[:8]}"
    with session_scope(sessions) as session:
        user = register_user(session, f"  {local}@Example.COM ", "long enough pw")
        assert user.email == f"{local.lower()}@example.com"
    with pytest.raises(ConflictError), session_scope(sessions) as session:
        register_user(session, f"{local.upper()}@example.com", "another password")


def test_deleting_a_user_deletes_their_strategies_runs_and_results(sessions):
    with session_scope(sessions) as session:
        user = register_user(session, f"gone-{uuid.uuid4().hex[:8]}@example.com", "long enough")
        strategy = create_strategy(session, user.id, example_spec())
        run = BacktestRun(user_id=user.id, strategy_id=strategy.id, spec=strategy.spec)
        run.result = RunResult.pack({"equity": [1.0, 2.0]})
        session.add(run)
        session.flush()
        ids = (user.id, strategy.id, run.id)
    with session_scope(sessions) as session:
        session.delete(session.get(User, ids[0]))
    with sessions() as session:
        assert session.get(Strategy, ids[1]) is None
        assert session.get(BacktestRun, ids[2]) is None
        assert session.get(RunResult, ids[2]) is None


def test_timestamps_are_naive_utc_and_result_payload_round_trips(sessions):
    with session_scope(sessions) as session:
        user = register_user(session, f"time-{uuid.uuid4().hex[:8]}@example.com", "long enough")
        strategy = create_strategy(session, user.id, example_spec())
        run = BacktestRun(user_id=user.id, strategy_id=strategy.id, spec=strategy.spec)
        run.result = RunResult.pack({"equity": [{"date": "2020-01-02", "equity": 1.5}]})
        session.add(run)
        session.flush()
        run_id = run.id
    with sessions() as session:
        run = session.get(BacktestRun, run_id)
        assert run.created_at.tzinfo is None
        assert abs((utcnow() - run.created_at).total_seconds()) < 60
        assert run.status == "queued" and run.progress == 0 and run.kind == "backtest"
        assert run.result.unpack() == {"equity": [{"date": "2020-01-02", "equity": 1.5}]}
        assert run.result.encoding == "json+gzip" and run.result.size_bytes > 0
        assert run.spec["symbol"] == "SPY"


def test_embedded_mode_migrates_on_start_and_seeds_the_demo_once(tmp_path):
    settings = sqlite_settings(tmp_path / "instance", ARENA_SEED_DEMO="1")
    first = create_app(settings)
    assert first.server.extensions["arena_demo_seeded"] is True
    second = create_app(settings)
    assert second.server.extensions["arena_demo_seeded"] is False
    sessions = second.server.extensions["arena"].sessions
    with sessions() as session:
        assert session.scalars(select(User.email)).all() == [DEMO_EMAIL]
        names = session.scalars(select(Strategy.name)).all()
    assert sorted(names) == ["Bollinger breakout", "RSI mean reversion", "SMA 10/50 crossover"]
    assert len(DEMO_EXAMPLES) == 3


def test_cli_upgrade_and_seed_demo_are_idempotent(tmp_path):
    env = {"ARENA_INSTANCE_DIR": str(tmp_path / "instance"), "DATABASE_URL": "",
           "REDIS_URL": "", "ARENA_ENV": "development"}
    runner = CliRunner()
    result = runner.invoke(main, ["db", "seed-demo"], env=env)
    assert result.exit_code == 1 and "arena db upgrade" in result.output
    result = runner.invoke(main, ["db", "upgrade"], env=env)
    assert result.exit_code == 0, result.output
    assert f"upgraded from empty to revision {head_revision()}" in result.output
    assert "already at" in runner.invoke(main, ["db", "upgrade"], env=env).output
    for _ in range(2):
        result = runner.invoke(main, ["db", "seed-demo"], env=env)
        assert result.exit_code == 0, result.output
        assert f"Demo login: {DEMO_EMAIL} / " in result.output
    assert "strategies created: none" in result.output
    engine = make_engine(f"sqlite:///{tmp_path / 'instance' / 'arena.db'}")
    with make_session_factory(engine)() as session:
        assert len(session.scalars(select(Strategy)).all()) == 3
    engine.dispose()


@pytest.mark.pg
@pytest.mark.redis
def test_server_mode_refuses_an_unmigrated_database_until_it_is_upgraded(
        tmp_path, empty_pg_url, redis_url, monkeypatch):
    env = {"ARENA_INSTANCE_DIR": str(tmp_path / "instance"), "DATABASE_URL": empty_pg_url,
           "REDIS_URL": redis_url, "ARENA_ENV": "development"}
    refused = CliRunner().invoke(main, ["serve"], env=env)
    assert refused.exit_code == 1
    assert "not serving" in refused.output and "arena db upgrade" in refused.output
    assert "postgres@" in refused.output and "empty (no migrations applied)" in refused.output

    from app.config import Settings

    app = create_app(Settings.from_env(env))
    client = app.server.test_client()
    page = client.get("/")
    assert page.status_code == 503 and b"arena db upgrade" in page.data
    api = client.get("/api/v1/strategies")
    assert api.status_code == 503
    assert api.get_json()["error"]["code"] == "database_not_ready"
    assert client.get("/api/health").status_code == 200

    assert CliRunner().invoke(main, ["db", "upgrade"], env=env).exit_code == 0
    monkeypatch.setattr(startup, "RECHECK_SECONDS", 0.0)
    assert client.get("/api/v1/strategies").status_code == 401  # served again: needs a login
    assert client.get("/").status_code == 302
    app.server.extensions["arena"].engine.dispose()
