"""WebSocket fan-out benchmark: publish → receive latency, delivery, server CPU and memory.

Starts a real ``arena serve`` in server mode (a throw-away SQLite file and the real Redis at
``REDIS_URL``, default redis://127.0.0.1:6379/13, under a unique channel prefix). This script
holds the feed's leader lock itself, so the server runs no source of its own; it publishes
ticks for SPY on the Redis channel at a fixed rate and records when each was published. The
server relays them (Redis pub/sub → hub → per-client queues → sockets) to N clients opened by
this script, which record when each tick arrived. Printed, never asserted:

- delivered / expected ticks per reading client (every tick to every client is the goal);
- p50 / p99 / max latency from publish to receive, over all (client, tick) pairs;
- the server process's CPU (seconds of user + system time per second of wall time) and its
  resident memory per connected client;
- with ``--stuck``: one more client that subscribes and never reads; its effect on the others.

Clients and server share the machine's cores, so latencies include the clients' own work.

Usage::

    python bench/bench_ws.py                 # the issue's scenarios (about 2 minutes)
    python bench/bench_ws.py --quick         # 100 clients, 5 s each
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

import numpy as np
import redis
import requests
from websockets.asyncio.client import connect

ROOT = Path(__file__).resolve().parents[1]
PASSWORD = "bench password 123"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def proc_cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def proc_rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def start_server(redis_url: str, prefix: str, workdir: Path) -> tuple[subprocess.Popen, str]:
    env = {**os.environ, "ARENA_INSTANCE_DIR": str(workdir), "REDIS_URL": redis_url,
           "DATABASE_URL": f"sqlite:///{workdir / 'bench.db'}", "ARENA_QUEUE_PREFIX": prefix,
           "JWT_SECRET_KEY": "b" * 40, "ARENA_SEED_DEMO": "0", "LIVE_SYMBOLS": "SPY",
           "LIVE_CLIENT_QUEUE": "256", "ARENA_LOGIN_RATE_LIMIT": "1000",
           "PYTHONPATH": str(ROOT)}
    env.pop("ARENA_ENV", None)
    subprocess.run([sys.executable, "-m", "app.cli", "db", "upgrade"], env=env, check=True,
                   capture_output=True, cwd=ROOT)
    port = free_port()
    server = subprocess.Popen([sys.executable, "-m", "app.cli", "serve", "--port", str(port)],
                              env=env, cwd=ROOT, stdout=subprocess.DEVNULL)
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 90
    while True:
        try:
            requests.get(f"{base}/api/health", timeout=2)
            return server, base
        except requests.ConnectionError:
            if time.monotonic() > deadline or server.poll() is not None:
                raise SystemExit("arena serve did not start") from None
            time.sleep(0.3)


def token(base: str) -> str:
    email = f"bench{uuid.uuid4().hex[:8]}@example.com"
    requests.post(f"{base}/api/v1/auth/register", json={"email": email, "password": PASSWORD},
                  timeout=10)
    answer = requests.post(f"{base}/api/v1/auth/login", timeout=10,
                           json={"email": email, "password": PASSWORD})
    return answer.json()["access_token"]


async def reader(url: str, ready: asyncio.Event, received: list, stop: asyncio.Event,
                 counter: list) -> None:
    async with connect(url, max_queue=None, open_timeout=60) as ws:
        await ws.send(json.dumps({"action": "subscribe", "symbols": ["SPY"]}))
        while json.loads(await ws.recv())["type"] != "subscribed":
            pass
        counter[0] += 1
        if counter[0] == counter[1]:
            ready.set()
        closer = asyncio.create_task(_close_on(stop, ws))
        async for text in ws:
            now = time.perf_counter()
            message = json.loads(text)
            if message["type"] == "tick":
                received.append((message["seq"], now))
        closer.cancel()


async def _close_on(stop: asyncio.Event, ws) -> None:
    await stop.wait()
    await ws.close()


async def stuck_client(url: str, port: int, stop: asyncio.Event) -> None:
    sock = socket.create_connection(("127.0.0.1", port))
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    try:
        async with connect(url, sock=sock, max_queue=1) as ws:
            await ws.send(json.dumps({"action": "subscribe", "symbols": ["SPY"]}))
            await stop.wait()
    except Exception:  # the server drops it once it is too far behind: that is the point
        await stop.wait()


async def scenario(base: str, server: subprocess.Popen, redis_url: str, prefix: str,
                   clients: int, rate: float, seconds: float, stuck: bool) -> dict:
    url = base.replace("http", "ws") + f"/ws/prices?token={token(base)}"
    port = int(base.rsplit(":", 1)[1])
    rss_before = proc_rss_mb(server.pid)
    ready, stop = asyncio.Event(), asyncio.Event()
    counter = [0, clients]
    inboxes: list[list] = [[] for _ in range(clients)]
    tasks = []
    for k in range(clients):
        tasks.append(asyncio.create_task(reader(url, ready, inboxes[k], stop, counter)))
        if k % 50 == 49:
            await asyncio.sleep(0.05)  # do not flood the accept queue
    if stuck:
        tasks.append(asyncio.create_task(stuck_client(url, port, stop)))
    await asyncio.wait_for(ready.wait(), 120)
    await asyncio.sleep(1.0)
    rss_connected = proc_rss_mb(server.pid)
    publisher = redis.asyncio.from_url(redis_url)
    channel = f"{prefix}arena:live:events"
    published: dict[int, float] = {}
    cpu_before, wall_before = proc_cpu_seconds(server.pid), time.perf_counter()
    count = int(rate * seconds)
    start = time.perf_counter()
    for seq in range(1, count + 1):
        due = start + (seq - 1) / rate
        await asyncio.sleep(max(0.0, due - time.perf_counter()))
        event = {"type": "tick", "symbol": "SPY", "ts": "bench", "price": 100.0 + seq * 0.01,
                 "volume": 1.0, "source": "bench", "seq": seq}
        published[seq] = time.perf_counter()
        await publisher.publish(channel, json.dumps(event))
    await asyncio.sleep(2.0)  # let the last ticks arrive
    cpu = (proc_cpu_seconds(server.pid) - cpu_before) / (time.perf_counter() - wall_before)
    stop.set()
    await asyncio.gather(*tasks, return_exceptions=True)
    await publisher.aclose()
    latencies = np.array([(t - published[s]) * 1000 for inbox in inboxes for s, t in inbox
                          if s in published])
    delivered = [len({s for s, _ in inbox}) for inbox in inboxes]
    return {"clients": clients, "rate": rate, "expected": count, "stuck": stuck,
            "min_delivered": min(delivered), "all_delivered": sum(d == count for d in delivered),
            "p50": float(np.percentile(latencies, 50)), "p99": float(np.percentile(latencies, 99)),
            "max": float(latencies.max()), "cpu": cpu,
            "mb_per_client": (rss_connected - rss_before) / clients}


def report(r: dict) -> None:
    label = f"{r['clients']:>5} clients x {r['rate']:>4g} ticks/s" + (" + 1 stuck" if r["stuck"]
                                                                       else "")
    print(f"{label:<36} delivered {r['all_delivered']}/{r['clients']} clients got all "
          f"{r['expected']} (min {r['min_delivered']}); latency p50 {r['p50']:.1f} ms, "
          f"p99 {r['p99']:.1f} ms, max {r['max']:.1f} ms; server CPU {r['cpu']:.2f} core; "
          f"RSS {r['mb_per_client'] * 1024:.0f} KiB/client", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--redis", default=os.environ.get("REDIS_URL",
                                                          "redis://127.0.0.1:6379/13"))
    args = parser.parse_args()
    prefix = f"bench{uuid.uuid4().hex[:8]}-"
    leader = redis.Redis.from_url(args.redis)
    leader.set(f"{prefix}arena:live:leader", "bench_ws.py", ex=3600)  # no source in the server
    seconds = 5 if args.quick else 15
    plans = ([(100, 1, False), (100, 10, False), (100, 10, True)] if args.quick else
             [(1000, 1, False), (200, 10, False), (200, 10, True)])
    print(f"load average before: {os.getloadavg()}", flush=True)
    with tempfile.TemporaryDirectory() as workdir:
        server, base = start_server(args.redis, prefix, Path(workdir))
        try:
            for clients, rate, stuck in plans:
                report(asyncio.run(scenario(base, server, args.redis, prefix, clients, rate,
                                            seconds, stuck)))
        finally:
            server.terminate()
            server.wait(timeout=20)
            leader.delete(f"{prefix}arena:live:leader")
    print(f"load average after: {os.getloadavg()}")


if __name__ == "__main__":
    main()
