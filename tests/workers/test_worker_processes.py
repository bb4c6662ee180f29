"""Real ``arena worker`` processes against the real Redis and PostgreSQL: a worker killed with
SIGKILL mid-job, a job's child process killed under a living ``--fork`` worker, and 50 runs
shared by two workers.
"""

from __future__ import annotations

import os
import signal
import time
from typing import Any

import pytest
from rq.job import Job

from app import create_app
from app.config import Settings
from app.models import FINISHED_STATUSES, BacktestRun, RunResult
from app.services.jobs import submit_run
from tests.workers.conftest import (
    app_user,
    get_run,
    new_strategy,
    server_env,
    start_run,
    wait_for,
)
from workers.reaper import STOPPED_MESSAGE
from workers.runner import run_job_id

pytestmark = [pytest.mark.slow, pytest.mark.pg, pytest.mark.redis]


@pytest.fixture
def make_app(tmp_path, jobs_pg_url, jobs_redis_url, queue_prefix) -> Any:
    """``make_app(**env)`` -> (dash app, env) in server mode; closed at teardown."""
    apps = []

    def make(**extra: str) -> tuple[Any, dict[str, str]]:
        env = server_env(tmp_path / "instance", jobs_pg_url, jobs_redis_url, queue_prefix,
                         **extra)
        dash_app = create_app(Settings.from_env(env))
        apps.append(dash_app)
        return dash_app, env

    yield make
    for dash_app in apps:
        dash_app.server.extensions["arena"].close()


def test_a_worker_killed_mid_job_leaves_a_failed_run_within_60_s_and_a_retry_succeeds(
        make_app, start_worker):
    # the production heartbeat settings: a beat every 5 s, stale after 30 s
    dash_app, env = make_app(JOB_HEARTBEAT_SECONDS="5", JOB_STALE_SECONDS="30")
    worker = start_worker(env, plugin=True)
    user = app_user(dash_app)
    strategy = new_strategy(user, name="test:sleep:4")
    run_id = start_run(user, strategy["id"])["id"]
    wait_for(user, run_id, ("running",))
    worker.kill()  # kill -9 the worker, its job process and its scheduler
    killed = time.monotonic()
    assert get_run(user, run_id)["status"] == "running"
    failed = wait_for(user, run_id, timeout=60)  # the API's reads find the abandoned run
    assert time.monotonic() - killed < 60
    assert (failed["status"], failed["error"]) == ("failed", STOPPED_MESSAGE)
    start_worker(env, plugin=True)
    retry = user.post(f"/runs/{run_id}/retry")
    assert retry.status_code == 202
    retried = wait_for(user, retry.get_json()["run"]["id"], timeout=30)
    assert retried["status"] == "succeeded" and retried["retry_of_id"] == run_id


def test_with_fork_a_killed_job_process_fails_its_run_at_once_and_the_worker_carries_on(
        make_app, start_worker):
    dash_app, env = make_app()
    start_worker(env, plugin=True, args=("--fork",))
    user = app_user(dash_app)
    run_id = start_run(user, new_strategy(user, name="test:sleep:20")["id"])["id"]
    wait_for(user, run_id, ("running",))
    with dash_app.server.extensions["arena"].sessions() as session:
        horse = int(session.get(BacktestRun, run_id).worker.rsplit(":", 1)[1])
    os.kill(horse, signal.SIGKILL)
    failed = wait_for(user, run_id, timeout=10)
    assert failed["status"] == "failed" and "died before it finished" in failed["error"]
    after = wait_for(user, start_run(user, new_strategy(user)["id"])["id"])
    assert after["status"] == "succeeded"


def test_fifty_runs_on_two_workers_all_finish_and_none_runs_twice(make_app, start_worker):
    dash_app, env = make_app()
    workers = [start_worker(env), start_worker(env)]  # the installed `arena` command
    context = dash_app.server.extensions["arena"]
    user = app_user(dash_app)
    strategy = new_strategy(user)
    run_ids = [start_run(user, strategy["id"])["id"] for _ in range(50)]
    for run_id in run_ids[::5]:
        submit_run(context, run_id)  # duplicate jobs: the run must still execute once
    deadline = time.monotonic() + 60
    with context.sessions() as session:
        while True:
            runs = session.query(BacktestRun).filter(BacktestRun.id.in_(run_ids)).all()
            if all(run.status in FINISHED_STATUSES for run in runs):
                break
            assert time.monotonic() < deadline, [run.status for run in runs]
            session.expire_all()
            time.sleep(0.2)
        assert {run.status for run in runs} == {"succeeded"}
        assert {run.attempts for run in runs} == {1}
        assert session.query(RunResult).filter(RunResult.run_id.in_(run_ids)).count() == 50
        assert len({run.metrics["final_equity"] for run in runs}) == 1
    names = set()
    for run_id in run_ids:
        job = Job.fetch(context.runner.redis_job_id(run_job_id(run_id)),
                        connection=context.redis)
        names.add(job.worker_name)
    assert names == {worker.name for worker in workers}
