"""Returns and the ratios of their dispersion: period returns, total return, CAGR, volatility,
Sharpe, downside deviation and Sortino (conventions: the docstring of :mod:`engine.metrics`).

The compiled pieces (``*_into``, ``mean_and_std``, ``shortfall``) and the ``*_value`` rules are
what :func:`engine.metrics.compute_metrics` and the Monte Carlo path statistics run too, so a
metric has one implementation whichever function reports it. ``*_value`` functions return NaN
where the public functions report ``None``.
"""

from __future__ import annotations

import math

import numba
import numpy as np

from engine.metrics.conventions import (
    DAYS_PER_YEAR,
    NOISE_RELATIVE_TO_MEAN,
    PERIODS_PER_YEAR,
    per_period_risk_free,
)
from engine.metrics.inputs import (
    Dates,
    Values,
    as_datetime64,
    as_float_array,
    calendar_day_numbers,
    checked_initial_cash,
    finite_or_none,
)
from engine.metrics.numpy_compiled import centred_sum_squares, pairwise_sum

# --------------------------------------------------------------------------- compiled pieces


@numba.njit(cache=True, nogil=True)
def period_returns_into(equity, cash, out):  # pragma: no cover - compiled
    """``out[t]``: ``r_0 = equity_0 / cash - 1``, ``r_t = equity_t / equity_{t-1} - 1`` (0 where
    ``equity_{t-1} == 0``: a wiped-out account stays at 0)."""
    n = equity.shape[0]
    if n > 0:
        out[0] = equity[0] / cash - 1.0
    for i in range(1, n):
        previous = equity[i - 1]
        out[i] = 0.0 if previous == 0 else equity[i] / previous - 1.0
    return out


@numba.njit(cache=True, nogil=True)
def excess_returns(returns, per_period_rf):  # pragma: no cover - compiled
    """``e_t = r_t - rf_p``; ``returns`` itself (no copy) when the rate is 0."""
    if per_period_rf == 0.0:
        return returns
    excess = np.empty(returns.shape[0])
    for i in range(returns.shape[0]):
        excess[i] = returns[i] - per_period_rf
    return excess


@numba.njit(cache=True, nogil=True)
def mean_and_std(values, work):  # pragma: no cover - compiled
    """``(mean(values), std(values, ddof=1))`` as NumPy computes them; the mean is 0.0 without
    values, the standard deviation NaN with fewer than 2. ``work``: scratch of >= n values."""
    n = values.shape[0]
    mean = pairwise_sum(values, n) / n if n else 0.0
    std = np.nan
    if n >= 2:
        std = math.sqrt(centred_sum_squares(values, n, mean, work) / (n - 1))
    return mean, std


@numba.njit(cache=True, nogil=True)
def shortfall(excess):  # pragma: no cover - compiled
    """``min(e_t, 0)``: the terms of the downside deviation."""
    out = np.empty(excess.shape[0])
    for i in range(excess.shape[0]):
        out[i] = excess[i] if excess[i] < 0.0 else 0.0
    return out


def downside_from_shortfall(below: np.ndarray) -> float:
    """``sqrt(mean(below ** 2))`` over every period; the sum of squares is NumPy's ``dot``."""
    return math.sqrt(float(np.dot(below, below)) / below.size)


# --------------------------------------------------------------------------- the rules


@numba.njit(cache=True, nogil=True)
def noise_to_zero(std, mean):  # pragma: no cover - compiled
    """A standard deviation below 1e-12 of the mean counts as 0 (rounding noise)."""
    return 0.0 if std <= NOISE_RELATIVE_TO_MEAN * abs(mean) else std


@numba.njit(cache=True, nogil=True)
def volatility_value(mean, std, n, periods_per_year):  # pragma: no cover - compiled
    """``std(r, ddof=1) * sqrt(P)``; 0.0 for constant returns, NaN with fewer than 2."""
    if n < 2:
        return np.nan
    return noise_to_zero(std, mean) * math.sqrt(periods_per_year)


@numba.njit(cache=True, nogil=True)
def sharpe_value(mean_excess, std_excess, n, periods_per_year):  # pragma: no cover - compiled
    """``mean(e) / std(e, ddof=1) * sqrt(P)``; NaN with fewer than 2 returns or std 0."""
    if n < 2:
        return np.nan
    std = noise_to_zero(std_excess, mean_excess)
    if std == 0:
        return np.nan
    return mean_excess / std * math.sqrt(periods_per_year)


@numba.njit(cache=True, nogil=True)
def sortino_value(mean_excess, downside, n, periods_per_year):  # pragma: no cover - compiled
    """``mean(e) * P / (DD * sqrt(P))``; NaN with fewer than 2 returns or ``DD == 0``."""
    if n < 2 or downside == 0:
        return np.nan
    return mean_excess * periods_per_year / (downside * math.sqrt(periods_per_year))


@numba.njit(cache=True, nogil=True)
def cagr_value(final, cash, days):  # pragma: no cover - compiled
    """``(final / cash) ** (365.25 / days) - 1``; NaN when ``days < 1`` or the growth < 0."""
    if days < 1:
        return np.nan
    growth = final / cash
    if growth < 0:
        return np.nan
    return growth ** (DAYS_PER_YEAR / days) - 1.0


def _excess_moments(returns: Values, risk_free: float, periods_per_year: float
                    ) -> tuple[np.ndarray, float, float]:
    values = as_float_array(returns, "returns")
    excess = excess_returns(values, per_period_risk_free(risk_free, periods_per_year))
    mean, std = mean_and_std(excess, np.empty(excess.size))
    return excess, mean, std


# --------------------------------------------------------------------------- public functions


