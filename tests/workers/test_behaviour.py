"""Behaviour of background runs, identical on both runners: the in-process thread pool
(embedded mode, SQLite) and RQ (real Redis and PostgreSQL, executed by a real ``arena worker``
subprocess). Runs are driven through the REST API, as the UI does."""

from __future__ import annotations

import json
import math
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import pytest
import redis

from app import create_app
from app.config import Settings
from app.models import BacktestRun, RunPart, User, utcnow
from app.runs.errors import LOST_MESSAGE, STOPPED_MESSAGE
from app.runs.queueing import part_job_id, run_job_id, submit_run
from app.runs.reaper import REAP_EVERY_SECONDS, reap
from app.runs.state import finite_json
from app.services import session_scope
from app.services.prices import load_prices
from engine.spec import parse_spec
from tests.app.conftest import example_spec
from tests.workers import plugin
from tests.workers.conftest import (
    WorkerProcess,
    app_user,
    embedded_env,
    get_run,
    new_strategy,
    server_env,
    start_run,
    wait_for,
)

plugin.install()


@dataclass
class Backend:
    name: str
    app: Any
    slots: int  # jobs that can execute at once
    worker: WorkerProcess | None = None

    @property
    def context(self) -> Any:
        return self.app.server.extensions["arena"]


@pytest.fixture(scope="module", params=["in-process", pytest.param(
    "rq", marks=[pytest.mark.pg, pytest.mark.redis])])
def backend(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
            ) -> Iterator[Backend]:
    folder = tmp_path_factory.mktemp(request.param)
    if request.param == "in-process":
        dash_app = create_app(Settings.from_env(embedded_env(folder / "instance")))
        yield Backend("in-process", dash_app, slots=2)
        dash_app.server.extensions["arena"].close()
        return
    env = server_env(folder / "instance", request.getfixturevalue("jobs_pg_url"),
                     request.getfixturevalue("jobs_redis_url"),
                     request.getfixturevalue("queue_prefix"))
    dash_app = create_app(Settings.from_env(env))
    worker = WorkerProcess(env, folder / "worker.log", name=f"behaviour-{uuid.uuid4().hex[:8]}",
                           plugin=True)
    try:
        worker.wait_until_listening(redis.Redis.from_url(env["REDIS_URL"]))
        yield Backend("rq", dash_app, slots=1, worker=worker)
    finally:
        worker.kill()
        dash_app.server.extensions["arena"].close()


@pytest.fixture
def user(backend: Backend) -> Any:
    return app_user(backend.app)


def direct_backtest(backend: Backend, spec: dict[str, Any]) -> dict[str, Any]:
    from engine.backtest import run_backtest

    parsed = parse_spec(spec)
    prices = load_prices(backend.context.prices, parsed.symbol)
    benchmark = None
    if parsed.benchmark != parsed.symbol:
        benchmark = load_prices(backend.context.prices, parsed.benchmark)
    return finite_json(run_backtest(parsed, prices, benchmark,
                                    risk_free=backend.context.settings.risk_free_rate).to_dict())


def test_a_queued_backtest_succeeds_and_its_metrics_equal_a_direct_engine_call(backend, user):
    strategy = new_strategy(user)
    created = start_run(user, strategy["id"])
    assert created["status"] in ("queued", "running", "succeeded")
    run = wait_for(user, created["id"])
    assert run["status"] == "succeeded", run["error"]
    assert (run["progress"], run["stage"], run["attempts"]) == (100, "done", 1)
    direct = direct_backtest(backend, strategy["spec"])
    assert run["metrics"] == direct["metrics"]
    result = user.get(f"/runs/{run['id']}/result").get_json()
    assert result["metrics"] == direct["metrics"] and result["equity"] == direct["equity"]


def test_progress_and_stage_are_readable_while_a_run_executes(backend, user):
    strategy = new_strategy(user, name="test:sleep:2")
    run_id = start_run(user, strategy["id"])["id"]
    running = wait_for(user, run_id, ("running",))
    seen = set()
    while running["status"] == "running":
        seen.add((running["progress"], running["stage"]))
        time.sleep(0.15)
        running = get_run(user, run_id)
    assert running["status"] == "succeeded"
    stages = [stage for progress, stage in seen if 0 < progress < 100]
    assert any(stage.startswith("sleeping: step") for stage in stages), seen
    assert len({progress for progress, _ in seen}) >= 3, seen  # a moving progress bar


