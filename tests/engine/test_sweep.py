"""run_sweep / sweep_final_equity: each combination equals a direct run_backtest of its spec."""

from __future__ import annotations

import json
import math

import numpy as np
import pandas as pd
import pytest

from data.bundled import load_bundled
from engine.backtest import run_backtest
from engine.metrics import period_returns
from engine.overfitting import assess, block_moments
from engine.spec import SpecError, set_by_path
from engine.sweep import GridError, run_sweep, sweep_final_equity

FAST = "entry.all[0].left.params.period,exit.all[0].left.params.period"
SLOW = "entry.all[0].right.params.period,exit.all[0].right.params.period"
RSI_PERIOD = "entry.all[0].left.params.period"
RSI_LEVEL = "entry.all[0].right"


def sma_cross_spec(**overrides) -> dict:
    fast = {"indicator": "sma", "params": {"period": 10}}
    slow = {"indicator": "sma", "params": {"period": 50}}
    spec = {
        "version": 1, "name": "SMA cross", "symbol": "SPY", "start": "2012-01-01",
        "end": "2019-12-31", "fees_bps": 10, "slippage_bps": 5,
        "entry": {"all": [{"left": fast, "op": "crosses_above", "right": slow}]},
        "exit": {"all": [{"left": fast, "op": "crosses_below", "right": slow}]},
    }
    spec.update(overrides)
    return spec


def rsi_spec(**overrides) -> dict:
    rsi = {"indicator": "rsi", "params": {"period": 14}}
    return sma_cross_spec(
        name="RSI", entry={"all": [{"left": rsi, "op": "<", "right": 30}]},
        exit={"any": [{"left": rsi, "op": ">", "right": 70}]}, **overrides)


def macd_spec() -> dict:
    macd = {"indicator": "macd", "params": {"fast": 12, "slow": 26, "signal": 9}}
    signal = {**macd, "output": "signal"}
    return sma_cross_spec(
        name="MACD", entry={"all": [{"left": macd, "op": "crosses_above", "right": signal}]},
        exit={"all": [{"left": macd, "op": "crosses_below", "right": signal}]})


@pytest.fixture(scope="module")
def spy() -> pd.DataFrame:
    return load_bundled("SPY", start="2010-01-01", end="2019-12-31")


def spec_of(base: dict, params: dict) -> dict:
    # Through JSON, not deepcopy: rsi_spec's entry and exit share one operand dict, and a
    # deepcopy keeps that sharing (setting the entry's period would set the exit's too).
    spec = json.loads(json.dumps(base))
    for key, value in params.items():
        for path in key.split(","):
            set_by_path(spec, path, value)
    return spec


def assert_metrics_equal(swept: dict, direct: dict) -> None:
    assert swept.keys() == direct.keys()
    for key, expected in direct.items():
        if expected is None:
            assert swept[key] is None, key
        else:
            assert swept[key] == pytest.approx(expected, rel=1e-12, abs=1e-12), key


def assert_every_combination_matches_run_backtest(base: dict, result, spy) -> None:
    for entry in result.results:
        direct = run_backtest(spec_of(base, entry["params"]), spy)
        assert_metrics_equal(entry["metrics"], direct.metrics)


def test_every_combination_equals_a_direct_backtest_across_signal_and_config_fields(spy):
    base = sma_cross_spec()
    grid = {FAST: [5, 20], SLOW: [30, 60], "stop_loss_pct": [None, 4], "fees_bps": [0, 25]}
    result = run_sweep(base, spy, grid)
    assert len(result.results) == 16
    assert_every_combination_matches_run_backtest(base, result, spy)


def test_twenty_random_combinations_of_a_short_stop_using_spec_equal_direct_backtests(spy):
    base = sma_cross_spec(direction="short", stop_loss_pct=5, trailing_stop_pct=None)
    rng = np.random.default_rng(17)
    grid = {FAST: sorted({int(v) for v in rng.integers(3, 40, 6)}),
            SLOW: sorted({int(v) for v in rng.integers(45, 150, 6)}),
            "stop_loss_pct": [2, 5, None], "take_profit_pct": [None, 10]}
    everything = run_sweep(base, spy, grid)
    picked = set(rng.choice(len(everything.results), size=20, replace=False).tolist())
    assert len(picked) == 20
    for i in picked:
        entry = everything.results[i]
        assert_metrics_equal(entry["metrics"],
                             run_backtest(spec_of(base, entry["params"]), spy).metrics)


