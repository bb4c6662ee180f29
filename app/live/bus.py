"""How events reach the hub of every server process.

- :class:`LocalBus` (embedded mode): ``publish`` hands the event to this process's hub.
- :class:`RedisBus` (server mode, ``REDIS_URL`` set): ``publish`` sends it to one Redis pub/sub
  channel, ``{ARENA_QUEUE_PREFIX}arena:live:events``; every server process listens on that
  channel and dispatches what it hears into its own hub, so one feed serves any number of
  processes (and the publisher's own clients hear it the same way).
"""

from __future__ import annotations

import asyncio
import json
import logging
from typing import Any

import redis.asyncio as aioredis

from app.live.hub import Hub

log = logging.getLogger(__name__)


def channel_name(prefix: str) -> str:
    return f"{prefix}arena:live:events"


class LocalBus:
    """In-process delivery (embedded mode)."""

    def __init__(self, hub: Hub) -> None:
        self.hub = hub

    async def start(self) -> None:
        return None

    async def publish(self, event: dict[str, Any]) -> None:
        self.hub.dispatch(event)

    async def stop(self) -> None:
        return None


class RedisBus:
    """Redis pub/sub delivery (server mode); see the module docstring."""

    def __init__(self, hub: Hub, client: aioredis.Redis, prefix: str) -> None:
        self.hub = hub
        self.redis = client
        self.channel = channel_name(prefix)
        self._listener: asyncio.Task | None = None
        self._ready = asyncio.Event()

    async def start(self) -> None:
        self._listener = asyncio.create_task(self._listen(), name="live-redis-listener")
        await asyncio.wait_for(self._ready.wait(), timeout=10)

    async def publish(self, event: dict[str, Any]) -> None:
        await self.redis.publish(self.channel, json.dumps(event, separators=(",", ":")))

    async def _listen(self) -> None:
        while True:
            try:
                async with self.redis.pubsub() as pubsub:
                    await pubsub.subscribe(self.channel)
                    self._ready.set()
                    async for message in pubsub.listen():
                        if message.get("type") == "message":
                            self.hub.dispatch(json.loads(message["data"]))
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # Redis restarted or unreachable: say so, retry
                log.error("live feed: Redis pub/sub failed (%s); retrying in 1 s", exc)
                await asyncio.sleep(1.0)

    async def stop(self) -> None:
        if self._listener is not None:
            self._listener.cancel()
            await asyncio.gather(self._listener, return_exceptions=True)
        await self.redis.aclose()
