"""Ruin: an account whose equity reaches 0 is liquidated there and stays closed, and its metrics
say so instead of lying (issue 12, item 1).

Bars are (open, high, low, close) rows; every expected number is worked out in a comment. The
short opens at bar 1's open (100) from an entry signal on bar 0, with 10,000 of cash and no
costs unless a test says otherwise: 100 units sold, cash 20,000, so the ruin price (covering
leaves nothing) is p* = 20,000 / 100 = 200.
"""

from __future__ import annotations

import json
import math

import numpy as np
import pandas as pd
import pytest

from engine.backtest import run_backtest
from engine.metrics import compute_metrics, curve_statistics
from engine.simulate import EXIT_REASONS, SimConfig, simulate

SIGNAL_BAR = (100.0, 100.0, 100.0, 100.0)


def short_run(rows, **settings):
    bars = np.asarray([SIGNAL_BAR, *rows], dtype=float)
    entries = np.zeros(len(bars), dtype=bool)
    entries[0] = True
    exits = np.zeros(len(bars), dtype=bool)
    config = SimConfig(direction="short", **settings)
    return simulate(bars[:, 0], bars[:, 1], bars[:, 2], bars[:, 3], entries, exits, config)


def reasons(result) -> list[str]:
    return [EXIT_REASONS[int(code)] for code in result.trades["exit_reason"]]


def test_a_short_is_liquidated_at_the_ruin_price_when_the_bar_reaches_it():
    # Bar 1: entry at 100, close 150 -> equity 20,000 - 100 * 150 = 5,000.
    # Bar 2 trades 150..225: it passes 200, where equity is 0 -> covered at 200, cash 0.
    # Bar 3 would have been -13,750 without ruin (the sign flip of the issue).
    result = short_run([(100.0, 150.0, 100.0, 150.0), (150.0, 225.0, 150.0, 225.0),
                        (225.0, 337.5, 225.0, 337.5)])
    np.testing.assert_allclose(result.equity, [10_000.0, 5_000.0, 0.0, 0.0])
    np.testing.assert_array_equal(result.position, [0.0, -100.0, 0.0, 0.0])
    assert result.ruin_index == 2 and result.ruin_deficit == 0.0
    assert reasons(result) == ["ruin"]
    assert result.trades["exit_price"][0] == pytest.approx(200.0)
    assert result.trades["pnl"][0] == pytest.approx(-10_000.0)


def test_a_gap_through_the_ruin_price_covers_at_the_open_and_reports_the_deficit():
    # Bar 2 opens at 210, beyond 200: covered at 210 -> cash 20,000 - 21,000 = -1,000. The
    # account is closed at 0 and the 1,000 lost beyond it is the deficit.
    result = short_run([(100.0, 150.0, 100.0, 150.0), (210.0, 230.0, 205.0, 220.0)])
    np.testing.assert_allclose(result.equity, [10_000.0, 5_000.0, 0.0])
    assert result.ruin_index == 2 and result.ruin_deficit == pytest.approx(1_000.0)
    assert result.trades["exit_price"][0] == 210.0
    assert result.trades["pnl"][0] == pytest.approx(-11_000.0)  # = -(initial cash + deficit)


def test_no_trade_after_ruin_even_with_new_signals():
    bars = np.asarray([SIGNAL_BAR, (100.0, 250.0, 100.0, 120.0), (120.0, 121.0, 90.0, 95.0),
                       (95.0, 96.0, 90.0, 92.0)])
    entries = np.array([True, False, True, False])  # a second entry after the ruin
    exits = np.array([False, True, False, False])
    result = simulate(bars[:, 0], bars[:, 1], bars[:, 2], bars[:, 3], entries, exits,
                      SimConfig(direction="short"))
    assert result.ruin_index == 1 and reasons(result) == ["ruin"]
    np.testing.assert_array_equal(result.equity[1:], 0.0)