def test_an_exception_fails_the_run_with_a_readable_message_and_keeps_the_traceback_for_admins(
        backend, user):
    strategy = new_strategy(user, name="test:crash")
    run = wait_for(user, start_run(user, strategy["id"])["id"])
    assert run["status"] == "failed" and run["stage"] == "failed"
    assert "internal error" in run["error"] and "boom" not in run["error"]
    assert "error_detail" not in get_run(user, run["id"])
    with session_scope(backend.context.sessions) as session:
        session.get(User, user.id).is_admin = True
    detail = get_run(user, run["id"])["error_detail"]
    assert "RuntimeError: boom: a test crash" in detail and "Traceback" in detail


def test_a_run_past_its_time_limit_is_failed_with_a_clear_message(backend, user):
    strategy = new_strategy(user, name="test:sleep:30")  # JOB_TIMEOUT_SECONDS is 6
    started = time.monotonic()
    run = wait_for(user, start_run(user, strategy["id"])["id"], timeout=30)
    assert run["status"] == "failed"
    assert "time limit of 6 seconds" in run["error"], run["error"]
    assert time.monotonic() - started < 15


def test_transient_data_errors_are_retried_and_the_run_then_succeeds(backend, user):
    strategy = new_strategy(user, name="test:transient:2")
    run_id = start_run(user, strategy["id"])["id"]
    run = wait_for(user, run_id, timeout=30)
    assert run["status"] == "succeeded", run["error"]
    assert run["attempts"] == 3  # two outages, retried JOB_RETRY_INTERVALS apart


def test_transient_errors_fail_the_run_once_the_retries_are_used_up(backend, user):
    strategy = new_strategy(user, name="test:transient:9")
    run = wait_for(user, start_run(user, strategy["id"])["id"], timeout=30)
    assert run["status"] == "failed" and "unreachable" in run["error"]
    assert run["attempts"] == 4  # JOB_MAX_RETRIES = 3 retries


def test_other_errors_are_not_retried(backend, user):
    strategy = new_strategy(user, start="2035-01-01", end="2036-01-01")
    run = wait_for(user, start_run(user, strategy["id"])["id"])
    assert run["status"] == "failed" and "no bars of SPY" in run["error"]
    assert run["attempts"] == 1


def test_a_failed_run_can_be_retried_as_a_new_run(backend, user, tmp_path):
    flag = tmp_path / "fixed"
    strategy = new_strategy(user, name=f"test:crash-unless:{flag}")
    failed = wait_for(user, start_run(user, strategy["id"])["id"])
    assert failed["status"] == "failed"
    flag.touch()
    answer = user.post(f"/runs/{failed['id']}/retry")
    assert answer.status_code == 202, answer.get_json()
    retried = wait_for(user, answer.get_json()["run"]["id"])
    assert retried["status"] == "succeeded" and retried["retry_of_id"] == failed["id"]
    assert get_run(user, retried["id"])["spec"] == get_run(user, failed["id"])["spec"]
    again = user.post(f"/runs/{retried['id']}/retry")
    assert again.status_code == 409 and "only failed or cancelled" in again.get_json()[
        "error"]["message"]


def test_a_queued_run_is_cancelled_off_the_queue_and_never_executes(backend, user):
    sleeper = new_strategy(user, name="test:sleep:2")
    busy = [start_run(user, sleeper["id"])["id"] for _ in range(backend.slots)]
    for run_id in busy:
        wait_for(user, run_id, ("running",))
    target = start_run(user, new_strategy(user)["id"])["id"]
    assert backend.context.runner.states([run_job_id(target)]) == {run_job_id(target): "waiting"}
    cancelled = user.post(f"/runs/{target}/cancel")
    assert cancelled.status_code == 200 and cancelled.get_json()["run"]["status"] == "cancelled"
    assert backend.context.runner.states([run_job_id(target)]) == {}
    for run_id in busy:
        assert wait_for(user, run_id)["status"] == "succeeded"
    run = get_run(user, target)
    assert (run["status"], run["attempts"], run["started_at"]) == ("cancelled", 0, None)


