"""The engine's own data-integrity checks on the bars a robustness report used (pure).

They complement the data layer's checks, which reach results as the frame's warnings
(``engine.prices.frame_warnings``: e.g. ``unadjusted_split``, a jump at a split date that the
prices do not absorb). Each finding is a result warning ``{"date", "kind", "message"}`` (plus
``count``/``dates`` when it covers several bars):

``adjustment_step``
    ``adj_close / close`` changes by more than :data:`MAX_DIVIDEND_FRACTION` from one bar to the
    next. A dividend moves that factor by its yield (a few %); a larger step means the close
    and the adjusted close disagree about a split: one series is adjusted and the other is not
    (this run used the adjusted prices; a tool reading ``close`` sees a jump that did not
    happen). Checked on the frame as given.
``missing_bars``
    daily bars with a gap of at least :data:`MISSING_WEEKDAYS` weekdays (a market holiday
    leaves one weekday out, rarely two); and, when the benchmark has its own bars, dates it
    traded that the symbol lacks.
``zero_volume``
    at least :data:`ZERO_VOLUME_RUN` consecutive bars with zero volume (a stale or
    forward-filled feed, an index without volumes: volume-based rules see nothing).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

MAX_DIVIDEND_FRACTION = 0.10
MISSING_WEEKDAYS = 3
ZERO_VOLUME_RUN = 5
MAX_LISTED_DATES = 20


def integrity_warnings(prices: pd.DataFrame, dates: np.ndarray, volume: np.ndarray,
                       benchmark_dates: np.ndarray | None = None) -> list[dict[str, Any]]:
    """The findings of the module docstring on ``dates``/``volume`` (the bars used, as
    datetime64 and float arrays) and on ``prices`` (the frame as given, for ``adj_close``)."""
    found = []
    found += adjustment_steps(prices, dates[-1] if len(dates) else None)
    found += missing_weekdays(dates)
    if benchmark_dates is not None:
        found += missing_against(dates, benchmark_dates)
    found += zero_volume_runs(dates, volume)
    return found


def adjustment_steps(prices: pd.DataFrame, until: np.datetime64 | None
                     ) -> list[dict[str, Any]]:
    """``adjustment_step`` findings (module docstring) up to ``until``."""
    if "adj_close" not in prices.columns or len(prices) < 2:
        return []
    index = pd.DatetimeIndex(prices.index)
    if index.tz is not None:
        index = index.tz_localize(None)
    factor = (prices["adj_close"].to_numpy(dtype="float64")
              / prices["close"].to_numpy(dtype="float64"))
    with np.errstate(divide="ignore", invalid="ignore"):
        step = factor[1:] / factor[:-1]
    rows = np.flatnonzero(np.abs(np.log(step)) > np.log1p(MAX_DIVIDEND_FRACTION)) + 1
    found = []
    for row in rows:
        if until is not None and index[row].to_datetime64() > until:
            break
        day = index[row].strftime("%Y-%m-%d")
        found.append({"date": day, "kind": "adjustment_step", "message": (
            f"adj_close/close changed x{step[row - 1]:.3f} on {day}, more than a dividend "
            f"({MAX_DIVIDEND_FRACTION:.0%}) explains: close and adj_close disagree about a "
            "split (one is adjusted, the other not). This run used the adjusted prices; check "
            "the source if another tool reads the close")})
    return found


def missing_weekdays(dates: np.ndarray) -> list[dict[str, Any]]:
    """``missing_bars`` for gaps of :data:`MISSING_WEEKDAYS` or more weekdays (daily bars)."""
    if len(dates) < 3:
        return []
    days = np.asarray(dates, dtype="datetime64[D]")
    spacing = np.diff(days).astype(np.int64)
    if np.median(spacing) > 4 or np.any(spacing == 0):  # not daily bars
        return []
    skipped = np.busday_count(days[:-1] + 1, days[1:])
    found = []
    for row in np.flatnonzero(skipped >= MISSING_WEEKDAYS):
        after = str(days[row])
        first_missing = np.busday_offset(days[row] + 1, 0, roll="forward")
        found.append({"date": str(first_missing), "kind": "missing_bars", "message": (
            f"no bars on {int(skipped[row])} weekdays after {after} (next bar "
            f"{days[row + 1]}): more than a holiday (a market closure such as September "
            "2001, or a hole in the data); signals and returns jump over the gap")})
    return found


def missing_against(dates: np.ndarray, benchmark_dates: np.ndarray) -> list[dict[str, Any]]:
    """``missing_bars``: dates the benchmark traded inside the symbol's range without a bar of
    the symbol."""
    if len(dates) == 0:
        return []
    days = np.asarray(dates, dtype="datetime64[D]")
    others = np.asarray(benchmark_dates, dtype="datetime64[D]")
    others = others[(others >= days[0]) & (others <= days[-1])]
    lacking = np.setdiff1d(others, days)
    if lacking.size == 0:
        return []
    listed = [str(d) for d in lacking[:MAX_LISTED_DATES]]
    more = f" and {lacking.size - MAX_LISTED_DATES} more" if lacking.size > len(listed) else ""
    return [{"date": listed[0], "kind": "missing_bars", "count": int(lacking.size),
             "dates": listed, "message": (
                 f"no bar on {lacking.size} date(s) the benchmark traded: "
                 f"{', '.join(listed)}{more}; check the symbol's data for holes")}]


def zero_volume_runs(dates: np.ndarray, volume: np.ndarray) -> list[dict[str, Any]]:
    """``zero_volume`` for runs of at least :data:`ZERO_VOLUME_RUN` bars with volume 0."""
    zero = np.asarray(volume) == 0
    if not zero.any():
        return []
    edges = np.diff(np.concatenate(([0], zero.astype(np.int8), [0])))
    starts, stops = np.flatnonzero(edges == 1), np.flatnonzero(edges == -1)
    days = np.datetime_as_string(np.asarray(dates), unit="D")
    found = []
    for start, stop in zip(starts, stops, strict=True):
        if stop - start >= ZERO_VOLUME_RUN:
            found.append({"date": str(days[start]), "kind": "zero_volume",
                          "count": int(stop - start), "message": (
                              f"volume is 0 on {stop - start} bars in a row, {days[start]} to "
                              f"{days[stop - 1]}: a stale feed or an index without volumes; "
                              "volume-based rules see nothing there")})
    return found
