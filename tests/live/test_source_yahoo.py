"""The yfinance live source, driving the real yfinance client (through the data layer's
provider) with recorded Yahoo chart answers (``tests/data/recorded``; no network). Each poll
is answered by the recording cut at a later day, as Yahoo's answers would grow day by day."""

from __future__ import annotations

import datetime as dt
import json

import pytest

from app.live.sources.yahoo import YahooPollingSource
from data.providers.retry import Backoff
from data.providers.yahoo import YahooProvider
from tests.data.conftest import fresh_yfinance  # noqa: F401  (the fixture)
from tests.data.replay import RECORDED, Answer, Route, YahooReplaySession

pytestmark = pytest.mark.usefixtures("fresh_yfinance")


def _chart_until(last: int) -> Answer:
    """The recorded SPY 2020 chart answer, keeping its first ``last`` bars."""
    data = json.loads((RECORDED / "yahoo_chart_SPY_2020.json").read_text())
    body = data["body"] if isinstance(data["body"], dict) else json.loads(data["body"])
    result = body["chart"]["result"][0]
    result["timestamp"] = result["timestamp"][:last]
    quote = result["indicators"]["quote"][0]
    for key in quote:
        quote[key] = quote[key][:last]
    result["indicators"]["adjclose"][0]["adjclose"] = \
        result["indicators"]["adjclose"][0]["adjclose"][:last]
    result.get("events", {}).clear()
    return Answer(data["status"], data["headers"], json.dumps(body).encode())


def _forget_cached_answers() -> None:
    """yfinance caches answers for ranges that ended in the past, as our replayed 2020 "today"
    has; a real poll's range reaches today, which yfinance never caches."""
    from yfinance.data import YfData

    YfData.cache_get.cache_clear()


def _yahoo(*answers: Answer) -> YahooReplaySession:
    return YahooReplaySession([
        Route("GET", r"/v1/test/getcrumb", [Answer.recorded("yahoo_getcrumb.json")]),
        Route("GET", r"/v8/finance/chart/SPY$", [Answer.recorded("yahoo_chart_SPY_range_1d.json")],
              params={"range": "1d"}),
        Route("GET", r"/v8/finance/chart/SPY$", list(answers)),
    ])


def test_polls_turn_the_growing_chart_into_ticks_and_completed_bars():
    session = _yahoo(_chart_until(10), _chart_until(10), _chart_until(12))
    provider = YahooProvider(Backoff(max_retries=0, sleep=lambda _s: None), session=session)
    source = YahooPollingSource(["SPY"], 15.0, fetch=provider.fetch,
                                today=lambda: dt.date(2020, 1, 17), now=lambda: "T")
    assert source.poll_once("SPY") == []  # the first poll only records where things stand
    _forget_cached_answers()
    assert source.poll_once("SPY") == []  # nothing changed
    _forget_cached_answers()
    third = source.poll_once("SPY")
    frame = provider.fetch("SPY", "2020-01-01", "2020-12-31")  # the recording's first 12 bars
    bars = [e for e in third if e["type"] == "bar"]
    ticks = [e for e in third if e["type"] == "tick"]
    assert [b["ts"] for b in bars] == [d.strftime("%Y-%m-%d") for d in frame.index[9:11]]
    first = frame.iloc[9]
    assert (bars[0]["open"], bars[0]["close"], bars[0]["volume"]) == (
        first["open"], first["close"], first["volume"])
    assert ticks == [{"type": "tick", "symbol": "SPY", "ts": "T",
                      "price": float(frame.iloc[11]["close"]),
                      "volume": float(frame.iloc[11]["volume"]), "source": "yfinance", "seq": 1}]
