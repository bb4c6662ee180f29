"""The ``auto`` provider: Yahoo Finance when it can be reached, else the bundled sample.

Which one served is in ``frame.attrs["source"]`` (``yfinance`` or ``bundled``), so the UI and the
CLI can say it. After Yahoo was unreachable, ``auto`` goes straight to the bundled sample for
``offline_seconds`` instead of waiting for the network on every request.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable

import pandas as pd

from data.errors import ProviderUnavailableError, UnknownSymbolError
from data.frames import DateLike
from data.providers import PriceProvider

log = logging.getLogger(__name__)


class AutoProvider:
    name = "auto"

    def __init__(self, online: PriceProvider, offline: PriceProvider,
                 offline_seconds: float = 300.0,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.online = online
        self.offline = offline
        self.offline_seconds = offline_seconds
        self._clock = clock
        self._offline_until = float("-inf")
        self.last_online_error: str | None = None

    def fetch(self, symbol: str, start: DateLike | None = None, end: DateLike | None = None,
              interval: str = "1d") -> pd.DataFrame:
        if self._clock() >= self._offline_until:
            try:
                return self.online.fetch(symbol, start, end, interval)
            except ProviderUnavailableError as exc:
                self._offline_until = self._clock() + self.offline_seconds
                self.last_online_error = str(exc)
                log.warning("%s unreachable, serving the %s data for %.0f s: %s",
                            self.online.name, self.offline.name, self.offline_seconds, exc)
        try:
            return self.offline.fetch(symbol, start, end, interval)
        except UnknownSymbolError as exc:
            raise UnknownSymbolError(
                f"{exc} ({self.online.name} is unreachable: {self.last_online_error})") from exc
