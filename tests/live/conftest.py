"""A real live server for the socket tests: uvicorn serving :func:`app.live.asgi.create_asgi`
on a free loopback port, in a thread of the test process (so tests can look at its hub), and
helpers to make users, log in and open sockets with the ``websockets`` client."""

from __future__ import annotations

import asyncio
import json
import socket
import threading
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import requests
import uvicorn
from argon2 import PasswordHasher

from app.config import Settings
from app.live.asgi import create_asgi
from app.services.users import set_password_hasher

PASSWORD = "correct horse battery"
#: Redis pub/sub channels are global to the server: every live test session uses its own.
CHANNEL_PREFIX = f"livetest{uuid.uuid4().hex[:8]}-"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass
class LiveServer:
    base: str
    ws: str
    api: Any
    server: uvicorn.Server
    thread: threading.Thread

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=10)
        self.api.state.dash.server.extensions["arena"].close()

    def user(self, email: str | None = None) -> dict[str, Any]:
        """Register a new account and log it in: ``{id, email, token, session}``."""
        email = email or f"u{uuid.uuid4().hex[:10]}@example.com"
        session = requests.Session()
        created = session.post(f"{self.base}/api/v1/auth/register",
                               json={"email": email, "password": PASSWORD}, timeout=10)
        assert created.status_code == 201, created.text
        logged = session.post(f"{self.base}/api/v1/auth/login",
                              json={"email": email, "password": PASSWORD}, timeout=10)
        assert logged.status_code == 200, logged.text
        body = logged.json()
        return {"id": body["user"]["id"], "email": email, "token": body["access_token"],
                "session": session}

    def save_strategy(self, user: dict[str, Any], spec: dict[str, Any]) -> int:
        answer = user["session"].post(
            f"{self.base}/api/v1/strategies", json={"name": spec["name"], "spec": spec},
            headers={"Authorization": f"Bearer {user['token']}"}, timeout=10)
        assert answer.status_code == 201, answer.text
        return answer.json()["strategy"]["id"]


def start_live_server(instance: Path, **environment: str) -> LiveServer:
    settings = Settings.from_env({"ARENA_INSTANCE_DIR": str(instance), "ARENA_SEED_DEMO": "0",
                                  "ARENA_LOGIN_RATE_LIMIT": "1000",
                                  "ARENA_QUEUE_PREFIX": CHANNEL_PREFIX, **environment})
    api = create_asgi(settings)
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(api, host="127.0.0.1", port=port, log_level="warning",
                                           lifespan="on"))
    thread = threading.Thread(target=server.run, name=f"live-server-{port}", daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        assert thread.is_alive() and time.monotonic() < deadline, "live server did not start"
        time.sleep(0.05)
    return LiveServer(f"http://127.0.0.1:{port}", f"ws://127.0.0.1:{port}/ws/prices", api,
                      server, thread)


FAST_REPLAY = {"LIVE_SYMBOLS": "SPY,QQQ,AAPL", "LIVE_REPLAY_BAR_SECONDS": "0.4",
               "LIVE_REPLAY_TICKS_PER_BAR": "4", "LIVE_HEARTBEAT_SECONDS": "1"}


@pytest.fixture(scope="package")
def live_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    """An embedded-mode server replaying SPY, QQQ and AAPL at 0.4 s per bar (4 ticks)."""
    previous = set_password_hasher(PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1))
    server = start_live_server(tmp_path_factory.mktemp("live") / "instance", **FAST_REPLAY)
    yield server
    server.stop()
    set_password_hasher(previous)


async def collect(ws: Any, count: int, kinds: tuple[str, ...] = ("tick",),
                  timeout: float = 20.0) -> list[dict[str, Any]]:
    """The next ``count`` messages of the given types (others are skipped)."""
    found: list[dict[str, Any]] = []
    async with asyncio.timeout(timeout):
        while len(found) < count:
            message = json.loads(await ws.recv())
            if message["type"] in kinds:
                found.append(message)
    return found
