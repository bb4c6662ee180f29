"""Fixed-window rate limiting, counted in Redis (shared by every web process) or in-process.

Login uses it: after ``limit`` failed attempts in a window for one email (or from one IP
address), further attempts answer 429 until the window ends. Keys of emails are hashed, so
Redis never holds the addresses.
"""

from __future__ import annotations

import hashlib
import logging
import threading
import time

import redis

log = logging.getLogger(__name__)


class MemoryCounter:
    """Counters in this process (embedded mode: one process serves everything)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._windows: dict[str, tuple[float, int]] = {}

    def get(self, key: str, window_seconds: int) -> tuple[int, int]:
        """``(count, seconds until the window resets)`` of ``key``."""
        now = time.monotonic()
        with self._lock:
            started, count = self._windows.get(key, (now, 0))
            if now - started >= window_seconds:
                self._windows.pop(key, None)
                return 0, 0
            return count, max(1, int(window_seconds - (now - started) + 0.999))

    def increment(self, key: str, window_seconds: int) -> int:
        now = time.monotonic()
        with self._lock:
            if len(self._windows) > 10_000:  # forget finished windows now and then
                self._windows = {k: v for k, v in self._windows.items()
                                 if now - v[0] < window_seconds}
            started, count = self._windows.get(key, (now, 0))
            if now - started >= window_seconds:
                started, count = now, 0
            self._windows[key] = (started, count + 1)
            return count + 1


class RedisCounter:
    """Counters in Redis with an expiry, so they vanish with their window."""

    def __init__(self, client: redis.Redis, prefix: str = "arena:ratelimit:") -> None:
        self._client, self._prefix = client, prefix

    def get(self, key: str, window_seconds: int) -> tuple[int, int]:
        pipe = self._client.pipeline()
        pipe.get(self._prefix + key)
        pipe.ttl(self._prefix + key)
        count, ttl = pipe.execute()
        return int(count or 0), max(1, int(ttl)) if count else 0

    def increment(self, key: str, window_seconds: int) -> int:
        pipe = self._client.pipeline()
        pipe.incr(self._prefix + key)
        pipe.expire(self._prefix + key, window_seconds, nx=True)
        count, _ = pipe.execute()
        return int(count)


class RateLimiter:
    """At most ``limit`` hits per ``window_seconds`` for each key.

    A backend failure (Redis down) lets requests through and logs a warning: the limiter
    must not lock everyone out.
    """

    def __init__(self, counter: MemoryCounter | RedisCounter, limit: int,
                 window_seconds: int = 60) -> None:
        self.counter, self.limit, self.window_seconds = counter, limit, window_seconds

    def retry_after(self, *keys: str) -> int:
        """Seconds to wait when any key is at its limit, else 0."""
        wait = 0
        for key in keys:
            try:
                count, reset = self.counter.get(key, self.window_seconds)
            except redis.RedisError as exc:
                log.warning("rate limiter unavailable, not limiting: %s", exc)
                return 0
            if count >= self.limit:
                wait = max(wait, reset or self.window_seconds)
        return wait

    def hit(self, *keys: str) -> None:
        for key in keys:
            try:
                self.counter.increment(key, self.window_seconds)
            except redis.RedisError as exc:
                log.warning("rate limiter unavailable, not counting: %s", exc)
                return


def hashed(kind: str, value: str) -> str:
    """A counter key that does not reveal ``value`` (an email, say)."""
    return f"{kind}:{hashlib.sha256(value.encode()).hexdigest()[:32]}"
