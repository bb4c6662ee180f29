"""The alpaca provider through alpaca-py (optional extra) with recorded Alpaca answers."""

from __future__ import annotations

import sys

import pytest

from data.bundled import load_bundled
from data.errors import (
    ProviderConfigError,
    ProviderNotInstalledError,
    RateLimitedError,
    UnknownSymbolError,
)
from data.providers.alpaca_markets import AlpacaProvider
from data.providers.retry import Backoff
from tests.data.replay import AlpacaReplaySession, Answer, Route

pytest.importorskip("alpaca", reason="alpaca-py is the optional extra strategy-arena[alpaca]")

BARS = r"/v2/stocks/bars$"
recorded = Answer.recorded


def provider(routes, sleeps: list[float] | None = None) -> tuple[AlpacaProvider, list]:
    session = AlpacaReplaySession(routes)
    backoff = Backoff(max_retries=3, base_seconds=1.0, sleep=(sleeps if sleeps is not None
                                                              else []).append)
    return AlpacaProvider("key-id", "secret", backoff=backoff, session=session), session.calls


def spy_2020_routes() -> list[Route]:
    return [Route("GET", BARS, [recorded("alpaca_bars_SPY_2020_split.json")],
                  params={"adjustment": "split"}),
            Route("GET", BARS, [recorded("alpaca_bars_SPY_2020_all.json")],
                  params={"adjustment": "all"})]


def test_fetch_combines_split_adjusted_bars_with_the_fully_adjusted_close():
    alpaca, calls = provider(spy_2020_routes())
    frame = alpaca.fetch("SPY", "2020-01-01", "2020-12-31")
    expected = load_bundled("SPY", "2020-01-01", "2020-12-31")
    assert list(frame.index) == list(expected.index)  # New York midnight -> the trading day
    assert frame.loc["2020-03-23", "close"] == pytest.approx(222.95)
    assert frame["adj_close"].to_numpy() == pytest.approx(expected["adj_close"].to_numpy(),
                                                          abs=1e-3)
    assert frame.attrs["source"] == "alpaca"
    assert [c[2]["adjustment"] for c in calls] == ["split", "all"]
    assert calls[0][2]["feed"] == "iex" and calls[0][2]["symbols"] == "SPY"


def test_no_bars_over_a_long_range_means_an_unknown_symbol():
    alpaca, calls = provider([Route("GET", BARS, [recorded("alpaca_bars_empty.json")])])
    with pytest.raises(UnknownSymbolError, match="unknown symbol 'NOSUCH'"):
        alpaca.fetch("NOSUCH", "2020-01-01", "2020-12-31")
    assert len(calls) == 1


def test_an_invalid_symbol_answer_is_an_unknown_symbol():
    alpaca, _ = provider([Route("GET", BARS, [recorded("alpaca_invalid_symbol.json")])])
    with pytest.raises(UnknownSymbolError, match="invalid symbol"):
        alpaca.fetch("NO-SUCH", "2020-01-01", "2020-12-31")


def test_http_429_is_retried_with_backoff_then_a_clear_rate_limit_error():
    sleeps: list[float] = []
    alpaca, calls = provider([Route("GET", BARS, [recorded("alpaca_too_many_requests.json")])],
                             sleeps)
    with pytest.raises(RateLimitedError, match="HTTP 429"):
        alpaca.fetch("SPY", "2020-01-01", "2020-12-31")
    assert sleeps == [1.0, 2.0, 4.0]
    assert len(calls) == 4  # alpaca-py's own fixed 3 s retry is off


def test_http_429_then_success_is_served():
    sleeps: list[float] = []
    routes = spy_2020_routes()
    routes[0].answers = [recorded("alpaca_too_many_requests.json"),
                         recorded("alpaca_bars_SPY_2020_split.json")]
    alpaca, _ = provider(routes, sleeps)
    assert len(alpaca.fetch("SPY", "2020-01-01", "2020-12-31")) == 253
    assert sleeps == [1.0]


def test_rejected_keys_are_a_configuration_error():
    alpaca, _ = provider([Route("GET", BARS, [recorded("alpaca_forbidden.json")])])
    with pytest.raises(ProviderConfigError, match="ALPACA_API_KEY"):
        alpaca.fetch("SPY", "2020-01-01", "2020-12-31")


def test_missing_keys_are_a_configuration_error_before_any_request():
    with pytest.raises(ProviderConfigError, match="ALPACA_API_KEY and ALPACA_SECRET_KEY"):
        AlpacaProvider(None, None).fetch("SPY", "2020-01-01", "2020-12-31")


def test_without_alpaca_py_the_error_says_how_to_install_it(monkeypatch):
    monkeypatch.setitem(sys.modules, "alpaca.data.historical", None)
    with pytest.raises(ProviderNotInstalledError, match=r"strategy-arena\[alpaca\]"):
        AlpacaProvider("k", "s").fetch("SPY", "2020-01-01", "2020-12-31")
