"""Our metrics under the other tools' conventions (docs/results.md#robustness-result
``conventions``), so a user can
reconcile our numbers with another tool's. Each row: ``metric`` (a docs/results.md#backtest-result
key),
``convention`` (an id), ``label``, ``used_by``, ``formula``, ``value`` (under that convention)
and ``ours`` (the same metric under ours, from ``engine.metrics``).

Notation: ``r`` the period returns of the equity curve (the starting capital before the first
bar, as ours), ``e = r - rf_p`` with ``rf_p`` the per-period risk-free rate for ``P`` periods a
year, ``n`` the number of returns.

``days_365``: volatility, Sharpe, Sortino and alpha annualised with ``P = 365`` instead of 252
(vectorbt's default ``year_freq`` of 365 days; quantstats/empyrical called with 365 periods).

``geometric`` (backtesting.py, ``backtesting/_stats.py``): annual return
``R = (1 + g) ** 252 - 1`` with the geometric mean ``g = exp(mean(log(1 + r))) - 1``;
volatility ``V = sqrt((var(r, ddof=1) + (1 + g) ** 2) ** 252 - (1 + g) ** 504)``;
Sharpe ``(R - rf) / V`` with ``rf`` the annual rate.

``negative_periods_only``: Sortino with the downside deviation taken over the negative excess
returns only, as their standard deviation: ``DD = std(e[e < 0], ddof=1)``, Sortino
``mean(e) * P / (DD * sqrt(P))`` (zipline and pyfolio before their fix; zipline issue 747).

``first_value_peak``: drawdowns with the first equity value, not the starting capital, as the
first peak (quantstats and pyfolio given an equity curve): ``dd_t = equity_t / max_{s<=t}
equity_s - 1``; a loss on the first bar is not seen. Max drawdown, its duration (calendar days,
as ours) and Calmar (our CAGR over that drawdown).

``years_252_bars``: CAGR with ``n / 252`` years instead of calendar days / 365.25:
``(final / initial) ** (252 / n) - 1`` (quantstats and empyrical by default).

``parametric``: VaR 95 % as the 5th percentile of a normal with the returns' mean and standard
deviation (ddof=1): ``mean(r) - 1.6448536... * std(r)`` (quantstats' ``value_at_risk``).
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from engine.metrics import (
    annual_volatility,
    beta_alpha,
    max_drawdown,
    max_drawdown_duration_days,
    per_period_risk_free,
    period_returns,
    sharpe_ratio,
    sortino_ratio,
)

CALENDAR_PERIODS = 365
TRADING_PERIODS = 252
#: ``-norm.ppf(0.05)``: the standard normal's 95 % one-sided quantile.
NORMAL_Z_95 = 1.6448536269514722


def convention_rows(equity: np.ndarray, dates: np.ndarray, initial_cash: float,
                    metrics: dict[str, Any], benchmark_returns: np.ndarray | None,
                    risk_free: float) -> list[dict[str, Any]]:
    """Every row of the module docstring for one equity curve whose docs/results.md#backtest-result
    ``metrics``
    (ours) are given."""
    returns = period_returns(equity, initial_cash)
    rows = []

    def add(metric: str, convention: str, label: str, used_by: str, formula: str,
            value: float | None) -> None:
        rows.append({"metric": metric, "convention": convention, "label": label,
                     "used_by": used_by, "formula": formula,
                     "value": value if isinstance(value, int) else _finite(value),
                     "ours": metrics.get(metric)})

    used_365 = "vectorbt (year_freq 365 days), quantstats/empyrical with 365 periods"
    add("volatility", "days_365", "365 periods a year", used_365, "std(r) x sqrt(365)",
        annual_volatility(returns, CALENDAR_PERIODS))
    add("sharpe", "days_365", "365 periods a year", used_365, "mean(e) / std(e) x sqrt(365)",
        sharpe_ratio(returns, risk_free, CALENDAR_PERIODS))
    add("sortino", "days_365", "365 periods a year", used_365,
        "mean(e) x 365 / (DD x sqrt(365)), DD over all periods",
        sortino_ratio(returns, risk_free, CALENDAR_PERIODS))
    if benchmark_returns is not None:
        add("alpha", "days_365", "365 periods a year", used_365,
            "(mean(e) - beta x mean(e_b)) x 365",
            beta_alpha(returns, benchmark_returns, risk_free, CALENDAR_PERIODS)[1])
    annual, volatility = geometric_annual_return_and_volatility(returns)
    add("sharpe", "geometric", "geometric annual return / volatility", "backtesting.py",
        "((1 + g)^252 - 1 - rf) / sqrt((var(r) + (1 + g)^2)^252 - (1 + g)^504)",
        geometric_sharpe(returns, risk_free))
    add("volatility", "geometric", "compounded volatility", "backtesting.py",
        "sqrt((var(r) + (1 + g)^2)^252 - (1 + g)^504)", volatility)
    add("cagr", "geometric", "geometric mean return x 252 periods", "backtesting.py",
        "(1 + g)^252 - 1", annual)
    add("sortino", "negative_periods_only", "downside deviation of the negative periods only",
        "zipline and pyfolio before their fix (zipline issue 747)",
        "mean(e) x P / (std(e[e < 0]) x sqrt(P))",
        sortino_negative_periods_only(returns, risk_free, TRADING_PERIODS))
    first_peak = max_drawdown(equity, float(equity[0])) if len(equity) else None
    add("max_drawdown", "first_value_peak", "first equity value as the first peak",
        "quantstats and pyfolio given an equity curve (pyfolio issue 179, quantstats 438)",
        "min(equity_t / max_{s<=t} equity_s - 1)", first_peak)
    add("max_drawdown_duration_days", "first_value_peak",
        "first equity value as the first peak", "quantstats and pyfolio given an equity curve",
        "calendar days from a peak to the recovery, first value as the first peak",
        max_drawdown_duration_days(equity, dates, float(equity[0])) if len(equity) else None)
    add("calmar", "first_value_peak", "first equity value as the first peak",
        "quantstats and pyfolio given an equity curve", "cagr / |max drawdown from the "
        "first value|", _calmar(metrics.get("cagr"), first_peak))
    add("cagr", "years_252_bars", "years counted as bars / 252",
        "quantstats and empyrical (default periods 252)", "(final / initial)^(252 / n) - 1",
        cagr_bar_years(equity, initial_cash))
    add("var_95", "parametric", "normal (parametric)", "quantstats (value_at_risk)",
        "mean(r) - 1.6449 x std(r)", parametric_var_95(returns))
    return rows


def geometric_annual_return_and_volatility(returns: np.ndarray,
                                           periods: int = TRADING_PERIODS
                                           ) -> tuple[float | None, float | None]:
    """backtesting.py's annual return ``(1 + g)^P - 1`` and volatility (module docstring)."""
    if returns.size < 2 or np.any(returns <= -1):
        return None, None
    growth = math.exp(float(np.mean(np.log1p(returns))))
    variance = float(np.var(returns, ddof=1))
    volatility = math.sqrt(max((variance + growth**2) ** periods - growth ** (2 * periods), 0.0))
    return growth**periods - 1.0, volatility


