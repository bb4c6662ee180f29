"""Price cache: hit, miss, TTL, single-flight (one provider call for concurrent requests), and
Redis trouble degrading to the provider. Redis tests run on the real server (db 13)."""

from __future__ import annotations

import datetime as dt
import logging
import threading
import time

import pandas as pd
import pytest
import redis

from data.bundled import load_bundled
from data.cache import CachedPrices, MemoryPriceCache, RedisPriceCache, cache_key, choose_ttl
from data.errors import UnknownSymbolError
from data.frames import normalize_frame
from tests.data.conftest import run_concurrently

SPY = CachedPrices(normalize_frame(load_bundled("SPY", "2020-01-01", "2020-12-31")), "bundled")


class CountingLoader:
    def __init__(self, delay_seconds: float = 0.0, error: Exception | None = None) -> None:
        self.calls = 0
        self.delay_seconds = delay_seconds
        self.error = error
        self._lock = threading.Lock()

    def __call__(self) -> CachedPrices:
        with self._lock:
            self.calls += 1
        time.sleep(self.delay_seconds)
        if self.error is not None:
            raise self.error
        return SPY


def test_cache_keys_name_provider_symbol_interval_and_range():
    key = cache_key("yfinance", "SPY", "1d", dt.date(2020, 1, 1), dt.date(2020, 12, 31))
    assert key == "yfinance:SPY:1d:2020-01-01:2020-12-31"


def test_recent_and_intraday_ranges_get_the_short_ttl():
    today = dt.date(2024, 6, 14)
    assert choose_ttl("1d", dt.date(2020, 12, 31), today, 86400, 300) == 86400
    assert choose_ttl("1d", today, today, 86400, 300) == 300
    assert choose_ttl("1d", dt.date(2024, 6, 10), today, 86400, 300) == 300
    assert choose_ttl("5m", dt.date(2024, 1, 2), today, 86400, 300) == 300


# --- in-process LRU (embedded mode) -------------------------------------------------------

def test_memory_cache_misses_then_hits():
    cache, load = MemoryPriceCache(), CountingLoader()
    first, hit1 = cache.get_or_load("k", load, 60)
    second, hit2 = cache.get_or_load("k", load, 60)
    assert (hit1, hit2, load.calls) == (False, True, 1)
    assert second.frame is first.frame
    assert cache.stats.snapshot() == {"hits": 1, "misses": 1, "provider_calls": 0, "errors": 0}


def test_memory_cache_entries_expire_after_their_ttl():
    now = [1000.0]
    cache, load = MemoryPriceCache(clock=lambda: now[0]), CountingLoader()
    cache.get_or_load("k", load, 300)
    now[0] += 299
    assert cache.get_or_load("k", load, 300)[1] is True
    now[0] += 2
    assert cache.get_or_load("k", load, 300)[1] is False
    assert load.calls == 2


def test_memory_cache_evicts_the_least_recently_used_entry():
    cache, load = MemoryPriceCache(max_entries=2), CountingLoader()
    for key in ("a", "b", "a", "c"):  # "b" is the least recently used when "c" arrives
        cache.get_or_load(key, load, 60)
    assert cache.get("a") is not None and cache.get("c") is not None
    assert cache.get("b") is None


def test_memory_cache_20_concurrent_requests_make_one_provider_call():
    cache, load = MemoryPriceCache(), CountingLoader(delay_seconds=0.2)
    results = run_concurrently(20, lambda i: cache.get_or_load("k", load, 60))
    assert load.calls == 1
    assert sum(1 for _, hit in results if not hit) == 1
    assert cache.stats.hits == 19 and cache.stats.misses == 1


def test_memory_cache_concurrent_requests_share_the_providers_error():
    cache = MemoryPriceCache()
    load = CountingLoader(delay_seconds=0.2, error=UnknownSymbolError("unknown symbol 'ZZZZ'"))

    def request(i):
        with pytest.raises(UnknownSymbolError):
            cache.get_or_load("k", load, 60)

    run_concurrently(10, request)
    assert load.calls == 1


