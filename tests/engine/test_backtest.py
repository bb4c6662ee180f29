"""run_backtest end to end on the bundled real SPY history: fills, costs, equity,
docs/results.md#backtest-result."""

from __future__ import annotations

import json
import math

import numpy as np
import pandas as pd
import pytest

from data.bundled import load_bundled
from engine.backtest import run_backtest
from engine.metrics import period_returns
from engine.prices import PriceDataError, adjusted_ohlc

METRIC_KEYS = {
    "total_return", "cagr", "volatility", "sharpe", "sortino", "max_drawdown",
    "max_drawdown_duration_days", "calmar", "num_trades", "win_rate", "profit_factor",
    "avg_trade_return", "exposure", "var_95", "cvar_95", "beta", "alpha", "final_equity",
}
TRADE_KEYS = {"side", "entry_date", "entry_price", "exit_date", "exit_price", "units", "pnl",
              "return", "exit_reason"}


def sma_cross_spec(**overrides) -> dict:
    spec = {
        "version": 1, "name": "SMA 10/50", "symbol": "SPY", "start": "2010-01-01",
        "end": "2019-12-31", "initial_cash": 10000,
        "entry": {"all": [{"left": {"indicator": "sma", "params": {"period": 10}},
                           "op": "crosses_above",
                           "right": {"indicator": "sma", "params": {"period": 50}}}]},
        "exit": {"all": [{"left": {"indicator": "sma", "params": {"period": 10}},
                          "op": "crosses_below",
                          "right": {"indicator": "sma", "params": {"period": 50}}}]},
        "fees_bps": 10, "slippage_bps": 5,
    }
    spec.update(overrides)
    return spec


def rsi_spec(**overrides) -> dict:
    spec = sma_cross_spec(
        name="RSI 30/70",
        entry={"all": [{"left": {"indicator": "rsi", "params": {"period": 14}}, "op": "<",
                        "right": 30}]},
        exit={"any": [{"left": {"indicator": "rsi", "params": {"period": 14}}, "op": ">",
                       "right": 70}]},
    )
    spec.update(overrides)
    return spec


@pytest.fixture(scope="module")
def spy() -> pd.DataFrame:
    return load_bundled("SPY")


@pytest.fixture(scope="module")
def spy_adjusted(spy) -> pd.DataFrame:
    return adjusted_ohlc(spy)


def independent_sma_cross(close: pd.Series) -> tuple[pd.Series, pd.Series]:
    """SMA 10/50 crossings computed with pandas, independently of engine.indicators."""
    fast, slow = close.rolling(10).mean(), close.rolling(50).mean()
    above = fast > slow
    was_at_or_below = (fast.shift(1) <= slow.shift(1))
    return above & was_at_or_below, (fast < slow) & (fast.shift(1) >= slow.shift(1))


def independent_wilder_rsi(close: pd.Series, period: int = 14) -> pd.Series:
    """Wilder RSI from the textbook loop."""
    values = close.to_numpy()
    out = np.full(len(values), np.nan)
    change = np.diff(values)
    gain, loss = np.clip(change, 0, None), np.clip(-change, 0, None)
    average_gain, average_loss = gain[:period].mean(), loss[:period].mean()
    for t in range(period, len(values)):
        if t > period:
            average_gain = (average_gain * (period - 1) + gain[t - 1]) / period
            average_loss = (average_loss * (period - 1) + loss[t - 1]) / period
        out[t] = 100.0 if average_loss == 0 else 100 - 100 / (1 + average_gain / average_loss)
    return pd.Series(out, index=close.index)


@pytest.mark.parametrize("make_spec", [sma_cross_spec, rsi_spec], ids=["sma_10_50", "rsi_30_70"])
def test_every_entry_fills_at_the_open_after_its_signal(spy, spy_adjusted, make_spec):
    result = run_backtest(make_spec(), spy)
    close = spy_adjusted["close"]
    if make_spec is sma_cross_spec:
        entry_signal, exit_signal = independent_sma_cross(close)
    else:
        rsi = independent_wilder_rsi(close)
        entry_signal, exit_signal = rsi < 30, rsi > 70
    assert len(result.trades) >= 5
    dates = spy_adjusted.index
    for trade in result.trades:
        entry_at = dates.get_loc(pd.Timestamp(trade["entry_date"]))
        assert entry_signal.iloc[entry_at - 1], trade
        assert trade["entry_price"] == pytest.approx(
            spy_adjusted["open"].iloc[entry_at] * (1 + 5e-4), rel=1e-12)
        if trade["exit_reason"] == "signal":
            exit_at = dates.get_loc(pd.Timestamp(trade["exit_date"]))
            assert exit_signal.iloc[exit_at - 1], trade
            assert trade["exit_price"] == pytest.approx(
                spy_adjusted["open"].iloc[exit_at] * (1 - 5e-4), rel=1e-12)


