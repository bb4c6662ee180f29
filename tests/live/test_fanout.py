"""Fan-out: a client that stops reading never delays another; two server processes sharing
Redis deliver the same ticks."""

from __future__ import annotations

import asyncio
import json
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests
from websockets.asyncio.client import connect

from app.live.hub import Client, Hub
from tests.live.conftest import CHANNEL_PREFIX, PASSWORD, collect, free_port, start_live_server

pytestmark = pytest.mark.slow


def test_a_full_queue_drops_for_that_client_only_and_never_waits():
    async def scenario():
        hub, slow, fast = Hub(), Client.with_queue(2), Client.with_queue(100)
        hub.subscribe(slow, ["SPY"])
        hub.subscribe(fast, ["SPY"])
        for seq in range(1, 6):
            hub.dispatch({"type": "tick", "symbol": "SPY", "seq": seq})
        return slow, fast, hub

    slow, fast, hub = asyncio.run(scenario())
    assert slow.queue.qsize() == 2 and slow.dropped == 3 and slow.too_slow.is_set()
    assert [json.loads(fast.queue.get_nowait())["seq"] for _ in range(5)] == [1, 2, 3, 4, 5]
    assert (hub.delivered, hub.dropped) == (7, 3)


def test_a_client_that_stops_reading_does_not_delay_another(tmp_path: Path):
    """17 symbols × 4 ticks every 20 ms: a socket that is never read fills its buffers, its
    queue overflows and it is dropped, while the reading client gets every tick on time."""
    server = start_live_server(tmp_path / "instance", LIVE_SYMBOLS="",
                               LIVE_REPLAY_BAR_SECONDS="0.02", LIVE_REPLAY_TICKS_PER_BAR="4",
                               LIVE_CLIENT_QUEUE="64")
    try:
        user = server.user()
        url = f"{server.ws}?token={user['token']}"
        symbols = server.api.state.live.symbols
        hub = server.api.state.live.hub

        async def scenario():
            stuck = socket.create_connection(("127.0.0.1", int(server.base.rsplit(":", 1)[1])))
            stuck.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
            async with connect(url, sock=stuck, max_queue=1) as slow, connect(url) as fast:
                await slow.send(json.dumps({"action": "subscribe", "symbols": symbols}))
                await fast.send(json.dumps({"action": "subscribe", "symbols": ["SPY"]}))
                started = time.monotonic()
                gaps, last, seqs = [], started, []
                overflowed_at = None
                while overflowed_at is None or time.monotonic() - overflowed_at < 2:
                    if overflowed_at is None and hub.dropped:
                        overflowed_at = time.monotonic()
                    # the kernel's socket buffers (autotuned to a few MB) fill first
                    assert time.monotonic() - started < 90, "the stuck client never overflowed"
                    message = json.loads(await asyncio.wait_for(fast.recv(), 5))
                    if message["type"] == "tick":
                        now = time.monotonic()
                        gaps.append(now - last)
                        last = now
                        seqs.append(message["seq"])
                return gaps, seqs

        gaps, seqs = asyncio.run(scenario())
        assert seqs == list(range(seqs[0], seqs[0] + len(seqs))), "the reading client lost ticks"
        assert len(seqs) > 100
        assert max(gaps[1:]) < 1.0, f"the reading client stalled for {max(gaps[1:]):.2f} s"
    finally:
        server.stop()


@pytest.mark.redis
def test_two_server_processes_sharing_redis_deliver_the_same_ticks(tmp_path: Path, redis_url):
    instance = tmp_path / "instance"
    env = {**{k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "ARENA_ENV"}},
           "ARENA_INSTANCE_DIR": str(instance), "REDIS_URL": redis_url,
           "ARENA_QUEUE_PREFIX": f"{CHANNEL_PREFIX}two-", "JWT_SECRET_KEY": "x" * 40,
           "DATABASE_URL": f"sqlite:///{instance / 'shared.db'}", "ARENA_SEED_DEMO": "0",
           "LIVE_SYMBOLS": "SPY", "LIVE_REPLAY_BAR_SECONDS": "0.4",
           "LIVE_REPLAY_TICKS_PER_BAR": "4", "PYTHONPATH": str(Path.cwd())}
    instance.mkdir(parents=True)
    upgrade = subprocess.run([sys.executable, "-m", "app.cli", "db", "upgrade"], env=env,
                             capture_output=True, text=True, timeout=60)
    assert upgrade.returncode == 0, upgrade.stderr
    ports = [free_port(), free_port()]
    processes = [subprocess.Popen([sys.executable, "-m", "app.cli", "serve", "--port", str(p)],
                                  env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                                  text=True) for p in ports]
    try:
        for port, process in zip(ports, processes, strict=True):
            _wait_for(port, process)
        base = f"http://127.0.0.1:{ports[0]}"
        requests.post(f"{base}/api/v1/auth/register", timeout=10,
                      json={"email": "two@example.com", "password": PASSWORD})
        token = requests.post(f"{base}/api/v1/auth/login", timeout=10, json={
            "email": "two@example.com", "password": PASSWORD}).json()["access_token"]

        async def listen(port: int) -> list[dict]:
            async with connect(f"ws://127.0.0.1:{port}/ws/prices?token={token}") as ws:
                await ws.send(json.dumps({"action": "subscribe", "symbols": ["SPY"]}))
                return await collect(ws, 40, timeout=45)

        async def both():
            return await asyncio.gather(*(listen(port) for port in ports))

        first, second = asyncio.run(both())
        by_seq = {t["seq"]: (t["ts"], t["price"]) for t in first}
        common = [t for t in second if t["seq"] in by_seq]
        # the sockets open at slightly different times on a loaded machine: compare the overlap
        assert len(common) >= 20, "the two processes did not see the same stream"
        assert all(by_seq[t["seq"]] == (t["ts"], t["price"]) for t in common)
    finally:
        for process in processes:
            process.terminate()
        for process in processes:
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:  # never leave a server behind
                process.kill()
                process.wait(timeout=10)


def _wait_for(port: int, process: subprocess.Popen) -> None:
    deadline = time.monotonic() + 60
    while True:
        try:
            requests.get(f"http://127.0.0.1:{port}/api/health", timeout=2)
            return
        except requests.ConnectionError:
            if process.poll() is not None:
                pytest.fail(f"arena serve exited: {process.stderr.read()}")
            assert time.monotonic() < deadline, "arena serve did not answer within 60 s"
            time.sleep(0.3)
