"""PriceService: cache -> database -> provider, top-ups of only the missing ranges, and which
source served the data."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pytest
import redis

from data.cache import MemoryPriceCache, RedisPriceCache
from data.errors import EmptyRangeError, PriceValidationError, UnknownSymbolError
from data.providers.auto import AutoProvider
from data.providers.bundled import BundledProvider
from data.service import PriceService
from data.store import PriceStore
from tests.data.conftest import FakeProvider, run_concurrently

D = dt.date
TODAY = D(2024, 11, 8)  # the bundled sample's last day


def service(provider, store, cache=None, today=TODAY) -> PriceService:
    return PriceService(provider, store, cache or MemoryPriceCache(), today=lambda: today)


def test_a_first_request_fetches_and_stores_then_the_cache_serves(store, fake_provider):
    prices = service(fake_provider, store)
    first = prices.get_prices("SPY", "2020-01-01", "2020-12-31")
    second = prices.get_prices("spy", "2020-01-01", "2020-12-31")
    assert (first.source, first.served_from) == ("yfinance", "provider")
    assert (second.source, second.served_from) == ("yfinance", "cache")
    assert len(first.frame) == len(second.frame) == 253
    assert fake_provider.calls == [("SPY", D(2020, 1, 1), D(2020, 12, 31))]
    assert prices.stats.snapshot() == {"hits": 1, "misses": 1, "provider_calls": 1, "errors": 0}


def test_with_a_cold_cache_the_database_serves_without_calling_the_provider(store,
                                                                          fake_provider):
    service(fake_provider, store).get_prices("SPY", "2020-01-01", "2020-12-31")
    result = service(fake_provider, store).get_prices("SPY", "2020-03-01", "2020-06-30")
    assert (result.source, result.served_from) == ("yfinance", "database")
    assert len(fake_provider.calls) == 1


def test_a_top_up_fetches_only_the_missing_ranges_plus_one_overlapping_bar(store,
                                                                         fake_provider):
    service(fake_provider, store).get_prices("SPY", "2020-01-01", "2020-12-31")
    fake_provider.calls.clear()
    result = service(fake_provider, store).get_prices("SPY", "2019-01-01", "2021-12-31")
    # before the stored range: up to its first bar; after it: from its last bar
    assert fake_provider.calls == [("SPY", D(2019, 1, 1), D(2020, 1, 2)),
                                   ("SPY", D(2020, 12, 31), D(2021, 12, 31))]
    assert result.served_from == "provider"
    assert len(result.frame) == 252 + 253 + 252
    assert result.frame.index.is_unique and result.frame.index.is_monotonic_increasing
    fake_provider.calls.clear()
    service(fake_provider, store).get_prices("SPY", "2019-06-01", "2021-06-30")
    assert fake_provider.calls == []


def test_weekends_and_holidays_are_remembered_as_fetched(store, fake_provider):
    for _ in range(2):
        with pytest.raises(EmptyRangeError, match="SPY: no 1d bars between 2020-01-04"):
            service(fake_provider, store).get_prices("SPY", "2020-01-04", "2020-01-05")
    assert len(fake_provider.calls) == 1


def test_a_range_reaching_today_is_fetched_again_from_the_last_stored_bar(store, fake_provider):
    service(fake_provider, store).get_prices("SPY", "2024-10-01")  # end = today
    assert store.coverage("SPY", "1d") == [(D(2024, 10, 1), D(2024, 11, 7))]
    fake_provider.calls.clear()
    service(fake_provider, store).get_prices("SPY", "2024-10-01")
    assert fake_provider.calls == [("SPY", D(2024, 11, 7), D(2024, 11, 8))]


def test_the_bundled_sample_is_read_directly_and_not_copied_into_the_database(store):
    result = service(BundledProvider(), store).get_prices("SPY", "2020-01-01", "2020-12-31")
    assert (result.source, result.served_from, len(result.frame)) == ("bundled", "provider", 253)
    assert store.symbols() == []


def test_auto_serving_the_bundled_sample_offline_is_not_stored(store):
    class Offline(FakeProvider):
        def fetch(self, *args, **kwargs):
            from data.errors import ProviderUnavailableError
            raise ProviderUnavailableError("no network")

    prices = service(AutoProvider(Offline(), BundledProvider()), store)
    result = prices.get_prices("SPY", "2020-01-01", "2020-12-31")
    assert result.source == "bundled" and len(result.frame) == 253
    assert store.symbols() == [] and store.coverage("SPY", "1d") == []


def test_ingest_stores_what_is_missing_and_reports_it(store, fake_provider):
    prices = service(BundledProvider(), store)
    summary = prices.ingest("SPY", "2020-01-01", "2020-12-31", provider=fake_provider)
    assert (summary.rows_added, summary.source) == (253, "yfinance")
    assert summary.ranges_fetched == [(D(2020, 1, 1), D(2020, 12, 31))]
    again = prices.ingest("SPY", "2020-01-01", "2020-12-31", provider=fake_provider)
    assert (again.rows_added, again.ranges_fetched) == (0, [])
    bundled = prices.ingest("QQQ", "2020-01-01", "2020-01-31")  # on purpose: copies the sample
    assert (bundled.rows_added, bundled.source) == (21, "bundled")


def test_unknown_symbols_raise_and_nothing_is_stored(store, fake_provider):
    with pytest.raises(UnknownSymbolError):
        service(fake_provider, store).get_prices("ZZZZ", "2020-01-01", "2020-12-31")
    assert store.coverage("ZZZZ", "1d") == []


def test_provider_rows_that_cannot_be_used_stop_the_load_and_are_not_stored(store):
    class Broken(FakeProvider):
        def fetch(self, *args, **kwargs):
            frame = super().fetch(*args, **kwargs)
            frame.loc["2020-03-16", "close"] = np.nan
            return frame

    with pytest.raises(PriceValidationError, match="2020-03-16: missing value"):
        service(Broken(), store).get_prices("SPY", "2020-01-01", "2020-12-31")
    assert store.symbols() == []


def test_suspicious_rows_are_kept_and_reported_with_the_result(store):
    class Suspicious(FakeProvider):
        def fetch(self, *args, **kwargs):
            frame = super().fetch(*args, **kwargs)
            frame.loc["2020-03-16", "volume"] = -1.0
            return frame

    result = service(Suspicious(), store).get_prices("SPY", "2020-01-01", "2020-12-31")
    assert [(i.date, i.kind) for i in result.issues] == [("2020-03-16", "negative_volume")]
    assert len(result.frame) == 253


def test_warnings_travel_with_the_frame_on_every_request_cache_hits_included(store):
    class Suspicious(FakeProvider):
        def fetch(self, *args, **kwargs):
            frame = super().fetch(*args, **kwargs)
            frame.loc["2020-03-16", "volume"] = -1.0
            return frame

    prices = service(Suspicious(), store)
    first = prices.get_prices("SPY", "2020-01-01", "2020-12-31")
    again = prices.get_prices("SPY", "2020-01-01", "2020-12-31")
    assert again.served_from == "cache"
    for result in (first, again):
        assert [(i.date, i.kind) for i in result.issues] == [("2020-03-16", "negative_volume")]
        assert [(w["date"], w["kind"]) for w in result.frame.attrs["warnings"]] == [
            ("2020-03-16", "negative_volume")]


@pytest.mark.pg
@pytest.mark.redis
def test_server_mode_20_concurrent_requests_make_one_provider_call(pg_engine, redis_url):
    provider = FakeProvider(delay_seconds=0.3)
    store = PriceStore(pg_engine)
    clients = [redis.Redis.from_url(redis_url) for _ in range(20)]
    clients[0].flushdb()
    services = [service(provider, store, RedisPriceCache(c)) for c in clients]
    try:
        results = run_concurrently(20, lambda i: services[i].get_prices("SPY", "2020-01-01",
                                                                          "2020-12-31"))
    finally:
        for client in clients:
            client.close()
    assert len(provider.calls) == 1
    assert sorted(r.served_from for r in results) == ["cache"] * 19 + ["provider"]


def test_a_redis_outage_still_serves_prices(store, fake_provider):
    down = RedisPriceCache(redis.Redis(host="127.0.0.1", port=1, socket_connect_timeout=0.2))
    result = service(fake_provider, store, down).get_prices("SPY", "2020-01-01", "2020-12-31")
    assert len(result.frame) == 253 and result.source == "yfinance"
