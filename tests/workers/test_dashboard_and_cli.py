"""The admin-only job dashboard at /rq, ``arena db make-admin`` and ``arena worker``'s checks,
and the job settings."""

from __future__ import annotations

import pytest
from click.testing import CliRunner

from app import create_app
from app.cli import main
from app.config import ConfigError, Settings
from app.models import User
from app.services import session_scope
from tests.app.conftest import API, PASSWORD, new_client, unique_email
from tests.workers.conftest import embedded_env, server_env


@pytest.fixture(params=["embedded", pytest.param("server", marks=[pytest.mark.pg,
                                                                   pytest.mark.redis])])
def dashboard_app(request, tmp_path):
    if request.param == "embedded":
        env = embedded_env(tmp_path / "instance")
    else:
        env = server_env(tmp_path / "instance", request.getfixturevalue("jobs_pg_url"),
                         request.getfixturevalue("jobs_redis_url"),
                         request.getfixturevalue("queue_prefix"))
    dash_app = create_app(Settings.from_env(env))
    yield dash_app, env
    dash_app.server.extensions["arena"].close()


def browser(dash_app, *, admin: bool):
    """A client logged in with cookies, as a browser is."""
    client, email = new_client(dash_app), unique_email()
    assert client.post(f"{API}/auth/register",
                       json={"email": email, "password": PASSWORD}).status_code == 201
    if admin:
        with session_scope(dash_app.server.extensions["arena"].sessions) as session:
            session.query(User).filter_by(email=email.lower()).one().is_admin = True
    assert client.post(f"{API}/auth/login",
                       json={"email": email, "password": PASSWORD}).status_code == 200
    return client


def test_the_job_dashboard_is_for_admins_only(dashboard_app):
    dash_app, env = dashboard_app
    anonymous = dash_app.server.test_client().get("/rq/")
    assert anonymous.status_code == 302 and "/login?next=/rq/" in anonymous.location
    assert browser(dash_app, admin=False).get("/rq/").status_code == 403
    admin = browser(dash_app, admin=True)
    assert admin.get("/rq").status_code == 302
    page = admin.get("/rq/")
    assert page.status_code == 200
    if "REDIS_URL" in env:
        assert dash_app.server.extensions["arena_jobs_dashboard"] == "rq-dashboard"
        assert b"RQ dashboard" in page.data
        queues = admin.get("/rq/0/data/queues.json")
        assert queues.status_code == 200 and "queues" in queues.get_json()
        assert admin.get("/rq/requeue/default").status_code == 405  # a GET must not act
        assert browser(dash_app, admin=False).get("/rq/0/data/queues.json").status_code == 403
    else:
        assert page.get_json() == {"backend": "in-process", "threads": 2, "jobs": {}}


def test_make_admin_grants_and_revokes_the_admin_right(tmp_path, monkeypatch):
    env = embedded_env(tmp_path / "instance", ARENA_SEED_DEMO="0")
    dash_app = create_app(Settings.from_env(env))
    email = unique_email()
    client = new_client(dash_app)
    client.post(f"{API}/auth/register", json={"email": email, "password": PASSWORD})
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    granted = CliRunner().invoke(main, ["db", "make-admin", email])
    assert granted.exit_code == 0, granted.output
    assert "is an admin" in granted.output
    with dash_app.server.extensions["arena"].sessions() as session:
        assert session.query(User).filter_by(email=email.lower()).one().is_admin
    revoked = CliRunner().invoke(main, ["db", "make-admin", "--revoke", email])
    assert revoked.exit_code == 0 and "no longer" in revoked.output
    unknown = CliRunner().invoke(main, ["db", "make-admin", "nobody@example.com"])
    assert unknown.exit_code == 1 and "no account" in unknown.output
    dash_app.server.extensions["arena"].close()


@pytest.mark.pg
@pytest.mark.redis
def test_the_worker_refuses_unknown_queues_and_an_unmigrated_database(
        tmp_path, monkeypatch, jobs_pg_url, jobs_redis_url, queue_prefix):
    env = server_env(tmp_path / "instance", jobs_pg_url, jobs_redis_url, queue_prefix)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    unknown = CliRunner().invoke(main, ["worker", "--queues", "default,nightly"])
    assert unknown.exit_code == 1 and "unknown queue(s) nightly" in unknown.output
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path / 'empty.db'}")
    empty = CliRunner().invoke(main, ["worker", "--burst"])
    assert empty.exit_code == 1 and "arena db upgrade" in empty.output


def test_job_settings_are_read_and_checked(tmp_path):
    base = {"ARENA_INSTANCE_DIR": str(tmp_path)}
    settings = Settings.from_env(base)
    assert (settings.job_timeout_seconds, settings.job_retry_intervals, settings.job_max_retries,
            settings.job_stale_seconds, settings.sweep_chunk_size, settings.queue_prefix) == (
        600, (5, 15, 60), 3, 30.0, 200, "")
    custom = Settings.from_env({**base, "JOB_TIMEOUT_SECONDS": "30", "JOB_RETRY_INTERVALS": "0,2",
                                "ARENA_QUEUE_PREFIX": "staging-"})
    assert (custom.job_timeout_seconds, custom.job_retry_intervals, custom.queue_prefix) == (
        30, (0, 2), "staging-")
    for name, value, says in [("JOB_TIMEOUT_SECONDS", "0", "must be positive"),
                              ("JOB_RETRY_INTERVALS", "5,soon", "whole seconds"),
                              ("JOB_STALE_SECONDS", "3", "more than JOB_HEARTBEAT_SECONDS"),
                              ("ARENA_QUEUE_PREFIX", "a b", "letters, digits"),
                              ("JOB_MAX_RETRIES", "-1", "must not be negative")]:
        with pytest.raises(ConfigError, match=says):
            Settings.from_env({**base, name: value})


@pytest.mark.pg
def test_a_run_that_cannot_be_enqueued_is_failed_for_a_retry_and_reported_unavailable(
        tmp_path, jobs_pg_url, queue_prefix):
    from app.context import AppContext
    from app.models import BacktestRun
    from app.runs.queueing import submit_run
    from app.runs.service import create_run
    from app.services.errors import UpstreamUnavailableError
    from app.services.strategies import create_strategy
    from app.services.users import register_user
    from tests.app.conftest import example_spec

    env = server_env(tmp_path / "instance", jobs_pg_url, "redis://127.0.0.1:1/0", queue_prefix)
    context = AppContext.build(Settings.from_env(env))  # Redis down: nothing listens on port 1
    with session_scope(context.sessions) as session:
        user = register_user(session, unique_email(), PASSWORD)
        strategy = create_strategy(session, user.id, example_spec())
        run_id = create_run(session, user.id, strategy.id).id
    with pytest.raises(UpstreamUnavailableError, match="job queue is not reachable"):
        submit_run(context, run_id)
    with context.sessions() as session:
        run = session.get(BacktestRun, run_id)
        assert run.status == "failed" and "retry" in run.error
    context.close()
