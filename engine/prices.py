"""Price frames (contract §2) as the engine needs them: checked columns and adjusted OHLC.

Adjustment convention
---------------------
When a frame has ``adj_close`` (split- and dividend-adjusted close), the adjusted bar is the raw
bar scaled by that day's factor ``k_t = adj_close_t / close_t``: open, high, low and close are
multiplied by ``k_t`` and volume divided by it, so intraday ratios (open/close, high/low) and
traded value are preserved, and the adjusted close equals ``adj_close``. Returns computed from
adjusted prices include dividends and are free of split jumps. Without ``adj_close`` the bars
are used as they are.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

OHLC = ("open", "high", "low", "close")
OHLCV = (*OHLC, "volume")


class PriceDataError(ValueError):
    """Prices the engine cannot use; the message says what is wrong and how to fix it."""


def check_prices(prices: pd.DataFrame, what: str = "prices") -> pd.DataFrame:
    """Return ``prices`` as float64 contract §2 columns, or raise :class:`PriceDataError`.

    Checks: a DatetimeIndex, ascending and unique; the open/high/low/close columns present with
    finite positive values (volume optional, filled with 0); at least one bar.
    """
    if not isinstance(prices.index, pd.DatetimeIndex):
        raise PriceDataError(f"{what}: the index must be dates (a DatetimeIndex named 'date')")
    missing = [column for column in OHLC if column not in prices.columns]
    if missing:
        raise PriceDataError(
            f"{what}: missing column(s) {', '.join(missing)}; "
            "expected date,open,high,low,close,volume"
        )
    if len(prices) == 0:
        raise PriceDataError(f"{what}: no bars in the requested date range")
    if not prices.index.is_monotonic_increasing or prices.index.has_duplicates:
        raise PriceDataError(f"{what}: dates must be ascending and unique")
    columns = [c for c in (*OHLCV, "adj_close") if c in prices.columns]
    frame = prices[columns].astype("float64")
    if "volume" not in frame.columns:
        frame["volume"] = 0.0
    values = frame[list(OHLC)].to_numpy()
    bad = ~np.isfinite(values).all(axis=1) | (values <= 0).any(axis=1)
    if bad.any():
        first = frame.index[np.argmax(bad)].date()
        raise PriceDataError(
            f"{what}: {int(bad.sum())} bar(s) with missing, zero or negative prices "
            f"(first on {first}); clean or drop those rows"
        )
    return frame


def adjusted_ohlc(prices: pd.DataFrame) -> pd.DataFrame:
    """Bars scaled by ``adj_close / close`` (see the module docstring); a copy.

    Frames without ``adj_close`` come back unchanged (as a copy).
    """
    frame = prices.copy()
    if "adj_close" not in frame.columns:
        return frame
    factor = frame["adj_close"] / frame["close"]
    for column in OHLC:
        frame[column] = frame[column] * factor
    if "volume" in frame.columns:
        frame["volume"] = frame["volume"] / factor
    return frame.drop(columns="adj_close")