def test_fees_reduce_cash_by_exactly_fees_bps_of_each_fill(spy):
    result = run_backtest(sma_cross_spec(fees_bps=25, slippage_bps=0), spy)
    fees_from_fills = sum(
        t["units"] * t["entry_price"] * 25e-4
        + (t["units"] * t["exit_price"] * 25e-4 if t["exit_reason"] != "end_of_data" else 0.0)
        for t in result.trades
    )
    assert result.metrics["total_fees"] == pytest.approx(fees_from_fills, rel=1e-12)
    cash = result.equity["cash"]
    first = result.trades[0]
    entry_day = pd.Timestamp(first["entry_date"])
    before = cash[cash.index < entry_day].iloc[-1]
    spent = first["units"] * first["entry_price"] * (1 + 25e-4)
    assert before - cash[entry_day] == pytest.approx(spent, rel=1e-12)


def test_final_equity_is_cash_plus_units_times_last_close(spy, spy_adjusted):
    result = run_backtest(rsi_spec(end="2020-03-20"), spy)
    last = result.equity.iloc[-1]
    last_close = spy_adjusted.loc[result.equity.index[-1], "close"]
    assert last["equity"] == pytest.approx(last["cash"] + last["position"] * last_close, 1e-12)
    assert result.metrics["final_equity"] == pytest.approx(last["equity"], rel=1e-15)


def test_indicators_are_warmed_up_on_history_before_start(spy):
    """SMA 50 needs 50 bars: with history before start, a crossing on the window's early bars
    is still seen; on data cut at start it could not be."""
    warmed = run_backtest(sma_cross_spec(start="2012-01-01"), spy)
    cold = run_backtest(sma_cross_spec(start="2012-01-01"), spy.loc["2012-01-01":])
    assert warmed.meta["warmup_bars_available"] > 50
    assert cold.meta["warmup_bars_available"] == 0
    first_cold_entry = pd.Timestamp(cold.trades[0]["entry_date"])
    assert first_cold_entry >= spy.loc["2012-01-01":].index[50]
    assert warmed.equity.index[0] == cold.equity.index[0]


def test_buy_and_hold_benchmark_buys_at_the_first_open_with_costs(spy, spy_adjusted):
    result = run_backtest(sma_cross_spec(fees_bps=10, slippage_bps=5), spy)
    window = spy_adjusted.loc["2010-01-01":"2019-12-31"]
    price = window["open"].iloc[0] * (1 + 5e-4)
    units = 10000 / (price * (1 + 10e-4))
    cash = 10000 - units * price * (1 + 10e-4)
    expected = cash + units * window["close"].iloc[-1]
    assert result.benchmark_metrics["final_equity"] == pytest.approx(expected, rel=1e-12)
    assert result.benchmark_metrics["exposure"] == 1.0
    assert result.benchmark_metrics["beta"] == pytest.approx(1.0, rel=1e-12)


def test_result_follows_contract_section_3(spy):
    payload = run_backtest(rsi_spec(), spy).to_dict()
    text = json.dumps(payload, allow_nan=False)  # no NaN or inf anywhere
    assert json.loads(text)["spec"]["symbol"] == "SPY"
    assert METRIC_KEYS <= set(payload["metrics"])
    assert METRIC_KEYS <= set(payload["benchmark_metrics"])
    assert TRADE_KEYS <= set(payload["trades"][0])
    row = payload["equity"][0]
    assert {"date", "equity", "position"} <= set(row)
    assert row["date"] >= "2010-01-01"
    assert payload["equity"][-1]["date"] <= "2019-12-31"
    assert payload["metrics"]["num_trades"] == len(payload["trades"])


def test_an_empty_date_range_says_what_the_data_covers(spy):
    with pytest.raises(PriceDataError, match="the data covers 1999-11-01 to 2024-11-08"):
        run_backtest(rsi_spec(start="2030-01-01", end="2031-01-01"), spy)


