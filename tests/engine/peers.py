"""Peer engines set to our conventions, for the benchmark (bench/bench_engine.py) and the
peer-agreement tests: vectorbt and backtesting.py on the same signals as our engine, the bare
NumPy restatement of the metrics that the benchmark uses as its speed floor, and the synthetic
and real bars they run on.

The conventions every peer is set to: a signal on bar t's close fills at bar t+1's open, a fee
of 0.1 % of notional per fill, all-in sizing ``units = cash / (price * (1 + fee))``, an open
position valued at the last close without an exit fee; bench/README.md lists where the peers
still differ (stops on the entry bar). vectorbt and backtesting.py come with the ``bench``
extra (``pip install -e '.[bench]'``) and are imported only when called.
"""

from __future__ import annotations

import math
import warnings
from typing import Any

import numpy as np
import pandas as pd

from data.bundled import load_bundled
from engine.backtest import prepare_prices, run_backtest
from engine.indicators import rsi

INITIAL_CASH = 10_000.0
FEE = 0.001  # 10 bps per fill
STOP_LOSS_PCT = 5.0
FAST_KEY = "entry.all[0].left.params.period,exit.all[0].left.params.period"
SLOW_KEY = "entry.all[0].right.params.period,exit.all[0].right.params.period"


# --------------------------------------------------------------------------------------------
# data and specs


def gbm_ohlc(n: int, seed: int = 7, sigma: float = 0.18) -> pd.DataFrame:
    """Synthetic daily bars (docs/prices.md) from a geometric Brownian motion with zero log drift.

    Each day's log return (annual volatility ``sigma``) is split into an overnight gap (30 % of
    the variance: the open) and an intraday move (the close); the high and low extend beyond the
    open and close by a half-normal amount. Business-day dates from 1990 in second resolution,
    so 500,000 bars (about 1,900 years) fit a DatetimeIndex.
    """
    rng = np.random.default_rng(seed)
    daily = sigma / math.sqrt(252)
    gap = rng.normal(-0.5 * 0.3 * daily**2, math.sqrt(0.3) * daily, n)
    intraday = rng.normal(-0.5 * 0.7 * daily**2, math.sqrt(0.7) * daily, n)
    previous_close = 100.0 * np.exp(np.concatenate(([0.0], np.cumsum(gap + intraday)[:-1])))
    open_ = previous_close * np.exp(gap)
    close = open_ * np.exp(intraday)
    high = np.maximum(open_, close) * np.exp(np.abs(rng.normal(0, 0.4 * daily, n)))
    low = np.minimum(open_, close) * np.exp(-np.abs(rng.normal(0, 0.4 * daily, n)))
    days = np.busday_offset("1990-01-01", np.arange(n), roll="forward").astype("datetime64[s]")
    index = pd.DatetimeIndex(days, name="date")
    volume = rng.lognormal(15, 0.5, n).round()
    return pd.DataFrame({"open": open_, "high": high, "low": low, "close": close,
                         "volume": volume}, index=index)


def spy_bars(n: int) -> pd.DataFrame:
    """The last ``n`` real SPY bars of the bundled sample, split/dividend adjusted."""
    return prepare_prices(load_bundled("SPY")).iloc[-n:]


def rsi_spec(stop_loss_pct: float | None) -> dict[str, Any]:
    rsi14 = {"indicator": "rsi", "params": {"period": 14}}
    return {"version": 1, "name": "RSI 30/70", "symbol": "SPY", "initial_cash": INITIAL_CASH,
            "fees_bps": FEE * 1e4, "stop_loss_pct": stop_loss_pct,
            "entry": {"all": [{"left": rsi14, "op": "<", "right": 30}]},
            "exit": {"any": [{"left": rsi14, "op": ">", "right": 70}]}}


def sma_cross_spec() -> dict[str, Any]:
    fast, slow = ({"indicator": "sma", "params": {"period": p}} for p in (10, 50))
    return {"version": 1, "name": "SMA cross", "symbol": "SPY", "initial_cash": INITIAL_CASH,
            "fees_bps": FEE * 1e4,
            "entry": {"all": [{"left": fast, "op": "crosses_above", "right": slow}]},
            "exit": {"all": [{"left": fast, "op": "crosses_below", "right": slow}]}}


