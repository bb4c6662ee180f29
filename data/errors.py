"""Errors of the market-data layer: each names what went wrong and how to fix it.

The web layer and the CLI turn them into a 4xx answer or exit status 2 with the message.

- :class:`UnknownSymbolError`: the source does not know the symbol.
- :class:`EmptyRangeError`: the symbol exists but has no bars in the requested dates.
- :class:`ProviderUnavailableError`: the source cannot be reached (no network, server down).
- :class:`RateLimitedError`: the source kept answering HTTP 429 after our retries.
- :class:`ProviderNotInstalledError` / :class:`ProviderConfigError`: the optional package or
  the API keys a provider needs are missing.
- :class:`PriceValidationError`: the bars break the checks of :mod:`data.validate`.
- :class:`StoreNotReadyError`: the database has no price tables yet (migrations not applied).
"""

from __future__ import annotations


class MarketDataError(Exception):
    """Base class of every market-data error."""


class UnknownSymbolError(MarketDataError, LookupError):
    """The symbol is not available from this source."""


class EmptyRangeError(MarketDataError, LookupError):
    """The symbol is known, but there are no bars between the requested dates."""


class ProviderUnavailableError(MarketDataError):
    """The provider cannot be reached (no network, DNS failure, timeouts, server errors)."""


class RateLimitedError(ProviderUnavailableError):
    """The provider still refused with HTTP 429 (too many requests) after our retries."""


class ProviderNotInstalledError(MarketDataError):
    """The provider's optional Python package is not installed."""


class ProviderConfigError(MarketDataError):
    """The provider needs settings that are missing or wrong (e.g. API keys)."""


class PriceValidationError(MarketDataError, ValueError):
    """Bars that cannot be used; ``issues`` lists each bad row with its date and reason."""

    def __init__(self, message: str, issues: list | None = None) -> None:
        super().__init__(message)
        self.issues = list(issues or [])


class StoreNotReadyError(MarketDataError):
    """The database lacks the price tables: ``arena db upgrade`` creates them."""


#: Errors that the Redis single-flight may hand from the process that fetched to the processes
#: that waited for the same key (by class name), so a waiter does not call the provider again.
SHAREABLE_ERRORS: dict[str, type[MarketDataError]] = {
    cls.__name__: cls
    for cls in (UnknownSymbolError, EmptyRangeError, ProviderUnavailableError, RateLimitedError)
}
