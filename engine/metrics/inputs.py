"""Checks and conversions of the metrics' inputs: finite float arrays, a positive starting
capital and ascending dates (kept in their ``datetime64`` unit, counted in calendar days)."""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import TypeAlias

import numba
import numpy as np
import numpy.typing as npt
import pandas as pd

Values: TypeAlias = npt.ArrayLike
Dates: TypeAlias = "np.ndarray | pd.DatetimeIndex | pd.Series | Sequence[str]"

EMPTY = np.empty(0, dtype=np.float64)

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


def as_float_array(values: Values, name: str) -> np.ndarray:
    """``values`` as a one-dimensional, C-contiguous float64 array; ``ValueError`` naming
    ``name`` and the first non-finite element otherwise."""
    array = np.asarray(values, dtype=np.float64)
    if array.ndim != 1:
        raise ValueError(f"{name} must be one-dimensional, got shape {array.shape}")
    if not np.isfinite(array).all():
        bad = int(np.flatnonzero(~np.isfinite(array))[0])
        raise ValueError(
            f"{name} must be finite: element {bad} is {array[bad]!r}; "
            "drop or fill missing values before computing metrics"
        )
    return np.ascontiguousarray(array)


def checked_initial_cash(initial_cash: float) -> float:
    """The starting capital as a float; ``ValueError`` unless positive and finite."""
    cash = float(initial_cash)
    if not math.isfinite(cash) or cash <= 0:
        raise ValueError(f"initial_cash must be a positive finite number, got {initial_cash!r}")
    return cash


@numba.njit(cache=True, nogil=True)
def date_order_problem(ticks):  # pragma: no cover - compiled
    """0 for valid ``datetime64`` ticks, 1 if one is NaT (int64 minimum), 2 if not ascending."""
    nat = np.iinfo(np.int64).min
    for i in range(ticks.shape[0]):
        if ticks[i] == nat:
            return 1
    for i in range(1, ticks.shape[0]):
        if ticks[i] < ticks[i - 1]:
            return 2
    return 0


def as_datetime64(dates: Dates, expected_length: int) -> np.ndarray:
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


def calendar_day_numbers(dates: np.ndarray) -> np.ndarray:
    """Calendar-day numbers (days since 1970-01-01) of ``datetime64`` dates."""
    return dates.astype("datetime64[D]").astype(np.int64)


def date_ticks(dates: np.ndarray) -> tuple[np.ndarray, int]:
    """Integer ticks of ``datetime64`` dates and the ticks in a calendar day.

    ``ticks // ticks_per_day`` are the calendar-day numbers of ``calendar_day_numbers``; units
    that are not a fixed fraction of a day (weeks, months, multiples) are converted by NumPy.
    """
    unit, count = np.datetime_data(dates.dtype)
    ticks_per_day = _TICKS_PER_DAY.get(unit) if count == 1 else None
    if ticks_per_day is None:
        return np.ascontiguousarray(calendar_day_numbers(dates)), 1
    return np.ascontiguousarray(dates).view(np.int64), ticks_per_day


def finite_or_none(value: float) -> float | None:
    """A metric as reported: a Python float, ``None`` for NaN or inf, and -0.0 turned into 0.0."""
    value = float(value)
    return value + 0.0 if math.isfinite(value) else None
