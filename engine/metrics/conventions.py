"""The constants of the metrics' conventions, the risk-free rate per period and the periods a
year implied by the bar interval (conventions: the docstring of :mod:`engine.metrics`)."""

from __future__ import annotations

import math

import numpy as np

from engine.metrics.inputs import Dates, as_datetime64, calendar_day_numbers

PERIODS_PER_YEAR = 252
DAYS_PER_YEAR = 365.25
VAR_LEVEL = 0.95
# A dispersion this small relative to the mean is rounding noise, not risk: equity growing by
# exactly 1 % a bar gives returns 1.01 +- 1 ulp, whose "Sharpe" would otherwise be ~1e15.
NOISE_RELATIVE_TO_MEAN = 1e-12

METRIC_KEYS: tuple[str, ...] = (
    "total_return",
    "cagr",
    "volatility",
    "sharpe",
    "sortino",
    "max_drawdown",
    "max_drawdown_duration_days",
    "calmar",
    "num_trades",
    "win_rate",
    "profit_factor",
    "avg_trade_return",
    "exposure",
    "var_95",
    "cvar_95",
    "beta",
    "alpha",
    "final_equity",
)


def var_quantile(level: float = VAR_LEVEL) -> float:
    """The lower-tail quantile of a VaR confidence ``level`` (0.95 -> 0.05), computed as
    ``np.percentile`` turns its percent argument ``100 * (1 - level)`` into a quantile."""
    if not 0 < level < 1:
        raise ValueError(f"level must be a confidence level between 0 and 1, got {level!r}")
    return (100.0 * (1.0 - float(level))) / 100.0


def tail_count(n: int, quantile: float) -> int:
    """How many of ``n`` returns CVaR averages at a lower-tail ``quantile``: ``ceil(quantile * n)``,
    at least 1 (0 without returns).

    ``quantile * n`` is rounded to 9 decimals first: 0.05 has no exact binary form, and
    ``0.05000000000000004 * 2000`` must count 100 returns, not 101.
    """
    if n <= 0:
        return 0
    return max(1, math.ceil(round(n * quantile, 9)))


def per_period_risk_free(risk_free: float, periods_per_year: float = PERIODS_PER_YEAR) -> float:
    """Per-period rate equivalent to an annual risk-free rate.

    Parameters
    ----------
    risk_free : float
        Annual rate as a fraction (0.02 is 2 % a year).
    periods_per_year : float
        Periods (bars) a year, 252 for daily bars.

    Returns
    -------
    float
        ``(1 + risk_free) ** (1 / periods_per_year) - 1``, so that compounding it over one year
        gives back ``risk_free``.
    """
    if risk_free == 0:
        return 0.0
    if risk_free <= -1:
        raise ValueError(f"risk_free must be an annual rate above -1, got {risk_free!r}")
    return math.expm1(math.log1p(risk_free) / periods_per_year)


def infer_periods_per_year(dates: Dates) -> float:
    """Periods a year implied by the bar interval, for annualising per-period statistics.

    Daily bars (median spacing up to 4 calendar days) give 252; weekly 52; monthly 12;
    quarterly 4; longer 1. Intraday bars give ``252 * bars per session`` with the median number
    of bars per calendar date. Fewer than 2 dates give 252.
    """
    dates64 = as_datetime64(dates, len(dates))
    if dates64.size < 2:
        return float(PERIODS_PER_YEAR)
    spacing_days = float(np.median(np.diff(dates64) / np.timedelta64(1, "D")))
    if spacing_days >= 0.5:
        for max_days, periods in ((4, 252), (10, 52), (40, 12), (100, 4)):
            if spacing_days <= max_days:
                return float(periods)
        return 1.0
    day_numbers = calendar_day_numbers(dates64)
    session_starts = np.flatnonzero(np.diff(day_numbers)) + 1
    bars_per_session = np.diff(np.concatenate(([0], session_starts, [day_numbers.size])))
    return float(PERIODS_PER_YEAR * np.median(bars_per_session))
