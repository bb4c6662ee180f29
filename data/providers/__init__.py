"""Where bars come from: one interface, several providers.

Every provider has a ``name`` and ``fetch(symbol, start, end, interval="1d") -> DataFrame``
returning a contract §2 frame (see :mod:`data.frames`: raw OHLC, ``adj_close``, volume), with
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

from typing import TYPE_CHECKING, Any, Protocol

import pandas as pd

from data.frames import DateLike
from data.providers.retry import Backoff

if TYPE_CHECKING:
    from app.config import Settings

PROVIDER_NAMES = ("bundled", "yfinance", "alpaca", "auto")


class PriceProvider(Protocol):
    name: str

    def fetch(self, symbol: str, start: DateLike | None = None, end: DateLike | None = None,
              interval: str = "1d") -> pd.DataFrame:
        """Bars of ``symbol`` from ``start`` to ``end`` (inclusive), oldest first."""


def make_provider(name: str, settings: Settings | None = None, **options: Any) -> PriceProvider:
    """The provider called ``name`` configured from ``settings``.

    ``options`` go to the provider's constructor (tests pass ``session=`` or ``backoff=``).
    """
    if name == "bundled":
        from data.providers.bundled import BundledProvider
        return BundledProvider()
    if name == "yfinance":
        from data.providers.yahoo import YahooProvider
        options.setdefault("backoff", _backoff(settings))
        return YahooProvider(**options)
    if name == "alpaca":
        from data.providers.alpaca_markets import AlpacaProvider
        options.setdefault("backoff", _backoff(settings))
        if settings is not None:
            options.setdefault("api_key", settings.alpaca_api_key)
            options.setdefault("secret_key", settings.alpaca_secret_key)
            options.setdefault("feed", settings.alpaca_feed)
        return AlpacaProvider(**options)
    if name == "auto":
        from data.providers.auto import AutoProvider
        return AutoProvider(make_provider("yfinance", settings, **options),
                            make_provider("bundled"))
    raise ValueError(f"unknown data provider {name!r}: use one of {', '.join(PROVIDER_NAMES)}")


def _backoff(settings: Settings | None) -> Backoff:
    if settings is None:
        return Backoff()
    return Backoff(max_retries=settings.provider_max_retries,
                   base_seconds=settings.provider_backoff_seconds)
