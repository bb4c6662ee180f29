"""Fixtures of the data-layer tests: databases (SQLite file, the real PostgreSQL), the real Redis,
a fake provider serving the bundled sample, and a hermetic yfinance (caches in a temp folder)."""

from __future__ import annotations

import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pandas as pd
import pytest
import redis
from sqlalchemy import create_engine, text

from data.bundled import load_bundled
from data.errors import UnknownSymbolError
from data.frames import normalize_frame, slice_dates, to_date
from data.store import TABLES, PriceStore


class FakeProvider:
    """Serves the bundled sample under another name, counting calls; ``delay_seconds`` makes
    every fetch slow (concurrency tests), ``adj_scale`` rescales adj_close (a later dividend)."""

    def __init__(self, name: str = "yfinance", delay_seconds: float = 0.0,
                 symbols: tuple[str, ...] = ("SPY", "QQQ", "AAPL")) -> None:
        self.name = name
        self.delay_seconds = delay_seconds
        self.symbols = symbols
        self.calls: list[tuple[str, object, object]] = []
        self.adj_scale = 1.0
        self._lock = threading.Lock()

    def fetch(self, symbol, start=None, end=None, interval="1d") -> pd.DataFrame:
        with self._lock:
            self.calls.append((symbol, to_date(start), to_date(end)))
        if self.delay_seconds:
            time.sleep(self.delay_seconds)
        if symbol not in self.symbols:
            raise UnknownSymbolError(f"unknown symbol {symbol!r}")
        frame = slice_dates(normalize_frame(load_bundled(symbol)), to_date(start), to_date(end))
        frame["adj_close"] = frame["adj_close"] * self.adj_scale
        frame.attrs.update(source=self.name, name=f"{symbol} name")
        return frame


def run_concurrently(count: int, request) -> list:
    """``request(i)`` for i in range(count), on ``count`` threads released at the same moment."""
    barrier = threading.Barrier(count)

    def one(i: int):
        barrier.wait()
        return request(i)

    with ThreadPoolExecutor(count) as pool:
        return list(pool.map(one, range(count)))


@pytest.fixture
def fake_provider() -> FakeProvider:
    return FakeProvider()


@pytest.fixture
def sqlite_engine(tmp_path: Path):
    engine = create_engine(f"sqlite:///{tmp_path / 'prices.db'}")
    yield engine
    engine.dispose()


@pytest.fixture(scope="session")
def pg_engine_session(pg_url: str):
    engine = create_engine(pg_url)
    PriceStore(engine).create_tables()
    yield engine
    engine.dispose()


@pytest.fixture
def pg_engine(pg_engine_session):
    """The session's PostgreSQL database with the price tables emptied."""
    with pg_engine_session.begin() as connection:
        connection.execute(text("TRUNCATE " + ", ".join(t.name for t in TABLES)))
    return pg_engine_session


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.pg)])
def engine(request):
    """Each store test runs on SQLite and on the real PostgreSQL."""
    if request.param == "sqlite":
        return request.getfixturevalue("sqlite_engine")
    return request.getfixturevalue("pg_engine")


@pytest.fixture
def store(engine) -> PriceStore:
    store = PriceStore(engine)
    store.create_tables()
    return store


@pytest.fixture
def redis_client(redis_url: str):
    client = redis.Redis.from_url(redis_url, socket_connect_timeout=2, socket_timeout=5)
    client.flushdb()
    yield client
    client.flushdb()
    client.close()


@pytest.fixture(scope="session", autouse=True)
def _yfinance_caches_in_a_temp_folder(tmp_path_factory):
    """yfinance keeps timezone and cookie caches on disk; keep them out of the home folder."""
    import yfinance as yf

    yf.set_tz_cache_location(str(tmp_path_factory.mktemp("yfinance-cache")))


@pytest.fixture
def fresh_yfinance():
    """yfinance memoises responses and the crumb in a process-wide singleton; forget them so
    each test sees only its own recorded answers."""
    from yfinance.data import YfData

    YfData.cache_get.cache_clear()
    data = YfData()
    data._crumb, data._cookie = None, None
    yield
    YfData.cache_get.cache_clear()