def period_returns(equity: Values, initial_cash: float) -> np.ndarray:
    """Simple period returns of an equity curve, with the starting capital before the first bar.

    Parameters
    ----------
    equity : array_like
        Account value at the end of each bar, in account currency.
    initial_cash : float
        Starting capital, the value before the first bar.

    Returns
    -------
    numpy.ndarray
        ``n`` returns for ``n`` bars, as fractions: ``r_0 = equity_0 / initial_cash - 1``,
        ``r_t = equity_t / equity_{t-1} - 1`` (0 where ``equity_{t-1} == 0``).
    """
    values = as_float_array(equity, "equity")
    cash = checked_initial_cash(initial_cash)
    return period_returns_into(np.ascontiguousarray(values), cash, np.empty(values.size))


def total_return(equity: Values, initial_cash: float) -> float:
    """Total return ``final / initial_cash - 1`` as a fraction (0.1 is +10 %).

    Without bars the final equity is the starting capital and the total return 0.
    """
    values = as_float_array(equity, "equity")
    cash = checked_initial_cash(initial_cash)
    final = values[-1] if values.size else cash
    return float(final / cash - 1.0) + 0.0


def cagr(equity: Values, dates: Dates, initial_cash: float) -> float | None:
    """Compound annual growth rate on calendar time.

    Parameters
    ----------
    equity : array_like
        Account value at the end of each bar.
    dates : numpy datetime64 array or pandas.DatetimeIndex
        Date of each bar, ascending.
    initial_cash : float
        Starting capital.

    Returns
    -------
    float or None
        ``(final / initial_cash) ** (365.25 / days) - 1`` with ``days`` the calendar days from the
        first to the last date (weekends and holidays count; not bars / 252). ``None`` when
        ``days < 1`` (fewer than 2 distinct dates) or the final equity is negative.
    """
    values = as_float_array(equity, "equity")
    cash = checked_initial_cash(initial_cash)
    dates64 = as_datetime64(dates, values.size)
    if values.size == 0:
        return None
    ends = calendar_day_numbers(dates64[[0, -1]])
    return finite_or_none(cagr_value(float(values[-1]), cash, float(ends[1] - ends[0])))


def annual_volatility(returns: Values, periods_per_year: float = PERIODS_PER_YEAR) -> float | None:
    """Annualised volatility ``std(r, ddof=1) * sqrt(periods_per_year)``.

    Parameters
    ----------
    returns : array_like
        Simple period returns (fractions).
    periods_per_year : float
        Periods a year (252 for daily bars).

    Returns
    -------
    float or None
        A fraction a year (0.2 is 20 %); 0.0 for constant returns; ``None`` with fewer than 2
        returns.
    """
    values = as_float_array(returns, "returns")
    mean, std = mean_and_std(values, np.empty(values.size))
    return finite_or_none(volatility_value(mean, std, values.size, float(periods_per_year)))


def sharpe_ratio(
    returns: Values, risk_free: float = 0.0, periods_per_year: float = PERIODS_PER_YEAR
) -> float | None:
    """Annualised Sharpe ratio ``mean(e) / std(e, ddof=1) * sqrt(periods_per_year)``.

    Parameters
    ----------
    returns : array_like
        Simple period returns (fractions).
    risk_free : float
        ANNUAL risk-free rate (0.02 is 2 %), converted per period as
        ``(1 + risk_free) ** (1 / periods_per_year) - 1`` and subtracted: ``e = r - rf_p``.
    periods_per_year : float
        Periods a year (252 for daily bars).

    Returns
    -------
    float or None
        ``None`` with fewer than 2 returns or when the excess returns are constant (std 0).
    """
    excess, mean, std = _excess_moments(returns, risk_free, periods_per_year)
    return finite_or_none(sharpe_value(mean, std, excess.size, float(periods_per_year)))


def downside_deviation(returns: Values, target: float = 0.0) -> float | None:
    """Per-period downside deviation below ``target``, over ALL periods.

    Parameters
    ----------
    returns : array_like
        Simple period returns (fractions).
    target : float
        Per-period target return (the per-period risk-free rate in the Sortino ratio).

    Returns
    -------
    float or None
        ``sqrt(mean(min(r_t - target, 0) ** 2))`` where the mean runs over every period, periods
        above the target counting as 0. Not annualised (multiply by ``sqrt(periods_per_year)``).
        ``None`` without returns.
    """
    values = as_float_array(returns, "returns")
    if values.size == 0:
        return None
    return downside_from_shortfall(shortfall(excess_returns(values, float(target))))


def sortino_ratio(
    returns: Values, risk_free: float = 0.0, periods_per_year: float = PERIODS_PER_YEAR
) -> float | None:
    """Annualised Sortino ratio ``mean(e) * P / (DD * sqrt(P))`` with ``P = periods_per_year``.

    Parameters
    ----------
    returns : array_like
        Simple period returns (fractions).
    risk_free : float
        ANNUAL risk-free rate, converted per period (see ``per_period_risk_free``); it is both
        subtracted from the returns and the downside target: ``e = r - rf_p``.
    periods_per_year : float
        Periods a year (252 for daily bars).

    Returns
    -------
    float or None
        ``DD = sqrt(mean(min(e_t, 0) ** 2))`` over all periods (see ``downside_deviation``).
        ``None`` with fewer than 2 returns or when no period falls below the target (DD == 0).
    """
    excess, mean, _ = _excess_moments(returns, risk_free, periods_per_year)
    if excess.size < 2:
        return None
    downside = downside_from_shortfall(shortfall(excess))
    return finite_or_none(sortino_value(mean, downside, excess.size, float(periods_per_year)))
