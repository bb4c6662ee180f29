"""Stress runs through the API (a background job; result docs/results.md#stress-result) and ``arena
stress``."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest
from click.testing import CliRunner

from app import create_app
from app.cli import main
from data.bundled import load_bundled
from engine.scenarios import scenario_ids
from tests.app.conftest import example_spec, register_and_login, sqlite_settings
from tests.app.test_api_strategies import create
from tests.app.test_auth import error_of

SMALL = {"scenarios": ["covid_crash_2020", "inflation_bear_2022"], "transplants": [],
         "paths": 40, "horizon_days": 21, "seed": 3}


@pytest.fixture(scope="module")
def user(tmp_path_factory):
    dash_app = create_app(sqlite_settings(tmp_path_factory.mktemp("stress") / "instance"))
    yield register_and_login(dash_app)
    dash_app.server.extensions["arena"].engine.dispose()


def finished(user, run_id: int, timeout: float = 120.0) -> dict:
    """Poll the run until it leaves queued/running."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        run = user.get(f"/runs/{run_id}").get_json()["run"]
        if run["status"] not in ("queued", "running"):
            return run
        time.sleep(0.2)
    raise AssertionError(f"run {run_id} still {run['status']} after {timeout} s")


def test_a_stress_run_succeeds_in_the_background_with_a_3b_result(user):
    strategy = create(user, start="2010-01-01", end="2024-11-08")
    answer = user.post("/runs", json={"strategy_id": strategy["id"], "kind": "stress",
                                      "options": SMALL | {"custom_scenarios": [
                                          {"id": "dip_2021", "start": "2021-09-02",
                                           "end": "2021-10-04", "name": "Sept 2021"}]}})
    assert answer.status_code == 202, answer.get_json()
    run = finished(user, answer.get_json()["run"]["id"])
    assert run["status"] == "succeeded", run["error"]
    assert (run["kind"], run["progress"], run["stage"]) == ("stress", 100, "done")
    assert run["metrics"]["scenarios"] == 3 and run["metrics"]["crises"] == 3
    assert 0 <= run["metrics"]["crises_lost_less"] <= 3
    document = user.get(f"/runs/{run['id']}/result").get_json()
    assert [s["id"] for s in document["scenarios"]] == ["covid_crash_2020",
                                                       "inflation_bear_2022", "dip_2021"]
    covid = document["scenarios"][0]
    assert covid["equity"][0] == {"date": "2020-02-19", "strategy": 100.0, "benchmark": 100.0}
    assert covid["benchmark"]["return"] == pytest.approx(-0.337, abs=0.01)  # adjusted SPY
    assert document["monte_carlo"]["paths"] == 40
    assert len(document["monte_carlo"]["fan"]) == 22


@pytest.mark.parametrize(("options", "field", "says"), [
    ({"paths": 20_000}, "options.paths", "0 to 10,000"),
    ({"paths": "many"}, "options.paths", "whole number"),
    ({"paths": 10_000, "horizon_days": 2000}, "options.paths", "at most"),
    ({"scenarios": ["covid"]}, "options.scenarios", "valid ids: gfc_2008"),
    ({"scenarios": "covid_crash_2020"}, "options.scenarios", "list of scenario ids"),
    ({"transplants": ["nope"]}, "options.transplants", "unknown scenario"),
    ({"custom_scenarios": [{"id": "a", "start": "2021-03-01", "end": "2021-01-01"}]},
     "options.custom_scenarios[0].end", "after start"),
    ({"entry": "sideways"}, "options.entry", "flat, carry"),
    ({"block_length": 0}, "options.block_length", "1 to 252"),
    ({"gap_pct": -10, "gap_day": 300, "horizon_days": 252}, "options.gap_day", "1 to 252"),
    ({"colour": "red"}, "options.colour", "allowed: scenarios"),
])
def test_bad_stress_options_answer_422_naming_the_option(user, options, field, says):
    strategy = create(user)
    answer = user.post("/runs", json={"strategy_id": strategy["id"], "kind": "stress",
                                      "options": options})
    assert answer.status_code == 422, answer.get_json()
    assert says in error_of(answer)["fields"][field]


