"""The ``yfinance`` provider: Yahoo Finance daily/intraday bars through the yfinance package.

yfinance asks Yahoo's chart API (``/v8/finance/chart/SYMBOL?period1=..&period2=..&interval=..``,
after a cookie from ``fc.yahoo.com`` and a crumb from ``/v1/test/getcrumb``) through a curl_cffi
session; tests hand :class:`YahooProvider` a session that replays recorded answers.

We ask for raw bars (``auto_adjust=False``): Yahoo's ``Close`` is split-adjusted, not dividend
adjusted, and ``Adj Close`` is split- and dividend-adjusted. They become ``close`` and
``adj_close``; the engine adjusts OHLC (see :mod:`data.frames`). Daily bars are dated at the
exchange's local midnight, intraday bars in UTC (timezone-naive).

Errors, each distinct: an unknown symbol (Yahoo: "No data found, symbol may be delisted", or no
timezone) is :class:`UnknownSymbolError`; a known symbol with no bars in the range is
:class:`EmptyRangeError`; HTTP 429 is retried with exponential backoff and then becomes
:class:`RateLimitedError`; timeouts and connection errors are retried and then become
:class:`ProviderUnavailableError`, as does a failed DNS lookup at once (no network: retrying
within seconds would not help).
"""

from __future__ import annotations

import datetime as dt
import logging
from typing import Any

import pandas as pd

from data.errors import (
    EmptyRangeError,
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

log = logging.getLogger(__name__)
EARLIEST = dt.date(1970, 1, 2)
UNKNOWN_SYMBOL_HINTS = ("delisted", "not found")


class YahooProvider:
    name = "yfinance"

    def __init__(self, backoff: Backoff | None = None, session: Any = None,
                 timeout_seconds: float = 10.0) -> None:
        self.backoff = backoff or Backoff()
        self.session = session
        self.timeout_seconds = timeout_seconds

    def fetch(self, symbol: str, start: DateLike | None = None, end: DateLike | None = None,
              interval: str = "1d") -> pd.DataFrame:
        symbol = normalize_symbol(symbol)
        check_interval(interval)
        first = to_date(start) or EARLIEST
        last = to_date(end) or dt.date.today()
        try:
            raw, name = with_retries(lambda: self._history(symbol, first, last, interval),
                                     _is_transient, self.backoff, f"Yahoo Finance {symbol}")
        except Exception as exc:
            translated = _translate(exc, symbol, first, last, self.backoff)
            if translated is None:
                raise
            raise translated from exc
        frame = slice_dates(_to_frame(raw, interval), first, last)
        if frame.empty:
            raise EmptyRangeError(f"{symbol}: Yahoo Finance has no {interval} bars "
                                  f"between {first} and {last}")
        frame.attrs.update(source=self.name, name=name)
        return frame

    def _history(self, symbol: str, first: dt.date, last: dt.date,
                 interval: str) -> tuple[pd.DataFrame, str | None]:
        """The one place that calls yfinance: raw bars of ``[first, last]`` and the long name."""
        import yfinance as yf

        yf.config.debug.hide_exceptions = False  # raise instead of logging and returning nothing
        ticker = yf.Ticker(symbol, session=self.session)
        frame = ticker.history(start=first.isoformat(),
                               end=(last + dt.timedelta(days=1)).isoformat(),  # exclusive
                               interval=interval, auto_adjust=False, actions=False,
                               repair=False, timeout=self.timeout_seconds)
        meta = getattr(ticker, "history_metadata", None) or {}
        return frame, meta.get("longName") or meta.get("shortName")


def _to_frame(raw: pd.DataFrame, interval: str) -> pd.DataFrame:
    renamed = raw.rename(columns=lambda c: str(c).strip().lower().replace(" ", "_"))
    index = pd.DatetimeIndex(renamed.index)
    if index.tz is not None and interval in INTRADAY_INTERVALS:
        index = index.tz_convert("UTC")
    renamed.index = index
    return normalize_frame(renamed.dropna(subset=["open", "high", "low", "close"], how="all"))


def _kind(exc: Exception) -> str:
    """``rate_limited``, ``no_network``, ``not_found``, ``transient`` or ``other``, from the
    exception type (by name, so the optional packages need not be imported here) and, for HTTP
    errors, the status code."""
    names = {cls.__name__ for cls in type(exc).__mro__}
    status = getattr(getattr(exc, "response", None), "status_code", None)
    if "YFRateLimitError" in names or status == 429:
        return "rate_limited"
    if "DNSError" in names or "could not resolve host" in str(exc).lower():
        return "no_network"
    if status in (404, 410):  # e.g. quoteSummary, which yfinance asks when the chart has no tz
        return "not_found"
    if status is not None and 400 <= status < 500:
        return "other"
    if names & {"YFTickerMissingError", "YFInvalidPeriodError"}:
        return "other"
    transient = {"ConnectionError", "Timeout", "TimeoutError", "ConnectTimeout", "ReadTimeout",
                 "ChunkedEncodingError", "HTTPError", "RequestException", "YFDataException",
                 "JSONDecodeError"}
    if names & transient or isinstance(exc, OSError):
        return "transient"
    return "other"


def _is_transient(exc: Exception) -> bool:
    return _kind(exc) in ("rate_limited", "transient")


def _translate(exc: Exception, symbol: str, first: dt.date, last: dt.date,
               backoff: Backoff) -> Exception | None:
    """The data-layer error for a yfinance failure (after the retries); None for failures
    that are not about the data (bugs, bad arguments), which propagate unchanged."""
    kind = _kind(exc)
    tries = backoff.max_retries + 1
    if kind == "rate_limited":
        return RateLimitedError(
            f"Yahoo Finance refused {symbol} with HTTP 429 (too many requests) on {tries} "
            f"attempt(s) over {sum(backoff.delays()):.0f} s; wait a few minutes and retry, or use "
            "the bars already stored (arena ingest keeps them) or the bundled sample")
    if kind == "no_network":
        return ProviderUnavailableError(
            f"cannot reach Yahoo Finance for {symbol} (DNS lookup failed: no network?); "
            "DATA_PROVIDER=auto or bundled works offline with the bundled sample")
    if kind == "transient":
        return ProviderUnavailableError(
            f"Yahoo Finance did not answer for {symbol} after {tries} attempt(s) "
            f"({type(exc).__name__}: {exc}); check the network or try again later")
    names = {cls.__name__ for cls in type(exc).__mro__}
    reason = getattr(exc, "yahoo_reason", None)  # Yahoo's own words, when it gave a reason
    if (kind == "not_found" or "YFTzMissingError" in names
            or (reason and any(h in reason.lower() for h in UNKNOWN_SYMBOL_HINTS))):
        return UnknownSymbolError(
            f"unknown symbol {symbol!r}: Yahoo Finance has no such ticker ({reason or exc}); "
            "check the spelling (Yahoo style, e.g. BRK-B, ^GSPC)")
    if "YFPricesMissingError" in names:
        return EmptyRangeError(f"{symbol}: Yahoo Finance has no bars between {first} and {last}"
                               + (f" ({reason})" if reason else ""))
    return None
