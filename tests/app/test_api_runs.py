"""``/api/v1/runs`` and the run executor: a backtest run end to end, its result
(docs/results.md#backtest-result),
failures a user can read, kinds not available yet, and the listing filters."""

from __future__ import annotations

import time

from app.models import BacktestRun, RunResult
from app.runs.execute import execute_run
from app.runs.state import finite_json
from app.services import session_scope
from tests.app.conftest import example_spec
from tests.app.test_api_strategies import create
from tests.app.test_auth import error_of

METRIC_KEYS = {"total_return", "cagr", "volatility", "sharpe", "sortino", "max_drawdown",
               "max_drawdown_duration_days", "calmar", "num_trades", "win_rate",
               "profit_factor", "avg_trade_return", "exposure", "var_95", "cvar_95", "beta",
               "alpha", "final_equity"}


def start_run(user, strategy_id, timeout=60, **body):
    """POST a run (202, queued or already finished), then poll it until it has finished."""
    answer = user.post("/runs", json={"strategy_id": strategy_id, **body})
    assert answer.status_code == 202, answer.get_json()
    run = answer.get_json()["run"]
    deadline = time.monotonic() + timeout
    while run["status"] in ("queued", "running"):
        assert time.monotonic() < deadline, f"run {run['id']} still {run['status']}"
        time.sleep(0.02)
        run = user.get(f"/runs/{run['id']}").get_json()["run"]
    return run


def test_a_backtest_run_succeeds_and_its_result_is_contract_3(user_a):
    strategy = create(user_a)
    run = start_run(user_a, strategy["id"], kind="backtest")
    assert run["status"] == "succeeded", run["error"]
    assert (run["progress"], run["stage"], run["error"]) == (100, "done", None)
    assert run["strategy_id"] == strategy["id"] and run["kind"] == "backtest"
    assert METRIC_KEYS <= set(run["metrics"])
    assert run["created_at"].endswith("Z") and run["finished_at"].endswith("Z")
    assert run["duration_seconds"] >= 0
    detail = user_a.get(f"/runs/{run['id']}").get_json()["run"]
    assert detail["spec"] == strategy["spec"]  # the snapshot
    result = user_a.get(f"/runs/{run['id']}/result")
    assert result.status_code == 200
    document = result.get_json()
    assert {"spec", "metrics", "benchmark_metrics", "trades", "equity"} <= set(document)
    assert document["metrics"] == run["metrics"]
    assert document["equity"][0]["date"] >= "2020-01-01"
    assert {"date", "equity", "position"} <= set(document["equity"][0])
    if document["trades"]:
        assert {"side", "entry_date", "entry_price", "exit_date", "exit_price", "units", "pnl",
                "return", "exit_reason"} <= set(document["trades"][0])


def test_the_spec_snapshot_is_kept_when_the_strategy_changes(user_a):
    strategy = create(user_a)
    run = start_run(user_a, strategy["id"])
    user_a.put(f"/strategies/{strategy['id']}", json={"spec": example_spec(fees_bps=99)})
    snapshot = user_a.get(f"/runs/{run['id']}").get_json()["run"]["spec"]
    assert snapshot["fees_bps"] == strategy["spec"]["fees_bps"] != 99


def test_a_run_without_data_fails_with_a_readable_error(user_a):
    strategy = create(user_a, start="2035-01-01", end="2036-01-01")
    run = start_run(user_a, strategy["id"])
    assert run["status"] == "failed" and run["stage"] == "failed"
    assert "no bars of SPY" in run["error"]
    missing = user_a.get(f"/runs/{run['id']}/result")
    assert missing.status_code == 409 and "status is failed" in error_of(missing)["message"]
    unknown = create(user_a, symbol="ZZZZ", benchmark="ZZZZ")
    failed = start_run(user_a, unknown["id"])
    assert failed["status"] == "failed" and "ZZZZ" in failed["error"]


def test_other_kinds_and_bad_run_requests_answer_4xx(user_a):
    strategy = create(user_a)
    from app.models import RUN_KINDS
    from app.runs.service import AVAILABLE_KINDS

    assert set(AVAILABLE_KINDS) == set(RUN_KINDS)  # every kind of the API runs
    unknown = user_a.post("/runs", json={"strategy_id": strategy["id"], "kind": "moon"})
    assert error_of(unknown)["fields"]["kind"].startswith("must be one of backtest")
    option = user_a.post("/runs", json={"strategy_id": strategy["id"], "options": {"x": 1}})
    assert option.status_code == 422 and "options.x" in error_of(option)["fields"]
    typed = user_a.post("/runs", json={"strategy_id": "1"})
    assert error_of(typed)["fields"] == {"strategy_id": "must be an integer"}
    boolean = user_a.post("/runs", json={"strategy_id": True})
    assert boolean.status_code == 422
    huge = user_a.post("/runs", json={"strategy_id": 2**63})
    assert error_of(huge)["fields"] == {"strategy_id": "must be at most 2147483647"}
    absent = user_a.post("/runs", json={"strategy_id": 2**31 - 1})
    assert absent.status_code == 404
    assert user_a.get("/runs").get_json()["total"] == 0


