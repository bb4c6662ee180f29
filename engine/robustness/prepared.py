"""One spec on its prices, prepared once for the robustness variants: bars, signals, the
benchmark's closes, and the backtest's own metrics pipeline for any execution settings.

The pipeline is :func:`engine.backtest.run_backtest`'s, step for step (the same price checks and
adjustment, indicators warmed up on the history before ``spec.start``, the same
``compute_metrics`` call with the same benchmark returns), so a variant with a spec's own
settings reproduces that spec's backtest exactly; only the signals are evaluated once for all
the variants instead of once per backtest.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from engine.backtest import (
    benchmark_closes,
    buy_and_hold_equity,
    extra_metrics,
    periods_per_year,
    prepare_prices,
    sim_config,
)
from engine.metrics import compute_metrics, period_returns
from engine.prices import PriceDataError, frame_warnings, price_arrays
from engine.signals import IndicatorCache, evaluate_rules
from engine.simulate import SimConfig, SimResult, simulate
from engine.spec import StrategySpec, parse_spec


@dataclass(frozen=True)
class BenchmarkCloses:
    """What buy-and-hold of the benchmark needs: its first open, its closes on the traded dates
    (NaN after its data) and the bars beta and alpha must skip (None: none)."""

    first_open: float
    closes: np.ndarray
    skip: np.ndarray | None


@dataclass(frozen=True)
class Prepared:
    """A validated spec on checked bars: the traded window's bars and signals (``entries``,
    ``exits``), the same signals one bar later (``late_entries``, ``late_exits``: a signal on
    bar t acted on as if it came on bar t+1), the full history's bars up to ``spec.end`` for
    the integrity checks, and the benchmark."""

    spec: dict[str, Any]
    dates: np.ndarray
    open: np.ndarray
    high: np.ndarray
    low: np.ndarray
    close: np.ndarray
    entries: np.ndarray
    exits: np.ndarray
    late_entries: np.ndarray
    late_exits: np.ndarray
    history_dates: np.ndarray
    history_volume: np.ndarray
    config: SimConfig
    benchmark: BenchmarkCloses | None
    benchmark_dates: np.ndarray | None
    risk_free: float
    adjusted: bool
    warnings: list[dict[str, Any]]

    @property
    def initial_cash(self) -> float:
        return self.config.initial_cash

    def simulate(self, config: SimConfig, late: bool = False) -> SimResult:
        """The simulator on the traded bars with ``config`` (the late signals with ``late``)."""
        entries, exits = ((self.late_entries, self.late_exits) if late
                          else (self.entries, self.exits))
        return simulate(self.open, self.high, self.low, self.close, entries, exits, config)

    def benchmark_returns(self, config: SimConfig) -> np.ndarray | None:
        """Period returns of buy-and-hold of the benchmark paying ``config``'s costs, NaN where
        beta and alpha must skip a bar (as ``run_backtest`` computes them); None without one."""
        equity = self.benchmark_equity(config)
        if equity is None:
            return None
        returns = period_returns(np.nan_to_num(equity, nan=1.0), config.initial_cash)
        if self.benchmark.skip is not None:
            returns[self.benchmark.skip] = np.nan
        return returns

    def benchmark_equity(self, config: SimConfig) -> np.ndarray | None:
        """Buy-and-hold of the benchmark with ``config``'s costs (NaN after its data)."""
        if self.benchmark is None:
            return None
        return buy_and_hold_equity(self.benchmark.first_open, self.benchmark.closes, config)[0]

    def metrics(self, result: SimResult, config: SimConfig,
                benchmark_returns: np.ndarray | None = None) -> dict[str, Any]:
        """docs/results.md#backtest-result metrics of one variant, plus ``total_fees``, as
        ``run_backtest`` gives
        them (``benchmark_returns`` defaults to :meth:`benchmark_returns` of ``config``)."""
        if benchmark_returns is None:
            benchmark_returns = self.benchmark_returns(config)
        periods, _ = periods_per_year(self.spec, self.history_dates)
        metrics = compute_metrics(
            result.equity, self.dates, config.initial_cash, positions=result.position,
            trade_pnl=result.trades["pnl"], trade_returns=result.trades["return"],
            benchmark_returns=benchmark_returns, risk_free=self.risk_free,
            periods_per_year=periods, exposed=result.exposed,
        )
        metrics.update(extra_metrics(result.total_fees, result.position, result.ruin_index,
                                     result.ruin_deficit, self.dates))
        return metrics


def prepare(spec: StrategySpec | dict[str, Any] | str, prices: pd.DataFrame,
            benchmark_prices: pd.DataFrame | None = None, *, risk_free: float = 0.0,
            adjust: bool = True) -> Prepared:
    """Validate ``spec`` and prepare its bars, signals and benchmark (see :class:`Prepared`).

    Raises ``SpecError`` for an invalid spec and :class:`PriceDataError` for unusable prices or
    an empty date range, with the messages of ``run_backtest``.
    """
    model = spec if isinstance(spec, StrategySpec) else parse_spec(spec)
    normalised = model.to_dict()
    start, end = normalised.get("start"), normalised.get("end")
    symbol = normalised["symbol"]
    bars = price_arrays(prices, adjust, what=f"prices of {symbol}")
    history = bars.slice(bars.positions(None, end))
    window = history.positions(start, None)
    if window.start >= len(history):
        raise PriceDataError(
            f"no bars of {symbol} between {start or 'the beginning'} and {end or 'the end'}: "
            f"the data covers {_day(bars.dates[0])} to {_day(bars.dates[-1])}")
    cache = IndicatorCache()
    columns = history.columns()
    entries = evaluate_rules(normalised["entry"], columns, cache)
    exits = evaluate_rules(normalised["exit"], columns, cache)
    traded = history.slice(window)
    config = sim_config(normalised)
    warnings = (frame_warnings(prices, symbol, end)
                + frame_warnings(benchmark_prices, normalised["benchmark"], end))
    benchmark = benchmark_dates = None
    if benchmark_prices is None and normalised["benchmark"] == symbol:
        benchmark = BenchmarkCloses(float(traded.open[0]), traded.close, None)
    elif benchmark_prices is not None:
        frame = prepare_prices(benchmark_prices, adjust,
                               what=f"benchmark prices of {normalised['benchmark']}")
        if frame.index.tz is not None:
            frame = frame.tz_localize(None)
        first_open, closes, skip, missing = benchmark_closes(
            frame, pd.DatetimeIndex(traded.dates), normalised["benchmark"])
        benchmark = BenchmarkCloses(first_open, closes, skip)
        benchmark_dates = frame.index.to_numpy()
        warnings += missing
    return Prepared(
        spec=normalised, dates=traded.dates, open=traded.open, high=traded.high,
        low=traded.low, close=traded.close, entries=entries[window], exits=exits[window],
        late_entries=_one_bar_later(entries)[window], late_exits=_one_bar_later(exits)[window],
        history_dates=history.dates, history_volume=history.volume, config=config,
        benchmark=benchmark, benchmark_dates=benchmark_dates, risk_free=risk_free,
        adjusted=bars.adjusted, warnings=warnings)


def _one_bar_later(signal: np.ndarray) -> np.ndarray:
    """``signal`` moved one bar later on the whole history (a signal before the window's first
    bar can land on it, as it would in a backtest started earlier)."""
    later = np.zeros_like(signal)
    later[1:] = signal[:-1]
    return later


def _day(value: np.datetime64) -> str:
    return str(np.datetime_as_string(value, unit="D"))