def test_unadjusted_prices_can_be_requested(spy):
    raw = run_backtest(sma_cross_spec(), spy, adjust=False)
    adjusted = run_backtest(sma_cross_spec(), spy)
    assert raw.meta["price_basis"] == "as given"
    assert adjusted.meta["price_basis"] == "adjusted"
    first_raw = raw.trades[0]
    day = pd.Timestamp(first_raw["entry_date"])
    assert first_raw["entry_price"] == pytest.approx(spy.loc[day, "open"] * (1 + 5e-4), 1e-12)
    assert not math.isclose(raw.metrics["final_equity"], adjusted.metrics["final_equity"])


def test_a_timezone_aware_index_gives_the_same_result_as_wall_clock_dates(spy):
    local = spy.tz_localize("America/New_York")
    aware = run_backtest(rsi_spec(start="2015-01-01", end="2016-12-31"), local)
    naive = run_backtest(rsi_spec(start="2015-01-01", end="2016-12-31"), spy)
    assert aware.metrics == naive.metrics
    assert aware.meta["first_date"] == "2015-01-02"


def test_bad_adjusted_closes_are_reported_with_their_date(spy):
    broken = spy.copy()
    broken.loc["2012-06-01", "adj_close"] = float("nan")
    with pytest.raises(PriceDataError, match="adj_close .*first on 2012-06-01"):
        run_backtest(rsi_spec(), broken)
    assert run_backtest(rsi_spec(), broken, adjust=False).meta["price_basis"] == "as given"


# --- a benchmark that does not cover every traded date (issue 12, item 2) --------------------


def hold_spec(**overrides) -> dict:
    """Buy on the first bar and never sell: the strategy is buy-and-hold of its own symbol."""
    return sma_cross_spec(
        name="hold", symbol="AAPL", benchmark="SPY", start="2024-01-02", end=None,
        entry={"all": [{"left": {"field": "close"}, "op": ">", "right": 0}]},
        exit={"all": [{"left": {"field": "close"}, "op": "<", "right": 0}]},
        fill="close", fees_bps=0, slippage_bps=0, **overrides)


def test_a_benchmark_ending_before_the_prices_is_not_held_flat(spy):
    aapl = load_bundled("AAPL", "2023-06-01")  # runs to 2025-10-08; SPY stops on 2024-11-08
    result = run_backtest(hold_spec(), aapl, spy)
    after = aapl.loc["2024-11-09":].index
    # no buy-and-hold over a shorter period passed off as the same period
    assert result.benchmark_metrics is None
    rows = result.to_dict()["equity"]
    assert rows[-1]["benchmark_equity"] is None
    assert sum(row["benchmark_equity"] is None for row in rows) == len(after)
    warning = next(w for w in result.warnings if w["kind"] == "benchmark_missing_bars")
    assert warning["date"] == "2024-11-11" and warning["count"] == len(after)
    assert len(warning["dates"]) == 20
    assert "its data ends on 2024-11-08" in warning["message"]
    assert f"and {len(after) - 20} more" in warning["message"]
    # beta and alpha from the dates both cover: those of the run that stops with the benchmark
    covered = run_backtest(hold_spec(), aapl.loc[:"2024-11-08"], spy)
    assert result.metrics["beta"] == pytest.approx(covered.metrics["beta"], rel=1e-12)
    assert result.metrics["alpha"] == pytest.approx(covered.metrics["alpha"], rel=1e-12)
    # ... which is AAPL's beta to SPY on close-to-close returns over those dates (the strategy
    # holds AAPL from the first close; its first-bar return is 0, the benchmark's close/open - 1)
    days = slice("2024-01-02", "2024-11-08")
    mine = aapl["close"].loc[days].pct_change().fillna(0.0)
    market = adjusted_ohlc(spy).loc[days]
    market_moves = market["close"].pct_change()
    market_moves.iloc[0] = market["close"].iloc[0] / market["open"].iloc[0] - 1
    assert result.metrics["beta"] == pytest.approx(mine.cov(market_moves) / market_moves.var(),
                                                   rel=1e-9)
    json.dumps(result.to_dict(), allow_nan=False)


