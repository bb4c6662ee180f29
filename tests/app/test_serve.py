"""``arena serve`` starts on a fresh instance folder with no database or Redis server."""

import os
import re
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests

from app.services.demo import DEMO_EMAIL, DEMO_PASSWORD

pytestmark = pytest.mark.slow


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def log_in_as_demo(base_url: str) -> requests.Session:
    """Log in with the demo account that the embedded quick start seeds."""
    browser = requests.Session()
    login_page = browser.get(f"{base_url}/", timeout=5)  # redirected to the login form
    assert login_page.url.startswith(f"{base_url}/login"), login_page.url
    token = re.search(r'name="form_token" value="([^"]+)"', login_page.text).group(1)
    answer = browser.post(f"{base_url}/login", timeout=10, allow_redirects=False, data={
        "email": DEMO_EMAIL, "password": DEMO_PASSWORD, "form_token": token, "next": "/"})
    assert answer.status_code == 303, answer.text
    return browser


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
        browser = log_in_as_demo(f"http://127.0.0.1:{port}")
        home = browser.get(f"http://127.0.0.1:{port}/", timeout=5, allow_redirects=False)
        assert home.status_code == 200
        assert "Strategy Arena" in home.text
    finally:
        process.terminate()
        output, _ = process.communicate(timeout=10)
    assert f"http://127.0.0.1:{port}/" in output
    assert f"Demo login: {DEMO_EMAIL} / {DEMO_PASSWORD}" in output