def test_the_ruin_price_includes_the_exit_slippage_and_fee_so_the_account_ends_at_zero():
    # fees 10 bps: sold 100 / 1.001 = 99.9001 units at 100, fee 9.99 -> cash 19,980.02.
    # Covering at p costs units * p * 1.001, so p* = 19,980.02 / (99.9001 * 1.001) = 199.80.
    result = short_run([(100.0, 150.0, 100.0, 150.0), (150.0, 225.0, 150.0, 225.0)],
                       fees_bps=10.0)
    units = 10_000.0 / 100.1
    cash = 10_000.0 + units * 100.0 * (1 - 0.001)
    assert result.trades["exit_price"][0] == pytest.approx(cash / (units * 1.001))
    assert result.equity[-1] == 0.0 and result.cash[-1] == 0.0 and result.ruin_deficit == 0.0


@pytest.mark.parametrize(("sizing_method", "sizing_value"),
                         [("fixed_cash", 30_000.0), ("fixed_units", 300.0)])
def test_a_levered_short_is_ruined_at_its_own_ruin_price(sizing_method, sizing_value):
    # 300 units short at 100 with 10,000 of equity (3x): cash 40,000, p* = 40,000 / 300 =
    # 133.33. Bar 2's high 140 reaches it.
    result = short_run([(100.0, 110.0, 95.0, 105.0), (105.0, 140.0, 104.0, 110.0)],
                       sizing_method=sizing_method, sizing_value=sizing_value)
    assert result.ruin_index == 2
    assert result.trades["exit_price"][0] == pytest.approx(40_000.0 / 300.0)
    assert result.equity[-1] == 0.0


def test_a_stop_below_the_ruin_price_fills_first_and_the_account_survives():
    # Stop 80 % above the entry: 180 < 200, so the rising bar passes it first: covered at 180,
    # cash 20,000 - 18,000 = 2,000.
    result = short_run([(100.0, 150.0, 100.0, 150.0), (150.0, 225.0, 150.0, 225.0)],
                       stop_loss_pct=80.0)
    assert result.ruin_index is None and reasons(result) == ["stop_loss"]
    assert result.equity[-1] == pytest.approx(2_000.0)


def test_the_ruin_price_comes_before_a_stop_beyond_it_and_before_a_target_in_the_same_bar():
    # Stop 120 % above the entry, at 220 (beyond 200): the ruin comes first. Target 50 % below
    # (50) inside the same bar's range: the adverse move is assumed first, as for a stop
    # (docs/spec.md#execution-model).
    for settings in ({"stop_loss_pct": 120.0}, {"take_profit_pct": 50.0}):
        result = short_run([(100.0, 150.0, 100.0, 150.0), (150.0, 225.0, 40.0, 100.0)],
                           **settings)
        assert result.ruin_index == 2 and reasons(result) == ["ruin"], settings
        assert result.trades["exit_price"][0] == pytest.approx(200.0)


def test_metrics_of_a_ruined_curve_use_the_path_up_to_the_ruin():
    # Equity 10,000 -> 5,000 -> 0 (ruin) -> 0 -> 0. Returns up to the ruin: r_0 = 0,
    # r_1 = -0.5, r_2 = -1 (the zeros after the ruin are left out).
    # std([0, -0.5, -1], ddof=1) = 0.5 -> volatility 0.5 * sqrt(252).
    # VaR: sorted [-1, -0.5, 0], position 2 * 0.05 = 0.1 -> -1 + 0.1 * 0.5 = -0.95.
    # CVaR: the worst ceil(0.05 * 3) = 1 return -> -1.
    equity = [10_000.0, 5_000.0, 0.0, 0.0, 0.0]
    dates = pd.bdate_range("2024-01-01", periods=5)
    benchmark = [0.01, -0.02, 0.03, 0.01, 0.0]
    metrics = compute_metrics(equity, dates, 10_000.0, benchmark_returns=benchmark)
    assert metrics["total_return"] == -1.0 and metrics["max_drawdown"] == -1.0
    assert metrics["final_equity"] == 0.0 and metrics["cagr"] == -1.0
    assert metrics["volatility"] == pytest.approx(0.5 * math.sqrt(252))
    assert metrics["var_95"] == pytest.approx(-0.95)
    assert metrics["cvar_95"] == pytest.approx(-1.0)
    # beta on the 3 pairs up to the ruin: b = [0.01, -0.02, 0.03], r = [0, -0.5, -1]
    b, r = np.array(benchmark[:3]), np.array([0.0, -0.5, -1.0])
    assert metrics["beta"] == pytest.approx(np.cov(r, b)[0, 1] / np.var(b, ddof=1))
    # A mean of returns does not describe a path that lost everything.
    assert metrics["sharpe"] is None and metrics["sortino"] is None and metrics["alpha"] is None


