"""Where live prices come from. Each source is an async iterator of docs/api.md#live-websocket
``tick`` and
``bar`` events for a fixed list of symbols:

- :class:`~app.live.sources.replay.ReplaySource` (``replay``, the embedded default): bundled
  daily history replayed at ``LIVE_REPLAY_BAR_SECONDS`` per bar; simulated prices.
- :class:`~app.live.sources.yahoo.YahooPollingSource` (``yfinance``): real quotes polled every
  ``LIVE_POLL_SECONDS``; a daily bar completes when the trading day changes.

An Alpaca stream source is not built yet (``LIVE_SOURCE`` accepts replay and yfinance).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Protocol

#: How each source is labelled wherever its prices show (the Live page, the portal).
SOURCE_LABELS = {"replay": "simulated (replay of history)", "yfinance": "Yahoo Finance (delayed)"}


class PriceSource(Protocol):
    """A stream of tick and bar events for :attr:`symbols`."""

    name: str
    symbols: list[str]

    def events(self, resume_after: str | None = None) -> AsyncIterator[dict]:
        """Events in time order; ``resume_after`` (a bar date) continues a stream another
        process started (the replay skips the bars up to it; real sources ignore it)."""
        ...