def sma_pairs(fast_step: int) -> list[tuple[int, int]]:
    """(fast, slow) with fast in 5..50 (``fast_step``), slow in 20..200 step 5, fast < slow."""
    return [(f, s) for f in range(5, 51, fast_step) for s in range(20, 201, 5) if f < s]


# --------------------------------------------------------------------------------------------
# the three engines on workload 1 (each returns the final equity)


def ours_rsi(bars: pd.DataFrame, stop_loss_pct: float | None) -> float:
    return run_backtest(rsi_spec(stop_loss_pct), bars).metrics["final_equity"]


def vectorbt_rsi(bars: pd.DataFrame, stop_loss_pct: float | None, stats: bool = True) -> float:
    """vectorbt ``Portfolio.from_signals``: signals shifted one bar and ``price=open`` fill at
    the next open; ``size=inf`` buys ``cash / (1 + fees) / price`` units (our all-in);
    ``stop_entry_price="fillprice"`` puts the stop at 5 % below the fill. ``stats`` adds
    ``pf.stats()``, vectorbt's full metric set."""
    import vectorbt as vbt

    values = rsi(bars["close"].to_numpy(), 14)
    entries = pd.Series(values < 30, index=bars.index).shift(1, fill_value=False)
    exits = pd.Series(values > 70, index=bars.index).shift(1, fill_value=False)
    stop = {} if stop_loss_pct is None else {"sl_stop": stop_loss_pct / 100,
                                              "stop_entry_price": "fillprice"}
    portfolio = vbt.Portfolio.from_signals(
        bars["close"], entries, exits, price=bars["open"], open=bars["open"], high=bars["high"],
        low=bars["low"], fees=FEE, size=np.inf, init_cash=INITIAL_CASH, freq="1D", **stop)
    if stats:
        portfolio.stats()
    return float(portfolio.final_value())


def backtesting_rsi(bars: pd.DataFrame, stop_loss_pct: float | None,
                    late_stops: list[int] | None = None) -> float:
    """backtesting.py ``FractionalBacktest`` (fractional_unit 1e-12, so whole-unit rounding is
    below 1e-12 of a share): market orders fill at the next open, ``commission=0.001`` is
    charged on entry and exit, ``buy()`` sizes ``equity // (price * (1 + commission))``. The
    stop is the fill price (the next open) * 0.95, passed as ``sl=``; backtesting.py rejects an
    SL above the current close, so after a gap up of more than 5.3 % the SL is set from the
    entry bar's close on (those bars are appended to ``late_stops``)."""
    import backtesting.backtesting
    from backtesting import Strategy
    from backtesting.lib import FractionalBacktest

    # No progress bar: it writes to the terminal and costs time on every bar.
    backtesting.backtesting._tqdm = lambda sequence, **_: sequence

    values = rsi(bars["close"].to_numpy(), 14)
    factor = 1.0 if stop_loss_pct is None else 1.0 - stop_loss_pct / 100
    late = late_stops if late_stops is not None else []

    class RsiStrategy(Strategy):
        def init(self) -> None:
            self.rsi = self.I(lambda: values, name="rsi")
            self.opens = np.asarray(self.data.Open).copy()  # full length during init()
            self.pending_sl: float | None = None

        def next(self) -> None:
            if self.pending_sl is not None and self.position:
                self.trades[-1].sl, self.pending_sl = self.pending_sl, None
            i = len(self.data) - 1
            if self.rsi[-1] < 30 and not self.position:
                level = None if stop_loss_pct is None else self.opens[i + 1] * factor
                if level is not None and level >= self.data.Close[-1]:
                    self.buy()
                    self.pending_sl = level
                    late.append(i)
                else:
                    self.buy(sl=level)
            elif self.rsi[-1] > 70 and self.position:
                self.position.close()

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        backtest = FractionalBacktest(bars.rename(columns=str.capitalize), RsiStrategy,
                                      cash=INITIAL_CASH, commission=FEE,
                                      fractional_unit=1e-12, finalize_trades=False)
        return float(backtest.run()["Equity Final [$]"])