def test_a_running_run_is_cancelled_and_stops(backend, user):
    strategy = new_strategy(user, name="test:sleep:20")
    run_id = start_run(user, strategy["id"])["id"]
    wait_for(user, run_id, ("running",))
    started = time.monotonic()
    assert user.post(f"/runs/{run_id}/cancel").get_json()["run"]["status"] == "cancelled"
    assert user.post(f"/runs/{run_id}/cancel").status_code == 409
    follow = wait_for(user, start_run(user, new_strategy(user)["id"])["id"])
    assert follow["status"] == "succeeded"  # the worker is free again...
    assert time.monotonic() - started < 10  # ...long before the 20 s sleep would end
    run = get_run(user, run_id)
    assert run["status"] == "cancelled" and user.get(f"/runs/{run_id}/result").status_code == 409


def test_a_run_submitted_twice_executes_once(backend, user):
    strategy = new_strategy(user)
    run_id = start_run(user, strategy["id"])["id"]
    submit_run(backend.context, run_id)
    submit_run(backend.context, run_id)
    assert wait_for(user, run_id)["status"] == "succeeded"
    time.sleep(0.5)
    assert get_run(user, run_id)["attempts"] == 1


GRID = {"entry.all[0].right": [25, 30, 35], "entry.all[0].left.params.period": [7, 14, 21]}


@pytest.mark.parametrize("grid", [GRID, {"entry.all[0].right": [25, 30]}],
                         ids=["split-into-chunks", "one-job"])