def test_list_filters_delete_and_cancel(user_a):
    first, second = create(user_a, "one"), create(user_a, "two")
    run_one = start_run(user_a, first["id"])
    run_two = start_run(user_a, second["id"])
    listed = user_a.get("/runs").get_json()
    assert [r["id"] for r in listed["runs"]] == [run_two["id"], run_one["id"]]
    only = user_a.get(f"/runs?strategy_id={first['id']}").get_json()
    assert [r["id"] for r in only["runs"]] == [run_one["id"]] and only["total"] == 1
    assert user_a.get("/runs?status=failed").get_json()["runs"] == []
    assert user_a.get("/runs?status=nope").status_code == 422
    finished = user_a.post(f"/runs/{run_one['id']}/cancel")
    assert finished.status_code == 409 and "already finished" in error_of(finished)["message"]
    assert user_a.delete(f"/runs/{run_one['id']}").status_code == 204
    assert user_a.get(f"/runs/{run_one['id']}").status_code == 404
    assert user_a.delete(f"/strategies/{second['id']}").status_code == 204
    assert user_a.get(f"/runs/{run_two['id']}").status_code == 404  # cascaded


def test_execute_run_only_picks_up_queued_runs_and_respects_cancellation(app, user_a):
    strategy = create(user_a)
    context = app.server.extensions["arena"]
    sessions = context.sessions
    with session_scope(sessions) as session:
        queued = BacktestRun(user_id=user_a.id, strategy_id=strategy["id"],
                             spec=strategy["spec"])
        cancelled = BacktestRun(user_id=user_a.id, strategy_id=strategy["id"],
                                spec=strategy["spec"], status="cancelled")
        session.add_all([queued, cancelled])
        session.flush()
        ids = queued.id, cancelled.id
    cancel = user_a.post(f"/runs/{ids[0]}/cancel")
    assert cancel.status_code == 200 and cancel.get_json()["run"]["status"] == "cancelled"
    assert execute_run(ids[0], context) == "cancelled"
    assert execute_run(ids[1], context) == "cancelled"
    assert execute_run(2**31 - 1, context) == "missing"
    with sessions() as session:
        assert session.get(RunResult, ids[0]) is None


def test_finite_json_replaces_nan_and_infinity():
    assert finite_json({"a": float("nan"), "b": [float("inf"), 1.5], "c": "x"}) == {
        "a": None, "b": [None, 1.5], "c": "x"}


def test_prices_and_symbols(user_a):
    symbols = user_a.get("/symbols").get_json()["symbols"]
    spy = next(entry for entry in symbols if entry["symbol"] == "SPY")
    assert spy["name"] and spy["first_date"] == "1999-11-01"
    bars = user_a.get("/prices/spy?start=2020-03-02&end=2020-03-06").get_json()
    assert bars["symbol"] == "SPY" and [b["date"] for b in bars["bars"]] == [
        "2020-03-02", "2020-03-03", "2020-03-04", "2020-03-05", "2020-03-06"]
    assert {"open", "high", "low", "close", "volume"} <= set(bars["bars"][0])
    unknown = user_a.get("/prices/ZZZZ")
    assert unknown.status_code == 404 and "ZZZZ" in error_of(unknown)["message"]
    assert user_a.get("/prices/SPY?start=2020-13-01").status_code == 422
    backwards = user_a.get("/prices/SPY?start=2021-01-01&end=2020-01-01")
    assert error_of(backwards)["fields"] == {"end": "must not be before start"}
    assert user_a.get("/prices/..%2Fetc").status_code in (404, 422)
    assert user_a.client.get("/api/v1/prices/SPY").status_code == 401  # needs a login


def test_a_run_too_large_to_finish_is_refused_at_creation_naming_the_grid(user_a):
    strategy = create(user_a, start="1950-01-01", end="2020-12-31")
    grid = {"entry.all[0].right": list(range(400)), "exit.any[0].right": list(range(60))}
    answer = user_a.post("/runs", json={"strategy_id": strategy["id"], "kind": "sweep",
                                        "options": {"grid": grid}})
    assert answer.status_code == 422
    assert "simulated bars" in error_of(answer)["fields"]["options.grid"]
    assert user_a.get("/runs").get_json()["total"] == 0  # nothing was stored


def test_a_spec_with_an_unbounded_look_back_is_refused_when_saved(user_a):
    spec = example_spec()
    spec["entry"]["all"][0]["left"]["params"]["period"] = 100_000
    answer = user_a.post("/strategies", json={"spec": spec})
    assert answer.status_code == 422
    assert error_of(answer)["fields"] == {
        "spec.entry.all[0].left.params.period": "must be at most 5000"}
