"""Runs the price source and publishes its events on the bus.

Embedded mode: this process runs the source. Server mode: every server process starts a
:class:`FeedRunner`, but only the holder of a Redis lock (``{prefix}arena:live:leader``, a
``SET NX`` key with a ``LEADER_TTL_SECONDS`` expiry, renewed every ``LEADER_TTL_SECONDS / 3``)
runs the source; the others wait and take over within ``LEADER_TTL_SECONDS`` when the leader
dies. The leader records the date of the last completed bar (``{prefix}arena:live:cursor``) so
a new leader's replay continues where the old one stopped.
"""

from __future__ import annotations

import asyncio
import logging
import os
import socket
import uuid
from collections.abc import Callable

import redis.asyncio as aioredis

from app.live.bus import LocalBus, RedisBus
from app.live.sources import PriceSource

log = logging.getLogger(__name__)

LEADER_TTL_SECONDS = 6.0
# Compare-and-extend: only the holder may renew (or release) the lock.
_RENEW = ("if redis.call('get', KEYS[1]) == ARGV[1] then "
          "return redis.call('pexpire', KEYS[1], ARGV[2]) else return 0 end")
_RELEASE = ("if redis.call('get', KEYS[1]) == ARGV[1] then "
            "return redis.call('del', KEYS[1]) else return 0 end")


class FeedRunner:
    """Publishes ``source``'s events on ``bus`` (as the leader, in server mode)."""

    def __init__(self, make_source: Callable[[], PriceSource], bus: LocalBus | RedisBus,
                 client: aioredis.Redis | None = None, prefix: str = "") -> None:
        self.make_source = make_source
        self.bus = bus
        self.redis = client
        self.leader_key = f"{prefix}arena:live:leader"
        self.cursor_key = f"{prefix}arena:live:cursor"
        self.identity = f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"
        self.is_leader = False
        self._task: asyncio.Task | None = None

    def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="live-feed")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
        if self.redis is not None and self.is_leader:
            await self.redis.eval(_RELEASE, 1, self.leader_key, self.identity)

    async def _run(self) -> None:
        source = await asyncio.to_thread(self.make_source)
        if self.redis is None:
            while True:
                try:
                    await self._pump(source, None)
                except asyncio.CancelledError:
                    raise
                except Exception:  # a source that fails must not end the feed for good
                    log.exception("live feed: the %s source failed; restarting in 5 s",
                                  source.name)
                    await asyncio.sleep(5.0)
        while True:
            ttl_ms = int(LEADER_TTL_SECONDS * 1000)
            acquired = await self.redis.set(self.leader_key, self.identity, nx=True, px=ttl_ms)
            if not acquired:
                await asyncio.sleep(LEADER_TTL_SECONDS / 3)
                continue
            self.is_leader = True
            log.info("live feed: %s leads the %s feed", self.identity, source.name)
            cursor = await self.redis.get(self.cursor_key)
            pump = asyncio.create_task(self._pump(source, cursor.decode() if cursor else None))
            try:
                while not pump.done():
                    await asyncio.sleep(LEADER_TTL_SECONDS / 3)
                    renewed = await self.redis.eval(_RENEW, 1, self.leader_key, self.identity,
                                                    ttl_ms)
                    if not renewed:
                        log.warning("live feed: %s lost the leader lock", self.identity)
                        break
            finally:
                pump.cancel()
                await asyncio.gather(pump, return_exceptions=True)
                self.is_leader = False
            if pump.done() and not pump.cancelled() and pump.exception() is not None:
                log.error("live feed stopped: %s; restarting", pump.exception())

    async def _pump(self, source: PriceSource, resume_after: str | None) -> None:
        async for event in source.events(resume_after):
            await self.bus.publish(event)
            if self.redis is not None and event["type"] == "bar":
                await self.redis.set(self.cursor_key, event["ts"])
