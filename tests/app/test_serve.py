"""``arena serve`` starts on a fresh instance folder with no database or Redis server."""

import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests

pytestmark = pytest.mark.slow


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_arena_serve_answers_pages_and_health(tmp_path: Path):
    port = free_port()
    env = {key: value for key, value in os.environ.items()
           if key not in {"DATABASE_URL", "REDIS_URL", "JWT_SECRET_KEY", "ARENA_ENV"}}
    env["ARENA_INSTANCE_DIR"] = str(tmp_path / "instance")
    arena = Path(sys.executable).with_name("arena")
    process = subprocess.Popen([str(arena), "serve", "--port", str(port)], env=env,
                               stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                health = requests.get(f"http://127.0.0.1:{port}/api/health", timeout=2)
                break
            except requests.ConnectionError:
                assert process.poll() is None, process.stdout.read()
                assert time.monotonic() < deadline, "arena serve did not answer within 60 s"
                time.sleep(0.3)
        assert health.status_code == 200
        assert health.json()["database"]["backend"] == "sqlite"
        assert health.json()["cache"]["backend"] == "in-process"
        home = requests.get(f"http://127.0.0.1:{port}/", timeout=5)
        assert home.status_code == 200
        assert "Strategy Arena" in home.text
    finally:
        process.terminate()
        output, _ = process.communicate(timeout=10)
    assert f"http://127.0.0.1:{port}/" in output