def test_negative_equity_is_refused_by_the_metrics():
    with pytest.raises(ValueError, match="equity must be >= 0: element 2"):
        compute_metrics([10_000.0, 5_000.0, -2_500.0], pd.bdate_range("2024-01-01", periods=3),
                        10_000.0)


def test_a_ruined_monte_carlo_path_has_no_sharpe():
    curves = np.array([[100.0, 50.0, 0.0, 0.0], [100.0, 101.0, 99.0, 102.0]])
    stats = curve_statistics(curves)
    assert math.isnan(stats["sharpe"][0]) and math.isfinite(stats["sharpe"][1])
    assert stats["final_return"][0] == -1.0 and stats["max_drawdown"][0] == -1.0


def rising_frame(n: int = 12, growth: float = 1.5) -> pd.DataFrame:
    """A synthetic series rising 50 % a bar (the issue's example)."""
    close = 10.0 * growth ** np.arange(n)
    open_ = np.concatenate(([close[0]], close[:-1]))
    return pd.DataFrame({"open": open_, "high": close, "low": open_, "close": close,
                         "volume": 1_000.0},
                        index=pd.DatetimeIndex(pd.bdate_range("2024-01-01", periods=n),
                                               name="date"))


def test_a_backtest_that_loses_everything_says_it_was_ruined_and_reports_no_sharpe():
    # Before the fix this run reported Sharpe +7.62 and Sortino +21.4 while losing everything.
    spec = {"version": 1, "name": "short the rocket", "symbol": "ROCKET", "direction": "short",
            "fees_bps": 0,
            "entry": {"all": [{"left": {"field": "close"}, "op": ">", "right": 0}]},
            "exit": {"all": [{"left": {"field": "close"}, "op": "<", "right": 0}]}}
    result = run_backtest(spec, rising_frame())
    metrics = result.metrics
    # Short 1,000 units at 10 (bar 1's open): cash 20,000, ruin price 20. Bar 1 closes at 15;
    # bar 2 trades 15..22.5 and passes 20: liquidated there on 2024-01-03.
    assert metrics["ruined"] is True and metrics["ruined_date"] == "2024-01-03"
    assert metrics["ruin_deficit"] == 0.0
    assert metrics["total_return"] == -1.0 and metrics["max_drawdown"] == -1.0
    assert metrics["final_equity"] == 0.0
    assert metrics["sharpe"] is None and metrics["sortino"] is None
    assert set(metrics["null_reasons"]) == {"sharpe", "sortino", "alpha"}
    assert result.trades[-1]["exit_reason"] == "ruin"
    assert result.trades[-1]["exit_price"] == pytest.approx(20.0)
    [warning] = [w for w in result.warnings if w["kind"] == "ruin"]
    assert warning["date"] == "2024-01-03" and "ruined" in warning["message"]
    assert min(row["equity"] for row in result.to_dict()["equity"]) == 0.0
    json.dumps(result.to_dict(), allow_nan=False)  # strict JSON


def test_a_backtest_that_survives_is_not_marked_ruined():
    spec = {"version": 1, "name": "long the rocket", "symbol": "ROCKET",
            "entry": {"all": [{"left": {"field": "close"}, "op": ">", "right": 0}]},
            "exit": {"all": [{"left": {"field": "close"}, "op": "<", "right": 0}]}}
    metrics = run_backtest(spec, rising_frame()).metrics
    assert metrics["ruined"] is False and metrics["ruined_date"] is None
    assert metrics["null_reasons"] == {} and metrics["sharpe"] > 0
