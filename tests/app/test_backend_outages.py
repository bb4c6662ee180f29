"""What users see when a backend is down. Redis down (a real closed port, not a mock): logins
and tokens keep working, logouts still revoke, the login limits count in this process, and
/api/health says ``degraded``. The database unable to answer the revocation check: a 503 that
says so, not "logged out"."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import text

from app import create_app
from app.config import Settings
from tests.app.conftest import API, PASSWORD, create_user, new_client, register_and_login
from tests.app.test_auth import error_of

CLOSED_REDIS = "redis://127.0.0.1:6399/0"  # nothing listens there


@pytest.fixture
def redis_down_app(tmp_path, migrated_pg_url) -> Iterator[Any]:
    settings = Settings.from_env({"ARENA_INSTANCE_DIR": str(tmp_path / "instance"),
                                  "DATABASE_URL": migrated_pg_url, "REDIS_URL": CLOSED_REDIS,
                                  "ARENA_ENV": "development"})
    dash_app = create_app(settings)
    yield dash_app
    dash_app.server.extensions["arena"].close()


@pytest.mark.pg
def test_with_redis_down_login_tokens_and_logout_still_work(redis_down_app):
    user = register_and_login(redis_down_app)
    me = user.get("/auth/me")
    assert me.status_code == 200, me.get_json()
    assert user.post("/auth/logout").status_code == 200
    after = user.get("/auth/me")
    assert after.status_code == 401 and error_of(after)["code"] == "token_revoked"


@pytest.mark.pg
def test_with_redis_down_the_login_limit_still_counts_in_this_process(redis_down_app):
    user = create_user(redis_down_app)
    client = new_client(redis_down_app)
    for _ in range(5):
        assert client.post(f"{API}/auth/login", json={
            "email": user.email, "password": "guess guess"}).status_code == 401
    limited = client.post(f"{API}/auth/login", json={"email": user.email, "password": PASSWORD})
    assert limited.status_code == 429


@pytest.mark.pg
def test_health_reports_the_fallback_as_degraded_without_backend_details(redis_down_app):
    client = new_client(redis_down_app)
    client.post(f"{API}/auth/login", json={"email": "nobody@example.com", "password": "x" * 10})
    body = client.get("/api/health").get_json()
    assert body["status"] == "degraded"
    assert body["auth"] == {"revocations": "database", "rate_limits": "in-process"}
    assert body["cache"]["reachable"] is False and body["database"]["reachable"] is True
    text_of_body = str(body)
    for detail in ("6399", "5432", "127.0.0.1", "Error", "refused", "arena_test"):
        assert detail not in text_of_body, detail


def test_a_revocation_check_the_database_cannot_answer_is_a_503_that_says_so(tmp_path):
    from tests.app.conftest import sqlite_settings

    dash_app = create_app(sqlite_settings(tmp_path / "instance"))
    user = register_and_login(dash_app)
    with dash_app.server.extensions["arena"].engine.begin() as connection:
        connection.execute(text("DROP TABLE revoked_tokens"))
    answer = user.get("/auth/me")
    assert answer.status_code == 503
    assert error_of(answer)["code"] == "auth_unavailable"
    assert "database is not answering" in error_of(answer)["message"]
    dash_app.server.extensions["arena"].close()
