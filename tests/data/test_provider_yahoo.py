"""The yfinance provider, driving the real yfinance package through recorded Yahoo answers
(``tests/data/recorded``, replayed by :mod:`tests.data.replay`; no network)."""

from __future__ import annotations

import pytest
from curl_cffi.requests.exceptions import DNSError, Timeout

from data.bundled import load_bundled
from data.errors import (
    EmptyRangeError,
    ProviderUnavailableError,
    RateLimitedError,
    UnknownSymbolError,
)
from data.frames import COLUMNS
from data.providers.retry import Backoff
from data.providers.yahoo import YahooProvider
from tests.data.replay import Answer, Route, YahooReplaySession

pytestmark = pytest.mark.usefixtures("fresh_yfinance")

CHART_SPY = r"/v8/finance/chart/SPY$"
recorded = Answer.recorded


def yahoo(*chart_answers, timezone_answers=None) -> YahooReplaySession:
    """Yahoo as recorded: a crumb, SPY's timezone probe (range=1d), then ``chart_answers`` for
    SPY's history in order; any other symbol is unknown."""
    tz = timezone_answers or [recorded("yahoo_chart_SPY_range_1d.json")]
    return YahooReplaySession([
        Route("GET", r"/v1/test/getcrumb", [recorded("yahoo_getcrumb.json")]),
        Route("GET", CHART_SPY, tz, params={"range": "1d"}),
        Route("GET", CHART_SPY, list(chart_answers)),
        Route("GET", r"/v8/finance/chart/", [recorded("yahoo_chart_unknown_symbol.json")]),
        Route("GET", r"/quoteSummary/", [recorded("yahoo_quote_unknown_symbol.json")]),
    ])


def provider(session, sleeps: list[float], retries: int = 3) -> YahooProvider:
    return YahooProvider(Backoff(max_retries=retries, base_seconds=1.0, sleep=sleeps.append),
                         session=session)


def test_fetch_returns_raw_ohlc_and_the_adjusted_close_of_the_recorded_bars():
    sleeps: list[float] = []
    frame = provider(yahoo(recorded("yahoo_chart_SPY_2020.json")), sleeps).fetch(
        "SPY", "2020-01-01", "2020-12-31")
    expected = load_bundled("SPY", "2020-01-01", "2020-12-31")
    assert list(frame.columns) == list(COLUMNS)
    assert frame.index.name == "date" and frame.index.tz is None
    assert (frame.dtypes == "float64").all()
    assert len(frame) == 253 and list(frame.index) == list(expected.index)
    assert frame.loc["2020-03-23", "close"] == pytest.approx(222.95)  # raw close, as quoted
    assert frame.loc["2020-03-23", "adj_close"] == pytest.approx(
        expected.loc["2020-03-23", "adj_close"], abs=1e-4)
    assert frame["adj_close"].iloc[0] < frame["close"].iloc[0]  # dividends since 2020
    assert frame.attrs == {"source": "yfinance", "name": "SPDR S&P 500 ETF Trust"}
    assert sleeps == []


def test_the_requested_range_is_inclusive_and_trimmed_to_it():
    frame = provider(yahoo(recorded("yahoo_chart_SPY_2020.json")), []).fetch(
        "SPY", "2020-03-02", "2020-03-31")
    assert str(frame.index[0].date()) == "2020-03-02"
    assert str(frame.index[-1].date()) == "2020-03-31"
    assert len(frame) == 22


def test_unknown_symbol_raises_unknown_symbol_error_without_retrying():
    sleeps: list[float] = []
    with pytest.raises(UnknownSymbolError, match="unknown symbol 'NOSUCHTICKER'"):
        provider(yahoo(), sleeps).fetch("NOSUCHTICKER", "2020-01-01", "2020-12-31")
    assert sleeps == []


def test_a_range_without_trading_days_raises_empty_range_error():
    session = yahoo(recorded("yahoo_chart_SPY_weekend.json"))
    with pytest.raises(EmptyRangeError, match="SPY: Yahoo Finance has no bars between "
                                              "2020-01-04 and 2020-01-05"):
        provider(session, []).fetch("SPY", "2020-01-04", "2020-01-05")


def test_http_429_is_retried_with_exponential_backoff_until_yahoo_answers():
    # yfinance retries once itself (other cookie strategy), so one attempt = two 429s
    session = yahoo(*[recorded("yahoo_too_many_requests.json")] * 4,
                    recorded("yahoo_chart_SPY_2020.json"))
    sleeps: list[float] = []
    frame = provider(session, sleeps).fetch("SPY", "2020-01-01", "2020-12-31")
    assert len(frame) == 253
    assert sleeps == [1.0, 2.0]


def test_persistent_http_429_becomes_a_clear_rate_limit_error_after_the_retries():
    session = yahoo(recorded("yahoo_too_many_requests.json"))
    sleeps: list[float] = []
    with pytest.raises(RateLimitedError, match=r"HTTP 429 .* on 4 attempt\(s\) .* wait"):
        provider(session, sleeps).fetch("SPY", "2020-01-01", "2020-12-31")
    assert sleeps == [1.0, 2.0, 4.0]
    assert session.router.count(CHART_SPY) == 8


def test_no_network_fails_at_once_with_provider_unavailable():
    no_dns = DNSError("Could not resolve host: query2.finance.yahoo.com", 6)
    session = yahoo(no_dns, timezone_answers=[no_dns])
    session.router.routes[0].answers = [no_dns]
    sleeps: list[float] = []
    with pytest.raises(ProviderUnavailableError, match="no network") as caught:
        provider(session, sleeps).fetch("SPY", "2020-01-01", "2020-12-31")
    assert not isinstance(caught.value, RateLimitedError)
    assert sleeps == []


def test_timeouts_are_retried_then_reported_as_unavailable():
    timeout = Timeout("Operation timed out after 10000 milliseconds", 28)
    session = yahoo(timeout, timezone_answers=[timeout])
    sleeps: list[float] = []
    with pytest.raises(ProviderUnavailableError, match="did not answer for SPY after 3"):
        provider(session, sleeps, retries=2).fetch("SPY", "2020-01-01", "2020-12-31")
    assert sleeps == [1.0, 2.0]
