"""``/api/health`` reports the backends truthfully, in both modes, and never crashes."""

from dataclasses import replace

import pytest

from app import create_app


def health(settings) -> dict:
    response = create_app(settings).server.test_client().get("/api/health")
    assert response.status_code == 200
    return response.get_json()


def test_embedded_mode_reports_sqlite_and_in_process_backends(embedded_settings):
    body = health(embedded_settings)
    assert body["status"] == "ok"
    assert body["version"]
    assert body["database"] == {"backend": "sqlite", "reachable": True, "error": None}
    assert body["cache"]["backend"] == "in-process"
    assert body["jobs"]["backend"] == "in-process"


@pytest.mark.pg
@pytest.mark.redis
def test_server_mode_reports_postgresql_and_redis(server_settings):
    body = health(server_settings)
    assert body["status"] == "ok"
    assert body["database"] == {"backend": "postgresql", "reachable": True, "error": None}
    assert body["cache"] == {"backend": "redis", "reachable": True, "error": None,
                             "hits": 0, "misses": 0, "provider_calls": 0, "errors": 0}
    assert body["jobs"]["backend"] == "rq"


def test_wrong_redis_url_shows_as_unreachable_not_a_crash(embedded_settings):
    settings = replace(embedded_settings, redis_url="redis://127.0.0.1:1/0")
    body = health(settings)
    assert body["status"] == "degraded"
    assert body["cache"]["backend"] == "redis"
    assert body["cache"]["reachable"] is False
    assert body["cache"]["error"] == "not answering (the server log has the details)"
    assert body["database"]["reachable"] is True


def test_unreachable_database_shows_as_unreachable(embedded_settings):
    settings = replace(embedded_settings,
                       database_url="postgresql+psycopg://postgres@127.0.0.1:1/nowhere")
    body = health(settings)
    assert body["status"] == "degraded"
    assert body["database"]["backend"] == "postgresql"
    assert body["database"]["reachable"] is False
    assert body["database"]["error"] == "not answering (the server log has the details)"


def test_cache_counters_count_price_loads_of_this_process(embedded_settings):
    app = create_app(embedded_settings)
    prices = app.server.extensions["arena"].prices
    prices.get_prices("SPY", "2020-01-01", "2020-12-31")
    prices.get_prices("SPY", "2020-01-01", "2020-12-31")
    body = app.server.test_client().get("/api/health").get_json()
    assert body["cache"]["backend"] == "in-process"
    assert (body["cache"]["hits"], body["cache"]["misses"], body["cache"]["provider_calls"]) \
        == (1, 1, 1)
