"""Robustness runs through the API (a background job; result docs/results.md#robustness-result) and
``arena robustness``."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from app import create_app
from app.cli import main
from app.runs.kinds import HANDLERS
from app.runs.queueing import QUEUE_OF_KIND
from data.bundled import load_bundled
from engine.options import OPTIONS_MODELS, RobustnessOptions, field_default
from tests.app.conftest import example_spec, register_and_login, sqlite_settings
from tests.app.test_api_strategies import create
from tests.app.test_auth import error_of
from tests.app.test_stress_runs import finished


@pytest.fixture(scope="module")
def user(tmp_path_factory):
    dash_app = create_app(sqlite_settings(tmp_path_factory.mktemp("robustness") / "instance"))
    yield register_and_login(dash_app)
    dash_app.server.extensions["arena"].engine.dispose()


def test_robustness_is_a_registered_kind_with_its_options_model_and_queue():
    assert "robustness" in HANDLERS and QUEUE_OF_KIND["robustness"] == "default"
    assert OPTIONS_MODELS["robustness"] is RobustnessOptions
    assert field_default(RobustnessOptions, "paths") == 5000
    assert field_default(RobustnessOptions, "max_cost_bps") == 100
    assert field_default(RobustnessOptions, "cost_points") == 11


def test_a_robustness_run_succeeds_in_the_background_with_a_3d_result(user):
    strategy = create(user, start="2010-01-01", end="2024-11-08")
    answer = user.post("/runs", json={"strategy_id": strategy["id"], "kind": "robustness",
                                      "options": {"paths": 300, "seed": 4}})
    assert answer.status_code == 202, answer.get_json()
    run = finished(user, answer.get_json()["run"]["id"])
    assert run["status"] == "succeeded", run["error"]
    assert (run["kind"], run["progress"], run["stage"]) == ("robustness", 100, "done")
    document = user.get(f"/runs/{run['id']}/result").get_json()
    assert [r["assumption"] for r in document["fills"]] == [
        "next_open", "close", "next_open_delay1", "target_first"]
    assert len(document["costs"]) == 11
    assert document["trade_monte_carlo"]["paths"] == 300
    assert document["trade_monte_carlo"]["seed"] == 4
    assert run["metrics"]["cagr"] == document["fills"][0]["metrics"]["cagr"]
    assert run["metrics"]["breakeven_bps_vs_zero"] == document["breakeven_bps"]["vs_zero"]


@pytest.mark.parametrize(("options", "field", "says"), [
    ({"paths": 200_000}, "options.paths", "0 to 100,000"),
    ({"cost_points": 5}, "options.cost_points", "11 to 201"),
    ({"max_cost_bps": 0}, "options.max_cost_bps", "above 0"),
    ({"colour": "red"}, "options.colour", "allowed: paths"),
])
def test_bad_robustness_options_answer_422_naming_the_option(user, options, field, says):
    strategy = create(user)
    answer = user.post("/runs", json={"strategy_id": strategy["id"], "kind": "robustness",
                                      "options": options})
    assert answer.status_code == 422, answer.get_json()
    assert says in error_of(answer)["fields"][field]


def test_the_openapi_document_describes_robustness_options_and_results(user):
    document = user.get("/openapi.json").get_json()
    schemas = document["components"]["schemas"]
    assert schemas["RobustnessOptions"]["properties"]["paths"]["default"] == 5000
    assert "robustness" in schemas["RunInput"]["properties"]["kind"]["enum"]
    assert "RobustnessResult" in json.dumps(document["paths"]["/runs/{run_id}/result"])
    assert "RobustnessOptions" in json.dumps(schemas["RunInput"])


@pytest.fixture
def spec_and_prices(tmp_path: Path, monkeypatch) -> tuple[str, str]:
    monkeypatch.setenv("ARENA_INSTANCE_DIR", str(tmp_path / "instance"))
    spec_path = tmp_path / "spec.json"
    spec_path.write_text(json.dumps(example_spec(start="2010-01-01", end="2024-11-08")))
    prices_path = tmp_path / "spy.csv"
    load_bundled("SPY").to_csv(prices_path)
    return str(spec_path), str(prices_path)


def test_arena_robustness_json_prints_3d(spec_and_prices):
    spec_path, prices_path = spec_and_prices
    result = CliRunner().invoke(main, ["robustness", "--spec", spec_path, "--prices",
                                       prices_path, "--paths", "200", "--seed", "2", "--json"])
    assert result.exit_code == 0, result.output
    document = json.loads(result.stdout)
    assert set(document) >= {"spec", "fills", "costs", "breakeven_bps", "trade_monte_carlo",
                             "conventions", "warnings"}
    assert document["trade_monte_carlo"]["seed"] == 2


def test_arena_robustness_prints_a_readable_report(spec_and_prices):
    spec_path, prices_path = spec_and_prices
    result = CliRunner().invoke(main, ["robustness", "--spec", spec_path, "--prices",
                                       prices_path, "--paths", "100"])
    assert result.exit_code == 0, result.output
    assert "one bar late (open of t+2)" in result.stdout
    assert "break-even cost" in result.stdout and "trade-order Monte Carlo" in result.stdout


def test_arena_robustness_rejects_bad_options_with_exit_2(spec_and_prices):
    spec_path, prices_path = spec_and_prices
    result = CliRunner().invoke(main, ["robustness", "--spec", spec_path, "--prices",
                                       prices_path, "--cost-points", "3"])
    assert result.exit_code == 2
    assert "--cost-points: must be a whole number from 11 to 201" in result.stderr
