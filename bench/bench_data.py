"""Benchmark: load 20 years of daily SPY through the data layer, from each place it can come from.

    python bench/bench_data.py [--redis-url redis://127.0.0.1:6379/14]
                               [--pg-admin postgresql://postgres@127.0.0.1:5432/postgres]

Prints the median (and 90th percentile) time of ``PriceService.get_prices("SPY", 2004-11-08,
2024-11-08)`` (5,036 bars) served from: Redis (warm), the in-process cache (warm), the database
(cold cache: coverage lookup + range query, on SQLite and PostgreSQL), and the bundled sample
read cold (gzip CSV parsed again). Targets from the issue: Redis <= 5 ms, database <= 50 ms,
bundled cold <= 100 ms. Figures are printed, never asserted. A throw-away PostgreSQL database is
created and dropped; the Redis database given is flushed.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import statistics
import tempfile
import time
import uuid
from collections.abc import Callable
from pathlib import Path

import psycopg
import redis
from sqlalchemy import create_engine

from data import bundled
from data.cache import MemoryPriceCache, RedisPriceCache
from data.providers.bundled import BundledProvider
from data.service import PriceService
from data.store import PriceStore

START, END = "2004-11-08", "2024-11-08"
TODAY = dt.date(2025, 6, 30)  # well after END: the range is history, fully covered


class StoredAs:
    """The bundled provider under another name, so the service stores what it serves."""

    name = "yfinance"

    def fetch(self, symbol, start=None, end=None, interval="1d"):
        frame = BundledProvider().fetch(symbol, start, end, interval)
        frame.attrs["source"] = self.name
        return frame


def timed(work: Callable[[], object], repeat: int) -> tuple[float, float, int]:
    samples = []
    rows = 0
    for _ in range(repeat):
        started = time.perf_counter()
        result = work()
        samples.append((time.perf_counter() - started) * 1000)
        rows = len(getattr(result, "frame", result))
    samples.sort()
    return statistics.median(samples), samples[int(0.9 * (len(samples) - 1))], rows


def report(label: str, target: str, figures: tuple[float, float, int]) -> None:
    median, p90, rows = figures
    print(f"{label:<42}{rows:>6} bars  median {median:8.2f} ms  p90 {p90:8.2f} ms  "
          f"(target {target})")


def service(store: PriceStore | None, cache) -> PriceService:
    return PriceService(StoredAs(), store, cache, today=lambda: TODAY)


def bench_database(engine, label: str) -> None:
    store = PriceStore(engine)
    store.create_tables()
    service(store, MemoryPriceCache()).get_prices("SPY", START, END)  # fetch + store once
    never_caches = MemoryPriceCache(max_entries=0)
    report(f"database ({label}), cold cache", "<= 50 ms",
           timed(lambda: service(store, never_caches).get_prices("SPY", START, END), 50))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--redis-url", default="redis://127.0.0.1:6379/14")
    parser.add_argument("--pg-admin", default="postgresql://postgres@127.0.0.1:5432/postgres")
    args = parser.parse_args()
    print(f"SPY {START}..{END}, {os.cpu_count()} CPU(s)")

    def bundled_cold():
        bundled._read.cache_clear()
        return BundledProvider().fetch("SPY", START, END)

    report("bundled sample, cold (gzip CSV parsed)", "<= 100 ms", timed(bundled_cold, 30))
    memory = service(None, MemoryPriceCache())
    memory.get_prices("SPY", START, END)
    report("in-process cache, warm", "-", timed(lambda: memory.get_prices("SPY", START, END),
                                                 500))
    client = redis.Redis.from_url(args.redis_url)
    try:
        client.flushdb()
        warm = service(None, RedisPriceCache(client))
        warm.get_prices("SPY", START, END)
        report("Redis cache, warm", "<= 5 ms",
               timed(lambda: warm.get_prices("SPY", START, END), 500))
        client.flushdb()
    except redis.RedisError as exc:
        print(f"Redis cache: skipped ({exc})")
    with tempfile.TemporaryDirectory() as folder:
        engine = create_engine(f"sqlite:///{Path(folder) / 'bench.db'}")
        bench_database(engine, "SQLite")
        engine.dispose()
    name = f"arena_bench_{uuid.uuid4().hex[:8]}"
    try:
        with psycopg.connect(args.pg_admin, autocommit=True, connect_timeout=3) as admin:
            admin.execute(f'CREATE DATABASE "{name}"')
    except psycopg.Error as exc:
        print(f"database (PostgreSQL): skipped ({exc})")
        return
    try:
        base = args.pg_admin.rsplit("/", 1)[0].replace("postgresql://", "postgresql+psycopg://")
        engine = create_engine(f"{base}/{name}")
        bench_database(engine, "PostgreSQL")
        engine.dispose()
    finally:
        with psycopg.connect(args.pg_admin, autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


if __name__ == "__main__":
    main()
