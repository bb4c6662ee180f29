"""Connection to the cache/queue backend: Redis when ``REDIS_URL`` is set, else in-process."""

from __future__ import annotations

import redis


def make_redis(redis_url: str | None) -> redis.Redis | None:
    """A Redis client with short timeouts, or None in embedded mode."""
    if not redis_url:
        return None
    return redis.Redis.from_url(redis_url, socket_connect_timeout=2, socket_timeout=5)


def redis_reachable(client: redis.Redis) -> tuple[bool, str | None]:
    """``(True, None)`` when PING answers, else ``(False, reason)``."""
    try:
        client.ping()
        return True, None
    except redis.RedisError as exc:
        return False, f"{type(exc).__name__}: {exc}"
