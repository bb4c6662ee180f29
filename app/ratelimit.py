"""Counting attempts for login and registration limits: in Redis (shared by every web process),
in this process, or in Redis with this process as the fallback while Redis is down.

Login (:class:`LoginThrottle`) has two independent limits:

- **One account from one IP address**: after ``limit`` failed logins within ``window_seconds``
  (60), that address waits for the window to end *for that account*. Another account's correct
  login from the same address (an office behind one NAT) is not affected.
- **One account from anywhere**: after ``limit`` failures in a row, each further attempt must
  wait ``delay(n) = min(max_delay, first_delay * 2 ** (n - limit))`` seconds after the n-th
  failure (60 s, 120 s, 240 s, ... capped at ``max_delay``, 900 s by default). Attempts refused
  during a delay are not counted, so an attacker cannot push the victim's wait beyond
  ``max_delay``: it is an exponential delay, never a hard lock. A successful login forgets the
  account's failures; they are also forgotten a day after the last one.

Registration (:class:`FixedWindowLimit`): ``limit`` attempts per IP per hour, successful or not,
which bounds how fast anyone can probe which emails have accounts.

Keys are hashed, so Redis never holds emails or addresses. When Redis fails, the counters of
this process take over (:class:`FailoverCounter`): limits keep working per process (a client
spreading its attempts over several web processes gets a few more), rather than failing open
or locking everyone out. ``/api/health`` reports the fallback.
"""

from __future__ import annotations

import hashlib
import logging
import math
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

import redis

log = logging.getLogger(__name__)

#: Failures of an account are forgotten this long after the last one.
FAILURE_MEMORY_SECONDS = 24 * 3600
FIRST_DELAY_SECONDS = 60
REGISTER_WINDOW_SECONDS = 3600


class Counter(Protocol):
    """Integer counters that expire."""

    def get(self, key: str) -> tuple[int, int]:
        """``(count, whole seconds until it expires)``; ``(0, 0)`` for an absent key."""

    def increment(self, key: str, ttl_seconds: int, *, extend: bool = False) -> int:
        """Add one and return the count. A new key expires after ``ttl_seconds``; with
        ``extend`` every increment restarts that time."""

    def hold(self, key: str, seconds: int) -> None:
        """Set ``key`` to 1 for ``seconds`` (replacing any earlier value)."""

    def clear(self, *keys: str) -> None:
        """Forget ``keys``."""


class MemoryCounter:
    """Counters in this process (embedded mode, and the fallback while Redis is down)."""

    MAX_KEYS = 10_000  # beyond this, expired keys are swept on the next write

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._lock = threading.Lock()
        self._counts: dict[str, tuple[float, int]] = {}  # key -> (expires at, count)

    def get(self, key: str) -> tuple[int, int]:
        now = self._clock()
        with self._lock:
            expires, count = self._counts.get(key, (now, 0))
            if expires <= now:
                self._counts.pop(key, None)
                return 0, 0
            return count, max(1, math.ceil(expires - now))

    def increment(self, key: str, ttl_seconds: int, *, extend: bool = False) -> int:
        now = self._clock()
        with self._lock:
            self._sweep(now)
            expires, count = self._counts.get(key, (now, 0))
            if expires <= now:
                expires, count = now + ttl_seconds, 0
            if extend:
                expires = now + ttl_seconds
            self._counts[key] = (expires, count + 1)
            return count + 1

    def hold(self, key: str, seconds: int) -> None:
        now = self._clock()
        with self._lock:
            self._sweep(now)
            self._counts[key] = (now + seconds, 1)

    def clear(self, *keys: str) -> None:
        with self._lock:
            for key in keys:
                self._counts.pop(key, None)

    def _sweep(self, now: float) -> None:
        if len(self._counts) > self.MAX_KEYS:
            self._counts = {k: v for k, v in self._counts.items() if v[0] > now}


class RedisCounter:
    """Counters in Redis with an expiry, so they vanish by themselves."""

    def __init__(self, client: redis.Redis, prefix: str = "arena:ratelimit:") -> None:
        self._client, self._prefix = client, prefix

    def get(self, key: str) -> tuple[int, int]:
        pipe = self._client.pipeline()
        pipe.get(self._prefix + key)
        pipe.ttl(self._prefix + key)
        count, ttl = pipe.execute()
        return (int(count), max(1, int(ttl))) if count else (0, 0)

    def increment(self, key: str, ttl_seconds: int, *, extend: bool = False) -> int:
        pipe = self._client.pipeline()
        pipe.incr(self._prefix + key)
        pipe.expire(self._prefix + key, ttl_seconds, nx=not extend)
        count, _ = pipe.execute()
        return int(count)

    def hold(self, key: str, seconds: int) -> None:
        self._client.set(self._prefix + key, 1, ex=seconds)

    def clear(self, *keys: str) -> None:
        if keys:
            self._client.delete(*(self._prefix + key for key in keys))