def peer_agreement(bars: pd.DataFrame, stop_loss_pct: float | None = None) -> dict[str, Any]:
    """Final equities of the three engines on one workload-1 run and the peers' relative
    differences from ours; with a stop also the number of our trades stopped out on their entry
    bar (vectorbt cannot: a stop is checked from the next bar) and of late backtesting.py SLs."""
    late: list[int] = []
    ours = run_backtest(rsi_spec(stop_loss_pct), bars)
    final = ours.metrics["final_equity"]
    vectorbt = vectorbt_rsi(bars, stop_loss_pct, stats=False)
    backtesting = backtesting_rsi(bars, stop_loss_pct, late)
    entry_bar_stops = sum(t["exit_reason"] == "stop_loss" and t["entry_date"] == t["exit_date"]
                          for t in ours.trades)
    return {"ours": final, "vectorbt": vectorbt, "backtesting": backtesting,
            "vectorbt_rel": vectorbt / final - 1, "backtesting_rel": backtesting / final - 1,
            "trades": ours.metrics["num_trades"], "entry_bar_stops": entry_bar_stops,
            "late_backtesting_stops": len(late)}


def vectorbt_sweep(bars: pd.DataFrame, pairs: list[tuple[int, int]], run_unique: bool
                   ) -> np.ndarray:
    """vectorbt's own pipeline: MA.run per side, crossovers, one from_signals on 2-D signals."""
    import vectorbt as vbt

    close = bars["close"]
    fast = vbt.MA.run(close, [f for f, _ in pairs], short_name="fast", run_unique=run_unique)
    slow = vbt.MA.run(close, [s for _, s in pairs], short_name="slow", run_unique=run_unique)
    entries = fast.ma_crossed_above(slow).shift(1, fill_value=False)
    exits = fast.ma_crossed_below(slow).shift(1, fill_value=False)
    portfolio = vbt.Portfolio.from_signals(close, entries, exits, price=bars["open"], fees=FEE,
                                           size=np.inf, init_cash=INITIAL_CASH, freq="1D")
    return np.asarray(portfolio.final_value())


# --------------------------------------------------------------------------------------------
# the metrics as bare NumPy


def plain_metrics(equity: np.ndarray, day_numbers: np.ndarray, positions: np.ndarray,
                  pnl: np.ndarray, trade_returns: np.ndarray, benchmark: np.ndarray
                  ) -> dict[str, float]:
    """The same metrics as bare NumPy formulas (no checks, no None handling): the floor."""
    n, cash = equity.size, INITIAL_CASH
    r = np.empty(n)
    r[0] = equity[0] / cash - 1
    r[1:] = equity[1:] / equity[:-1] - 1
    mean, std = r.mean(), r.std(ddof=1)
    growth = (equity[-1] / cash) ** (365.25 / (day_numbers[-1] - day_numbers[0])) - 1
    downside = math.sqrt(np.dot(np.minimum(r, 0), np.minimum(r, 0)) / n)
    peaks = np.maximum(np.maximum.accumulate(equity), cash)
    drawdown = (equity / peaks).min() - 1
    peak_bars = np.flatnonzero(equity >= peaks)
    bars = np.concatenate(([-1], peak_bars, [n]))
    days = np.concatenate((day_numbers[:1], day_numbers[peak_bars], day_numbers[-1:]))
    var = np.percentile(r, 5)
    worst = math.ceil(n * 0.05)  # CVaR: the mean of the worst 5 % of the returns
    centred = benchmark - benchmark.mean()
    beta = np.dot(centred, r) / np.dot(centred, centred)
    return {
        "total_return": equity[-1] / cash - 1, "cagr": growth,
        "volatility": std * math.sqrt(252), "sharpe": mean / std * math.sqrt(252),
        "sortino": mean * 252 / (downside * math.sqrt(252)), "max_drawdown": drawdown,
        "max_drawdown_duration_days": np.diff(days)[np.diff(bars) > 1].max(),
        "calmar": growth / abs(drawdown), "num_trades": pnl.size,
        "win_rate": (pnl > 0).mean(), "profit_factor": pnl[pnl > 0].sum() / -pnl[pnl < 0].sum(),
        "avg_trade_return": trade_returns.mean(), "exposure": np.count_nonzero(positions) / n,
        "var_95": var, "cvar_95": np.partition(r, worst - 1)[:worst].mean(), "beta": beta,
        "alpha": (mean - beta * benchmark.mean()) * 252, "final_equity": equity[-1],
    }
