"""Fixtures of the job tests: settings for each runner, ``arena worker`` subprocesses (always
killed at teardown, with their job and scheduler processes), users and strategies, polling.

The RQ tests use the real PostgreSQL (a database per session) and the real Redis, database 12,
with a queue prefix unique to the session, so other test sessions sharing the server never take
these jobs (and these keys are deleted afterwards).
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import redis
from argon2 import PasswordHasher

from app.config import Settings
from app.db import make_engine
from app.migrate import upgrade
from app.models import FINISHED_STATUSES
from app.services.users import set_password_hasher
from tests.app.conftest import example_spec, register_and_login
from tests.conftest import SERVICE_HELP
from tests.pg import throwaway_database

REPO = Path(__file__).resolve().parents[2]
JOBS_REDIS_URL = "redis://127.0.0.1:6379/12"
#: Job settings of every test app and worker here: fast heartbeats, short limits.
FAST_JOBS = {"JOB_TIMEOUT_SECONDS": "6", "JOB_RETRY_INTERVALS": "1",
             "JOB_HEARTBEAT_SECONDS": "1", "JOB_STALE_SECONDS": "5", "SWEEP_CHUNK_SIZE": "4",
             "ARENA_WORKER_THREADS": "2", "ARENA_SEED_DEMO": "0"}
WORKER_SCRIPT = Path(sys.executable).with_name("arena")


@pytest.fixture(autouse=True, scope="session")
def cheap_hashing() -> Iterator[None]:
    previous = set_password_hasher(PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1))
    yield
    set_password_hasher(previous)


@pytest.fixture(scope="session")
def jobs_redis_url() -> str:
    try:
        redis.Redis.from_url(JOBS_REDIS_URL, socket_connect_timeout=2).ping()
    except redis.RedisError as exc:
        pytest.fail(f"Redis on 127.0.0.1:6379 is not reachable ({exc}); " + SERVICE_HELP["redis"])
    return JOBS_REDIS_URL


@pytest.fixture(scope="session")
def queue_prefix(jobs_redis_url: str) -> Iterator[str]:
    """A queue and job-id prefix of this session; its keys are deleted at the end."""
    prefix = f"t{os.getpid()}{uuid.uuid4().hex[:6]}-"
    yield prefix
    client = redis.Redis.from_url(jobs_redis_url)
    keys = list(client.scan_iter(f"*{prefix}*", count=1000))
    if keys:
        client.delete(*keys)


@pytest.fixture(scope="session")
def jobs_pg_url() -> Iterator[str]:
    """A migrated PostgreSQL database of its own (the reaper looks at every run in its
    database, so the job tests must not share one with other tests), dropped afterwards."""
    with throwaway_database("arena_jobs") as url:
        engine = make_engine(url)
        upgrade(engine)
        engine.dispose()
        yield url


def server_env(instance: Path, database_url: str, redis_url: str, prefix: str,
               **extra: str) -> dict[str, str]:
    """The environment of a server-mode app or worker."""
    return {"ARENA_INSTANCE_DIR": str(instance), "DATABASE_URL": database_url,
            "REDIS_URL": redis_url, "ARENA_QUEUE_PREFIX": prefix, **FAST_JOBS, **extra}


def embedded_env(instance: Path, **extra: str) -> dict[str, str]:
    return {"ARENA_INSTANCE_DIR": str(instance), **FAST_JOBS, **extra}


# --- worker subprocesses -----------------------------------------------------------------------


class WorkerProcess:
    """An ``arena worker`` subprocess; :meth:`kill` ends it and every process it started."""

    def __init__(self, env: dict[str, str], log_path: Path, *, name: str,
                 plugin: bool = False, args: tuple[str, ...] = ()) -> None:
        command = ([sys.executable, "-c", "import tests.workers.plugin; from app.cli import main;"
                    " main()", "worker"] if plugin else [str(WORKER_SCRIPT), "worker"])
        full_env = {key: value for key, value in os.environ.items()
                    if not key.startswith(("ARENA_", "JOB_", "DATABASE_", "REDIS_"))}
        full_env.update(env, PYTHONPATH=str(REPO))
        self.name = name
        self.log_path = log_path
        self._log = log_path.open("wb")
        self.process = subprocess.Popen([*command, "--name", name, *args], cwd=REPO, env=full_env,
                                        stdout=self._log, stderr=subprocess.STDOUT,
                                        start_new_session=True)

    @property
    def pid(self) -> int:
        return self.process.pid

    def wait_until_listening(self, connection: redis.Redis, timeout: float = 45) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if connection.exists(f"rq:worker:{self.name}"):
                return
            if self.process.poll() is not None:
                break
            time.sleep(0.1)
        raise AssertionError(f"worker {self.name} did not start:\n{self.log()}")

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")[-4000:]

    def descendants(self) -> list[int]:
        return descendants(self.pid)

    def kill(self) -> None:
        """SIGKILL the worker and everything it started (job and scheduler processes)."""
        for pid in [*self.descendants(), self.pid]:
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:  # pragma: no cover - SIGKILL cannot be ignored
            pass
        self._log.close()


def descendants(pid: int) -> list[int]:
    """Every living process below ``pid`` (from /proc)."""
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        parent = int(stat.rsplit(")", 1)[1].split()[1])
        children.setdefault(parent, []).append(int(entry.name))
    found, todo = [], [pid]
    while todo:
        for child in children.get(todo.pop(), []):
            found.append(child)
            todo.append(child)
    return found


@pytest.fixture
def start_worker(tmp_path: Path) -> Iterator[Any]:
    """``start_worker(env, plugin=False, args=())`` -> a listening WorkerProcess (``arena
    worker --name NAME *args``), killed at teardown."""
    started: list[WorkerProcess] = []

    def start(env: dict[str, str], *, plugin: bool = False,
              args: tuple[str, ...] = ()) -> WorkerProcess:
        name = f"test-worker-{uuid.uuid4().hex[:8]}"
        worker = WorkerProcess(env, tmp_path / f"{name}.log", name=name, plugin=plugin,
                               args=args)
        started.append(worker)
        worker.wait_until_listening(redis.Redis.from_url(env["REDIS_URL"]))
        return worker

    yield start
    for worker in started:
        worker.kill()


# --- API helpers -------------------------------------------------------------------------------


def new_strategy(user: Any, **changes: Any) -> dict[str, Any]:
    spec = {**example_spec(), **changes}  # `name` is the spec's name here, not an example's
    answer = user.post("/strategies", json={"spec": spec})
    assert answer.status_code == 201, answer.get_json()
    return answer.get_json()["strategy"]


def start_run(user: Any, strategy_id: int, **body: Any) -> dict[str, Any]:
    answer = user.post("/runs", json={"strategy_id": strategy_id, **body})
    assert answer.status_code == 202, answer.get_json()
    return answer.get_json()["run"]


def get_run(user: Any, run_id: int) -> dict[str, Any]:
    answer = user.get(f"/runs/{run_id}")
    assert answer.status_code == 200, answer.get_json()
    return answer.get_json()["run"]


def wait_for(user: Any, run_id: int, statuses: tuple[str, ...] = FINISHED_STATUSES,
             timeout: float = 30) -> dict[str, Any]:
    """Poll ``GET /runs/{id}`` until the run's status is one of ``statuses``."""
    deadline = time.monotonic() + timeout
    while True:
        run = get_run(user, run_id)
        if run["status"] in statuses:
            return run
        if time.monotonic() > deadline:
            raise AssertionError(f"run {run_id} still {run['status']} after {timeout} s: {run}")
        time.sleep(0.05)


def app_user(dash_app: Any) -> Any:
    return register_and_login(dash_app)


def settings_of(dash_app: Any) -> Settings:
    return dash_app.server.extensions["arena"].settings
