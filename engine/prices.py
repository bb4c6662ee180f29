"""Price frames (docs/prices.md) as the engine needs them: checked columns and adjusted OHLC.

Adjustment convention
---------------------
When a frame has ``adj_close`` (split- and dividend-adjusted close), the adjusted bar is the raw
bar scaled by that day's factor ``k_t = adj_close_t / close_t``: open, high, low and close are
multiplied by ``k_t`` and volume divided by it, so intraday ratios (open/close, high/low) and
traded value are preserved, and the adjusted close equals ``adj_close``. Returns computed from
adjusted prices include dividends and are free of split jumps. Without ``adj_close`` the bars
are used as they are.

Data warnings
-------------
The data layer checks every frame it hands out (``data.validate``: suspicious bars such as an
unadjusted split) and lists what it found in ``frame.attrs["warnings"]``: dicts with ``date``
(ISO), ``kind`` and ``message``. The engine copies them into its results
(:func:`frame_warnings`), so a warning reaches the user whichever way the prices came in.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from engine.errors import EngineError

OHLC = ("open", "high", "low", "close")
OHLCV = (*OHLC, "volume")
WARNINGS_ATTR = "warnings"


class PriceDataError(EngineError, ValueError):
    """Prices the engine cannot use; the message says what is wrong and how to fix it."""


def frame_warnings(prices: pd.DataFrame | None, symbol: str, until: str | None = None
                   ) -> list[dict[str, Any]]:
    """The data warnings of ``prices`` (see the module docstring) as result entries
    ``{"date", "kind", "message", "symbol"}``, those dated after ``until`` (ISO) left out."""
    if prices is None:
        return []
    found = prices.attrs.get(WARNINGS_ATTR) or []
    return [{"date": str(w["date"]), "kind": str(w["kind"]), "message": str(w["message"]),
             "symbol": symbol}
            for w in found if until is None or str(w["date"]) <= until]


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


@dataclass(frozen=True)
class PriceArrays:
    """Checked bars as NumPy arrays (the engine's working form; no pandas in the hot path).

    ``dates`` are ``datetime64`` values (timezone-aware input is converted to wall-clock time);
    the price columns are float64 and, with ``adjusted``, already scaled by ``adj_close/close``.
    """

    dates: np.ndarray
    open: np.ndarray
    high: np.ndarray
    low: np.ndarray
    close: np.ndarray
    volume: np.ndarray
    adjusted: bool

    def __len__(self) -> int:
        return len(self.dates)

    def columns(self) -> dict[str, np.ndarray]:
        """Column name -> array, the form ``engine.signals.evaluate_rules`` accepts."""
        return {"open": self.open, "high": self.high, "low": self.low, "close": self.close,
                "volume": self.volume}

    def slice(self, window: slice) -> PriceArrays:
        return PriceArrays(self.dates[window], self.open[window], self.high[window],
                           self.low[window], self.close[window], self.volume[window],
                           self.adjusted)

    def frame(self) -> pd.DataFrame:
        """The bars as a docs/prices.md DataFrame (float columns, DatetimeIndex named date)."""
        return pd.DataFrame(self.columns(), index=pd.DatetimeIndex(self.dates, name="date"))

    def positions(self, start: str | None, end: str | None) -> slice:
        """Positions of the bars with ``start <= date <= end`` (ISO dates, inclusive)."""
        first = 0 if start is None else int(
            np.searchsorted(self.dates, np.datetime64(start), side="left"))
        last = len(self.dates) if end is None else int(
            np.searchsorted(self.dates, np.datetime64(end) + np.timedelta64(1, "D"), "left"))
        return slice(first, last)


def price_arrays(prices: pd.DataFrame, adjust: bool = True, what: str = "prices"
                 ) -> PriceArrays:
    """Check ``prices`` and return them as :class:`PriceArrays`, adjusted as
    :func:`adjusted_ohlc` does when ``adjust`` and ``adj_close`` is present.

    Checks: a DatetimeIndex, ascending and unique; the open/high/low/close columns present with
    finite positive values (volume optional, 0 when absent); at least one bar; when adjusting,
    finite positive ``adj_close``. Raises :class:`PriceDataError` saying what to fix.
    """
    index = prices.index
    if not isinstance(index, pd.DatetimeIndex):
        raise PriceDataError(f"{what}: the index must be dates (a DatetimeIndex named 'date')")
    missing = [column for column in OHLC if column not in prices.columns]
    if missing:
        raise PriceDataError(
            f"{what}: missing column(s) {', '.join(missing)}; "
            "expected date,open,high,low,close,volume"
        )
    if len(index) == 0:
        raise PriceDataError(f"{what}: no bars in the requested date range")
    if not index.is_monotonic_increasing or not index.is_unique:
        raise PriceDataError(f"{what}: dates must be ascending and unique")
    ohlc = np.stack([prices[c].to_numpy(dtype="float64") for c in OHLC])
    bad = ~np.isfinite(ohlc).all(axis=0) | (ohlc <= 0).any(axis=0)
    if bad.any():
        first = index[np.argmax(bad)].date()
        raise PriceDataError(
            f"{what}: {int(bad.sum())} bar(s) with missing, zero or negative prices "
            f"(first on {first}); clean or drop those rows"
        )
    volume = (prices["volume"].to_numpy(dtype="float64") if "volume" in prices.columns
              else np.zeros(len(index)))
    adjusted = adjust and "adj_close" in prices.columns
    if adjusted:
        factor = prices["adj_close"].to_numpy(dtype="float64") / ohlc[3]
        unusable = ~np.isfinite(factor) | (factor <= 0)
        if unusable.any():
            raise PriceDataError(
                f"{what}: {int(unusable.sum())} bar(s) with a missing or non-positive adj_close "
                f"(first on {index[np.argmax(unusable)].date()}); fix them or run unadjusted"
            )
        ohlc = ohlc * factor
        volume = volume / factor
    dates = (index.tz_localize(None) if index.tz is not None else index).to_numpy()
    return PriceArrays(dates, ohlc[0], ohlc[1], ohlc[2], ohlc[3], volume, adjusted)
