"""Fixtures of the web-app tests: an app on each backend, users with tokens, a logged-in browser.

``app_settings`` is parametrized: ``sqlite`` is the embedded mode (SQLite file, in-process
rate limiter, revocations in the database); ``postgresql`` is the server mode (the real
PostgreSQL database of this test session, migrated once, and the real Redis).
"""

from __future__ import annotations

import itertools
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from argon2 import PasswordHasher
from flask.testing import FlaskClient

from app import create_app
from app.config import Settings
from app.db import make_engine
from app.migrate import upgrade
from app.services.users import set_password_hasher

API = "/api/v1"
PASSWORD = "correct horse battery"
_addresses = itertools.count(1)


@pytest.fixture(autouse=True)
def cheap_password_hashing() -> Iterator[None]:
    """argon2id with minimal cost: the tests hash hundreds of passwords (one test checks the
    production parameters)."""
    previous = set_password_hasher(PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1))
    yield
    set_password_hasher(previous)


@pytest.fixture(scope="session")
def migrated_pg_url(pg_url: str) -> str:
    engine = make_engine(pg_url)
    upgrade(engine)
    engine.dispose()
    return pg_url


def sqlite_settings(instance: Path, **extra: str) -> Settings:
    return Settings.from_env({"ARENA_INSTANCE_DIR": str(instance), "ARENA_SEED_DEMO": "0",
                              **extra})


#: RQ queue prefix of this test session: no other session sharing the Redis takes our jobs.
QUEUE_PREFIX = f"apptest{uuid.uuid4().hex[:8]}-"


@pytest.fixture(params=["sqlite", pytest.param("postgresql",
                                               marks=[pytest.mark.pg, pytest.mark.redis])])
def app_settings(request: pytest.FixtureRequest, tmp_path: Path) -> Settings:
    if request.param == "sqlite":
        return sqlite_settings(tmp_path / "instance")
    return Settings.from_env({
        "ARENA_INSTANCE_DIR": str(tmp_path / "instance"),
        "DATABASE_URL": request.getfixturevalue("migrated_pg_url"),
        "REDIS_URL": request.getfixturevalue("redis_url"),
        "ARENA_QUEUE_PREFIX": QUEUE_PREFIX,
        "ARENA_ENV": "development",
    })


@pytest.fixture
def app(app_settings: Settings) -> Iterator[Any]:
    """The app; in server mode with an RQ worker in a thread of this process executing its
    runs (the embedded mode runs them on its own thread pool)."""
    dash_app = create_app(app_settings)
    context = dash_app.server.extensions["arena"]
    worker = None
    if not app_settings.embedded:
        from app.runs.jobs import install_context
        from workers.rq_runner import WorkerThread

        install_context(context)
        worker = WorkerThread(context.runner).start()
    yield dash_app
    if worker is not None:
        worker.stop()
    context.close()


def new_client(dash_app: Any) -> FlaskClient:
    """A test client with its own cookie jar and its own client address (so the login rate
    limit of one test never counts another test's attempts, even in the shared Redis)."""
    client = dash_app.server.test_client()
    number = next(_addresses) + uuid.uuid4().int % 50_000 * 1000
    client.environ_base["REMOTE_ADDR"] = (f"10.{number // 65536 % 256}.{number // 256 % 256}"
                                          f".{number % 256}")
    return client


def unique_email(prefix: str = "user") -> str:
    return f"{prefix}-{uuid.uuid4().hex[:10]}@Example.com"


@dataclass
class ApiUser:
    """A registered, logged-in API user with its own client."""

    client: FlaskClient
    email: str
    id: int
    access_token: str
    refresh_token: str
    password: str = PASSWORD
    login_body: dict[str, Any] = field(default_factory=dict)

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.access_token}"}

    def call(self, method: str, path: str, **kwargs: Any) -> Any:
        headers = {**self.headers, **kwargs.pop("headers", {})}
        return self.client.open(API + path, method=method, headers=headers, **kwargs)

    def get(self, path: str, **kwargs: Any) -> Any:
        return self.call("GET", path, **kwargs)

    def post(self, path: str, **kwargs: Any) -> Any:
        return self.call("POST", path, **kwargs)

    def put(self, path: str, **kwargs: Any) -> Any:
        return self.call("PUT", path, **kwargs)

    def delete(self, path: str, **kwargs: Any) -> Any:
        return self.call("DELETE", path, **kwargs)


def register_and_login(dash_app: Any, email: str | None = None,
                       password: str = PASSWORD) -> ApiUser:
    client = new_client(dash_app)
    email = email or unique_email()
    created = client.post(f"{API}/auth/register", json={"email": email, "password": password})
    assert created.status_code == 201, created.get_json()
    login = client.post(f"{API}/auth/login", json={"email": email, "password": password})
    assert login.status_code == 200, login.get_json()
    body = login.get_json()
    client.delete_cookie("access_token_cookie")  # API users authenticate by header
    client.delete_cookie("refresh_token_cookie")
    return ApiUser(client, email, body["user"]["id"], body["access_token"],
                   body["refresh_token"], password, body)


@pytest.fixture
def user_a(app: Any) -> ApiUser:
    return register_and_login(app)


@pytest.fixture
def user_b(app: Any) -> ApiUser:
    return register_and_login(app)


def example_spec(name: str = "rsi_mean_reversion", **changes: Any) -> dict[str, Any]:
    """An engine example spec over a short window (fast runs), with ``changes`` applied."""
    from engine.spec import load_example

    spec = load_example(name).to_dict()
    spec.update({"start": "2020-01-01", "end": "2021-12-31"})
    spec.update(changes)
    return spec


def login_in_browser(dash_duo: Any, email: str, password: str = PASSWORD,
                     next_path: str | None = None) -> None:
    """Log in through the /login form of the app ``dash_duo`` serves."""
    url = dash_duo.server.url + "/login" + (f"?next={next_path}" if next_path else "")
    dash_duo.driver.set_window_size(1280, 900)  # wide enough for the expanded navbar
    dash_duo.driver.get(url)
    dash_duo.wait_for_element("#email").send_keys(email)
    dash_duo.find_element("#password").send_keys(password)
    dash_duo.find_element("#submit").click()


def create_user(dash_app: Any, email: str | None = None, password: str = PASSWORD) -> Any:
    """A user created directly through the service (no HTTP)."""
    from app.services import session_scope
    from app.services.users import register_user

    with session_scope(dash_app.server.extensions["arena"].sessions) as session:
        return register_user(session, email or unique_email(), password)