class FailoverCounter:
    """Redis counters, with this process's counters standing in while Redis fails.

    While Redis fails, it is tried again every :attr:`RETRY_SECONDS` (not on every call: a
    host that doesn't answer would cost a connect timeout each time); the limits are shared
    again as soon as it answers.
    """

    RETRY_SECONDS = 5.0

    def __init__(self, primary: RedisCounter, fallback: MemoryCounter | None = None,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.primary, self.fallback = primary, fallback or MemoryCounter()
        self._clock = clock
        self.failing_since: float | None = None
        self._last_try = 0.0

    @property
    def backend(self) -> str:
        """``redis``, or ``in-process`` while Redis is failing."""
        return "redis" if self.failing_since is None else "in-process"

    def _call(self, method: str, *args, **kwargs):
        now = self._clock()
        if self.failing_since is not None and now - self._last_try < self.RETRY_SECONDS:
            return getattr(self.fallback, method)(*args, **kwargs)
        self._last_try = now
        try:
            result = getattr(self.primary, method)(*args, **kwargs)
        except redis.RedisError as exc:
            if self.failing_since is None:
                log.error("Redis unavailable for rate limits; counting in this process "
                          "instead: %s", exc)
                self.failing_since = now
            return getattr(self.fallback, method)(*args, **kwargs)
        if self.failing_since is not None:
            log.warning("Redis is back: rate limits are shared between processes again")
            self.failing_since = None
        return result

    def get(self, key: str) -> tuple[int, int]:
        return self._call("get", key)

    def increment(self, key: str, ttl_seconds: int, *, extend: bool = False) -> int:
        return self._call("increment", key, ttl_seconds, extend=extend)

    def hold(self, key: str, seconds: int) -> None:
        self._call("hold", key, seconds)

    def clear(self, *keys: str) -> None:
        self._call("clear", *keys)


def make_counter(client: redis.Redis | None) -> MemoryCounter | FailoverCounter:
    """In-process counters in embedded mode, else Redis with the in-process fallback."""
    return MemoryCounter() if client is None else FailoverCounter(RedisCounter(client))


def counter_backend(counter: Counter) -> str:
    """``in-process`` or ``redis`` (``in-process`` while a failover counter's Redis is down)."""
    return getattr(counter, "backend", "in-process")


@dataclass
class LoginThrottle:
    """The login limits per account and IP address, and per account (see the module)."""

    counter: Counter
    limit: int
    max_delay_seconds: int = 900
    window_seconds: int = 60

    def retry_after(self, email: str, address: str) -> int:
        """Seconds before ``email`` may try to log in from ``address`` again, else 0."""
        pair_count, pair_wait = self.counter.get(_pair_key(email, address))
        wait = pair_wait if pair_count >= self.limit else 0
        held, held_wait = self.counter.get(_delay_key(email))
        return max(wait, held_wait if held else 0)

    def failed(self, email: str, address: str) -> None:
        """Count a failed login of ``email`` from ``address``."""
        self.counter.increment(_pair_key(email, address), self.window_seconds)
        failures = self.counter.increment(_account_key(email), FAILURE_MEMORY_SECONDS,
                                          extend=True)
        if failures >= self.limit:
            self.counter.hold(_delay_key(email), self.delay_seconds(failures))

    def succeeded(self, email: str, address: str) -> None:
        """Forget the failures of ``email`` (and of this address for it)."""
        self.counter.clear(_pair_key(email, address), _account_key(email), _delay_key(email))

    def delay_seconds(self, failures: int) -> int:
        """The wait after the ``failures``-th failure in a row (``failures >= limit``)."""
        doublings = min(failures - self.limit, 30)
        return min(self.max_delay_seconds, FIRST_DELAY_SECONDS * 2 ** doublings)


@dataclass
class FixedWindowLimit:
    """At most ``limit`` attempts per key in each window of ``window_seconds``."""

    counter: Counter
    limit: int
    window_seconds: int = REGISTER_WINDOW_SECONDS

    def attempt(self, key: str) -> int:
        """Count an attempt; 0 when it is allowed, else the seconds until the window ends."""
        count = self.counter.increment(key, self.window_seconds)
        if count <= self.limit:
            return 0
        return self.counter.get(key)[1] or self.window_seconds


def hashed(kind: str, value: str) -> str:
    """A counter key that does not reveal ``value`` (an email, say)."""
    return f"{kind}:{hashlib.sha256(value.encode()).hexdigest()[:32]}"


def _pair_key(email: str, address: str) -> str:
    return hashed("login-pair", f"{email}\n{address}")


def _account_key(email: str) -> str:
    return hashed("login-account", email)


def _delay_key(email: str) -> str:
    return hashed("login-delay", email)
