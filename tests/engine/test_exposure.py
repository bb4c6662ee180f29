"""Exposure counts every bar during which a position was held, not only bars that end with one
(issue 12, item 5). Bars are (open, high, low, close) rows; entries fill at the next open."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from engine.backtest import run_backtest
from engine.metrics import compute_metrics
from engine.simulate import SimConfig, simulate

CALM = (100.0, 101.0, 99.0, 100.0)


def run(rows, entries=(), exits=(), **settings):
    bars = np.asarray(rows, dtype=float)
    n = len(bars)
    entry_flags, exit_flags = np.zeros(n, dtype=bool), np.zeros(n, dtype=bool)
    entry_flags[list(entries)] = True
    exit_flags[list(exits)] = True
    return simulate(bars[:, 0], bars[:, 1], bars[:, 2], bars[:, 3], entry_flags, exit_flags,
                    SimConfig(**settings))


def test_a_trade_opened_at_the_open_and_stopped_in_the_same_bar_counts_that_bar():
    # Entry signal on bar 0 -> bought at bar 1's open (100); the 3 % stop (97) is hit inside
    # bar 1 (low 95). Flat at every close, yet bar 1 held a position: exposure 1/3, not 0.
    result = run([CALM, (100.0, 101.0, 95.0, 96.0), CALM], entries=[0], stop_loss_pct=3.0)
    assert result.trades["exit_index"].tolist() == [1]
    np.testing.assert_array_equal(result.position, 0.0)
    np.testing.assert_array_equal(result.exposed, [False, True, False])
    dates = pd.bdate_range("2024-01-01", periods=3)
    metrics = compute_metrics(result.equity, dates, 10_000.0, positions=result.position,
                              exposed=result.exposed)
    assert metrics["exposure"] == pytest.approx(1 / 3)
    # Without the intrabar flags the old reading (position at the close) is what is left.
    assert compute_metrics(result.equity, dates, 10_000.0,
                           positions=result.position)["exposure"] == 0.0


def test_a_position_closed_at_the_open_does_not_count_that_bar():
    # Bought at bar 1's open, exit signal on bar 1 -> sold at bar 2's open: bar 1 held it,
    # bar 2 only at its opening instant.
    result = run([CALM, CALM, CALM, CALM], entries=[0], exits=[1])
    np.testing.assert_array_equal(result.exposed, [False, True, False, False])


def test_a_stop_filled_at_the_open_by_a_gap_does_not_count_that_bar():
    # Held from bar 1's open; bar 2 opens at 90, through the 3 % stop (97): sold at the open.
    result = run([CALM, CALM, (90.0, 92.0, 89.0, 91.0)], entries=[0], stop_loss_pct=3.0)
    assert result.trades["exit_price"].tolist() == [90.0]
    np.testing.assert_array_equal(result.exposed, [False, True, False])


def test_a_position_bought_at_the_close_counts_from_that_bar():
    result = run([CALM, CALM, CALM], entries=[1], fill="close")
    np.testing.assert_array_equal(result.exposed, [False, True, True])


def test_backtest_reports_exposure_during_the_bar_and_at_the_close():
    # A price that swings 2 % either way inside every bar: with a 1 % stop and a 1 % target
    # each trade is an entry at the open and a same-bar stop (the stop is assumed before the
    # target). Every bar but the first holds a trade that is gone by the close.
    n = 40
    close = np.full(n, 100.0)
    frame = pd.DataFrame({"open": close, "high": close * 1.02, "low": close * 0.98,
                          "close": close, "volume": 1_000.0},
                         index=pd.DatetimeIndex(pd.bdate_range("2024-01-01", periods=n),
                                                name="date"))
    spec = {"version": 1, "name": "same-bar trades", "symbol": "FLAT", "fees_bps": 0,
            "stop_loss_pct": 1, "take_profit_pct": 1,
            "entry": {"all": [{"left": {"field": "close"}, "op": ">", "right": 0}]},
            "exit": {"all": [{"left": {"field": "close"}, "op": "<", "right": 0}]}}
    result = run_backtest(spec, frame)
    # The entry signal is true on every bar, so a new entry fills at every open from bar 1.
    assert result.metrics["num_trades"] == n - 1
    assert result.metrics["exposure_at_close"] == 0.0
    assert result.metrics["exposure"] == pytest.approx((n - 1) / n)
