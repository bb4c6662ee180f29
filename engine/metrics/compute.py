"""``compute_metrics``: every docs/results.md#backtest-result metric of one equity curve in one
compiled pass
(:func:`engine.metrics.kernel.metrics_kernel`), reported with the rules of the metric modules."""

from __future__ import annotations

import numpy as np
import pandas as pd

from engine.metrics.benchmark import beta_alpha_of_pairs
from engine.metrics.conventions import (
    METRIC_KEYS,
    PERIODS_PER_YEAR,
    per_period_risk_free,
    tail_count,
    var_quantile,
)
from engine.metrics.drawdowns import calmar_value, max_drawdown_from_ratio
from engine.metrics.inputs import (
    EMPTY,
    Dates,
    Values,
    as_datetime64,
    as_float_array,
    checked_initial_cash,
    date_ticks,
    finite_or_none,
)
from engine.metrics.kernel import RawMetrics, metrics_kernel
from engine.metrics.returns import (
    cagr_value,
    downside_from_shortfall,
    sharpe_value,
    sortino_value,
    volatility_value,
)
from engine.metrics.ruin import ruin_index
from engine.metrics.tail_risk import SELECT_IN_KERNEL_MAX, tail_risk
from engine.metrics.trades import checked_trades, trade_stats_of_sums

# Reward-to-risk ratios left undefined for a ruined account: their arithmetic mean return can
# be positive on a path that lost everything (a shrinking account's short is ever more levered,
# so its percentage swings grow both ways), and a positive Sharpe on a wiped-out account lies.
RUINED_NULL_METRICS = ("sharpe", "sortino", "alpha")
RUINED_NULL_REASON = (
    "the account was ruined (its equity reached 0): a mean of period returns does not describe "
    "a path that lost everything, so Sharpe, Sortino and alpha are not reported; volatility, "
    "VaR, CVaR and beta describe the bars up to the ruin"
)


def _benchmark_per_bar(benchmark_returns: Values | pd.Series, dates64: np.ndarray,
                       values: np.ndarray) -> np.ndarray:
    """Benchmark returns aligned one per bar (NaN where a dated Series has no value)."""
    if isinstance(benchmark_returns, pd.Series) and isinstance(
        benchmark_returns.index, pd.DatetimeIndex
    ):
        benchmark_index = benchmark_returns.index
        if benchmark_index.tz is not None:
            benchmark_index = benchmark_index.tz_localize(None)
        benchmark = (
            pd.Series(benchmark_returns.to_numpy(dtype=np.float64), index=benchmark_index)
            .reindex(pd.DatetimeIndex(dates64))
            .to_numpy()
        )
    else:
        benchmark = np.asarray(benchmark_returns, dtype=np.float64)
        if benchmark.shape != values.shape:
            raise ValueError(
                "returns and benchmark_returns must be aligned one-dimensional arrays of the "
                f"same length, got shapes {values.shape} and {benchmark.shape}"
            )
    return np.ascontiguousarray(benchmark, dtype=np.float64)


