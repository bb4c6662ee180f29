"""Price cache: Redis in server mode, an in-process LRU in embedded mode, same behaviour.

Keys are ``provider:symbol:interval:start:end`` (see :func:`cache_key`); values are frames in the
binary form of :mod:`data.codec`. Entries expire after a TTL chosen by :func:`choose_ttl`
(short for intraday bars and for ranges that reach the last few days, whose last bar may still
change).

Single-flight: concurrent requests for one key make ONE call to the loader (the store/provider).
In-process, followers wait on the leader's future. Across processes (Redis), the first process
takes a lock key (``SET NX PX``, expiring so a crashed holder cannot block forever) and the others
poll for the value; when the holder fails with a market-data error (unknown symbol, ...), it
leaves that error under a key named after its lock token so the waiters raise it too instead of
calling the provider again.

Redis trouble never breaks a request: the error is logged as a warning (at most once a minute),
counted in ``stats.errors``, Redis is skipped for ``outage_seconds`` and the loader is called.
"""

from __future__ import annotations

import datetime as dt
import logging
import threading
import time
import uuid
from collections import OrderedDict
from collections.abc import Callable
from concurrent.futures import Future
from dataclasses import dataclass
from typing import Protocol, TypeVar

import pandas as pd
import redis

from data.codec import CodecError, decode_frame, encode_frame
from data.errors import SHAREABLE_ERRORS, MarketDataError
from data.frames import INTRADAY_INTERVALS

log = logging.getLogger(__name__)
T = TypeVar("T")
RECENT_DAYS = 5


@dataclass(frozen=True)
class CachedPrices:
    frame: pd.DataFrame
    source: str


Loader = Callable[[], CachedPrices]


class CacheStats:
    """Thread-safe counters of one price service: ``hits``, ``misses``, ``provider_calls``
    (fetches that reached a provider) and ``errors`` (cache backend failures)."""

    NAMES = ("hits", "misses", "provider_calls", "errors")

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._counts = dict.fromkeys(self.NAMES, 0)

    def add(self, name: str, amount: int = 1) -> None:
        with self._lock:
            self._counts[name] += amount

    def __getattr__(self, name: str) -> int:
        if name in CacheStats.NAMES:
            return self._counts[name]
        raise AttributeError(name)

    def snapshot(self) -> dict[str, int]:
        with self._lock:
            return dict(self._counts)


def cache_key(provider: str, symbol: str, interval: str, start: dt.date, end: dt.date) -> str:
    return f"{provider}:{symbol}:{interval}:{start.isoformat()}:{end.isoformat()}"


def choose_ttl(interval: str, end: dt.date, today: dt.date, ttl_seconds: int,
               recent_ttl_seconds: int) -> int:
    """``recent_ttl_seconds`` for intraday bars or a range ending within ``RECENT_DAYS`` of
    ``today`` (its last bar may still change); ``ttl_seconds`` otherwise."""
    if interval in INTRADAY_INTERVALS or end >= today - dt.timedelta(days=RECENT_DAYS):
        return recent_ttl_seconds
    return ttl_seconds


class PriceCache(Protocol):
    backend: str
    stats: CacheStats

    def get_or_load(self, key: str, load: Loader, ttl_seconds: int) -> tuple[CachedPrices, bool]:
        """The cached value, or ``load()`` stored for ``ttl_seconds``; ``(value, was_hit)``."""


class SingleFlight:
    """Runs one call per key at a time; concurrent callers of the same key share its outcome."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._calls: dict[str, Future] = {}

    def do(self, key: str, work: Callable[[], T]) -> tuple[T, bool]:
        """``(result, shared)``: ``shared`` is True for callers that waited for another's call."""
        with self._lock:
            future = self._calls.get(key)
            leader = future is None
            if leader:
                future = self._calls[key] = Future()
        if not leader:
            return future.result(), True
        try:
            result = work()
        except BaseException as exc:
            future.set_exception(exc)
            raise
        else:
            future.set_result(result)
            return result, False
        finally:
            with self._lock:
                self._calls.pop(key, None)


