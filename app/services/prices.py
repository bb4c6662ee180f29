"""The one place the web layer and the run executor get prices from (docs/prices.md frames).

Prices come from the data layer's :class:`~data.service.PriceService` (cache -> database ->
provider); its errors become service errors the API maps to 404 / 422 / 503.
"""

from __future__ import annotations

import re

import pandas as pd

from app.services.errors import InvalidInputError, NotFoundError, UpstreamUnavailableError
from data.errors import (
    EmptyRangeError,
    MarketDataError,
    PriceValidationError,
    ProviderUnavailableError,
    UnknownSymbolError,
)
from data.service import PriceService
from data.symbols import available_symbols as local_symbols

SYMBOL_PATTERN = re.compile(r"\^?[A-Za-z0-9][A-Za-z0-9.\-=]{0,19}")


def check_symbol(symbol: str) -> str:
    """The upper-cased symbol, or InvalidInputError when it can't be a ticker."""
    if not isinstance(symbol, str) or not SYMBOL_PATTERN.fullmatch(symbol):
        raise InvalidInputError("invalid symbol", {"symbol": "must be a ticker like SPY or BRK.B"})
    return symbol.upper()


def available_symbols(service: PriceService, query: str | None = None) -> list[dict]:
    """Symbols available locally (bundled and stored), with names and date ranges."""
    return local_symbols(service.store, query)


def load_prices(service: PriceService, symbol: str, start: str | None = None,
                end: str | None = None) -> pd.DataFrame:
    """Daily bars of ``symbol`` with ``start <= date <= end`` (ISO dates, inclusive).

    Raises NotFoundError for a symbol without data, InvalidInputError for an empty range or
    unusable bars, UpstreamUnavailableError when the provider cannot be reached.
    """
    symbol = check_symbol(symbol)
    try:
        return service.get_prices(symbol, start, end).frame
    except UnknownSymbolError as exc:
        raise NotFoundError(str(exc)) from None
    except (EmptyRangeError, PriceValidationError) as exc:
        raise InvalidInputError(str(exc), {"symbol": str(exc)}) from None
    except ProviderUnavailableError as exc:
        raise UpstreamUnavailableError(str(exc)) from None
    except MarketDataError as exc:
        raise UpstreamUnavailableError(str(exc)) from None
