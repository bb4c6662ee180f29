"""Walk-forward validation (engine.walkforward): folds tile the range, no out-of-sample bar
sways a choice, each OOS fold is a plain backtest of the chosen params with warm-up history."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from data.bundled import load_bundled
from engine.backtest import run_backtest
from engine.spec import set_by_path
from engine.walkforward import WalkForwardError, fold_windows, run_walkforward

RSI_PERIOD = "entry.all[0].left.params.period"
RSI_LEVEL = "entry.all[0].right"
GRID = {RSI_LEVEL: [20, 30, 40], RSI_PERIOD: [5, 14]}



def numbers(metrics: dict) -> dict:
    """The numeric metrics (``pytest.approx`` compares flat numbers; ``null_reasons`` is a
    dict and ``ruined_date`` a text, compared exactly elsewhere)."""
    return {k: v for k, v in metrics.items() if not isinstance(v, dict | str)}

def rsi_spec(**overrides) -> dict:
    spec = {"version": 1, "name": "RSI", "symbol": "SPY", "start": "2010-01-01",
            "end": "2019-12-31", "fees_bps": 10,
            "entry": {"all": [{"left": {"indicator": "rsi", "params": {"period": 14}},
                               "op": "<", "right": 30}]},
            "exit": {"any": [{"left": {"indicator": "rsi", "params": {"period": 14}},
                              "op": ">", "right": 70}]}}
    return {**spec, **overrides}


@pytest.fixture(scope="module")
def spy() -> pd.DataFrame:
    return load_bundled("SPY", start="2008-01-01", end="2019-12-31")


@pytest.fixture(scope="module")
def walk(spy):
    return run_walkforward(rsi_spec(), spy, GRID, folds=4, in_sample_size=3).to_dict()


@pytest.mark.parametrize("mode", ["rolling", "anchored"])
def test_oos_windows_tile_the_range_after_the_first_in_sample_window(mode):
    # 1000 bars, 4 folds + IS of 3 steps: step = 1000 // 7 = 142; OOS from bar 426 to 1000.
    folds = fold_windows(1000, 4, 3, mode)
    assert [(f.oos_start, f.oos_stop) for f in folds] == [(426, 568), (568, 710), (710, 852),
                                                         (852, 1000)]
    assert all(f.is_stop == f.oos_start for f in folds)
    expected_starts = [0, 0, 0, 0] if mode == "anchored" else [0, 142, 284, 426]
    assert [f.is_start for f in folds] == expected_starts


def test_result_folds_do_not_overlap_and_stitched_equity_covers_them_in_order(walk):
    folds = walk["folds"]
    for before, after in zip(folds, folds[1:], strict=False):
        assert before["out_of_sample"]["end"] < after["out_of_sample"]["start"]
        assert after["in_sample"]["end"] < after["out_of_sample"]["start"]
    assert sum(f["out_of_sample"]["bars"] for f in folds) == len(walk["oos_equity"])
    dates = [p["date"] for p in walk["oos_equity"]]
    assert dates == sorted(set(dates))
    assert walk["settings"]["positions_at_boundaries"] == "flattened"


def test_each_oos_fold_equals_a_plain_backtest_of_the_chosen_params_with_warm_up(spy, walk):
    level = 10_000.0
    for fold in walk["folds"]:
        spec = json.loads(json.dumps(rsi_spec()))
        for key, value in fold["params"].items():
            set_by_path(spec, key, value)
        spec.update(start=fold["out_of_sample"]["start"], end=fold["out_of_sample"]["end"])
        direct = run_backtest(spec, spy)  # every earlier bar is warm-up history
        assert numbers(direct.metrics) == pytest.approx(numbers(fold["out_of_sample_metrics"]),
                                                        nan_ok=True)
        stitched = [p["equity"] for p in walk["oos_equity"] if p["fold"] == fold["fold"]]
        np.testing.assert_allclose(stitched, direct.equity_curve * level / 10_000, rtol=1e-12)
        level = stitched[-1]


def test_the_in_sample_choice_is_the_best_sharpe_of_a_sweep_on_that_window(spy, walk):
    from engine.sweep import run_sweep

    fold = walk["folds"][1]
    window = rsi_spec(start=fold["in_sample"]["start"], end=fold["in_sample"]["end"])
    rows = run_sweep(window, spy, GRID).results
    best = max(rows, key=lambda row: row["metrics"]["sharpe"])
    assert fold["params"] == best["params"]
    assert numbers(fold["in_sample_metrics"]) == pytest.approx(numbers(best["metrics"]),
                                                               nan_ok=True)


def test_changing_the_future_never_changes_a_choice(spy, walk):
    # Scramble every bar after fold 2's in-sample window: folds 0..2 choose the same params
    # with the same IS metrics (their IS windows end before the change).
    cut = pd.Timestamp(walk["folds"][2]["in_sample"]["end"])
    future = spy.copy()
    later = future.index > cut
    rng = np.random.default_rng(5)
    factor = np.exp(np.cumsum(rng.normal(0, 0.03, later.sum())))
    for column in ("open", "high", "low", "close"):
        future.loc[later, column] = future.loc[later, column] * factor
    if "adj_close" in future:
        future.loc[later, "adj_close"] = future.loc[later, "adj_close"] * factor
    changed = run_walkforward(rsi_spec(), future, GRID, folds=4, in_sample_size=3).to_dict()
    for i in range(3):
        assert changed["folds"][i]["params"] == walk["folds"][i]["params"]
        assert numbers(changed["folds"][i]["in_sample_metrics"]) == pytest.approx(
            numbers(walk["folds"][i]["in_sample_metrics"]), nan_ok=True)
    assert changed["folds"][3]["out_of_sample_metrics"] != walk["folds"][3][
        "out_of_sample_metrics"]


def test_efficiency_is_stitched_oos_cagr_over_mean_in_sample_cagr(walk):
    mean_is = np.mean([f["in_sample_metrics"]["cagr"] for f in walk["folds"]])
    assert walk["efficiency"] == pytest.approx(walk["oos_metrics"]["cagr"] / mean_is)


def test_stability_counts_the_values_chosen_per_fold(walk):
    for key in GRID:
        chosen = [f["params"][key] for f in walk["folds"]]
        entry = walk["stability"][key]
        assert entry["values"] == chosen
        assert entry["distinct"] == len(set(chosen))
        assert entry["mode_share"] == chosen.count(entry["mode"]) / len(chosen)


def test_too_many_folds_for_the_bars_say_how_to_fix_it(spy):
    with pytest.raises(WalkForwardError, match="use fewer folds"):
        run_walkforward(rsi_spec(start="2019-01-01"), spy, GRID, folds=20)


def test_a_fold_where_no_combination_has_the_metric_keeps_the_first_and_says_so(spy):
    never = rsi_spec(entry={"all": [{"left": {"field": "close"}, "op": "<", "right": 0}]})
    result = run_walkforward(never, spy, {"fees_bps": [0, 10]}, folds=2).to_dict()
    for fold in result["folds"]:
        assert fold["params"] == {"fees_bps": 0}
        assert fold["note"] == "no combination has a sharpe in sample; the first valid one is kept"
        assert fold["out_of_sample_metrics"]["num_trades"] == 0
