"""Performance and risk metrics of a backtest, as plain vectorized NumPy functions.

Every function here is pure: arrays in, Python floats/ints (or ``None``) out. The conventions
below are the product's; ``compute_metrics`` applies all of them and returns the contract §3
metrics dictionary.

Conventions
-----------
Periods
    ``PERIODS_PER_YEAR = 252`` periods (bars) a year for annualising per-period statistics
    (volatility, Sharpe, Sortino, alpha). Functions that annualise take ``periods_per_year``;
    for non-daily bars pass e.g. ``infer_periods_per_year(dates)``.
Returns
    Simple period returns. The starting capital is the value before the first bar:
    ``r_0 = equity_0 / initial_cash - 1`` and ``r_t = equity_t / equity_{t-1} - 1``, so ``n`` bars
    give ``n`` returns. Equity is assumed positive (an account that reaches 0 stays flat: a period
    that starts at 0 has return 0).
Risk-free rate
    Given as an ANNUAL rate ``risk_free`` (0.02 is 2 % a year, default 0) and converted per
    period as ``rf_p = (1 + risk_free) ** (1 / periods_per_year) - 1``. Excess returns
    ``e_t = r_t - rf_p``.
Volatility
    ``std(r, ddof=1) * sqrt(periods_per_year)`` (a fraction a year; 0.2 is 20 %).
Sharpe
    ``mean(e) / std(e, ddof=1) * sqrt(periods_per_year)`` (arithmetic, not geometric).
Sortino
    ``mean(e) * periods_per_year / (DD * sqrt(periods_per_year))`` with the downside deviation
    ``DD = sqrt(mean(min(e_t, 0) ** 2))`` taken over ALL periods (target = the per-period risk-free
    rate). It is not the standard deviation of the negative returns.
Drawdown
    The starting capital is the first peak: ``dd_t = equity_t / max(initial_cash, max_{s<=t}
    equity_s) - 1``; ``max_drawdown = min(dd)`` is a negative fraction (-0.25 is -25 %) or 0. A
    loss on the first bar counts.
Drawdown duration
    In CALENDAR days: for every stretch under water, the date equity first gets back to (>=) the
    peak minus the date of that peak, or the last date minus the peak date if it never recovers.
    The starting capital's peak is dated at the first bar's date. A bar at a new high (or exactly
    at the old one) is a peak; consecutive peaks are no drawdown. The maximum over stretches, 0
    when equity never goes under water.
Total return and CAGR
    ``total_return = final / initial_cash - 1``. CAGR on calendar time:
    ``(final / initial_cash) ** (365.25 / days) - 1`` with ``days`` the calendar days from the first
    to the last date (not bars / 252). ``None`` when ``days < 1``.
Calmar
    ``cagr / |max_drawdown|``; ``None`` when ``max_drawdown == 0`` or CAGR is undefined.
VaR and CVaR
    Historical, on period returns: ``var_95`` is the 5th percentile of the returns
    (``np.percentile``, linear interpolation), reported as a return (negative for a loss);
    ``cvar_95`` is the mean of the returns ``<= var_95``.
Beta and alpha
    On aligned period returns of the strategy ``r`` and benchmark ``b``:
    ``beta = cov(r, b, ddof=1) / var(b, ddof=1)``; alpha is Jensen's alpha annualised
    arithmetically: ``(mean(e) - beta * mean(e_b)) * periods_per_year``. ``None`` without a
    benchmark, with fewer than 2 aligned pairs, or when the benchmark is constant.
Trades
    ``num_trades``; ``win_rate`` = share of trades with pnl > 0; ``profit_factor`` = sum of gains /
    |sum of losses| (``None`` without losing trades); ``avg_trade_return`` = mean trade return.
Exposure
    Fraction of bars whose position (units) is non-zero.
Undefined values
    ``None`` (JSON null), never NaN or inf: e.g. Sharpe of a flat curve, ratios with fewer than 2
    bars, trade statistics without trades. A standard deviation below 1e-12 of the mean counts
    as 0 (rounding noise of constant returns). Inputs with NaN/inf equity raise ``ValueError``.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import TypeAlias

import numpy as np
import numpy.typing as npt
import pandas as pd

from engine.metrics_kernel import (
    SELECT_IN_KERNEL_MAX,
    date_order_problem,
    mean_at_or_below,
    metrics_kernel,
)

PERIODS_PER_YEAR = 252
DAYS_PER_YEAR = 365.25
VAR_LEVEL = 0.95

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

Values: TypeAlias = npt.ArrayLike
Dates: TypeAlias = "np.ndarray | pd.DatetimeIndex | pd.Series | Sequence[str]"

# A dispersion this small relative to the mean is rounding noise, not risk: equity growing by
# exactly 1 % a bar gives returns 1.01 +- 1 ulp, whose "Sharpe" would otherwise be ~1e15.
_NOISE_RELATIVE_TO_MEAN = 1e-12


# --------------------------------------------------------------------------- input handling


def _as_float_array(values: Values, name: str) -> np.ndarray:
    array = np.asarray(values, dtype=np.float64)
    if array.ndim != 1:
        raise ValueError(f"{name} must be one-dimensional, got shape {array.shape}")
    if not np.isfinite(array).all():
        bad = int(np.flatnonzero(~np.isfinite(array))[0])
        raise ValueError(
            f"{name} must be finite: element {bad} is {array[bad]!r}; "
            "drop or fill missing values before computing metrics"
        )
    return array


def _check_initial_cash(initial_cash: float) -> float:
    cash = float(initial_cash)
    if not math.isfinite(cash) or cash <= 0:
        raise ValueError(f"initial_cash must be a positive finite number, got {initial_cash!r}")
    return cash


def _as_datetime64(dates: Dates, expected_length: int) -> np.ndarray:
    """Dates as a ``datetime64`` array in local wall time, checked for length and order.

    The unit of the input is kept (a million daily bars do not fit in nanoseconds).
    """
    if isinstance(dates, pd.Series):
        dates = pd.DatetimeIndex(dates)
    if isinstance(dates, pd.DatetimeIndex):
        if dates.tz is not None:
            # Calendar days are counted in the exchange's local time, not in UTC.
            dates = dates.tz_localize(None)
        array = dates.to_numpy()
    else:
        array = np.asarray(dates)
        if array.size == 0:
            array = np.array([], dtype="datetime64[s]")
        elif array.dtype.kind != "M":
            array = array.astype("datetime64[s]")
    if array.ndim != 1 or array.size != expected_length:
        raise ValueError(
            f"dates must be one-dimensional with one date per equity value: got {array.size} "
            f"dates for {expected_length} values"
        )
    problem = date_order_problem(np.ascontiguousarray(array).view(np.int64))
    if problem == 1:
        raise ValueError("dates must not contain NaT")
    if problem == 2:
        raise ValueError("dates must be in ascending order")
    return array


def _calendar_day_numbers(dates: np.ndarray) -> np.ndarray:
    """Calendar-day numbers (days since 1970-01-01) of ``datetime64`` dates."""
    return dates.astype("datetime64[D]").astype(np.int64)


# Ticks of each datetime64 unit in one calendar day, for day numbers by floor division.
_TICKS_PER_DAY = {
    "D": 1,
    "h": 24,
    "m": 24 * 60,
    "s": 86_400,
    "ms": 86_400 * 10**3,
    "us": 86_400 * 10**6,
    "ns": 86_400 * 10**9,
    "ps": 86_400 * 10**12,
}
_EMPTY = np.empty(0, dtype=np.float64)


def _date_ticks(dates: np.ndarray) -> tuple[np.ndarray, int]:
    """Integer ticks of ``datetime64`` dates and the ticks in a calendar day.

    ``ticks // ticks_per_day`` are the calendar-day numbers of ``_calendar_day_numbers``; units
    that are not a fixed fraction of a day (weeks, months, multiples) are converted by NumPy.
    """
    unit, count = np.datetime_data(dates.dtype)
    ticks_per_day = _TICKS_PER_DAY.get(unit) if count == 1 else None
    if ticks_per_day is None:
        return np.ascontiguousarray(_calendar_day_numbers(dates)), 1
    return np.ascontiguousarray(dates).view(np.int64), ticks_per_day


def _noise_to_zero(std: float, mean: float) -> float:
    """A standard deviation below 1e-12 of the mean counts as 0 (see ``_sample_std``)."""
    return 0.0 if std <= _NOISE_RELATIVE_TO_MEAN * abs(mean) else std


def _finite_or_none(value: float) -> float | None:
    value = float(value)
    return value + 0.0 if math.isfinite(value) else None  # + 0.0 turns -0.0 into 0.0


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


# --------------------------------------------------------------------------- returns


def _period_returns(equity: np.ndarray, initial_cash: float) -> np.ndarray:
    returns = np.empty_like(equity)
    if equity.size == 0:
        return returns
    returns[0] = equity[0] / initial_cash - 1.0
    with np.errstate(divide="ignore", invalid="ignore"):
        np.divide(equity[1:], equity[:-1], out=returns[1:])
    returns[1:] -= 1.0
    previous_zero = equity[:-1] == 0
    if previous_zero.any():
        # A wiped-out account stays at 0: there is nothing left to gain or lose.
        returns[1:][previous_zero] = 0.0
    return returns


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
    return _period_returns(_as_float_array(equity, "equity"), _check_initial_cash(initial_cash))


def total_return(equity: Values, initial_cash: float) -> float:
    """Total return ``final / initial_cash - 1`` as a fraction (0.1 is +10 %).

    Without bars the final equity is the starting capital and the total return 0.
    """
    values = _as_float_array(equity, "equity")
    cash = _check_initial_cash(initial_cash)
    final = values[-1] if values.size else cash
    return float(final / cash - 1.0) + 0.0


def _cagr_from_days(final: float, initial_cash: float, days: float) -> float | None:
    if days < 1:
        return None
    growth = final / initial_cash
    if growth < 0:
        return None
    with np.errstate(over="ignore"):
        return _finite_or_none(np.power(np.float64(growth), DAYS_PER_YEAR / days) - 1.0)


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
    values = _as_float_array(equity, "equity")
    cash = _check_initial_cash(initial_cash)
    dates64 = _as_datetime64(dates, values.size)
    if values.size == 0:
        return None
    ends = _calendar_day_numbers(dates64[[0, -1]])
    return _cagr_from_days(values[-1], cash, float(ends[1] - ends[0]))


# --------------------------------------------------------------------------- dispersion ratios


def _sample_std(values: np.ndarray, mean: float) -> float:
    """``std(values, ddof=1)``, 0.0 for a constant series (std below 1e-12 of the mean)."""
    std = float(np.std(values, ddof=1, mean=mean))
    return 0.0 if std <= _NOISE_RELATIVE_TO_MEAN * abs(mean) else std


def _sharpe(excess: np.ndarray, mean_excess: float, periods_per_year: float) -> float | None:
    if excess.size < 2:
        return None
    std = _sample_std(excess, mean_excess)
    if std == 0:
        return None
    return _finite_or_none(mean_excess / std * math.sqrt(periods_per_year))


def _downside_deviation(excess: np.ndarray) -> float:
    shortfall = np.minimum(excess, 0.0)
    return math.sqrt(float(np.dot(shortfall, shortfall)) / excess.size)


def _sortino(excess: np.ndarray, mean_excess: float, periods_per_year: float) -> float | None:
    if excess.size < 2:
        return None
    downside = _downside_deviation(excess)
    if downside == 0:
        return None
    annual_mean = mean_excess * periods_per_year
    return _finite_or_none(annual_mean / (downside * math.sqrt(periods_per_year)))


def _excess(returns: np.ndarray, per_period_rf: float) -> np.ndarray:
    return returns - per_period_rf if per_period_rf != 0 else returns


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
    values = _as_float_array(returns, "returns")
    if values.size < 2:
        return None
    return _finite_or_none(_sample_std(values, float(values.mean())) * math.sqrt(periods_per_year))


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
    values = _as_float_array(returns, "returns")
    excess = _excess(values, per_period_risk_free(risk_free, periods_per_year))
    mean_excess = float(excess.mean()) if excess.size else 0.0
    return _sharpe(excess, mean_excess, periods_per_year)


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
    values = _as_float_array(returns, "returns")
    if values.size == 0:
        return None
    return _downside_deviation(_excess(values, float(target)))


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
    values = _as_float_array(returns, "returns")
    excess = _excess(values, per_period_risk_free(risk_free, periods_per_year))
    mean_excess = float(excess.mean()) if excess.size else 0.0
    return _sortino(excess, mean_excess, periods_per_year)


# --------------------------------------------------------------------------- drawdowns


def _running_peaks(equity: np.ndarray, initial_cash: float) -> np.ndarray:
    peaks = np.maximum.accumulate(equity)
    np.maximum(peaks, initial_cash, out=peaks)
    return peaks


def _max_drawdown(equity: np.ndarray, peaks: np.ndarray) -> float:
    if equity.size == 0:
        return 0.0
    # min(e / p) - 1 equals min(e / p - 1) exactly (subtraction is monotone) and saves a pass.
    return min(float((equity / peaks).min()) - 1.0, 0.0) + 0.0


def _max_drawdown_duration_days(equity: np.ndarray, peaks: np.ndarray, dates64: np.ndarray) -> int:
    n = equity.size
    if n == 0:
        return 0
    peak_bars = np.flatnonzero(equity >= peaks)
    # A virtual peak at bar -1 dated at the first date (the starting capital) and a virtual end at
    # bar n dated at the last date (a drawdown still open at the end) bracket the real peaks. A
    # gap of more than one bar between consecutive entries is a stretch under water.
    bars = np.concatenate(([-1], peak_bars, [n]))
    gathered = np.concatenate((dates64[:1], dates64[peak_bars], dates64[-1:]))
    under_water = np.diff(bars) > 1
    if not under_water.any():
        return 0
    day_numbers = _calendar_day_numbers(gathered)
    return int(np.diff(day_numbers)[under_water].max())


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
    values = _as_float_array(equity, "equity")
    peaks = _running_peaks(values, _check_initial_cash(initial_cash))
    drawdowns = values / peaks
    drawdowns -= 1.0
    return drawdowns


def max_drawdown(equity: Values, initial_cash: float) -> float:
    """Maximum drawdown ``min_t dd_t`` (see ``drawdown_series``), a fraction <= 0.

    The starting capital is the first peak, so a loss on the first bar counts. 0.0 when equity
    never falls below a previous peak (and without bars).
    """
    values = _as_float_array(equity, "equity")
    return _max_drawdown(values, _running_peaks(values, _check_initial_cash(initial_cash)))


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
    values = _as_float_array(equity, "equity")
    dates64 = _as_datetime64(dates, values.size)
    peaks = _running_peaks(values, _check_initial_cash(initial_cash))
    return _max_drawdown_duration_days(values, peaks, dates64)


def calmar_ratio(equity: Values, dates: Dates, initial_cash: float) -> float | None:
    """Calmar ratio ``cagr / |max_drawdown|`` (calendar CAGR, see ``cagr``).

    ``None`` when there is no drawdown (``max_drawdown == 0``) or CAGR is undefined.
    """
    values = _as_float_array(equity, "equity")
    cash = _check_initial_cash(initial_cash)
    growth = cagr(values, dates, cash)
    drawdown = _max_drawdown(values, _running_peaks(values, cash))
    return _calmar(growth, drawdown)


def _calmar(growth: float | None, drawdown: float) -> float | None:
    if growth is None or drawdown == 0:
        return None
    return _finite_or_none(growth / abs(drawdown))


# --------------------------------------------------------------------------- tail risk


def _check_level(level: float) -> float:
    if not 0 < level < 1:
        raise ValueError(f"level must be a confidence level between 0 and 1, got {level!r}")
    return float(level)


def _percentile_by_partition(values: np.ndarray, quantile: float) -> float:
    """``np.percentile(values, 100 * quantile)`` (linear), with one ``np.partition`` call.

    The same order statistics and interpolation as NumPy's ``linear`` method, bit for bit.
    """
    n = values.size
    virtual = (n - 1) * quantile
    if virtual >= n - 1:
        return float(values.max())
    lower_index = math.floor(virtual)
    part = np.partition(values, (lower_index, lower_index + 1))
    lower, upper = float(part[lower_index]), float(part[lower_index + 1])
    gamma = virtual - lower_index
    diff = upper - lower
    if gamma >= 0.5:
        return upper - diff * (1.0 - gamma)
    return lower + diff * gamma


def _value_at_risk(returns: np.ndarray, level: float) -> float | None:
    if returns.size == 0:
        return None
    return float(np.percentile(returns, 100.0 * (1.0 - level))) + 0.0


def _conditional_value_at_risk(returns: np.ndarray, threshold: float | None) -> float | None:
    if threshold is None:
        return None
    return float(returns[returns <= threshold].mean()) + 0.0


def value_at_risk(returns: Values, level: float = VAR_LEVEL) -> float | None:
    """Historical value at risk: the ``1 - level`` quantile of the period returns.

    Parameters
    ----------
    returns : array_like
        Simple period returns (fractions).
    level : float
        Confidence level (0.95 gives the 5th percentile).

    Returns
    -------
    float or None
        ``np.percentile(r, 100 * (1 - level))`` with linear interpolation, as a return (negative
        for a loss: -0.02 means a 2 % loss in one period). ``None`` without returns.
    """
    return _value_at_risk(_as_float_array(returns, "returns"), _check_level(level))


def conditional_value_at_risk(returns: Values, level: float = VAR_LEVEL) -> float | None:
    """Historical conditional VaR (expected shortfall): mean of the returns ``<= VaR``.

    Parameters
    ----------
    returns : array_like
        Simple period returns (fractions).
    level : float
        Confidence level of the VaR threshold (see ``value_at_risk``).

    Returns
    -------
    float or None
        ``mean(r[r <= value_at_risk(r, level)])``, as a return (<= VaR). ``None`` without returns.
    """
    values = _as_float_array(returns, "returns")
    return _conditional_value_at_risk(values, _value_at_risk(values, _check_level(level)))


# --------------------------------------------------------------------------- benchmark


def _beta_alpha(
    returns: np.ndarray, benchmark: np.ndarray, per_period_rf: float, periods_per_year: float
) -> tuple[float | None, float | None]:
    if returns.size < 2:
        return None, None
    mean_benchmark = float(benchmark.mean())
    centred_benchmark = benchmark - mean_benchmark
    benchmark_sum_squares = float(np.dot(centred_benchmark, centred_benchmark))
    if benchmark_sum_squares <= (_NOISE_RELATIVE_TO_MEAN * mean_benchmark) ** 2 * benchmark.size:
        return None, None  # a constant benchmark has no variance to regress on
    mean_returns = float(returns.mean())
    # cov / var with the same ddof on both: the (n - 1) cancels. The centred benchmark sums to
    # ~0, so dotting it with the uncentred returns gives the covariance sum.
    beta = float(np.dot(centred_benchmark, returns)) / benchmark_sum_squares
    alpha = ((mean_returns - per_period_rf) - beta * (mean_benchmark - per_period_rf)) * (
        periods_per_year
    )
    return _finite_or_none(beta), _finite_or_none(alpha)


def _aligned_pairs(returns: Values, benchmark_returns: Values) -> tuple[np.ndarray, np.ndarray]:
    if isinstance(returns, pd.Series) and isinstance(benchmark_returns, pd.Series):
        paired = pd.concat([returns, benchmark_returns], axis=1, join="inner")
        strategy = paired.iloc[:, 0].to_numpy(dtype=np.float64)
        benchmark = paired.iloc[:, 1].to_numpy(dtype=np.float64)
    else:
        strategy = np.asarray(returns, dtype=np.float64)
        benchmark = np.asarray(benchmark_returns, dtype=np.float64)
        if strategy.shape != benchmark.shape or strategy.ndim != 1:
            raise ValueError(
                "returns and benchmark_returns must be aligned one-dimensional arrays of the same "
                f"length, got shapes {strategy.shape} and {benchmark.shape}"
            )
    observed = np.isfinite(strategy) & np.isfinite(benchmark)
    if not observed.all():
        strategy, benchmark = strategy[observed], benchmark[observed]
    return strategy, benchmark


def beta_alpha(
    returns: Values,
    benchmark_returns: Values,
    risk_free: float = 0.0,
    periods_per_year: float = PERIODS_PER_YEAR,
) -> tuple[float | None, float | None]:
    """Beta and annualised Jensen's alpha of a strategy against a benchmark.

    Parameters
    ----------
    returns, benchmark_returns : array_like or pandas.Series
        Simple period returns of the strategy and of the benchmark. Arrays must be aligned
        (same length, same periods); two Series are aligned on their index. Pairs where either
        value is missing (NaN) are dropped.
    risk_free : float
        ANNUAL risk-free rate, converted per period as ``rf_p = (1 + rf) ** (1 / P) - 1``.
    periods_per_year : float
        ``P``, periods a year (252 for daily bars).

    Returns
    -------
    (beta, alpha) : tuple of float or None
        ``beta = cov(r, b, ddof=1) / var(b, ddof=1)``;
        ``alpha = (mean(r - rf_p) - beta * mean(b - rf_p)) * P``, arithmetic (not compounded),
        a fraction a year. Both ``None`` with fewer than 2 pairs or a constant benchmark.
    """
    strategy, benchmark = _aligned_pairs(returns, benchmark_returns)
    return _beta_alpha(
        strategy, benchmark, per_period_risk_free(risk_free, periods_per_year), periods_per_year
    )


# --------------------------------------------------------------------------- trades, exposure


def trade_stats(pnl: Values | None, trade_returns: Values | None) -> dict[str, int | float | None]:
    """Statistics of closed trades.

    Parameters
    ----------
    pnl : array_like or None
        Profit and loss of each trade, in account currency (after costs).
    trade_returns : array_like or None
        Return of each trade as a fraction, same trades in the same order.

    Returns
    -------
    dict
        ``num_trades``: number of trades (int).
        ``win_rate``: share of trades with pnl > 0 (break-even trades are not wins).
        ``profit_factor``: sum of positive pnl / |sum of negative pnl|; ``None`` without a
        losing trade (0.0 when there are losses but no gains).
        ``avg_trade_return``: mean of the trade returns.
        Each ratio is ``None`` without trades.
    """
    pnl_values = _as_float_array(pnl if pnl is not None else [], "trade pnl")
    return_values = _as_float_array(
        trade_returns if trade_returns is not None else [], "trade returns"
    )
    if pnl is not None and trade_returns is not None and pnl_values.size != return_values.size:
        raise ValueError(
            f"trade pnl and trade returns describe the same trades but have {pnl_values.size} "
            f"and {return_values.size} elements"
        )
    num_trades = int(max(pnl_values.size, return_values.size))
    win_rate = profit_factor = avg_return = None
    if pnl_values.size:
        win_rate = float(np.count_nonzero(pnl_values > 0)) / pnl_values.size
        gains = float(pnl_values[pnl_values > 0].sum())
        losses = float(pnl_values[pnl_values < 0].sum())
        profit_factor = _finite_or_none(gains / -losses) if losses < 0 else None
    if return_values.size:
        avg_return = _finite_or_none(return_values.mean())
    return {
        "num_trades": num_trades,
        "win_rate": win_rate,
        "profit_factor": profit_factor,
        "avg_trade_return": avg_return,
    }


def exposure(positions: Values) -> float | None:
    """Fraction of bars with a non-zero position (long or short units); ``None`` without bars."""
    values = _as_float_array(positions, "positions")
    if values.size == 0:
        return None
    return float(np.count_nonzero(values)) / values.size


# --------------------------------------------------------------------------- periods


def infer_periods_per_year(dates: Dates) -> float:
    """Periods a year implied by the bar interval, for annualising per-period statistics.

    Daily bars (median spacing up to 4 calendar days) give 252; weekly 52; monthly 12;
    quarterly 4; longer 1. Intraday bars give ``252 * bars per session`` with the median number
    of bars per calendar date. Fewer than 2 dates give 252.
    """
    dates64 = _as_datetime64(dates, len(dates))
    if dates64.size < 2:
        return float(PERIODS_PER_YEAR)
    spacing_days = float(np.median(np.diff(dates64) / np.timedelta64(1, "D")))
    if spacing_days >= 0.5:
        for max_days, periods in ((4, 252), (10, 52), (40, 12), (100, 4)):
            if spacing_days <= max_days:
                return float(periods)
        return 1.0
    day_numbers = _calendar_day_numbers(dates64)
    session_starts = np.flatnonzero(np.diff(day_numbers)) + 1
    bars_per_session = np.diff(np.concatenate(([0], session_starts, [day_numbers.size])))
    return float(PERIODS_PER_YEAR * np.median(bars_per_session))


# --------------------------------------------------------------------------- everything


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
) -> dict[str, int | float | None]:
    """All contract §3 metrics of one equity curve, with the conventions of this module.

    Parameters
    ----------
    equity : array_like
        Account value at the end of each bar, in account currency.
    dates : numpy datetime64 array or pandas.DatetimeIndex
        Date of each bar, ascending, one per equity value.
    initial_cash : float
        Starting capital: the value before the first bar and the first drawdown peak.
    positions : array_like, optional
        Position in units at each bar (for ``exposure``; ``None`` leaves exposure ``None``).
    trade_pnl, trade_returns : array_like, optional
        Pnl (currency) and return (fraction) of each closed trade.
    benchmark_returns : array_like or pandas.Series, optional
        Benchmark period returns, one per bar (same convention as ``period_returns``). A Series
        with a DatetimeIndex is aligned on ``dates``; missing pairs are dropped.
    risk_free : float
        ANNUAL risk-free rate (0.02 is 2 %), converted per period.
    periods_per_year : float
        Periods a year for annualisation (252 for daily bars).

    Returns
    -------
    dict
        Exactly the keys of ``METRIC_KEYS`` with Python ints, floats or ``None`` (never NaN).
        ``num_trades`` and ``max_drawdown_duration_days`` are ints.
    """
    values = _as_float_array(equity, "equity")
    cash = _check_initial_cash(initial_cash)
    dates64 = _as_datetime64(dates, values.size)
    n = values.size
    rf_p = per_period_risk_free(risk_free, periods_per_year)

    benchmark = _EMPTY
    if benchmark_returns is not None:
        if isinstance(benchmark_returns, pd.Series) and isinstance(
            benchmark_returns.index, pd.DatetimeIndex
        ):
            index = pd.DatetimeIndex(dates64)
            benchmark_index = benchmark_returns.index
            if benchmark_index.tz is not None:
                benchmark_index = benchmark_index.tz_localize(None)
            benchmark = (
                pd.Series(benchmark_returns.to_numpy(dtype=np.float64), index=benchmark_index)
                .reindex(index)
                .to_numpy()
            )
        else:
            benchmark = np.asarray(benchmark_returns, dtype=np.float64)
            if benchmark.shape != values.shape:
                raise ValueError(
                    "returns and benchmark_returns must be aligned one-dimensional arrays of the "
                    f"same length, got shapes {values.shape} and {benchmark.shape}"
                )
        benchmark = np.ascontiguousarray(benchmark, dtype=np.float64)

    pnl_values = _as_float_array(trade_pnl if trade_pnl is not None else _EMPTY, "trade pnl")
    return_values = _as_float_array(
        trade_returns if trade_returns is not None else _EMPTY, "trade returns"
    )
    if (
        trade_pnl is not None
        and trade_returns is not None
        and pnl_values.size != return_values.size
    ):
        raise ValueError(
            f"trade pnl and trade returns describe the same trades but have {pnl_values.size} "
            f"and {return_values.size} elements"
        )
    position_values = _EMPTY
    if positions is not None:
        position_values = _as_float_array(positions, "positions")
        if position_values.size != n:
            raise ValueError(
                f"positions must have one value per bar: got {position_values.size} for {n} bars"
            )

    ticks, ticks_per_day = _date_ticks(dates64)
    raw = metrics_kernel(
        np.ascontiguousarray(values),
        cash,
        ticks,
        ticks_per_day,
        rf_p,
        (100.0 * (1.0 - VAR_LEVEL)) / 100.0,
        benchmark,
        benchmark_returns is not None,
        np.ascontiguousarray(pnl_values),
        np.ascontiguousarray(return_values),
        np.ascontiguousarray(position_values),
        positions is not None,
    )
    stats, returns, shortfall, centred, strategy = raw
    (mean_returns, std_returns, mean_excess, std_excess, _, worst_ratio, longest, var_raw,
     cvar_raw, _, mean_benchmark, _, mean_paired, pairs, wins, gains, losses, mean_trade_return,
     nonzero, days) = stats.tolist()

    sqrt_periods = math.sqrt(periods_per_year)
    volatility = sharpe = sortino = None
    if n >= 2:
        volatility = _finite_or_none(_noise_to_zero(std_returns, mean_returns) * sqrt_periods)
        std = _noise_to_zero(std_excess, mean_excess)
        if std != 0:
            sharpe = _finite_or_none(mean_excess / std * sqrt_periods)
        downside = math.sqrt(float(np.dot(shortfall, shortfall)) / n)
        if downside != 0:
            sortino = _finite_or_none(mean_excess * periods_per_year / (downside * sqrt_periods))

    final_equity = float(values[-1]) if n else cash
    drawdown = min(worst_ratio - 1.0, 0.0) + 0.0 if n else 0.0
    growth = _cagr_from_days(final_equity, cash, days) if n else None
    if n > SELECT_IN_KERNEL_MAX:
        var_95 = _percentile_by_partition(returns, (100.0 * (1.0 - VAR_LEVEL)) / 100.0) + 0.0
        cvar_95 = float(mean_at_or_below(returns, var_95)) + 0.0
    else:
        var_95 = var_raw + 0.0 if n else None
        cvar_95 = cvar_raw + 0.0 if n else None

    beta = alpha = None
    if benchmark_returns is not None and pairs >= 2:
        bench_ss = float(np.dot(centred, centred))
        if not bench_ss <= (_NOISE_RELATIVE_TO_MEAN * mean_benchmark) ** 2 * pairs:
            beta_value = float(np.dot(centred, strategy)) / bench_ss
            alpha_value = (
                (mean_paired - rf_p) - beta_value * (mean_benchmark - rf_p)
            ) * periods_per_year
            beta, alpha = _finite_or_none(beta_value), _finite_or_none(alpha_value)

    win_rate = profit_factor = avg_return = None
    if pnl_values.size:
        win_rate = wins / pnl_values.size
        profit_factor = _finite_or_none(gains / -losses) if losses < 0 else None
    if return_values.size:
        avg_return = _finite_or_none(mean_trade_return)
    exposure_value = nonzero / n if positions is not None and n else None

    return {
        "total_return": final_equity / cash - 1.0 + 0.0,
        "cagr": growth,
        "volatility": volatility,
        "sharpe": sharpe,
        "sortino": sortino,
        "max_drawdown": drawdown,
        "max_drawdown_duration_days": int(longest) if n else 0,
        "calmar": _calmar(growth, drawdown),
        "num_trades": int(max(pnl_values.size, return_values.size)),
        "win_rate": win_rate,
        "profit_factor": profit_factor,
        "avg_trade_return": avg_return,
        "exposure": exposure_value,
        "var_95": var_95,
        "cvar_95": cvar_95,
        "beta": beta,
        "alpha": alpha,
        "final_equity": final_equity,
    }
