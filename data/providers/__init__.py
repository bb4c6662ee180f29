"""Where bars come from: one interface, several providers.

Every provider has a ``name`` and ``fetch(symbol, start, end, interval="1d") -> DataFrame``
returning a docs/prices.md frame (see :mod:`data.frames`: raw OHLC, ``adj_close``, volume), with
``start`` and ``end`` inclusive calendar dates (None = as far as the source goes / today).
``frame.attrs["source"]`` names the provider that actually served the bars (``auto`` reports
``yfinance`` or ``bundled``) and ``frame.attrs.get("name")`` the security's name when known.

Errors (:mod:`data.errors`): ``UnknownSymbolError``, ``EmptyRangeError``,
``ProviderUnavailableError`` (no network), ``RateLimitedError`` (HTTP 429 after the retries).

- ``bundled``: the real sample shipped in the package (offline; the embedded default).
- ``yfinance``: Yahoo Finance through the yfinance package (:mod:`data.providers.yahoo`).
- ``alpaca``: Alpaca Market Data through alpaca-py, the optional extra ``strategy-arena[alpaca]``.
- ``auto``: yfinance when reachable, else bundled.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol

import pandas as pd

from data.frames import DateLike
from data.providers.retry import Backoff

PROVIDER_NAMES = ("bundled", "yfinance", "alpaca", "auto")


class PriceProvider(Protocol):
    name: str

    def fetch(self, symbol: str, start: DateLike | None = None, end: DateLike | None = None,
              interval: str = "1d") -> pd.DataFrame:
        """Bars of ``symbol`` from ``start`` to ``end`` (inclusive), oldest first."""


@dataclass(frozen=True)
class ProviderOptions:
    """How the network providers behave: retries after HTTP 429, timeouts or connection errors
    (``max_retries``, the first delay ``backoff_seconds`` doubled each retry) and the Alpaca
    credentials and feed. The application fills it from its settings."""

    max_retries: int = 3
    backoff_seconds: float = 1.0
    alpaca_api_key: str | None = None
    alpaca_secret_key: str | None = None
    alpaca_feed: str = "iex"


def make_provider(name: str, options: ProviderOptions | None = None,
                  **overrides: Any) -> PriceProvider:
    """The provider called ``name``, configured by ``options``.

    ``overrides`` go to the provider's constructor (tests pass ``session=`` or ``backoff=``).
    """
    options = options or ProviderOptions()
    if name == "bundled":
        from data.providers.bundled import BundledProvider
        return BundledProvider()
    if name == "yfinance":
        from data.providers.yahoo import YahooProvider
        overrides.setdefault("backoff", _backoff(options))
        return YahooProvider(**overrides)
    if name == "alpaca":
        from data.providers.alpaca_markets import AlpacaProvider
        overrides.setdefault("backoff", _backoff(options))
        overrides.setdefault("api_key", options.alpaca_api_key)
        overrides.setdefault("secret_key", options.alpaca_secret_key)
        overrides.setdefault("feed", options.alpaca_feed)
        return AlpacaProvider(**overrides)
    if name == "auto":
        from data.providers.auto import AutoProvider
        return AutoProvider(make_provider("yfinance", options, **overrides),
                            make_provider("bundled"))
    raise ValueError(f"unknown data provider {name!r}: use one of {', '.join(PROVIDER_NAMES)}")


def _backoff(options: ProviderOptions) -> Backoff:
    return Backoff(max_retries=options.max_retries, base_seconds=options.backoff_seconds)