def test_benchmark_holes_inside_its_data_are_carried_visibly_and_listed(spy):
    holes = ["2024-03-05", "2024-03-06", "2024-07-10"]
    gappy = spy.drop(index=pd.DatetimeIndex(holes))
    aapl = load_bundled("AAPL", "2023-06-01", "2024-11-08")
    result = run_backtest(hold_spec(), aapl, gappy)
    warning = next(w for w in result.warnings if w["kind"] == "benchmark_missing_bars")
    assert warning["dates"] == holes and warning["count"] == 3
    assert "2024-03-05, 2024-03-06, 2024-07-10" in warning["message"]
    equity = result.equity["benchmark_equity"]
    assert equity.loc["2024-03-06"] == equity.loc["2024-03-04"]  # the carried close, visible
    assert result.benchmark_metrics["final_equity"] == pytest.approx(
        run_backtest(hold_spec(), aapl, spy).benchmark_metrics["final_equity"], rel=1e-12)


def test_a_complete_benchmark_gives_no_warning(spy):
    result = run_backtest(hold_spec(), load_bundled("AAPL", "2023-06-01", "2024-11-08"), spy)
    assert result.warnings == [] and result.to_dict()["warnings"] == []


def test_data_warnings_on_the_frame_reach_the_result(spy):
    prices = spy.copy()
    prices.attrs["warnings"] = [
        {"date": "2015-03-02", "kind": "unadjusted_split", "message": "like a 2:1 split"},
        {"date": "2024-01-05", "kind": "unexplained_jump", "message": "after the end"}]
    result = run_backtest(sma_cross_spec(), prices)
    assert result.to_dict()["warnings"] == [{"date": "2015-03-02", "kind": "unadjusted_split",
                                             "message": "like a 2:1 split", "symbol": "SPY"}]


# --------------------------------------------------------------------------- periods per year


def weekly(frame: pd.DataFrame) -> pd.DataFrame:
    """Weekly bars (Friday closes) from daily ones: first open, highest high, lowest low, last
    close (and last adj_close), summed volume."""
    rules = {"open": "first", "high": "max", "low": "min", "close": "last", "volume": "sum"}
    if "adj_close" in frame:
        rules["adj_close"] = "last"
    return frame.resample("W-FRI").agg(rules).dropna()


def spy_hold(**overrides) -> dict:
    """Buy SPY at the first close of 2010-2019 and hold, without costs."""
    return sma_cross_spec(
        name="hold SPY", entry={"all": [{"left": {"field": "close"}, "op": ">", "right": 0}]},
        exit={"all": [{"left": {"field": "close"}, "op": "<", "right": 0}]},
        fill="close", fees_bps=0, slippage_bps=0, **overrides)


def test_weekly_bars_are_annualised_with_52_periods_and_meta_says_so(spy):
    # Buy-and-hold SPY on weekly bars: volatility = std(weekly returns, ddof=1) * sqrt(52). With
    # a fixed 252 it would be sqrt(252 / 52) = 2.2 times too large (issue 12, item 3).
    result = run_backtest(spy_hold(), weekly(spy))
    assert result.meta["periods_per_year"] == 52
    assert result.meta["periods_per_year_source"] == "inferred"
    returns = period_returns(result.equity_curve, 10_000.0)
    assert result.metrics["volatility"] == pytest.approx(np.std(returns, ddof=1) * math.sqrt(52))
    assert result.metrics["sharpe"] == pytest.approx(
        returns.mean() / np.std(returns, ddof=1) * math.sqrt(52))
    # buy-and-hold of the benchmark is annualised the same way (it enters one bar earlier)
    assert result.benchmark_metrics["volatility"] == pytest.approx(
        result.metrics["volatility"], rel=0.02)


def test_daily_bars_keep_252_periods_a_year(spy):
    result = run_backtest(spy_hold(), spy)
    assert result.meta["periods_per_year"] == 252
    assert result.meta["periods_per_year_source"] == "inferred"


def test_the_spec_can_override_the_periods_per_year(spy):
    # 12 periods a year on weekly bars is wrong on purpose: the override wins and says so.
    result = run_backtest(spy_hold(periods_per_year=12), weekly(spy))
    assert result.meta["periods_per_year"] == 12
    assert result.meta["periods_per_year_source"] == "spec"
    returns = period_returns(result.equity_curve, 10_000.0)
    assert result.metrics["volatility"] == pytest.approx(np.std(returns, ddof=1) * math.sqrt(12))