def compute_metrics(
    equity: Values,
    dates: Dates,
    initial_cash: float,
    positions: Values | None = None,
    trade_pnl: Values | None = None,
    trade_returns: Values | None = None,
    benchmark_returns: Values | pd.Series | None = None,
    risk_free: float = 0.0,
    periods_per_year: float = PERIODS_PER_YEAR,
    exposed: Values | None = None,
) -> dict[str, int | float | None]:
    """All docs/results.md#backtest-result metrics of one equity curve, with the conventions of
    ``engine.metrics``.

    Parameters
    ----------
    equity : array_like
        Account value at the end of each bar, in account currency, >= 0. A curve that reaches 0
        is ruined there (see ``engine.metrics.ruin``).
    dates : numpy datetime64 array or pandas.DatetimeIndex
        Date of each bar, ascending, one per equity value.
    initial_cash : float
        Starting capital: the value before the first bar and the first drawdown peak.
    positions : array_like, optional
        Position in units at each bar's close. Without ``exposed``, ``exposure`` is the share of
        bars where it is non-zero; without either, ``exposure`` is ``None``.
    trade_pnl, trade_returns : array_like, optional
        Pnl (currency) and return (fraction) of each closed trade.
    benchmark_returns : array_like or pandas.Series, optional
        Benchmark period returns, one per bar (same convention as ``period_returns``). A Series
        with a DatetimeIndex is aligned on ``dates``; missing pairs are dropped.
    risk_free : float
        ANNUAL risk-free rate (0.02 is 2 %), converted per period.
    periods_per_year : float
        Periods a year for annualisation (252 for daily bars; see ``infer_periods_per_year``).
    exposed : array_like of bool, optional
        Per bar, whether a position was held at any time during the bar (the simulator's
        ``exposed``); ``exposure`` is the share of True.

    Returns
    -------
    dict
        Exactly the keys of ``METRIC_KEYS`` with Python ints, floats or ``None`` (never NaN).
        ``num_trades`` and ``max_drawdown_duration_days`` are ints. For a ruined curve (one
        that reaches 0), ``total_return``, ``cagr`` and ``max_drawdown`` are -1,
        ``final_equity`` 0, volatility, VaR, CVaR and beta describe the bars up to and
        including the ruin bar, and Sharpe, Sortino and alpha are ``None``
        (:data:`RUINED_NULL_REASON`).

    Raises
    ------
    ValueError
        Non-finite or negative equity, dates that do not match, misaligned inputs.
    """
    values = as_float_array(equity, "equity")
    cash = checked_initial_cash(initial_cash)
    dates64 = as_datetime64(dates, values.size)
    n = values.size
    ruin = ruin_index(values)
    rf_p = per_period_risk_free(risk_free, periods_per_year)
    benchmark = EMPTY
    if benchmark_returns is not None:
        benchmark = _benchmark_per_bar(benchmark_returns, dates64, values)
    pnl_values, return_values = checked_trades(trade_pnl, trade_returns)
    marks, marks_name = (exposed, "exposed") if exposed is not None else (positions, "positions")
    position_values = EMPTY
    if marks is not None:
        position_values = as_float_array(np.asarray(marks, dtype=np.float64), marks_name)
        if position_values.size != n:
            raise ValueError(
                f"{marks_name} must have one value per bar: got {position_values.size} for {n} "
                "bars"
            )

    ticks, ticks_per_day = date_ticks(dates64)
    quantile = var_quantile()
    has_benchmark = benchmark_returns is not None
    raw = metrics_kernel(values, cash, ticks, ticks_per_day, rf_p, quantile,
                         tail_count(n, quantile), benchmark, has_benchmark, pnl_values,
                         return_values, position_values, marks is not None)
    ratios, m = raw, n
    if ruin is not None and ruin < n - 1:
        # The returns after the ruin bar are the zeros of a closed account: leave them out.
        m = ruin + 1
        ratios = metrics_kernel(values[:m], cash, ticks[:m], ticks_per_day, rf_p, quantile,
                                tail_count(m, quantile), benchmark[:m] if has_benchmark else EMPTY,
                                has_benchmark, EMPTY, EMPTY, EMPTY, False)

    final_equity = float(values[-1]) if n else cash
    drawdown = max_drawdown_from_ratio(raw.worst_ratio, n)
    growth = finite_or_none(cagr_value(final_equity, cash, float(raw.days))) if n else None
    trades = trade_stats_of_sums(pnl_values.size, return_values.size, raw.wins, raw.gains,
                                 raw.losses, raw.mean_trade_return)
    metrics = {
        "total_return": final_equity / cash - 1.0 + 0.0,
        "cagr": growth,
        "max_drawdown": drawdown,
        "max_drawdown_duration_days": int(raw.longest_days) if n else 0,
        "calmar": calmar_value(growth, drawdown),
        **trades,
        "exposure": raw.nonzero_positions / n if marks is not None and n else None,
        "final_equity": final_equity,
        **_return_ratios(ratios, m, quantile, periods_per_year, rf_p, has_benchmark),
    }
    if ruin is not None:
        metrics.update(dict.fromkeys(RUINED_NULL_METRICS))
    return {key: metrics[key] for key in METRIC_KEYS}


def _return_ratios(raw: RawMetrics, n: int, quantile: float, periods_per_year: float, rf_p: float,
                   has_benchmark: bool) -> dict[str, float | None]:
    """Volatility, Sharpe, Sortino, VaR, CVaR, beta and alpha of ``n`` period returns."""
    periods = float(periods_per_year)
    sortino = None
    if n >= 2:
        downside = downside_from_shortfall(raw.shortfall)
        sortino = finite_or_none(sortino_value(raw.mean_excess, downside, n, periods))
    if n > SELECT_IN_KERNEL_MAX:
        var_95, cvar_95 = tail_risk(raw.returns, quantile)
    else:
        var_95 = raw.var + 0.0 if n else None
        cvar_95 = raw.cvar + 0.0 if n else None
    beta = alpha = None
    if has_benchmark:
        beta, alpha = beta_alpha_of_pairs(raw.strategy, raw.centred, raw.mean_benchmark,
                                          raw.mean_paired, raw.pairs, rf_p, periods)
    return {
        "volatility": finite_or_none(volatility_value(raw.mean_returns, raw.std_returns, n,
                                                      periods)),
        "sharpe": finite_or_none(sharpe_value(raw.mean_excess, raw.std_excess, n, periods)),
        "sortino": sortino,
        "var_95": var_95,
        "cvar_95": cvar_95,
        "beta": beta,
        "alpha": alpha,
    }