def test_the_openapi_document_describes_stress_options_and_results(user):
    document = user.get("/openapi.json").get_json()
    options = document["components"]["schemas"]["StressOptions"]["properties"]
    assert options["paths"]["maximum"] == 10_000
    assert "StressResult" in json.dumps(document["paths"]["/runs/{run_id}/result"])
    assert scenario_ids()[0] == "gfc_2008"


# --- the command line ----------------------------------------------------------------------


@pytest.fixture
def spec_and_prices(tmp_path: Path, monkeypatch) -> tuple[str, str]:
    monkeypatch.setenv("ARENA_INSTANCE_DIR", str(tmp_path / "instance"))
    spec_path = tmp_path / "spec.json"
    spec_path.write_text(json.dumps(example_spec(start="2010-01-01", end="2024-11-08")))
    prices_path = tmp_path / "spy.csv"
    load_bundled("SPY").to_csv(prices_path)
    return str(spec_path), str(prices_path)


def test_arena_stress_json_prints_3b(spec_and_prices):
    spec_path, prices_path = spec_and_prices
    result = CliRunner().invoke(main, [
        "stress", "--spec", spec_path, "--prices", prices_path, "--scenarios",
        "covid_crash_2020,gfc_2008", "--transplants", "none", "--paths", "30", "--horizon", "10",
        "--seed", "5", "--window", "dip_2021:2021-09-02:2021-10-04", "--gap-pct", "-10",
        "--gap-day", "3", "--vol-multiplier", "1.5", "--json"])
    assert result.exit_code == 0, result.output
    document = json.loads(result.stdout)
    assert [s["id"] for s in document["scenarios"]] == ["covid_crash_2020", "gfc_2008",
                                                       "dip_2021"]
    assert document["monte_carlo"]["seed"] == 5 and document["monte_carlo"]["paths"] == 30
    assert document["monte_carlo"]["shocks"] == {"vol_multiplier": 1.5, "gap_pct": -10.0,
                                                 "gap_day": 3}


def test_arena_stress_prints_a_readable_report(spec_and_prices):
    spec_path, prices_path = spec_and_prices
    result = CliRunner().invoke(main, ["stress", "--spec", spec_path, "--prices", prices_path,
                                       "--paths", "20", "--horizon", "10"])
    assert result.exit_code == 0, result.output
    out = result.stdout
    assert "COVID-19 crash" in out and "2008 global financial crisis, next" in out
    assert "Monte Carlo: 20 paths x 10 days" in out
    assert "crises your strategy lost less than buy-and-hold of SPY" in out


@pytest.mark.parametrize(("arguments", "says"), [
    (["--scenarios", "covid_2020"], "--scenarios: unknown scenario 'covid_2020'; valid ids"),
    (["--transplants", "x"], "--transplants: unknown scenario 'x'"),
    (["--window", "dip:2021-09-02"], "expected ID:START:END"),
    (["--window", "dip:2021-10-02:2021-09-02"], "--window[0].end: must be after start"),
    (["--paths", "-3"], "--paths: must be a whole number"),
    (["--gap-pct", "-150"], "--gap-pct: must be a number from -99 to 100"),
])
def test_arena_stress_exits_2_on_bad_input(spec_and_prices, arguments, says):
    spec_path, prices_path = spec_and_prices
    result = CliRunner().invoke(main, ["stress", "--spec", spec_path, "--prices", prices_path,
                                       *arguments])
    assert result.exit_code == 2, result.output
    assert says in result.stderr
    assert valid_ids_listed(result.stderr) or "scenarios" not in arguments[0]


def valid_ids_listed(text: str) -> bool:
    return all(i in text for i in scenario_ids())
