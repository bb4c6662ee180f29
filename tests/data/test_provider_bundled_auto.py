"""The bundled provider (offline default), the auto provider's fallback, and retry delays."""

from __future__ import annotations

import pandas as pd
import pytest

from app.context import provider_options
from data.errors import EmptyRangeError, ProviderUnavailableError, UnknownSymbolError
from data.frames import COLUMNS
from data.providers import make_provider
from data.providers.auto import AutoProvider
from data.providers.bundled import BundledProvider
from data.providers.retry import Backoff, with_retries


def test_bundled_bars_are_contract_frames_within_the_inclusive_range():
    frame = BundledProvider().fetch("spy", "2020-02-19", "2020-03-23")
    assert list(frame.columns) == list(COLUMNS) and frame.index.name == "date"
    assert (str(frame.index[0].date()), str(frame.index[-1].date())) == ("2020-02-19",
                                                                         "2020-03-23")
    assert frame.loc["2020-03-23", "close"] == 222.95
    assert frame.attrs == {"source": "bundled", "name": "SPDR S&P 500 ETF Trust"}


def test_bundled_unknown_symbol_lists_the_shipped_symbols():
    with pytest.raises(UnknownSymbolError, match="the bundled sample has AAPL, AMZN"):
        BundledProvider().fetch("ZZZZ")


def test_bundled_range_outside_the_sample_says_what_it_covers():
    with pytest.raises(EmptyRangeError, match="covers 1999-11-01 to 2024-11-08"):
        BundledProvider().fetch("SPY", "2030-01-01", "2030-12-31")


class Offline:
    name = "yfinance"

    def __init__(self) -> None:
        self.calls = 0

    def fetch(self, symbol, start=None, end=None, interval="1d"):
        self.calls += 1
        raise ProviderUnavailableError("cannot reach Yahoo Finance (no network?)")


class Online(Offline):
    def fetch(self, symbol, start=None, end=None, interval="1d"):
        self.calls += 1
        frame = BundledProvider().fetch(symbol, start, end)
        frame.attrs["source"] = "yfinance"
        return frame


def test_auto_uses_yfinance_when_it_answers():
    online = Online()
    frame = AutoProvider(online, BundledProvider()).fetch("SPY", "2020-01-01", "2020-01-31")
    assert frame.attrs["source"] == "yfinance" and online.calls == 1


def test_auto_falls_back_to_bundled_and_stops_asking_for_a_while():
    now = [0.0]
    offline = Offline()
    auto = AutoProvider(offline, BundledProvider(), offline_seconds=300, clock=lambda: now[0])
    assert auto.fetch("SPY", "2020-01-01", "2020-01-31").attrs["source"] == "bundled"
    assert auto.fetch("QQQ", "2020-01-01", "2020-01-31").attrs["source"] == "bundled"
    assert offline.calls == 1
    now[0] = 301.0
    auto.fetch("SPY", "2020-01-01", "2020-01-31")
    assert offline.calls == 2


def test_auto_offline_with_a_symbol_not_bundled_says_both_things():
    auto = AutoProvider(Offline(), BundledProvider())
    with pytest.raises(UnknownSymbolError, match="yfinance is unreachable"):
        auto.fetch("ZZZZ", "2020-01-01", "2020-01-31")


def test_make_provider_knows_the_four_names_and_rejects_others(embedded_settings):
    options = provider_options(embedded_settings)
    names = {n: make_provider(n, options).name
             for n in ("bundled", "yfinance", "alpaca", "auto")}
    assert names == {"bundled": "bundled", "yfinance": "yfinance", "alpaca": "alpaca",
                     "auto": "auto"}
    with pytest.raises(ValueError, match="use one of bundled, yfinance, alpaca, auto"):
        make_provider("quandl")


def test_backoff_doubles_from_the_base_delay_and_is_capped():
    assert Backoff(max_retries=5, base_seconds=1.0, max_seconds=10).delays() == [1, 2, 4, 8, 10]


def test_only_transient_failures_are_retried():
    sleeps: list[float] = []
    attempts = []

    def flaky():
        attempts.append(1)
        if len(attempts) < 3:
            raise TimeoutError("slow")
        return "ok"

    backoff = Backoff(max_retries=3, base_seconds=0.5, sleep=sleeps.append)
    assert with_retries(flaky, lambda e: isinstance(e, TimeoutError), backoff, "x") == "ok"
    assert sleeps == [0.5, 1.0]
    with pytest.raises(KeyError):
        with_retries(lambda: {}["missing"], lambda e: False, backoff, "x")
    assert sleeps == [0.5, 1.0]


def test_frames_from_every_provider_share_one_shape():
    frame = BundledProvider().fetch("AAPL", "2024-01-02", "2024-01-05")
    assert isinstance(frame.index, pd.DatetimeIndex) and frame.index.is_monotonic_increasing
    assert (frame.dtypes == "float64").all()
