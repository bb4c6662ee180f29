"""Rebuild the recorded provider answers in this folder from the bundled SPY sample.

This machine has no internet access, so the recordings were NOT captured from Yahoo or Alpaca.
They are written by this script in the response formats those APIs use (field names, status codes
and error bodies as documented by the providers and as yfinance / alpaca-py parse them), with real
prices from ``data/sample/SPY.csv.gz``. Run ``python tests/data/recorded/make_recordings.py`` to
regenerate them; each file is an HTTP answer: ``{"status", "headers", "body"}``.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd

from data.bundled import load_bundled

HERE = Path(__file__).parent
JSON_HEADERS = {"content-type": "application/json;charset=utf-8"}
VALID_RANGES = ["1d", "5d", "1mo", "3mo", "6mo", "1y", "2y", "5y", "10y", "ytd", "max"]


def _write(name: str, status: int, body, headers: dict | None = None) -> None:
    answer = {"status": status, "headers": headers or JSON_HEADERS, "body": body}
    (HERE / name).write_text(json.dumps(answer, indent=1) + "\n")


def _open_utc_seconds(days: pd.DatetimeIndex) -> list[int]:
    """Yahoo stamps a daily bar with the session open, 09:30 New York time, in UTC seconds."""
    opens = (days + pd.Timedelta(hours=9, minutes=30)).tz_localize("America/New_York")
    return [int(s) for s in opens.tz_convert("UTC").as_unit("s").asi8]


def _meta(frame: pd.DataFrame, granularity: str, range_: str) -> dict:
    last = frame.iloc[-1]
    return {
        "currency": "USD", "symbol": "SPY", "exchangeName": "PCX", "fullExchangeName": "NYSEArca",
        "instrumentType": "ETF", "firstTradeDate": 728317800,
        "regularMarketTime": _open_utc_seconds(frame.index[-1:])[0] + 23400,
        "hasPrePostMarketData": True, "gmtoffset": -18000, "timezone": "EST",
        "exchangeTimezoneName": "America/New_York", "regularMarketPrice": float(last.close),
        "longName": "SPDR S&P 500 ETF Trust", "shortName": "SPDR S&P 500",
        "chartPreviousClose": float(frame.close.iloc[0]), "priceHint": 2,
        "dataGranularity": granularity, "range": range_, "validRanges": VALID_RANGES,
    }


def _dividends(frame: pd.DataFrame) -> dict:
    """Ex-dividend days and amounts implied by the adjusted close: on an ex-day the adjustment
    factor k = adj_close / close steps up, and D = close[t-1] * (1 - k[t-1] / k[t])."""
    factor = frame.adj_close / frame.close
    step = factor / factor.shift()
    events = {}
    for day in frame.index[step.to_numpy() > 1.0005]:
        prev = frame.index[frame.index.get_loc(day) - 1]
        amount = frame.close[prev] * (1 - factor[prev] / factor[day])
        stamp = _open_utc_seconds(pd.DatetimeIndex([day]))[0]
        events[str(stamp)] = {"amount": round(float(amount), 3), "date": stamp}
    return events


def yahoo_chart(frame: pd.DataFrame, granularity: str = "1d", range_: str = "") -> dict:
    def col(name: str) -> list:
        return [round(float(v), 4) for v in frame[name]]
    result = {
        "meta": _meta(frame, granularity, range_),
        "timestamp": _open_utc_seconds(frame.index),
        "events": {"dividends": _dividends(frame)},
        "indicators": {
            "quote": [{"open": col("open"), "high": col("high"), "low": col("low"),
                       "close": col("close"), "volume": [int(v) for v in frame.volume]}],
            "adjclose": [{"adjclose": col("adj_close")}],
        },
    }
    return {"chart": {"result": [result], "error": None}}


def alpaca_bars(frame: pd.DataFrame, adjusted: bool) -> dict:
    factor = (frame.adj_close / frame.close) if adjusted else pd.Series(1.0, frame.index)
    # Alpaca stamps a daily bar with midnight New York time, in UTC
    stamps = frame.index.tz_localize("America/New_York").tz_convert("UTC").strftime(
        "%Y-%m-%dT%H:%M:%SZ")
    bars = [{"t": t, "o": round(float(r.open * k), 4), "h": round(float(r.high * k), 4),
             "l": round(float(r.low * k), 4), "c": round(float(r.close * k), 4),
             "v": int(r.volume), "n": 1000, "vw": round(float((r.high + r.low) / 2 * k), 4)}
            for t, r, k in zip(stamps, frame.itertuples(), factor, strict=True)]
    return {"bars": {"SPY": bars}, "next_page_token": None}


def main() -> None:
    spy_2020 = load_bundled("SPY", "2020-01-02", "2020-12-31")
    _write("yahoo_chart_SPY_2020.json", 200, yahoo_chart(spy_2020))
    _write("yahoo_chart_SPY_range_1d.json", 200,
           yahoo_chart(load_bundled("SPY").iloc[-1:], range_="1d"))
    empty = yahoo_chart(spy_2020.iloc[:1])
    result = empty["chart"]["result"][0]
    del result["timestamp"], result["events"]
    result["indicators"] = {"quote": [{}], "adjclose": [{}]}
    _write("yahoo_chart_SPY_weekend.json", 200, empty)
    _write("yahoo_chart_unknown_symbol.json", 404, {"chart": {"result": None, "error": {
        "code": "Not Found", "description": "No data found, symbol may be delisted"}}})
    _write("yahoo_quote_unknown_symbol.json", 404, {"quoteSummary": {"result": None, "error": {
        "code": "Not Found", "description": "Quote not found for symbol: NOSUCHTICKER"}}})
    _write("yahoo_too_many_requests.json", 429, "Too Many Requests\r\n",
           {"content-type": "text/html;charset=utf-8"})
    _write("yahoo_getcrumb.json", 200, "kX9rQe3Tz.b", {"content-type": "text/plain;charset=utf-8"})
    _write("alpaca_bars_SPY_2020_split.json", 200, alpaca_bars(spy_2020, adjusted=False))
    _write("alpaca_bars_SPY_2020_all.json", 200, alpaca_bars(spy_2020, adjusted=True))
    _write("alpaca_bars_empty.json", 200, {"bars": {}, "next_page_token": None})
    _write("alpaca_invalid_symbol.json", 400, {"code": 42210000,
                                               "message": "invalid symbol: NO$SUCH"})
    _write("alpaca_too_many_requests.json", 429, {"code": 42910000,
                                                  "message": "rate limit exceeded"})
    _write("alpaca_forbidden.json", 403, {"message": "forbidden"})
    assert np.isfinite(spy_2020.to_numpy()).all()


if __name__ == "__main__":
    main()
