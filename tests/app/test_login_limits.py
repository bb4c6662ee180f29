"""Login and registration limits: per account and address, an exponential delay per account
that an attacker cannot stretch beyond its cap, per-address registrations; the same rules in
Redis and in this process."""

from __future__ import annotations

from dataclasses import replace

import pytest
import redis

from app import create_app
from app.ratelimit import LoginThrottle, MemoryCounter, RedisCounter
from tests.app.conftest import API, PASSWORD, create_user, new_client, unique_email
from tests.app.test_auth import error_of


class Clock:
    """A hand-driven monotonic clock, so the waits are checked without sleeping."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture(params=["memory", pytest.param("redis", marks=pytest.mark.redis)])
def counter(request):
    if request.param == "memory":
        return MemoryCounter(Clock())
    import uuid

    client = redis.Redis.from_url(request.getfixturevalue("redis_url"))
    return RedisCounter(client, prefix=f"test:{uuid.uuid4().hex}:")


def test_the_account_delay_doubles_from_60_seconds_up_to_the_cap():
    throttle = LoginThrottle(MemoryCounter(Clock()), limit=5, max_delay_seconds=900)
    # failures 5, 6, 7, 8, 9, 10: 60 * 2**(n - 5) seconds, at most 900
    assert [throttle.delay_seconds(n) for n in range(5, 11)] == [60, 120, 240, 480, 900, 900]
    assert throttle.delay_seconds(10_000) == 900


def test_five_failures_make_the_account_wait_60_seconds_from_any_address(counter):
    throttle = LoginThrottle(counter, limit=5, max_delay_seconds=900)
    for _ in range(4):
        throttle.failed("victim@x.com", "10.0.0.1")
    assert throttle.retry_after("victim@x.com", "10.0.0.1") == 0
    throttle.failed("victim@x.com", "10.0.0.1")
    assert 59 <= throttle.retry_after("victim@x.com", "10.0.0.1") <= 60
    assert 59 <= throttle.retry_after("victim@x.com", "10.9.9.9") <= 60
    assert throttle.retry_after("someone.else@x.com", "10.0.0.1") == 0


def test_an_attacker_cannot_hold_the_account_beyond_the_cap():
    clock = Clock()
    throttle = LoginThrottle(MemoryCounter(clock), limit=5, max_delay_seconds=900)
    waits = []
    for _ in range(12):  # the attacker tries again the moment each wait ends
        throttle.failed("victim@x.com", f"10.0.0.{len(waits)}")
        wait = throttle.retry_after("victim@x.com", "192.0.2.1")
        waits.append(wait)
        clock.now += wait
    assert waits == [0, 0, 0, 0, 60, 120, 240, 480, 900, 900, 900, 900]
    # attempts refused during a wait are not counted, so they can't stretch it
    throttle.failed("victim@x.com", "10.0.0.99")
    clock.now += 100
    assert throttle.retry_after("victim@x.com", "192.0.2.1") == 800
    clock.now += 800
    assert throttle.retry_after("victim@x.com", "192.0.2.1") == 0  # the victim's turn


def test_a_success_forgets_the_failures(counter):
    throttle = LoginThrottle(counter, limit=3, max_delay_seconds=900)
    for _ in range(2):
        throttle.failed("a@x.com", "10.0.0.1")
    throttle.succeeded("a@x.com", "10.0.0.1")
    throttle.failed("a@x.com", "10.0.0.1")
    assert throttle.retry_after("a@x.com", "10.0.0.1") == 0


def test_the_per_address_window_ends_after_a_minute():
    clock = Clock()
    throttle = LoginThrottle(MemoryCounter(clock), limit=5, max_delay_seconds=60)
    for _ in range(5):
        throttle.failed("a@x.com", "10.0.0.1")
    assert throttle.retry_after("a@x.com", "10.0.0.1") == 60
    clock.now += 60
    assert throttle.retry_after("a@x.com", "10.0.0.1") == 0


def test_the_victims_correct_login_works_again_once_the_delay_ends(app_settings):
    """Through the API, with a 2-second cap so the test can wait it out for real."""
    import time

    dash_app = create_app(replace(app_settings, login_max_delay_seconds=2))
    user = create_user(dash_app)
    attacker, victim = new_client(dash_app), new_client(dash_app)
    for _ in range(5):
        assert attacker.post(f"{API}/auth/login", json={
            "email": user.email, "password": "guess guess"}).status_code == 401
    refused = victim.post(f"{API}/auth/login", json={"email": user.email, "password": PASSWORD})
    assert refused.status_code == 429 and refused.headers["Retry-After"] in ("1", "2")
    time.sleep(2.1)
    assert victim.post(f"{API}/auth/login", json={"email": user.email,
                                                  "password": PASSWORD}).status_code == 200
    dash_app.server.extensions["arena"].close()


def test_registration_is_limited_per_address_and_says_when_to_retry(app_settings):
    dash_app = create_app(replace(app_settings, register_rate_limit=3))
    client = new_client(dash_app)
    answers = [client.post(f"{API}/auth/register", json={"email": unique_email(),
                                                         "password": PASSWORD})
               for _ in range(4)]
    assert [a.status_code for a in answers] == [201, 201, 201, 429]
    assert error_of(answers[-1])["code"] == "rate_limited"
    assert "too many registrations from this address" in error_of(answers[-1])["message"]
    assert 1 <= int(answers[-1].headers["Retry-After"]) <= 3600
    # probing a taken address counts too, and another address is not affected
    assert client.post(f"{API}/auth/register", json={"email": unique_email(),
                                                     "password": PASSWORD}).status_code == 429
    assert new_client(dash_app).post(f"{API}/auth/register", json={
        "email": unique_email(), "password": PASSWORD}).status_code == 201
    dash_app.server.extensions["arena"].close()