# --- Redis (server mode) -------------------------------------------------------------------

needs_redis = pytest.mark.redis


@needs_redis
def test_redis_cache_misses_then_hits_with_an_identical_frame(redis_client):
    cache, load = RedisPriceCache(redis_client), CountingLoader()
    assert cache.get_or_load("k", load, 60)[1] is False
    value, hit = RedisPriceCache(redis_client).get_or_load("k", load, 60)  # another process
    assert hit and load.calls == 1
    pd.testing.assert_frame_equal(value.frame, SPY.frame)
    assert value.source == "bundled"
    assert redis_client.pttl("arena:prices:v1:k") > 59_000


@needs_redis
def test_redis_cache_entries_expire_after_their_ttl(redis_client):
    cache, load = RedisPriceCache(redis_client), CountingLoader()
    cache.get_or_load("k", load, 0.3)
    assert cache.get_or_load("k", load, 0.3)[1] is True
    time.sleep(0.4)
    assert cache.get_or_load("k", load, 0.3)[1] is False
    assert load.calls == 2


@needs_redis
def test_redis_20_concurrent_requests_from_20_processes_make_one_provider_call(redis_url):
    """Each request has its own client and cache object, as separate processes would."""
    load = CountingLoader(delay_seconds=0.3)
    clients = [redis.Redis.from_url(redis_url) for _ in range(20)]
    try:
        results = run_concurrently(
            20, lambda i: RedisPriceCache(clients[i]).get_or_load("one-key", load, 60))
    finally:
        for client in clients:
            client.close()
    assert load.calls == 1
    assert sorted(hit for _, hit in results) == [False] + [True] * 19
    assert all(value.frame.equals(SPY.frame) for value, _ in results)


@needs_redis
def test_redis_waiters_get_the_holders_error_instead_of_calling_the_provider(redis_url):
    load = CountingLoader(delay_seconds=0.3, error=UnknownSymbolError("unknown symbol 'ZZZZ'"))
    clients = [redis.Redis.from_url(redis_url) for _ in range(5)]

    def request(i):
        with pytest.raises(UnknownSymbolError, match="ZZZZ"):
            RedisPriceCache(clients[i]).get_or_load("bad-key", load, 60)

    try:
        run_concurrently(5, request)
    finally:
        for client in clients:
            client.close()
    assert load.calls == 1


@needs_redis
def test_a_crashed_lock_holder_blocks_only_until_its_lock_expires(redis_client):
    redis_client.set("arena:prices:v1:k:lock", "crashed-process", px=300)
    load = CountingLoader()
    started = time.monotonic()
    value, hit = RedisPriceCache(redis_client).get_or_load("k", load, 60)
    assert not hit and load.calls == 1 and value.source == "bundled"
    assert 0.25 < time.monotonic() - started < 2.0


def test_a_redis_outage_degrades_to_the_provider_with_a_warning(caplog):
    down = redis.Redis(host="127.0.0.1", port=1, socket_connect_timeout=0.2)
    cache, load = RedisPriceCache(down), CountingLoader()
    with caplog.at_level(logging.WARNING, logger="data.cache"):
        value, hit = cache.get_or_load("k", load, 60)
        again, _ = cache.get_or_load("k", load, 60)  # Redis is skipped for a while
    assert value.source == "bundled" and not hit and load.calls == 2
    assert cache.stats.errors == 1
    warnings = [r for r in caplog.records
                if r.levelno == logging.WARNING and r.name == "data.cache"]
    assert len(warnings) == 1 and "Redis unavailable" in warnings[0].getMessage()


@needs_redis
def test_a_corrupt_entry_is_ignored_and_refetched(redis_client):
    redis_client.set("arena:prices:v1:k", b"not a frame", px=60_000)
    load = CountingLoader()
    value, hit = RedisPriceCache(redis_client).get_or_load("k", load, 60)
    assert not hit and load.calls == 1 and value.frame.equals(SPY.frame)
