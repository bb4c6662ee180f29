"""Drawdowns: the drawdown series, the maximum drawdown, the longest time under water and the
Calmar ratio (conventions: the docstring of :mod:`engine.metrics`).

:func:`drawdown_walk` is the one pass over the equity curve that ``compute_metrics``, the Monte
Carlo path statistics and the functions below share.
"""

from __future__ import annotations

import numba
import numpy as np

from engine.metrics.inputs import (
    Dates,
    Values,
    as_datetime64,
    as_float_array,
    checked_initial_cash,
    date_ticks,
    finite_or_none,
)
from engine.metrics.returns import cagr

_NO_TICKS = np.empty(0, dtype=np.int64)


@numba.njit(cache=True, nogil=True)
def drawdown_walk(equity, cash, date_ticks, ticks_per_day, with_duration
                  ):  # pragma: no cover - compiled
    """``(min_t equity_t / peak_t, longest stretch under water in calendar days)``.

    ``peak_t = max(cash, max_{s<=t} equity_s)``: the starting capital is the first peak, dated at
    the first bar's date. A bar at (or above) the running peak is a peak; the duration of a
    stretch under water is the date of the bar back at the peak (or the last date, if it never
    recovers) minus the date of the peak, in days ``tick // ticks_per_day``. Without
    ``with_duration`` the dates are not read and the duration is 0. The ratio is NaN without
    bars.
    """
    n = equity.shape[0]
    if n == 0:
        return np.nan, 0
    peak = cash
    worst = np.inf
    last_peak_bar = -1
    last_peak_tick = date_ticks[0] if with_duration else 0
    longest = 0
    for i in range(n):
        value = equity[i]
        if value > peak:
            peak = value
        ratio = value / peak
        if ratio < worst:
            worst = ratio
        if with_duration and value >= peak:
            tick = date_ticks[i]
            if i - last_peak_bar > 1:
                days = (tick // ticks_per_day) - (last_peak_tick // ticks_per_day)
                if days > longest:
                    longest = days
            last_peak_bar = i
            last_peak_tick = tick
    if with_duration and n - last_peak_bar > 1:
        days = (date_ticks[n - 1] // ticks_per_day) - (last_peak_tick // ticks_per_day)
        if days > longest:
            longest = days
    return worst, longest


def max_drawdown_from_ratio(worst_ratio: float, n: int) -> float:
    """``min(worst_ratio - 1, 0)``: the maximum drawdown (<= 0) from :func:`drawdown_walk`'s
    ratio; 0.0 without bars. ``min(e / p) - 1`` equals ``min(e / p - 1)`` exactly (subtraction
    is monotone)."""
    return min(worst_ratio - 1.0, 0.0) + 0.0 if n else 0.0


def calmar_value(growth: float | None, drawdown: float) -> float | None:
    """``cagr / |max_drawdown|``; ``None`` without a drawdown or without a CAGR."""
    if growth is None or drawdown == 0:
        return None
    return finite_or_none(growth / abs(drawdown))


def drawdown_series(equity: Values, initial_cash: float) -> np.ndarray:
    """Drawdown at each bar, with the starting capital as the first peak.

    Parameters
    ----------
    equity : array_like
        Account value at the end of each bar.
    initial_cash : float
        Starting capital.

    Returns
    -------
    numpy.ndarray
        ``dd_t = equity_t / max(initial_cash, max_{s<=t} equity_s) - 1``: fractions <= 0
        (-0.25 is 25 % below the peak).
    """
    values = as_float_array(equity, "equity")
    peaks = np.maximum.accumulate(values)
    np.maximum(peaks, checked_initial_cash(initial_cash), out=peaks)
    drawdowns = values / peaks
    drawdowns -= 1.0
    return drawdowns


def max_drawdown(equity: Values, initial_cash: float) -> float:
    """Maximum drawdown ``min_t dd_t`` (see ``drawdown_series``), a fraction <= 0.

    The starting capital is the first peak, so a loss on the first bar counts. 0.0 when equity
    never falls below a previous peak (and without bars).
    """
    values = as_float_array(equity, "equity")
    cash = checked_initial_cash(initial_cash)
    worst, _ = drawdown_walk(values, cash, _NO_TICKS, 1, False)
    return max_drawdown_from_ratio(worst, values.size)


def max_drawdown_duration_days(equity: Values, dates: Dates, initial_cash: float) -> int:
    """Longest time under water, in calendar days.

    Parameters
    ----------
    equity : array_like
        Account value at the end of each bar.
    dates : numpy datetime64 array or pandas.DatetimeIndex
        Date of each bar, ascending.
    initial_cash : float
        Starting capital, the first peak, dated at the first bar's date.

    Returns
    -------
    int
        Over every stretch of bars below the running peak: (date of the first bar back at or
        above that peak) - (date of the peak), or (last date) - (date of the peak) when equity has
        not recovered by the end; the maximum of these in calendar days, 0 if never under water.
        A peak is a bar whose equity is >= every earlier value and >= ``initial_cash``. Example:
        peak on Fri 2024-01-05, under water Mon-Tue, back at the peak on Wed 2024-01-10 → 5 days.
    """
    values = as_float_array(equity, "equity")
    dates64 = as_datetime64(dates, values.size)
    cash = checked_initial_cash(initial_cash)
    ticks, ticks_per_day = date_ticks(dates64) if values.size else (_NO_TICKS, 1)
    _, longest = drawdown_walk(values, cash, ticks, ticks_per_day, True)
    return int(longest)


def calmar_ratio(equity: Values, dates: Dates, initial_cash: float) -> float | None:
    """Calmar ratio ``cagr / |max_drawdown|`` (calendar CAGR, see ``cagr``).

    ``None`` when there is no drawdown (``max_drawdown == 0``) or CAGR is undefined.
    """
    values = as_float_array(equity, "equity")
    cash = checked_initial_cash(initial_cash)
    return calmar_value(cagr(values, dates, cash), max_drawdown(values, cash))

