"""The ``alpaca`` provider: Alpaca Market Data bars through alpaca-py (optional extra
``pip install 'strategy-arena[alpaca]'``), with the API keys from the configuration.

Two requests per fetch: bars adjusted for splits only (``open/high/low/close/volume``, the same
convention as Yahoo's ``Close``) and bars adjusted for splits and dividends, whose close becomes
``adj_close``. Daily bars are dated at New York midnight, intraday bars in UTC (naive).

Errors: HTTP 429 is retried with our backoff (alpaca-py's own fixed 3 s retry is switched off)
and then becomes :class:`RateLimitedError`; 401/403 is :class:`ProviderConfigError` (keys);
"invalid symbol" is :class:`UnknownSymbolError`. Alpaca answers an unknown but well-formed
symbol with no bars, exactly like a range without trading: an empty answer for a range longer
than ``UNKNOWN_AFTER_DAYS`` is reported as an unknown symbol, a shorter one as an empty range.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import pandas as pd

from data.errors import (
    EmptyRangeError,
    ProviderConfigError,
    ProviderNotInstalledError,
    ProviderUnavailableError,
    RateLimitedError,
    UnknownSymbolError,
)
from data.frames import (
    INTRADAY_INTERVALS,
    DateLike,
    check_interval,
    normalize_frame,
    normalize_symbol,
    slice_dates,
    to_date,
)
from data.providers.retry import Backoff, with_retries

EARLIEST = dt.date(2015, 1, 1)  # Alpaca's history starts in 2015/2016
UNKNOWN_AFTER_DAYS = 14
NEW_YORK = "America/New_York"
INSTALL_HINT = "pip install 'strategy-arena[alpaca]'"


class AlpacaProvider:
    name = "alpaca"

    def __init__(self, api_key: str | None = None, secret_key: str | None = None,
                 feed: str = "iex", backoff: Backoff | None = None, session: Any = None) -> None:
        self.api_key = api_key
        self.secret_key = secret_key
        self.feed = feed
        self.backoff = backoff or Backoff()
        self.session = session

    def fetch(self, symbol: str, start: DateLike | None = None, end: DateLike | None = None,
              interval: str = "1d") -> pd.DataFrame:
        symbol = normalize_symbol(symbol)
        check_interval(interval)
        first = to_date(start) or EARLIEST
        last = to_date(end) or dt.date.today()
        client = self._client()
        try:
            split_bars = self._bars(client, symbol, first, last, interval, "split")
            if split_bars.empty:
                if (last - first).days > UNKNOWN_AFTER_DAYS:
                    raise UnknownSymbolError(
                        f"unknown symbol {symbol!r}: Alpaca has no bars for it between {first} "
                        f"and {last} (unknown ticker, or not traded on the {self.feed} feed)")
                raise EmptyRangeError(f"{symbol}: Alpaca has no bars between {first} and {last}")
            all_bars = self._bars(client, symbol, first, last, interval, "all")
        except (UnknownSymbolError, EmptyRangeError):
            raise
        except Exception as exc:
            translated = _translate(exc, symbol, self.backoff)
            if translated is None:
                raise
            raise translated from exc
        frame = split_bars.copy()
        frame["adj_close"] = all_bars["close"].reindex(frame.index).fillna(frame["close"])
        frame = slice_dates(normalize_frame(_dated(frame, interval)), first, last)
        if frame.empty:
            raise EmptyRangeError(f"{symbol}: Alpaca has no bars between {first} and {last}")
        frame.attrs.update(source=self.name, name=None)
        return frame

    def _client(self) -> Any:
        try:
            from alpaca.data.historical import StockHistoricalDataClient
        except ImportError as exc:
            raise ProviderNotInstalledError(
                f"the alpaca provider needs the alpaca-py package: {INSTALL_HINT}") from exc
        if not (self.api_key and self.secret_key):
            raise ProviderConfigError(
                "the alpaca provider needs ALPACA_API_KEY and ALPACA_SECRET_KEY (free keys at "
                "https://alpaca.markets); or use DATA_PROVIDER=yfinance / bundled")
        client = StockHistoricalDataClient(self.api_key, self.secret_key)
        client._retry = 0  # private knob: our Backoff retries 429s, with injectable delays
        if self.session is not None:
            client._session = self.session
        return client

    def _bars(self, client: Any, symbol: str, first: dt.date, last: dt.date, interval: str,
              adjustment: str) -> pd.DataFrame:
        from alpaca.data.enums import Adjustment, DataFeed
        from alpaca.data.requests import StockBarsRequest

        request = StockBarsRequest(
            symbol_or_symbols=symbol, timeframe=_timeframe(interval),
            start=pd.Timestamp(first).tz_localize(NEW_YORK).to_pydatetime(),
            end=(pd.Timestamp(last) + pd.Timedelta(days=1, seconds=-1)).tz_localize(NEW_YORK)
            .to_pydatetime(),
            adjustment=Adjustment(adjustment), feed=DataFeed(self.feed))
        barset = with_retries(lambda: client.get_stock_bars(request), _is_transient,
                              self.backoff, f"Alpaca {symbol}")
        bars = barset.data.get(symbol, [])
        return pd.DataFrame(
            {"open": [b.open for b in bars], "high": [b.high for b in bars],
             "low": [b.low for b in bars], "close": [b.close for b in bars],
             "volume": [b.volume for b in bars]},
            index=pd.DatetimeIndex([pd.Timestamp(b.timestamp) for b in bars]), dtype="float64")


def _timeframe(interval: str) -> Any:
    from alpaca.data.timeframe import TimeFrame, TimeFrameUnit

    fixed = {"1d": TimeFrame.Day, "1wk": TimeFrame.Week, "1mo": TimeFrame.Month,
             "1h": TimeFrame.Hour, "60m": TimeFrame.Hour}
    if interval in fixed:
        return fixed[interval]
    minutes = int(interval.removesuffix("m"))
    if minutes >= 60:
        raise ValueError(f"interval {interval!r} is not available from Alpaca (use 1h)")
    return TimeFrame(minutes, TimeFrameUnit.Minute)


def _dated(frame: pd.DataFrame, interval: str) -> pd.DataFrame:
    index = pd.DatetimeIndex(frame.index)
    if index.tz is None:
        index = index.tz_localize("UTC")
    if interval in INTRADAY_INTERVALS:
        frame.index = index.tz_convert("UTC").tz_localize(None)
    else:
        frame.index = index.tz_convert(NEW_YORK).tz_localize(None).normalize()
    return frame


def _status(exc: Exception) -> int | None:
    response = getattr(exc, "response", None)
    return getattr(response, "status_code", None)


def _is_transient(exc: Exception) -> bool:
    status = _status(exc)
    if status is not None:
        return status == 429 or status >= 500
    return isinstance(exc, OSError) and not _no_network(exc)


def _no_network(exc: Exception) -> bool:
    text = str(exc).lower()
    return any(h in text for h in ("name or service not known", "nameresolution",
                                   "failed to resolve", "temporary failure in name resolution"))


def _translate(exc: Exception, symbol: str, backoff: Backoff) -> Exception | None:
    """The data-layer error for an alpaca-py failure after the retries (None: not about data)."""
    status = _status(exc)
    tries = backoff.max_retries + 1
    if status == 429:
        return RateLimitedError(
            f"Alpaca refused {symbol} with HTTP 429 (too many requests) on {tries} attempt(s); "
            "wait a minute and retry (the free plan allows 200 requests a minute)")
    if status in (401, 403):
        return ProviderConfigError(
            f"Alpaca rejected the API keys (HTTP {status}); check ALPACA_API_KEY and "
            "ALPACA_SECRET_KEY (and ALPACA_DATA_FEED=iex on the free plan)")
    if status in (400, 404, 422) and "symbol" in str(exc).lower():
        return UnknownSymbolError(f"unknown symbol {symbol!r}: Alpaca says {exc}")
    if _no_network(exc):
        return ProviderUnavailableError(
            f"cannot reach Alpaca for {symbol} (DNS lookup failed: no network?); "
            "DATA_PROVIDER=bundled works offline")
    if status is None and not isinstance(exc, OSError):
        return None
    return ProviderUnavailableError(
        f"Alpaca did not answer for {symbol} after {tries} attempt(s) "
        f"({type(exc).__name__}: {exc}); check the network or try again later")
