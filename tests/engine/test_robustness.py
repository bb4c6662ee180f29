"""The robustness report (engine.robustness, docs/results.md#robustness-result): fill rows equal
plain backtests,
costs only lower returns, break-even costs reproduce their targets, the trade-order Monte Carlo
is seeded and unbiased, data problems are flagged where they are."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from data.bundled import load_bundled
from data.csv_prices import check_prices_csv
from engine.backtest import run_backtest
from engine.robustness import run_robustness
from engine.robustness.integrity import missing_weekdays, zero_volume_runs
from engine.robustness.trade_order import trade_log_paths, trade_order_monte_carlo

EXAMPLES = Path(__file__).resolve().parents[2] / "engine" / "examples"


def example(name: str, **changes) -> dict:
    spec = json.loads((EXAMPLES / f"{name}.json").read_text())
    spec.update(changes)
    return spec


@pytest.fixture(scope="module")
def spy() -> pd.DataFrame:
    return load_bundled("SPY")


@pytest.fixture(scope="module")
def rsi_report(spy):
    spec = example("rsi_mean_reversion", take_profit_pct=4)
    return spec, run_robustness(spec, spy, paths=2000).to_dict()


def row(document: dict, assumption: str) -> dict:
    return next(r for r in document["fills"] if r["assumption"] == assumption)


def test_close_fill_row_with_zero_costs_equals_a_plain_backtest_exactly(spy):
    spec = example("rsi_mean_reversion", fees_bps=0, slippage_bps=0)
    document = run_robustness(spec, spy, paths=0).to_dict()
    plain = run_backtest({**spec, "fill": "close"}, spy)
    assert row(document, "close")["metrics"] == plain.metrics


def test_the_specs_own_row_is_its_backtest_and_is_marked(rsi_report, spy):
    spec, document = rsi_report
    assert [r["is_spec"] for r in document["fills"]] == [True, False, False, False]
    assert row(document, "next_open")["metrics"] == run_backtest(spec, spy).metrics


def test_fill_spread_is_best_minus_worst(rsi_report):
    _, document = rsi_report
    cagrs = [r["metrics"]["cagr"] for r in document["fills"]]
    assert document["fill_spread"]["cagr"]["spread"] == pytest.approx(max(cagrs) - min(cagrs))


def bars(rows: list[tuple[float, float, float, float]]) -> pd.DataFrame:
    index = pd.DatetimeIndex(pd.bdate_range("2024-01-01", periods=len(rows)), name="date")
    frame = pd.DataFrame(rows, columns=["open", "high", "low", "close"], index=index)
    frame["volume"] = 1000.0
    return frame


ALWAYS_IN = {"start": None, "end": None, "fees_bps": 0, "stop_loss_pct": 5,
             "take_profit_pct": 5,
             "entry": {"all": [{"left": {"field": "close"}, "op": ">", "right": 0}]},
             "exit": {"all": [{"left": {"field": "close"}, "op": "<", "right": 0}]}}


def test_target_first_takes_the_target_when_one_bar_holds_both():
    # Bar 0's entry fills at bar 1's open, 100: stop 95, target 105, and bar 1 trades 90-110.
    # Stop first: 10,000 x 95/100 = 9,500, re-entered at bar 2's open 100 and valued at 100.
    # Target first: 10,000 x 105/100 = 10,500, likewise.
    prices = bars([(100, 101, 99, 100), (100, 110, 90, 100), (100, 100, 100, 100)])
    spec = example("rsi_mean_reversion", **ALWAYS_IN)
    document = run_robustness(spec, prices, paths=0).to_dict()
    assert row(document, "next_open")["metrics"]["total_return"] == pytest.approx(-0.05)
    target_first = row(document, "target_first")["metrics"]
    assert target_first["total_return"] == pytest.approx(0.05)
    assert target_first["num_trades"] == 2
    assert target_first["win_rate"] == pytest.approx(0.5)  # +5 %, then 0 at the end


def test_target_first_keeps_a_stop_that_gapped_through_the_open():
    # Bar 1 opens at 94, below the stop (95): filled at the open whatever the bar did later.
    prices = bars([(100, 101, 99, 100), (100, 101, 99, 100), (94, 110, 90, 100),
                   (100, 100, 100, 100)])
    spec = example("rsi_mean_reversion", **ALWAYS_IN)
    document = run_robustness(spec, prices, paths=0).to_dict()
    assert row(document, "target_first")["metrics"] == row(document, "next_open")["metrics"]


def test_one_bar_late_fills_enter_one_bar_after_next_open():
    # Entry signal on every bar from bar 0: next_open buys at bar 1's open (100), one bar late
    # at bar 2's open (120, after the jump), close at bar 0's close (100).
    prices = bars([(100, 100, 100, 100), (100, 100, 100, 100), (120, 120, 120, 120),
                   (120, 120, 120, 120)])
    spec = example("rsi_mean_reversion", **{**ALWAYS_IN, "stop_loss_pct": None,
                                            "take_profit_pct": None})
    document = run_robustness(spec, prices, paths=0).to_dict()
    assert row(document, "next_open")["metrics"]["total_return"] == pytest.approx(0.2)
    assert row(document, "next_open_delay1")["metrics"]["total_return"] == pytest.approx(0.0)
    assert row(document, "close")["metrics"]["total_return"] == pytest.approx(0.2)


def test_cost_curve_never_rises_in_total_return(rsi_report):
    _, document = rsi_report
    costs = [r["cost_bps"] for r in document["costs"]]
    assert costs == pytest.approx(list(np.linspace(0, 100, 11)))
    returns = [r["metrics"]["total_return"] for r in document["costs"]]
    assert all(later <= earlier for earlier, later in zip(returns, returns[1:], strict=False))


@pytest.fixture(scope="module")
def tlt_crossover():
    spec = example("sma_crossover", symbol="TLT", benchmark="TLT")
    prices = load_bundled("TLT")
    return spec, prices, run_robustness(spec, prices, paths=0).to_dict()


def test_breakeven_against_the_benchmark_reproduces_its_cagr_in_a_backtest(tlt_crossover):
    spec, prices, document = tlt_crossover
    cost = document["breakeven_bps"]["vs_benchmark"]
    assert document["breakeven_status"]["vs_benchmark"] == "found"
    assert 0 < cost < 100
    again = run_backtest({**spec, "fees_bps": cost, "slippage_bps": 0}, prices)
    assert again.metrics["cagr"] == pytest.approx(again.benchmark_metrics["cagr"], abs=1e-6)


def test_breakeven_against_zero_gives_a_zero_cagr_in_a_backtest(tlt_crossover):
    spec, prices, document = tlt_crossover
    cost = document["breakeven_bps"]["vs_zero"]
    again = run_backtest({**spec, "fees_bps": cost, "slippage_bps": 0}, prices)
    assert again.metrics["cagr"] == pytest.approx(0.0, abs=1e-6)


def test_breakeven_is_null_with_a_reason_when_not_on_the_grid(rsi_report):
    _, document = rsi_report
    statuses = document["breakeven_status"]
    for key, value in document["breakeven_bps"].items():
        assert (value is None) == (statuses[key] != "found")


def test_trade_order_monte_carlo_same_seed_same_percentiles():
    returns = np.array([0.05, -0.03, 0.02, -0.08, 0.11, 0.01, -0.02])
    first = trade_order_monte_carlo(returns, 3000, seed=7)
    assert first == trade_order_monte_carlo(returns, 3000, seed=7)
    assert first["final_return"] != trade_order_monte_carlo(returns, 3000, seed=8)[
        "final_return"]


def test_mean_final_log_return_is_trade_count_times_mean_trade_log_return():
    returns = np.array([0.05, -0.03, 0.02, -0.08, 0.11, 0.01, -0.02, 0.04])
    paths = 20_000
    final = trade_log_paths(returns, paths, seed=3)[:, -1]
    logs = np.log1p(returns)
    expected = logs.size * logs.mean()
    # each path sums N independent draws: standard error sqrt(N) * std(logs) / sqrt(paths)
    standard_error = math.sqrt(logs.size) * logs.std() / math.sqrt(paths)
    assert abs(final.mean() - expected) < 4 * standard_error


def test_trade_order_summary_is_the_paths_it_draws():
    returns = np.array([0.05, -0.03, 0.02, -0.08, 0.11])
    log_equity = trade_log_paths(returns, 500, seed=1)
    summary = trade_order_monte_carlo(returns, 500, seed=1)
    final = np.expm1(log_equity[:, -1])
    assert summary["final_return"]["p50"] == pytest.approx(np.percentile(final, 50))
    peak = np.maximum.accumulate(log_equity, axis=1)
    worst = np.expm1(log_equity - peak).min(axis=1)
    assert summary["prob_drawdown_worse_than"]["0.1"] == pytest.approx(np.mean(worst < -0.1))


def test_an_unadjusted_two_for_one_split_in_a_csv_is_flagged_on_the_split_date(tmp_path, spy):
    raw = spy.loc["2023-01-01":].drop(columns="adj_close")
    split_day = pd.Timestamp("2024-03-01")
    before = raw.index < split_day
    for column in ("open", "high", "low", "close"):
        raw.loc[before, column] *= 2.0
    raw.loc[before, "volume"] = (raw.loc[before, "volume"] / 2.0).round()
    path = tmp_path / "split.csv"
    raw.reset_index().to_csv(path, index=False, date_format="%Y-%m-%d")
    prices, _ = check_prices_csv(str(path))
    spec = example("rsi_mean_reversion", start="2023-03-01", end="2024-11-08")
    document = run_robustness(spec, prices, paths=0).to_dict()
    flagged = [w for w in document["warnings"] if w["kind"] == "unadjusted_split"]
    assert [w["date"] for w in flagged] == ["2024-03-01"]


def test_long_zero_volume_stretches_and_missing_weekdays_are_flagged():
    dates = np.array(pd.bdate_range("2024-01-01", periods=30).delete(range(10, 14)),
                     dtype="datetime64[ns]")
    volume = np.ones(dates.size)
    volume[15:21] = 0.0  # 6 bars
    volume[3:5] = 0.0  # 2 bars: not long
    zero = zero_volume_runs(dates, volume)
    assert [(w["date"], w["count"]) for w in zero] == [
        (str(dates[15].astype("datetime64[D]")), 6)]
    gaps = missing_weekdays(dates)
    assert [w["date"] for w in gaps] == ["2024-01-15"]  # 4 weekdays missing after 2024-01-12


def test_a_split_absorbed_by_adj_close_but_not_by_close_is_flagged(spy):
    frame = spy.loc["2024-01-01":"2024-06-28"].copy()
    before = frame.index < pd.Timestamp("2024-04-01")
    frame.loc[before, ["open", "high", "low", "close"]] *= 2.0
    spec = example("rsi_mean_reversion", start="2024-02-01", end="2024-06-28")
    document = run_robustness(spec, frame, paths=0).to_dict()
    steps = [w["date"] for w in document["warnings"] if w["kind"] == "adjustment_step"]
    assert steps == ["2024-04-01"]


def test_the_document_is_strict_json_with_a_verdict(rsi_report):
    _, document = rsi_report
    json.dumps(document, allow_nan=False)
    assert "bps per side" in document["verdict"] or "without any costs" in document["verdict"]
    assert {r["assumption"] for r in document["fills"]} == {
        "next_open", "close", "next_open_delay1", "target_first"}