def test_a_sweep_equals_a_direct_engine_sweep_whether_split_or_not(backend, user, grid):
    from engine.sweep import run_sweep

    strategy = new_strategy(user)
    run = wait_for(user, start_run(user, strategy["id"], kind="sweep",
                                   options={"grid": grid})["id"], timeout=60)
    assert run["status"] == "succeeded", run["error"]
    document = user.get(f"/runs/{run['id']}/result").get_json()
    spec = parse_spec(strategy["spec"])
    prices = load_prices(backend.context.prices, spec.symbol)
    direct = finite_json(run_sweep(spec, prices, document["grid"],
                                   risk_free=backend.context.settings.risk_free_rate).to_dict())
    # JSON objects have no key order (JSONB, the API's sorted keys): compare rows by params
    def by_params(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
        return sorted(rows, key=lambda row: json.dumps(row["params"], sort_keys=True))

    combinations = math.prod(len(values) for values in grid.values())
    assert len(document["results"]) == combinations == run["metrics"]["combinations"]
    split_rows, direct_rows = document["results"], direct["results"]
    assert by_params(document.pop("results")) == by_params(direct.pop("results"))
    # The overfitting odds of a split sweep, assessed at the merge from the chunks' stored
    # block moments, equal those the engine computes on the whole grid at once.
    split, whole = document.pop("overfitting"), direct.pop("overfitting")
    # ``selected`` indexes each document's own rows (the grid's key order may differ: JSONB)
    assert (split_rows[split.pop("selected")]["params"]
            == direct_rows[whole.pop("selected")]["params"])
    assert split.keys() == whole.keys()
    for key, value in whole.items():
        assert split[key] == (pytest.approx(value, rel=1e-9) if isinstance(value, float)
                              else value), key
    assert run["metrics"]["pbo"] == split["pbo"]
    assert document == direct  # spec and grid
    with backend.context.sessions() as session:
        stored = session.get(BacktestRun, run["id"])
        assert stored.parts_total == (3 if combinations == 9 else None)
        assert session.query(RunPart).filter_by(run_id=run["id"]).count() == 0


def test_a_walkforward_run_equals_a_direct_engine_walkforward(backend, user):
    from engine.walkforward import run_walkforward

    strategy = new_strategy(user)
    options = {"grid": {"entry.all[0].right": [25, 35]}, "folds": 2, "in_sample_size": 2}
    run = wait_for(user, start_run(user, strategy["id"], kind="walkforward",
                                   options=options)["id"], timeout=60)
    assert run["status"] == "succeeded", run["error"]
    document = user.get(f"/runs/{run['id']}/result").get_json()
    spec = parse_spec(strategy["spec"])
    prices = load_prices(backend.context.prices, spec.symbol)
    direct = finite_json(run_walkforward(
        spec, prices, options["grid"], folds=2, in_sample_size=2,
        risk_free=backend.context.settings.risk_free_rate).to_dict())
    assert document == direct
    assert run["metrics"]["folds"] == 2
    assert run["metrics"]["efficiency"] == direct["efficiency"]


def test_a_walkforward_with_an_unknown_metric_answers_422_naming_the_option(backend, user):
    strategy = new_strategy(user)
    answer = user.post("/runs", json={"strategy_id": strategy["id"], "kind": "walkforward",
                                      "options": {"grid": {"entry.all[0].right": [25]},
                                                  "metric": "luck"}})
    assert answer.status_code == 422
    assert "options.metric" in answer.get_json()["error"]["fields"]


def test_a_sweep_with_a_bad_grid_answers_422(backend, user):
    strategy = new_strategy(user)
    answer = user.post("/runs", json={"strategy_id": strategy["id"], "kind": "sweep",
                                      "options": {"grid": {"entry.all[7].right": [1]}}})
    assert answer.status_code == 422
    assert "options.grid.entry.all[7].right" in answer.get_json()["error"]["fields"]


def test_a_cancelled_sweep_takes_its_waiting_chunks_off_the_queue(backend, user):

    strategy = new_strategy(user, start="2005-01-01", end="2024-06-30")
    grid = {"entry.all[0].right": list(range(10, 50)),
            "entry.all[0].left.params.period": list(range(5, 15))}  # 400 combinations
    run_id = start_run(user, strategy["id"], kind="sweep", options={"grid": grid})["id"]
    deadline = time.monotonic() + 30
    while True:
        with backend.context.sessions() as session:
            total = session.get(BacktestRun, run_id).parts_total
        if total:
            break
        assert time.monotonic() < deadline, "the sweep was never split"
        time.sleep(0.02)
    assert user.post(f"/runs/{run_id}/cancel").status_code == 200  # while chunks are queued
    jobs = [part_job_id(run_id, part) for part in range(total)]
    deadline = time.monotonic() + 10
    while "waiting" in backend.context.runner.states(jobs).values():
        assert time.monotonic() < deadline, backend.context.runner.states(jobs)
        time.sleep(0.1)
    time.sleep(0.5)
    run = get_run(user, run_id)
    assert run["status"] == "cancelled" and run["metrics"] is None
    with backend.context.sessions() as session:
        assert session.get(BacktestRun, run_id).parts_done < total


def test_the_reaper_fails_stale_running_runs_and_queued_runs_whose_job_vanished(backend, user):
    strategy = new_strategy(user)
    long_ago = utcnow() - timedelta(minutes=5)
    with session_scope(backend.context.sessions) as session:
        runs = [BacktestRun(user_id=user.id, strategy_id=strategy["id"], spec=strategy["spec"],
                            status=status, created_at=long_ago, heartbeat_at=beat)
                for status, beat in [("running", long_ago), ("queued", None),
                                     ("running", utcnow())]]
        session.add_all(runs)
        session.flush()
        stale, lost, alive = (run.id for run in runs)
    report = reap(backend.context)
    assert stale in report.stopped and lost in report.lost
    assert alive not in report.stopped
    assert get_run(user, stale)["error"] == STOPPED_MESSAGE
    assert get_run(user, lost)["error"] == LOST_MESSAGE
    assert get_run(user, alive)["status"] == "running"
    with session_scope(backend.context.sessions) as session:
        session.get(BacktestRun, alive).status = "cancelled"


def test_a_stale_running_run_is_failed_by_the_reaper_on_its_schedule_not_by_a_read(
        backend, user):
    strategy = new_strategy(user)
    with session_scope(backend.context.sessions) as session:
        run = BacktestRun(user_id=user.id, strategy_id=strategy["id"], spec=strategy["spec"],
                          status="running", heartbeat_at=utcnow() - timedelta(minutes=1))
        session.add(run)
        session.flush()
        run_id = run.id
    assert get_run(user, run_id)["status"] == "running"  # reading it changes nothing
    deadline = time.monotonic() + REAP_EVERY_SECONDS * 2 + 5
    while get_run(user, run_id)["status"] == "running":
        assert time.monotonic() < deadline, "the reaper never failed the stale run"
        time.sleep(0.2)
    assert get_run(user, run_id)["error"] == STOPPED_MESSAGE


def test_example_spec_is_untouched_by_the_plugin():
    assert not example_spec()["name"].startswith(plugin.PREFIX)