def test_overfitting_report_is_assessed_on_the_returns_of_direct_backtests(spy):
    grid = {RSI_LEVEL: [20, 30, 40], RSI_PERIOD: [5, 14]}
    result = run_sweep(rsi_spec(), spy, grid, partitions=8)
    curves = [run_backtest(spec_of(rsi_spec(), entry["params"]), spy) for entry in result.results]
    returns = np.column_stack([period_returns(c.equity_curve, 10_000) for c in curves])
    expected = assess(block_moments(returns, 8))
    report = result.to_dict()["overfitting"]
    assert report["trials"] == 6 and report["partitions"] == 8 and report["splits"] == 70
    assert report["selected"] == expected["selected"]
    for key in ("sharpe", "skew", "kurtosis", "deflated_sharpe", "pbo", "expected_max_sharpe"):
        assert report[key] == pytest.approx(expected[key], rel=1e-9, abs=1e-12), key


def test_nested_groups_short_side_and_swept_operators_match_direct_backtests(spy):
    rsi = {"indicator": "rsi", "params": {"period": 14}}
    base = sma_cross_spec(
        direction="both", take_profit_pct=8,
        entry={"all": [{"left": rsi, "op": "<", "right": 35},
                       {"any": [{"left": {"field": "close"}, "op": ">",
                                 "right": {"indicator": "sma", "params": {"period": 200}}},
                                {"left": {"field": "close", "offset": 1}, "op": "<=",
                                 "right": {"indicator": "bbands", "params": {"period": 20},
                                           "output": "lower"}}]}]},
        exit={"any": [{"left": rsi, "op": "crosses_above", "right": 65}]})
    grid = {"entry.all[0].op": ["<", "<="], "entry.all[1].any[0].right.params.period": [50, 200],
            "exit.any[0].right": [60, 70]}
    result = run_sweep(base, spy, grid)
    assert len(result.results) == 8
    assert_every_combination_matches_run_backtest(base, result, spy)


def test_result_is_contract_3c_with_grid_keys_as_given(spy):
    grid = {RSI_LEVEL: [20, 25, 30], RSI_PERIOD: [7, 14, 21]}
    result = run_sweep(rsi_spec(), spy, grid).to_dict()
    assert set(result) == {"spec", "grid", "results", "overfitting"}
    assert result["spec"]["entry"]["all"][0]["left"]["params"] == {"period": 14}
    assert result["grid"] == grid
    assert [r["params"] for r in result["results"]] == [
        {RSI_LEVEL: level, RSI_PERIOD: period} for level in (20, 25, 30) for period in (7, 14, 21)]
    for entry in result["results"]:
        assert set(entry) == {"params", "metrics"}
        assert {"total_return", "sharpe", "max_drawdown", "final_equity"} <= entry["metrics"].keys()
    json.dumps(result, allow_nan=False)  # plain JSON, no NaN


def test_invalid_combination_is_reported_with_its_message_and_the_rest_still_runs(spy):
    grid = {"entry.all[0].left.params.fast,entry.all[0].right.params.fast": [8, 30]}
    result = run_sweep(macd_spec(), spy, grid)
    valid, invalid = result.results
    assert valid["metrics"]["num_trades"] > 0 and "error" not in valid
    assert invalid["metrics"] is None
    assert "entry.all[0].left.params.slow: must be greater than fast (30)" in invalid["error"]
    final = sweep_final_equity(macd_spec(), spy, grid)
    assert math.isnan(final.final_equity[1]) and final.errors[1] == invalid["error"]


def test_a_window_without_bars_is_reported_per_combination(spy):
    result = run_sweep(rsi_spec(), spy, {"start": ["2015-01-01", "2030-01-01"], "end": [None]})
    assert result.results[0]["metrics"] is not None
    assert result.results[1]["metrics"] is None
    assert "no bars of SPY between 2030-01-01" in result.results[1]["error"]


