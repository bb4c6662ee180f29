"""Real ``arena worker`` processes against the real Redis and PostgreSQL: a worker killed with
SIGKILL mid-job, a job's child process killed under a living ``--fork`` worker, and 50 runs
shared by two workers.
"""

from __future__ import annotations

import os
import signal
import time
import uuid
from pathlib import Path
from typing import Any

import pytest
from rq.job import Job

from app import create_app
from app.config import Settings
from app.models import FINISHED_STATUSES, BacktestRun, RunPart, RunResult
from app.runs.errors import STOPPED_MESSAGE
from app.runs.queueing import run_job_id, submit_run
from tests.workers.conftest import (
    app_user,
    get_run,
    new_strategy,
    server_env,
    start_run,
    wait_for,
)

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


def test_a_killed_workers_sweep_chunk_is_requeued_within_a_minute_and_the_sweep_completes(
        make_app, start_worker):
    dash_app, env = make_app(JOB_HEARTBEAT_SECONDS="1", JOB_STALE_SECONDS="5",
                             SWEEP_CHUNK_SIZE="3")
    context = dash_app.server.extensions["arena"]
    worker = start_worker(env, plugin=True)
    user = app_user(dash_app)
    strategy = new_strategy(user, name="test:slow-chunks:3")
    grid = {"entry.all[0].right": [25, 30, 35], "exit.any[0].right": [65, 70, 75]}
    run_id = start_run(user, strategy["id"], kind="sweep", options={"grid": grid})["id"]
    deadline = time.monotonic() + 30
    while "slow step" not in get_run(user, run_id)["stage"]:
        assert time.monotonic() < deadline, get_run(user, run_id)
        time.sleep(0.1)
    worker.kill()  # kill -9 mid-chunk: the only worker, its chunk and its scheduler
    killed = time.monotonic()
    while "re-queued" not in get_run(user, run_id)["stage"]:
        assert time.monotonic() - killed < 60, get_run(user, run_id)
        time.sleep(0.2)
    assert get_run(user, run_id)["status"] == "running"  # finished chunks are kept
    start_worker(env, plugin=True)
    done = wait_for(user, run_id, timeout=60)
    assert done["status"] == "succeeded", done["error"]
    result = user.get(f"/runs/{run_id}/result").get_json()
    assert len(result["results"]) == 9 == done["metrics"]["combinations"]
    assert done["metrics"]["failed_combinations"] == 0
    with context.sessions() as session:
        assert session.query(RunPart).filter_by(run_id=run_id).count() == 0


def test_a_sweep_split_across_two_workers_gives_the_table_and_odds_of_one_process(
        make_app, start_worker):
    import json

    from app.runs.queueing import part_job_id
    from app.runs.state import finite_json
    from app.services.prices import load_prices
    from engine.spec import parse_spec
    from engine.sweep import run_sweep

    dash_app, env = make_app(SWEEP_CHUNK_SIZE="4")
    context = dash_app.server.extensions["arena"]
    workers = [start_worker(env, plugin=True), start_worker(env, plugin=True)]
    user = app_user(dash_app)
    strategy = new_strategy(user, name="test:slow-chunks:1")  # each chunk lasts >= 1 s
    grid = {"entry.all[0].right": [20, 25, 30, 35], "exit.any[0].right": [60, 65, 70, 75]}
    run_id = start_run(user, strategy["id"], kind="sweep",
                       options={"grid": grid, "constraints": [
                           "entry.all[0].right < exit.any[0].right"]})["id"]
    done = wait_for(user, run_id, timeout=120)
    assert done["status"] == "succeeded", done["error"]
    document = user.get(f"/runs/{run_id}/result").get_json()
    spec = parse_spec(strategy["spec"])
    direct = finite_json(run_sweep(spec, load_prices(context.prices, spec.symbol), grid,
                                   risk_free=context.settings.risk_free_rate).to_dict())

    def by_params(rows):
        return {json.dumps(row["params"], sort_keys=True): row for row in rows}

    assert by_params(document["results"]) == by_params(direct["results"])
    split, whole = document["overfitting"], direct["overfitting"]
    assert (document["results"][split.pop("selected")]["params"]
            == direct["results"][whole.pop("selected")]["params"])
    assert split.keys() == whole.keys()
    for key, value in whole.items():
        assert split[key] == (pytest.approx(value, rel=1e-9) if isinstance(value, float)
                              else value), key
    names = {Job.fetch(context.runner.redis_job_id(part_job_id(run_id, part)),
                       connection=context.redis).worker_name for part in range(4)}
    assert names == {worker.name for worker in workers}


def test_a_sigkilled_worker_leaves_no_scheduler_process_behind(make_app, start_worker):
    # queues of their own: an earlier test's killed worker may still hold the scheduler lock
    # of the session's queues, and then no scheduler child would start here
    _dash_app, env = make_app(ARENA_QUEUE_PREFIX=f"sched{uuid.uuid4().hex[:6]}-")
    worker = start_worker(env)
    deadline = time.monotonic() + 20
    while not worker.descendants():  # RQ starts its scheduler in a child process
        assert time.monotonic() < deadline, "no scheduler child started"
        time.sleep(0.1)
    children = worker.descendants()
    os.kill(worker.pid, signal.SIGKILL)
    worker.process.wait(timeout=10)
    deadline = time.monotonic() + 10
    while alive := [pid for pid in children if _running(pid)]:
        assert time.monotonic() < deadline, f"orphans still running: {alive}"
        time.sleep(0.1)


def _running(pid: int) -> bool:
    """Whether process ``pid`` exists and is not a zombie."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat.rsplit(")", 1)[1].split()[0] != "Z"