class MemoryPriceCache:
    """In-process LRU with per-entry expiry (embedded mode)."""

    backend = "memory"

    def __init__(self, max_entries: int = 64, stats: CacheStats | None = None,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.max_entries = max_entries
        self.stats = stats or CacheStats()
        self._clock = clock
        self._lock = threading.Lock()
        self._entries: OrderedDict[str, tuple[float, CachedPrices]] = OrderedDict()
        self._flight = SingleFlight()

    def get(self, key: str) -> CachedPrices | None:
        with self._lock:
            entry = self._entries.get(key)
            if entry is None:
                return None
            if entry[0] <= self._clock():
                del self._entries[key]
                return None
            self._entries.move_to_end(key)
            return entry[1]

    def set(self, key: str, value: CachedPrices, ttl_seconds: int) -> None:
        with self._lock:
            self._entries[key] = (self._clock() + ttl_seconds, value)
            self._entries.move_to_end(key)
            while len(self._entries) > self.max_entries:
                self._entries.popitem(last=False)

    def __len__(self) -> int:
        return len(self._entries)

    def get_or_load(self, key: str, load: Loader, ttl_seconds: int) -> tuple[CachedPrices, bool]:
        value = self.get(key)
        if value is None:
            def fill() -> CachedPrices:
                cached = self.get(key)  # filled while this caller waited for the flight slot
                if cached is not None:
                    return cached
                fresh = load()
                self.set(key, fresh, ttl_seconds)
                return fresh
            value, shared = self._flight.do(key, fill)
            if not shared:
                self.stats.add("misses")
                return value, False
        self.stats.add("hits")
        return value, True


class RedisPriceCache:
    """Redis cache with cross-process single-flight; degrades to the loader on Redis errors."""

    backend = "redis"

    def __init__(self, client: redis.Redis, stats: CacheStats | None = None,
                 prefix: str = "arena:prices:v1:", lock_ttl_seconds: float = 30.0,
                 wait_timeout_seconds: float = 60.0, outage_seconds: float = 30.0,
                 sleep: Callable[[float], None] = time.sleep) -> None:
        self.client = client
        self.stats = stats or CacheStats()
        self.prefix = prefix
        self.lock_ttl_ms = int(lock_ttl_seconds * 1000)
        self.wait_timeout_seconds = wait_timeout_seconds
        self.outage_seconds = outage_seconds
        self._sleep = sleep
        self._flight = SingleFlight()
        self._down_until = 0.0
        self._last_warning = -1e9

    def get_or_load(self, key: str, load: Loader, ttl_seconds: int) -> tuple[CachedPrices, bool]:
        (value, hit), shared = self._flight.do(key, lambda: self._lookup(key, load, ttl_seconds))
        self.stats.add("hits" if hit or shared else "misses")
        return value, hit or shared

    def _lookup(self, key: str, load: Loader, ttl_seconds: int) -> tuple[CachedPrices, bool]:
        if time.monotonic() < self._down_until:
            return load(), False
        try:
            cached = self._decode(self.client.get(self.prefix + key))
            if cached is not None:
                return cached, True
            return self._load_once(key, load, ttl_seconds)
        except redis.RedisError as exc:
            self._degrade(exc)
            return load(), False

    def _load_once(self, key: str, load: Loader, ttl_seconds: int) -> tuple[CachedPrices, bool]:
        lock_key = f"{self.prefix}{key}:lock"
        token = uuid.uuid4().hex
        deadline = time.monotonic() + self.wait_timeout_seconds
        while True:
            if self.client.set(lock_key, token, nx=True, px=self.lock_ttl_ms):
                return self._load_holding_lock(key, lock_key, token, load, ttl_seconds), False
            holder = self.client.get(lock_key)
            waited = self._wait_for(key, lock_key, holder, deadline)
            if waited is not None:
                return waited, True
            if time.monotonic() >= deadline:
                log.warning("price cache: gave up waiting for %s after %.0f s; fetching directly",
                            key, self.wait_timeout_seconds)
                return load(), False

    def _load_holding_lock(self, key: str, lock_key: str, token: str, load: Loader,
                           ttl_seconds: int) -> CachedPrices:
        try:
            value = load()
        except BaseException as exc:
            if isinstance(exc, MarketDataError) and type(exc).__name__ in SHAREABLE_ERRORS:
                self._quietly(self.client.set, f"{lock_key}:{token}:error",
                              f"{type(exc).__name__}:{exc}", px=self.lock_ttl_ms)
            self._quietly(self._release, lock_key, token)
            raise
        # the value before the lock goes, so no waiter finds neither and loads again
        self._quietly(self.client.set, self.prefix + key,
                      encode_frame(value.frame, value.source), px=int(ttl_seconds * 1000))
        self._quietly(self._release, lock_key, token)
        return value

    def _release(self, lock_key: str, token: str) -> None:
        # GET-then-DEL is not atomic, but the lock only expires after lock_ttl_seconds, far
        # longer than these two calls; deleting someone else's lock at worst costs one extra fetch
        if self.client.get(lock_key) == token.encode():
            self.client.delete(lock_key)

    def _quietly(self, call: Callable[..., object], *args, **kwargs) -> None:
        """Run a Redis call whose failure must not fail (or repeat) the fetch around it."""
        try:
            call(*args, **kwargs)
        except redis.RedisError as exc:
            self._degrade(exc)

    def _wait_for(self, key: str, lock_key: str, holder: bytes | None,
                  deadline: float) -> CachedPrices | None:
        """Poll until the value appears (returned), the holder's error appears (raised), or the
        lock is gone without a value (None: the caller tries to take the lock)."""
        delay = 0.005
        error_key = f"{lock_key}:{holder.decode()}:error" if holder else None
        while time.monotonic() < deadline:
            pipe = self.client.pipeline(transaction=False)
            pipe.get(self.prefix + key)
            pipe.get(error_key or lock_key)
            pipe.exists(lock_key)
            payload, error, locked = pipe.execute()
            cached = self._decode(payload)
            if cached is not None:
                return cached
            if error_key and error:
                name, _, message = error.decode().partition(":")
                raise SHAREABLE_ERRORS.get(name, MarketDataError)(message)
            if not locked:
                return None
            self._sleep(delay)
            delay = min(delay * 1.5, 0.1)
        return None

    def _decode(self, payload: bytes | None) -> CachedPrices | None:
        if payload is None:
            return None
        try:
            frame, source = decode_frame(payload)
        except CodecError as exc:
            log.warning("price cache: ignoring an unreadable entry (%s)", exc)
            return None
        return CachedPrices(frame, source)

    def _degrade(self, exc: redis.RedisError) -> None:
        self.stats.add("errors")
        now = time.monotonic()
        self._down_until = now + self.outage_seconds
        if now - self._last_warning >= 60:
            self._last_warning = now
            log.warning("price cache: Redis unavailable (%s: %s); fetching without the cache "
                        "for the next %.0f s", type(exc).__name__, exc, self.outage_seconds)