def geometric_sharpe(returns: np.ndarray, risk_free: float = 0.0) -> float | None:
    """backtesting.py's Sharpe: ``(annual return - rf) / volatility`` (module docstring)."""
    annual, volatility = geometric_annual_return_and_volatility(returns)
    if annual is None or not volatility:
        return None
    return (annual - risk_free) / volatility


def sortino_negative_periods_only(returns: np.ndarray, risk_free: float = 0.0,
                                  periods: float = TRADING_PERIODS) -> float | None:
    """Sortino with ``DD = std(e[e < 0], ddof=1)`` (module docstring)."""
    excess = returns - per_period_risk_free(risk_free, periods)
    negative = excess[excess < 0]
    if negative.size < 2:
        return None
    downside = float(np.std(negative, ddof=1))
    if downside == 0:
        return None
    return float(np.mean(excess)) * periods / (downside * math.sqrt(periods))


def cagr_bar_years(equity: np.ndarray, initial_cash: float,
                   periods: int = TRADING_PERIODS) -> float | None:
    """``(final / initial) ** (periods / n) - 1``: years counted as bars / 252."""
    if len(equity) < 1 or equity[-1] <= 0:
        return None
    return (float(equity[-1]) / initial_cash) ** (periods / len(equity)) - 1.0


def parametric_var_95(returns: np.ndarray) -> float | None:
    """``mean(r) - z x std(r, ddof=1)`` with ``z = 1.6448536...`` (normal 95 % VaR)."""
    if returns.size < 2:
        return None
    return float(np.mean(returns)) - NORMAL_Z_95 * float(np.std(returns, ddof=1))


def _calmar(growth: float | None, drawdown: float | None) -> float | None:
    if growth is None or drawdown is None or drawdown == 0:
        return None
    return growth / abs(drawdown)



def _finite(value: float | None) -> float | None:
    """``None`` for an undefined, NaN or infinite value (never NaN in results)."""
    if value is None or not math.isfinite(value):
        return None
    return float(value)