def test_where_leaves_combinations_out_and_counts_them(spy):
    result = run_sweep(sma_cross_spec(), spy, {FAST: [10, 50, 100], SLOW: [50, 100]},
                       where=lambda p: p[FAST] < p[SLOW])
    assert [r["params"] for r in result.results] == [
        {FAST: 10, SLOW: 50}, {FAST: 10, SLOW: 100}, {FAST: 50, SLOW: 100}]
    assert result.skipped == 3


def test_each_distinct_indicator_is_computed_once_over_the_whole_grid(spy):
    # fast 5, 10, 15 and slow 20, 30: five distinct SMAs for six combinations of two trees each
    result = run_sweep(sma_cross_spec(), spy, {FAST: [5, 10, 15], SLOW: [20, 30]})
    assert result.indicators_computed == 5
    # thresholds do not add indicators; periods 7 and 14 do
    result = run_sweep(rsi_spec(), spy, {RSI_PERIOD: [7, 14], RSI_LEVEL: [20, 25, 30]})
    assert result.indicators_computed == 2


def test_fast_path_equals_the_full_path_final_equities(spy):
    grid = {FAST: [5, 10, 20], SLOW: [30, 50], "stop_loss_pct": [None, 3]}
    full = run_sweep(sma_cross_spec(), spy, grid)
    fast = sweep_final_equity(sma_cross_spec(), spy, grid)
    assert fast.params == [r["params"] for r in full.results]
    np.testing.assert_array_equal(
        fast.final_equity, [r["metrics"]["final_equity"] for r in full.results])


def test_numpy_values_in_the_grid_come_back_as_plain_numbers(spy):
    result = run_sweep(rsi_spec(), spy, {RSI_LEVEL: np.array([25.0, 30.0])})
    assert result.grid == {RSI_LEVEL: [25.0, 30.0]}
    assert type(result.results[0]["params"][RSI_LEVEL]) is float


def test_progress_goes_from_zero_to_one_through_the_stages(spy):
    seen = []
    run_sweep(rsi_spec(), spy, {RSI_LEVEL: [25, 30]}, progress=lambda f, s: seen.append((f, s)))
    fractions = [f for f, _ in seen]
    assert fractions == sorted(fractions) and fractions[0] == 0.0 and fractions[-1] == 1.0
    assert [s for s in dict.fromkeys(s for _, s in seen)] == [
        "validate", "signals", "simulate", "metrics"]


@pytest.mark.parametrize(("grid", "message"), [
    ({"entry.all[3].right": [1]}, "no list item [3]"),
    ({"entry.all[0].rigth": [1]}, "no key 'rigth'"),
    ({"entry..all": [1]}, "malformed path"),
    ({"symbol": ["QQQ"]}, "cannot be swept"),
    ({"entry.all[0].left": [{"field": "close"}], RSI_PERIOD: [7]}, "set the same part"),
    ({"stop_loss_pct,stop_loss_pct": [5]}, "set the same part"),
    ({RSI_LEVEL: []}, "non-empty list"),
    ({RSI_LEVEL: 30}, "non-empty list"),
    ({}, "non-empty object"),
])
def test_unusable_grids_raise_grid_error_naming_the_key(spy, grid, message):
    with pytest.raises(GridError, match=message.replace("[", r"\[").replace("]", r"\]")):
        run_sweep(rsi_spec(), spy, grid)


def test_an_invalid_base_spec_raises_spec_error(spy):
    with pytest.raises(SpecError):
        run_sweep(rsi_spec(fees_bps=-1), spy, {RSI_LEVEL: [30]})


def test_a_timezone_aware_index_gives_the_same_metrics_as_run_backtest(spy):
    # (without start/end: run_backtest's window_slice cannot compare them with a tz-aware index)
    local = spy.tz_localize("America/New_York")
    base = rsi_spec(start=None, end=None)
    result = run_sweep(base, local, {RSI_LEVEL: [30]})
    assert_metrics_equal(result.results[0]["metrics"], run_backtest(base, local).metrics)
