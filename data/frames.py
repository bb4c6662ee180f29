"""The shape every part of the data layer hands around (docs/prices.md), and date helpers.

A price frame has a ``DatetimeIndex`` named ``date`` (timezone-naive: exchange-local midnight for
daily bars, UTC for intraday bars), ascending and unique, and the float64 columns
``open, high, low, close, adj_close, volume``.

Raw and adjusted prices
-----------------------
``open/high/low/close/volume`` are kept as the provider reports them (for Yahoo: split-adjusted,
not dividend-adjusted, as Yahoo's ``Close``); ``adj_close`` is the split- and dividend-adjusted
close. The data layer never rewrites OHLC into adjusted prices: the engine does it in
``engine.prices.adjusted_ohlc`` (OHLC scaled by ``adj_close / close`` on each day, volume divided
by it), so a backtest uses adjusted prices by default and can still show the raw ones.
When a source has no adjusted close, ``adj_close`` equals ``close``.
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd

COLUMNS = ("open", "high", "low", "close", "adj_close", "volume")
OHLC = ("open", "high", "low", "close")
DAILY_INTERVALS = ("1d", "1wk", "1mo")
INTRADAY_INTERVALS = ("1m", "2m", "5m", "15m", "30m", "60m", "90m", "1h")
INTERVALS = DAILY_INTERVALS + INTRADAY_INTERVALS

DateLike = dt.date | dt.datetime | pd.Timestamp | str


def empty_frame() -> pd.DataFrame:
    """A price frame with no rows."""
    index = pd.DatetimeIndex([], name="date", dtype="datetime64[ns]")
    return pd.DataFrame({c: np.array([], dtype="float64") for c in COLUMNS}, index=index)


def normalize_frame(frame: pd.DataFrame) -> pd.DataFrame:
    """``frame`` in the canonical shape: the six float64 columns in order, ``adj_close``
    defaulting to ``close`` and ``volume`` to 0, a naive ``datetime64[ns]`` index named ``date``.

    Rows are neither sorted nor dropped (validation reports such problems, see
    :mod:`data.validate`).
    """
    out = pd.DataFrame(index=_naive_index(frame.index))
    for column in COLUMNS:
        if column in frame.columns:
            out[column] = frame[column].to_numpy(dtype="float64", na_value=np.nan)
        elif column == "adj_close" and "close" in frame.columns:
            out[column] = frame["close"].to_numpy(dtype="float64", na_value=np.nan)
        elif column == "volume":
            out[column] = 0.0
        else:
            raise ValueError(f"price frame without a {column!r} column")
    return out


def _naive_index(index: pd.Index) -> pd.DatetimeIndex:
    stamps = pd.DatetimeIndex(index)
    if stamps.tz is not None:
        stamps = stamps.tz_localize(None)
    return pd.DatetimeIndex(stamps.astype("datetime64[ns]"), name="date")


def to_date(value: DateLike | None) -> dt.date | None:
    """An ISO string, date, datetime or Timestamp as a calendar ``date`` (None stays None)."""
    if value is None:
        return None
    if isinstance(value, str):
        try:
            return dt.date.fromisoformat(value.strip()[:10])
        except ValueError as exc:
            raise ValueError(f"date {value!r} is not an ISO date (YYYY-MM-DD)") from exc
    if isinstance(value, pd.Timestamp):
        return value.date()
    if isinstance(value, dt.datetime):
        return value.date()
    return value


def slice_dates(frame: pd.DataFrame, start: dt.date | None, end: dt.date | None) -> pd.DataFrame:
    """Rows whose calendar day lies in ``[start, end]`` (both inclusive, None = open)."""
    lo = pd.Timestamp(start) if start else None
    hi = pd.Timestamp(end) + pd.Timedelta(days=1) if end else None
    mask = np.ones(len(frame), dtype=bool)
    if lo is not None:
        mask &= frame.index >= lo
    if hi is not None:
        mask &= frame.index < hi
    return frame[mask]


def normalize_symbol(symbol: str) -> str:
    """Upper-case, stripped; rejects empty or odd strings with a clear message."""
    cleaned = symbol.strip().upper()
    if not cleaned or len(cleaned) > 20 or not all(c.isalnum() or c in ".-^=" for c in cleaned):
        raise ValueError(
            f"symbol {symbol!r} is not a ticker: use letters, digits and . - ^ = (e.g. SPY, BRK-B)"
        )
    return cleaned


def check_interval(interval: str) -> str:
    if interval not in INTERVALS:
        raise ValueError(f"interval {interval!r}: must be one of {', '.join(INTERVALS)}")
    return interval
